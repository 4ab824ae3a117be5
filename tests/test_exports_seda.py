"""SEDA 2.1 transfer packages: built from really signed conventions, validated against the
official XSD, unzipped and every digest checked; invalid manifests caught; the transfer
recorded, shown by ``registry show`` and checked by ``archive verify``."""

from __future__ import annotations

import hashlib
import json
import socket
import subprocess
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from export_fixtures import SignedWorkspace, add_signed_amendment, signed_ws
from sign_fixtures import Pkcs12Set

from pipeline.cli import main
from pipeline.exports.seda import units
from pipeline.exports.seda.schema import SEDA_NS, seda_schema, validate_manifest
from pipeline.records.registry import Registry

__all__ = ["signed_ws"]  # fixtures, imported for pytest

NS = {"s": SEDA_NS}
AGENCY = "FRAD062"


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def package(signed_ws: SignedWorkspace, tmp_path_factory: pytest.TempPathFactory
            ) -> tuple[Path, Path]:
    """One package of the rural-paths convention, from a private copy of the workspace."""
    root = tmp_path_factory.mktemp("seda")
    ws = signed_ws.copy_to(root / "ws")
    cid = signed_ws.ids["FF-2026-CHEMINS-RURAUX"]
    code, out, err = _run("archive", "export-seda", cid, "-o", str(root / "transfer.zip"),
                          "--archival-agency", AGENCY, "--agreement", "AGR-2026-01",
                          "--workspace", str(ws.root), "--json")
    assert code == 0, err
    assert json.loads(out)["conventions"] == [cid]
    return root / "transfer.zip", ws.root


def test_package_is_valid_seda_and_every_digest_matches(package: tuple[Path, Path],
                                                        tmp_path: Path) -> None:
    zpath, _ = package
    with zipfile.ZipFile(zpath) as zf:
        zf.extractall(tmp_path)
        names = set(zf.namelist())
    manifest = (tmp_path / "manifest.xml").read_bytes()
    assert validate_manifest(manifest) == []
    assert seda_schema().is_valid(manifest.decode())
    root = ET.fromstring(manifest)
    assert root.tag == f"{{{SEDA_NS}}}ArchiveTransfer"
    assert root.findtext("s:ArchivalAgency/s:Identifier", namespaces=NS) == AGENCY
    assert root.findtext("s:ArchivalAgreement", namespaces=NS) == "AGR-2026-01"
    objects = root.findall(".//s:BinaryDataObject", NS)
    assert len(objects) == 2  # the signed PDF and the normalised intake
    referenced = set()
    for bdo in objects:
        uri = bdo.findtext("s:Uri", namespaces=NS)
        assert uri is not None and uri.startswith("content/")
        referenced.add(uri)
        digest = bdo.find("s:MessageDigest", NS)
        assert digest is not None and digest.get("algorithm") == "SHA-512"
        data = (tmp_path / uri).read_bytes()
        assert hashlib.sha512(data).hexdigest() == digest.text
        assert int(bdo.findtext("s:Size", namespaces=NS) or -1) == len(data)
    assert names == referenced | {"manifest.xml"}
    puids = {bdo.findtext("s:Uri", namespaces=NS): bdo.findtext(
        "s:FormatIdentification/s:FormatId", namespaces=NS) for bdo in objects}
    assert any((u or "").endswith("intake.json") and p == "fmt/817" for u, p in puids.items())
    unit = root.find(".//s:DescriptiveMetadata/s:ArchiveUnit", NS)
    assert unit is not None
    assert unit.findtext("s:Content/s:DescriptionLevel", namespaces=NS) == "File"
    assert unit.findtext("s:Management/s:AppraisalRule/s:Rule", namespaces=NS) == "APP-10Y"
    assert unit.findtext("s:Management/s:AppraisalRule/s:FinalAction",
                         namespaces=NS) == "Keep"
    assert len(unit.findall("s:Content/s:Event", NS)) == 3  # one per signature
    addressees = [a.findtext("s:FullName", namespaces=NS)
                  for a in unit.findall("s:Content/s:Addressee", NS)]
    assert addressees == ["Association des exploitants agricoles de Loos"]


def test_packed_pdf_is_the_really_signed_one(package: tuple[Path, Path], tmp_path: Path) -> None:
    zpath, _ = package
    with zipfile.ZipFile(zpath) as zf:
        (pdf,) = [n for n in zf.namelist() if n.endswith(".pdf")]
        (tmp_path / "c.pdf").write_bytes(zf.read(pdf))
    report = subprocess.run(["pdfsig", str(tmp_path / "c.pdf")], capture_output=True,
                            text=True, check=False).stdout
    assert report.count("Signature #") == 3


