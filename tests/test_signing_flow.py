"""Signing a registered convention through the CLI: identity bound to the slot, trust
roots of the workspace (events), order, levels, refusals that write nothing, paper
originals checked against their QR code, and ``verify ID``."""

from __future__ import annotations

import json
import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import click
import pytest
import yaml
from click.testing import CliRunner
from sign_fixtures import ROLES, Pkcs12Set, make_scan, make_unsigned_pdf, pdfsig

from pipeline.cli.sign_cmds import register
from pipeline.core.workspace import Workspace
from pipeline.records.archive import add_files, store_documents
from pipeline.records.registry import NewConvention, Registry
from pipeline.signatures.pki_server import PkiServer

pytestmark = pytest.mark.usefixtures("english")


SIGNATORIES = [
    {"key": key, "name": name, "capacity": f"Qualité de {name}", "party": "x"}
    for key, name in ROLES
]
ENV = "FF_TEST_PASSPHRASE"


def _cli() -> click.Group:
    @click.group()
    def group() -> None:
        """Throw-away group for the tests."""

    register(group)
    return group


def _run(*args: str, input: str | None = None) -> Any:
    return CliRunner().invoke(_cli(), list(args), input=input)


def new_convention(ws: Workspace, tmp: Path, reference: str = "ref-1",
                   signatories: list[dict[str, str]] | None = None) -> str:
    """A convention numbered and generated (its PDF with its empty fields archived)."""
    people = signatories or SIGNATORIES
    pdf = make_unsigned_pdf(tmp / f"{reference}.pdf", tuple(f"sig-{s['key']}" for s in people))
    with Registry.open(ws.registry_path) as reg:
        claim = reg.claim(NewConvention(
            type_id="fifty-fifty", year=2026, number_format="FF_{year}_{seq:03d}",
            reference=reference, fingerprint=reference.ljust(64, "f"), title="Jardin partagé",
            holders=[{"kind": "person", "name": "Camille Dupré"}],
            commune_amount=Decimal("1000"), inkind_value=Decimal("500"),
            start=date(2026, 12, 1), end=date(2027, 3, 1), commitment_end=None,
            signatories=people,
        ))
        store_documents(ws, reg, claim.convention_id, 2026, claim.version,
                        [(f"{claim.convention_id}.pdf", "pdf", pdf)])
    return claim.convention_id


@pytest.fixture
def ws(tmp_path: Path, p12_set: Pkcs12Set, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    """A workspace trusting the local PKI's root."""
    monkeypatch.setenv(ENV, p12_set.passphrase.decode())
    workspace = Workspace(tmp_path / "ws")
    added = _run("trust", "add", str(p12_set.root), "--workspace", str(workspace.root))
    assert added.exit_code == 0, added.output
    return workspace


def sign(ws: Workspace, p12s: Pkcs12Set, pki: PkiServer, conv: str, key: str, *extra: str,
         cert: str | None = None) -> Any:
    return _run("sign", conv, "--signatory", key, "--pkcs12", str(p12s.p12(cert or key)),
                "--passphrase-env", ENV, "--workspace", str(ws.root), "--level", "B-T",
                "--timestamp-url", pki.pki.tsa_url, *extra)


def _status(ws: Workspace, conv: str) -> str:
    with Registry.open(ws.registry_path) as reg:
        row = reg.get(conv)
        assert row is not None
        return row.status


def _archive_files(ws: Workspace) -> set[Path]:
    return {p for p in (ws.root / "archive").rglob("*") if p.is_file()}


def test_sign_in_order_then_verify(ws: Workspace, p12_set: Pkcs12Set, pki_server: PkiServer,
                                   tmp_path: Path) -> None:
    conv = new_convention(ws, tmp_path)
    expected_status = {"holder-2": "signing", "holder-1": "signing", "commune": "signed"}
    for n, key in enumerate(["holder-2", "holder-1", "commune"], start=1):  # holders any order
        result = sign(ws, p12_set, pki_server, conv, key, "--json")
        assert result.exit_code == 0, result.output
        payload = json.loads(result.stdout)
        assert payload["status"] == expected_status[key] == _status(ws, conv)
        assert payload["level"] == "B-T"
        path = ws.root / payload["document"]
        entries = [e for e in pdfsig(path) if e.subfilter == "ETSI.CAdES.detached"]
        assert len(entries) == n and {e.validation for e in entries} == {"Signature is Valid."}
    verdict = _run("verify", conv, "--workspace", str(ws.root), "--json")
    assert verdict.exit_code == 0, verdict.output
    report = json.loads(verdict.stdout)
    assert [s["signed"] for s in report["signatories"]] == [True, True, True]
    assert report["report"]["level"] == "B-T"
    with Registry.open(ws.registry_path) as reg:
        events = {e.details["signatory"]: e.details for e in reg.events(conv)
                  if e.action == "signed"}
        assert len({e["cert_sha256"] for e in events.values()}) == 3


def test_mallory_fills_no_slot_and_nothing_is_written(
    ws: Workspace, p12_set: Pkcs12Set, pki_server: PkiServer, tmp_path: Path
) -> None:
    conv = new_convention(ws, tmp_path)
    before = _archive_files(ws)
    for key in ("holder-1", "holder-2"):
        result = sign(ws, p12_set, pki_server, conv, key, cert="mallory")
        assert result.exit_code == 1, result.output
        assert "Mallory Intrus does not match the slot" in result.output
        assert f"expected: {dict(ROLES)[key]}" in result.output
    assert _archive_files(ws) == before and _status(ws, conv) == "generated"


def test_one_certificate_never_fills_two_slots(
    ws: Workspace, p12_set: Pkcs12Set, pki_server: PkiServer, tmp_path: Path
) -> None:
    twice = [{"key": "holder-1", "name": "Camille Dupré", "capacity": "a", "party": "A"},
             {"key": "holder-2", "name": "camille  DUPRE", "capacity": "b", "party": "B"},
             {"key": "commune", "name": "Jean-François Maëlle", "capacity": "c", "party": "C"}]
    conv = new_convention(ws, tmp_path, "twice", twice)
    assert sign(ws, p12_set, pki_server, conv, "holder-1").exit_code == 0
    again = sign(ws, p12_set, pki_server, conv, "holder-2", cert="holder-1")
    assert again.exit_code == 1
    assert "already signed" in again.output and "two slots" in again.output


def _catalogue(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **profile: Any) -> None:
    """A copy of the bundled catalogue whose commune profile gets ``profile`` keys."""
    folder = tmp_path / "catalogue"
    shutil.copytree(Path(__file__).resolve().parent.parent / "conventions", folder)
    data = yaml.safe_load((folder / "commune.yaml").read_text(encoding="utf-8"))
    for key, value in profile.items():
        if key == "mayor":
            data["commune"]["representative"]["name"] = value
        else:
            data[key] = value
    (folder / "commune.yaml").write_text(yaml.safe_dump(data, allow_unicode=True),
                                         encoding="utf-8")
    monkeypatch.setenv("FIFTYFIFTY_CATALOGUE", str(folder))


def test_commune_slot_takes_the_mayor_or_a_deputy_with_a_valid_delegation(
    ws: Workspace, p12_set: Pkcs12Set, pki_server: PkiServer, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    only_commune = [{"key": "commune", "name": "Le Maire", "capacity": "le Maire",
                     "party": "Commune"}]
    _catalogue(tmp_path, monkeypatch, mayor="Quelqu'un d'autre", delegations=[
        {"name": "Léa Martin", "capacity": "adjointe", "from": "2020-01-01",
         "to": "2021-01-01"},
    ])
    conv = new_convention(ws, tmp_path, "deleg", only_commune)
    expired = sign(ws, p12_set, pki_server, conv, "commune", cert="holder-2")
    assert expired.exit_code == 1 and "expected: Le Maire, Quelqu'un d'autre" in expired.output
    _catalogue(tmp_path / "2", monkeypatch, mayor="JEAN-FRANCOIS MAELLE", delegations=[
        {"name": "Léa Martin", "capacity": "adjointe", "from": "2020-01-01",
         "scope": ["fifty-fifty"]},
    ])
    delegate = sign(ws, p12_set, pki_server, conv, "commune", "--json", cert="holder-2")
    assert delegate.exit_code == 0, delegate.output
    assert json.loads(delegate.stdout)["signer"] == "Léa Martin"
    conv2 = new_convention(ws, tmp_path, "maire", only_commune)
    mayor = sign(ws, p12_set, pki_server, conv2, "commune", cert="commune")  # accents, case
    assert mayor.exit_code == 0, mayor.output
    assert _run("verify", conv, "--workspace", str(ws.root)).exit_code == 0


def test_trust_is_on_by_default_and_every_change_is_an_event(
    p12_set: Pkcs12Set, pki_server: PkiServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV, p12_set.passphrase.decode())
    bare = Workspace(tmp_path / "bare")
    conv = new_convention(bare, tmp_path)
    refused = sign(bare, p12_set, pki_server, conv, "holder-1")
    assert refused.exit_code == 1 and "fiftyfifty trust add" in refused.output
    root = str(bare.root)
    assert "No trust root" in _run("trust", "list", "--workspace", root).output
    assert _run("trust", "add", str(p12_set.root), "--workspace", root).exit_code == 0
    listed = json.loads(_run("trust", "list", "--workspace", root, "--json").stdout)
    (only,) = listed["roots"]
    assert "DEMO CA" in only["subject"]
    assert sign(bare, p12_set, pki_server, conv, "holder-1").exit_code == 0
    removed = _run("trust", "remove", only["fingerprint"][:12], "--workspace", root)
    assert removed.exit_code == 0, removed.output
    verdict = _run("verify", conv, "--workspace", root)
    assert verdict.exit_code == 1 and "trust add" in verdict.output
    with Registry.open(bare.registry_path) as reg:
        actions = [e.action for e in reg.events() if e.convention_id is None]
    assert actions == ["trust_added", "trust_removed"]


def test_timestamp_authority_missing_or_silent_writes_nothing(
    ws: Workspace, p12_set: Pkcs12Set, tmp_path: Path
) -> None:
    conv = new_convention(ws, tmp_path)
    base = ["sign", conv, "--signatory", "holder-1", "--pkcs12", str(p12_set.p12("holder-1")),
            "--passphrase-env", ENV, "--workspace", str(ws.root)]
    none = _run(*base)  # bundled profile: B-LTA, no authority configured
    assert none.exit_code == 3
    assert "signing.timestamp_url" in none.output and "--level B-B" in none.output
    silent = _run(*base, "--timestamp-url", "http://127.0.0.1:9/tsa")
    assert silent.exit_code == 3 and "did not answer" in silent.output
    assert _status(ws, conv) == "generated"
    with Registry.open(ws.registry_path) as reg:
        assert not reg.signatures(conv)


def test_refusals_write_nothing(ws: Workspace, p12_set: Pkcs12Set, pki_server: PkiServer,
                                tmp_path: Path) -> None:
    conv = new_convention(ws, tmp_path)
    before = _archive_files(ws)
    early = sign(ws, p12_set, pki_server, conv, "commune")
    assert early.exit_code == 1 and "The commune signs last" in early.output
    wrong = _run("sign", conv, "--signatory", "holder-1", "--pkcs12",
                 str(p12_set.p12("holder-1")), "--workspace", str(ws.root), "--level", "B-B",
                 input="not-it\n")
    assert wrong.exit_code == 1 and "wrong passphrase" in wrong.output
    assert "not-it" not in wrong.output  # the prompt hides it
    assert _archive_files(ws) == before and _status(ws, conv) == "generated"


def test_paper_original_is_checked_against_its_qr_code(ws: Workspace, tmp_path: Path) -> None:
    conv = new_convention(ws, tmp_path, "paper")
    other = new_convention(ws, tmp_path, "other")
    with Registry.open(ws.registry_path) as reg:
        row = reg.get(conv)
        assert row is not None
        good = f"fiftyfifty:{conv}:{row.fingerprint}"
    base = ["sign", conv, "--signed-on", "2026-11-20", "--workspace", str(ws.root)]

    def scan(payload: str | None, *extra: str) -> Any:
        path = make_scan(tmp_path / f"scan-{abs(hash(payload))}.pdf", payload)
        return _run(*base, "--scan", str(path), *extra)

    assert "scan of " + other in scan(f"fiftyfifty:{other}:{'0' * 64}").output
    assert "another version" in scan(f"fiftyfifty:{conv}:{'0' * 64}").output
    blank = scan(None)
    assert blank.exit_code == 1 and "--unchecked-scan" in blank.output
    assert _status(ws, conv) == "generated"
    done = scan(good, "--json")
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["signed_on"] == "2026-11-20"
    with Registry.open(ws.registry_path) as reg:
        details = [e.details for e in reg.events(conv) if e.action == "signed"]
    assert {d["signed_at"] for d in details} == {"2026-11-20"}
    assert {d["qr_code"] for d in details} == {good}
    forced = _run("sign", other, "--signed-on", "2026-11-21", "--workspace", str(ws.root),
                  "--scan", str(make_scan(tmp_path / "blank.pdf", None)),
                  "--unchecked-scan", "QR code déchiré")
    assert forced.exit_code == 0, forced.output
    with Registry.open(ws.registry_path) as reg:
        reasons = {e.details["unchecked_reason"] for e in reg.events(other)
                   if e.action == "signed"}
    assert reasons == {"QR code déchiré"}


def test_verify_id_detects_archive_tampering_and_out_of_order_files(
    ws: Workspace, p12_set: Pkcs12Set, pki_server: PkiServer, tmp_path: Path
) -> None:
    conv = new_convention(ws, tmp_path)
    payload = json.loads(sign(ws, p12_set, pki_server, conv, "holder-1", "--json").stdout)
    path = ws.root / payload["document"]
    data = bytearray(path.read_bytes())
    data[data.index(b"Convention FF_2026_001")] ^= 0x20
    path.write_bytes(bytes(data))
    result = _run("verify", conv, "--workspace", str(ws.root))
    assert result.exit_code == 1
    assert "SHA-256 differs from the registry" in result.output
    assert "altered after signing" in result.output
    missing = _run("verify", "FF_2026_999", "--workspace", str(ws.root))
    assert missing.exit_code == 1 and "No convention FF_2026_999" in missing.output


def test_verify_id_rejects_a_certificate_outside_its_slot(
    ws: Workspace, p12_set: Pkcs12Set, tmp_path: Path
) -> None:
    """Mallory's signature in holder-1's field, archived behind the tool's back."""
    from pipeline.signatures.credentials import Pkcs12Credential
    from pipeline.signatures.pades import FieldSignature, SigningPolicy, sign_pdf_bytes
    from pipeline.signatures.trust import load_roots

    conv = new_convention(ws, tmp_path)
    with Registry.open(ws.registry_path) as reg:
        doc = reg.latest_document(conv, ["pdf"])
        row = reg.get(conv)
        assert doc is not None and row is not None
        policy = SigningPolicy("B-B", None, load_roots(ws))
        with Pkcs12Credential(p12_set.p12("mallory"), p12_set.passphrase).open() as opened:
            signed = sign_pdf_bytes((ws.root / doc.relpath).read_bytes(),
                                    FieldSignature("sig-holder-1", "Porteuse"), opened, policy)
        add_files(ws, reg, conv, row.version,
                  [(f"{conv}-signed-1-holder-1.pdf", "signed", signed.data)])
    result = _run("verify", conv, "--workspace", str(ws.root))
    assert result.exit_code == 1
    assert "signed by Mallory Intrus, who may not fill this slot" in result.output


def test_verify_id_rejects_a_commune_signature_before_the_holders(
    ws: Workspace, p12_set: Pkcs12Set, pki_server: PkiServer, tmp_path: Path
) -> None:
    """A file signed by the commune first (outside the tool) fails the order check."""
    from pipeline.signatures.credentials import Pkcs12Credential
    from pipeline.signatures.pades import FieldSignature, SigningPolicy, sign_pdf_bytes
    from pipeline.signatures.trust import load_roots

    conv = new_convention(ws, tmp_path)
    with Registry.open(ws.registry_path) as reg:
        doc = reg.latest_document(conv, ["pdf"])
        assert doc is not None
        src = ws.root / doc.relpath
    policy = SigningPolicy("B-B", None, load_roots(ws))
    with Pkcs12Credential(p12_set.p12("commune"), p12_set.passphrase).open() as opened:
        signed = sign_pdf_bytes(src.read_bytes(), FieldSignature("sig-commune", "Maire"),
                                opened, policy)
    with Registry.open(ws.registry_path) as reg:
        row = reg.get(conv)
        assert row is not None
        add_files(ws, reg, conv, row.version,
                  [(f"{conv}-signed-1-commune.pdf", "signed", signed.data)])
    result = _run("verify", conv, "--workspace", str(ws.root))
    assert result.exit_code == 1
    assert "out of the convention's order" in result.output


def test_messages_are_french_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FIFTYFIFTY_LANG", "fr")
    listed = _run("trust", "list", "--workspace", str(tmp_path / "ws"))
    assert "Aucune autorité de confiance : ajoutez-en une" in listed.output
    pdf = make_unsigned_pdf(tmp_path / "blank.pdf")
    verdict = _run("verify", str(pdf), "--workspace", str(tmp_path / "ws"))
    assert verdict.exit_code == 1
    assert "ÉCHEC :" in verdict.output and "aucune autorité de confiance" in verdict.output
    assert "le document ne porte aucune signature" in verdict.output


def test_renew_timestamps_adds_an_archive_timestamp_when_due(
    ws: Workspace, p12_set: Pkcs12Set, pki_server: PkiServer, tmp_path: Path
) -> None:
    only_commune = [{"key": "commune", "name": dict(ROLES)["commune"], "capacity": "le Maire",
                     "party": "Commune"}]
    conv = new_convention(ws, tmp_path, "renew", only_commune)
    signed = sign(ws, p12_set, pki_server, conv, "commune", "--json")
    assert signed.exit_code == 0, signed.output
    args = ["archive", "renew-timestamps", "--workspace", str(ws.root), "--timestamp-url",
            pki_server.pki.tsa_url, "--json"]
    group = click.Group("top")
    group.add_command(click.Group("archive"))
    register(group)
    first = CliRunner().invoke(group, [*args, "--before", "2030-01-01"])
    assert first.exit_code == 0, first.output
    (renewed,) = json.loads(first.stdout)["renewed"]
    assert renewed["convention"] == conv and renewed["previous_expiry"] is None
    new = ws.root / renewed["document"]
    old = ws.root / json.loads(signed.stdout)["document"]
    assert new.read_bytes().startswith(old.read_bytes())  # appended, nothing rewritten
    # The new archive timestamp's authority is valid for years: not due before 2030.
    again = CliRunner().invoke(group, [*args, "--before", "2030-01-01"])
    assert json.loads(again.stdout)["renewed"] == []
    verdict = _run("verify", conv, "--workspace", str(ws.root), "--json")
    assert verdict.exit_code == 0, verdict.output
    assert json.loads(verdict.stdout)["report"]["timestamps"][0]["trusted"] is True
    with Registry.open(ws.registry_path) as reg:
        assert [e.action for e in reg.events(conv)].count("timestamp_renewed") == 1


def test_verify_many_conventions_in_one_command(
    ws: Workspace, p12_set: Pkcs12Set, pki_server: PkiServer, tmp_path: Path
) -> None:
    """Several IDs: each is checked (by worker processes from 8 on), every verdict in the
    list, exit 0 only when all pass; one altered file fails alone."""
    mayor = [{"key": "commune", "name": dict(ROLES)["commune"], "capacity": "le Maire",
              "party": "Commune"}]
    convs = [new_convention(ws, tmp_path, f"lot-{n}", mayor) for n in range(8)]
    for conv in convs:
        assert sign(ws, p12_set, pki_server, conv, "commune").exit_code == 0
    good = _run("verify", *convs, "--workspace", str(ws.root), "--json")
    assert good.exit_code == 0, good.output
    payload = json.loads(good.stdout)
    assert (payload["ok"], payload["count"], payload["failed"]) == (True, 8, 0)
    assert [r["convention"] for r in payload["results"]] == convs
    with Registry.open(ws.registry_path) as reg:
        doc = reg.latest_document(convs[3], ["signed"])
        assert doc is not None
    altered = ws.root / doc.relpath
    altered.write_bytes(altered.read_bytes() + b"%junk\n")
    bad = _run("verify", *convs, "--workspace", str(ws.root), "--json")
    assert bad.exit_code == 1
    payload = json.loads(bad.stdout)
    assert (payload["ok"], payload["failed"]) == (False, 1)
    assert [r["ok"] for r in payload["results"]] == [n != 3 for n in range(8)]
    text = _run("verify", *convs[:2], "--workspace", str(ws.root))
    assert text.exit_code == 0 and "2 targets checked: 0 failed." in text.output