def test_transfer_is_recorded_shown_and_verified(package: tuple[Path, Path]) -> None:
    _, ws = package
    with Registry.open(ws / "registry.sqlite") as reg:
        (cid,) = [r.id for r in reg.list() if any(
            e.action == "transferred" for e in reg.events(r.id))]
    code, out, _ = _run("registry", "show", cid, "--workspace", str(ws))
    assert code == 0
    assert "transféré au service d'archives le" in out
    code, out, _ = _run("registry", "show", cid, "--workspace", str(ws), "--json")
    (transfer,) = json.loads(out)["transfers"]
    assert transfer["package"] == "transfer.zip" and len(transfer["files"]) == 2
    code, out, _ = _run("archive", "verify", "--workspace", str(ws))
    assert code == 0, out


def test_verify_catches_a_transferred_file_changed_afterwards(
        signed_ws: SignedWorkspace, tmp_path: Path) -> None:
    ws = signed_ws.copy_to(tmp_path / "ws")
    cid = signed_ws.ids["FF-2026-SOLAIRE-EGLISE"]
    code, _, err = _run("archive", "export-seda", cid, "-o", str(tmp_path / "t.zip"),
                        "--archival-agency", AGENCY, "--workspace", str(ws.root))
    assert code == 0, err
    intake = ws.archive_dir / "2026" / cid / "intake.json"
    intake.write_bytes(intake.read_bytes().replace(b"Centrale", b"Centrales"))
    code, out, _ = _run("archive", "verify", "--workspace", str(ws.root), "--json")
    assert code == 1
    kinds = {(p["kind"], p["path"].rsplit("/", 1)[-1]) for p in json.loads(out)["problems"]}
    assert ("transfer_mismatch", "intake.json") in kinds


@pytest.mark.parametrize(("old", "new", "where"), [
    (b"<DescriptionLevel>File<", b"<DescriptionLevel>Dossier<", "DescriptionLevel"),
    (b"<Size>", b"<Taille>", "BinaryDataObject"),
    (b'algorithm="SHA-512"', b"", "MessageDigest"),
])
def test_mutated_manifest_is_caught(package: tuple[Path, Path], old: bytes, new: bytes,
                                    where: str) -> None:
    zpath, _ = package
    with zipfile.ZipFile(zpath) as zf:
        manifest = zf.read("manifest.xml")
    assert old in manifest
    mutated = manifest.replace(old, new, 1)
    if new == b"<Taille>":
        mutated = mutated.replace(b"</Size>", b"</Taille>", 1)
    problems = validate_manifest(mutated)
    assert problems and where in problems[0].path + problems[0].reason


def test_invalid_manifest_is_never_written(signed_ws: SignedWorkspace, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    ws = signed_ws.copy_to(tmp_path / "ws")
    real = units.build_manifest  # type: ignore[attr-defined]
    monkeypatch.setattr(units, "build_manifest", lambda msg: real(msg).replace(
        b"<DescriptionLevel>Item<", b"<DescriptionLevel>Piece<"))
    out = tmp_path / "bad.zip"
    code, _, err = _run("archive", "export-seda", "--year", "2026", "-o", str(out),
                        "--archival-agency", AGENCY, "--workspace", str(ws.root))
    assert code == 3
    assert "SEDA 2.1" in err and "DescriptionLevel" in err
    assert not out.exists() and not list(tmp_path.glob(".bad.zip.*"))
    with Registry.open(ws.registry_path) as reg:
        assert not [e for e in reg.events() if e.action == "transferred"]


def test_refusals_name_the_problem(signed_ws: SignedWorkspace, tmp_path: Path) -> None:
    ws = signed_ws.copy_to(tmp_path / "ws")
    unsigned = signed_ws.ids["FF-2026-NICHOIRS-ECOLE"]
    code, _, err = _run("archive", "export-seda", unsigned, "-o", str(tmp_path / "a.zip"),
                        "--archival-agency", AGENCY, "--workspace", str(ws.root))
    assert code == 1 and unsigned in err
    code, _, err = _run("archive", "export-seda", "--year", "2026", "-o",
                        str(tmp_path / "b.zip"), "--workspace", str(ws.root))
    assert code == 3 and "--archival-agency" in err
    signed = signed_ws.ids["FF-2026-SKATEPARK"]
    pdf = next((ws.archive_dir / "2026" / signed).glob("*signed-3*.pdf"))
    pdf.write_bytes(pdf.read_bytes() + b"%")
    code, _, err = _run("archive", "export-seda", signed, "-o", str(tmp_path / "c.zip"),
                        "--archival-agency", AGENCY, "--workspace", str(ws.root))
    assert code == 3 and "ne correspond plus au registre" in err and pdf.name in err
    inside = ws.archive_dir / "2026" / "t.zip"
    code, _, err = _run("archive", "export-seda", "--year", "2026", "-o", str(inside),
                        "--archival-agency", AGENCY, "--workspace", str(ws.root))
    assert code == 3 and "dans l'archive" in err and not inside.exists()
    assert not list(tmp_path.glob("*.zip"))


def test_schema_loads_without_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"network access attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    seda_schema.cache_clear()
    try:
        schema = seda_schema()
    finally:
        seda_schema.cache_clear()
    assert schema.target_namespace == SEDA_NS
    assert "http://www.w3.org/1999/xlink" in schema.maps.namespaces


@pytest.mark.parametrize(("body", "puid"), [
    (b"%PDF-1.7\n<pdfaid:part>2</pdfaid:part><pdfaid:conformance>B</pdfaid:conformance>",
     "fmt/477"),
    (b'%PDF-1.4\n<rdf:Description pdfaid:part="1" pdfaid:conformance="A"/>', "fmt/95"),
    (b"%PDF-1.7\nno metadata", "fmt/276"),
])
def test_pdf_format_identification(tmp_path: Path, body: bytes, puid: str) -> None:
    from pipeline.exports.seda.formats import identify

    path = tmp_path / "x.pdf"
    path.write_bytes(body)
    assert identify(path).puid == puid


def test_amendment_is_a_child_unit(signed_ws: SignedWorkspace, p12_set: Pkcs12Set,
                                   tmp_path: Path) -> None:
    ws = signed_ws.copy_to(tmp_path / "ws")
    parent = signed_ws.ids["FF-2026-SKATEPARK"]
    amendment = add_signed_amendment(ws, parent, p12_set)
    assert amendment == f"{parent}_A1"
    out = tmp_path / "t.zip"
    code, stdout, err = _run("archive", "export-seda", "--status", "signed", "-o", str(out),
                             "--archival-agency", AGENCY, "--workspace", str(ws.root),
                             "--json")
    assert code == 0, err
    assert amendment not in json.loads(stdout)["conventions"]  # inside its parent
    with zipfile.ZipFile(out) as zf:
        manifest = zf.read("manifest.xml")
        assert f"content/{amendment}/intake.json" in zf.namelist()
    assert validate_manifest(manifest) == []
    root = ET.fromstring(manifest)
    units_ = {u.findtext("s:Content/s:OriginatingAgencyArchiveUnitIdentifier", namespaces=NS): u
              for u in root.iter(f"{{{SEDA_NS}}}ArchiveUnit")}
    child = units_[amendment]
    assert (child.findtext("s:Content/s:Title", namespaces=NS) or "").startswith("Avenant n° 1")
    assert child in list(units_[parent])


def test_amendment_archived_as_attachments_is_grouped(signed_ws: SignedWorkspace,
                                                      tmp_path: Path) -> None:
    """The lifecycle stage archives an amendment in its convention's folder (kind
    attachment): its last signed PDF and its record go in one child unit; its DOCX, its
    earlier signed copies and an amendment not signed yet stay out."""
    from pipeline.records.archive import add_files

    ws = signed_ws.copy_to(tmp_path / "ws")
    cid = signed_ws.ids["FF-2026-SKATEPARK"]
    signed_pdf = next((ws.archive_dir / "2026" / cid).glob("*signed-3*.pdf")).read_bytes()
    with Registry.open(ws.registry_path) as reg:
        row = reg.get(cid)
        assert row is not None
        add_files(ws, reg, cid, row.version, [
            (f"{cid}_A1.docx", "attachment", b"PK docx"),
            (f"{cid}_A1-record.json", "attachment", b'{"title": "avenant"}\n'),
            (f"{cid}_A1-signed-1-holder-1.pdf", "attachment", signed_pdf + b"%1"),
            (f"{cid}_A1-signed-3-commune.pdf", "attachment", signed_pdf),
            (f"{cid}_A2.pdf", "attachment", b"%PDF-1.7 not signed yet"),
        ])
    out = tmp_path / "t.zip"
    code, _, err = _run("archive", "export-seda", cid, "-o", str(out), "--archival-agency",
                        AGENCY, "--workspace", str(ws.root))
    assert code == 0, err
    with zipfile.ZipFile(out) as zf:
        manifest = zf.read("manifest.xml")
        names = {n.rsplit("/", 1)[-1] for n in zf.namelist()}
    assert validate_manifest(manifest) == []
    assert {f"{cid}_A1-signed-3-commune.pdf", f"{cid}_A1-record.json"} <= names
    assert not {f"{cid}_A1.docx", f"{cid}_A1-signed-1-holder-1.pdf", f"{cid}_A2.pdf"} & names
    root = ET.fromstring(manifest)
    (group,) = [u for u in root.iter(f"{{{SEDA_NS}}}ArchiveUnit") if u.findtext(
        "s:Content/s:OriginatingAgencyArchiveUnitIdentifier", namespaces=NS) == f"{cid}_A1"]
    assert group.findtext("s:Content/s:DescriptionLevel", namespaces=NS) == "SubGrp"
    assert group.findtext("s:Content/s:Title", namespaces=NS) == "Avenant n° 1"
    assert len(group.findall("s:ArchiveUnit", NS)) == 2
