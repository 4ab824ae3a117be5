"""Signing a registered convention through the CLI: order, archive, events, statuses,
refusals, paper originals, and ``verify ID``."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from sign_fixtures import ROLES, demo_pki, make_unsigned_pdf, pdfsig

from pipeline.cli.sign_cmds import register
from pipeline.core.workspace import Workspace
from pipeline.records.archive import store_documents
from pipeline.records.registry import NewConvention, Registry
from pipeline.signatures.demo_pki import DemoPki

__all__ = ["demo_pki"]  # fixture, imported for pytest

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


def _new_convention(ws: Workspace, tmp: Path, reference: str = "ref-1") -> str:
    """A convention numbered and generated (its PDF with three empty fields archived)."""
    pdf = make_unsigned_pdf(tmp / f"{reference}.pdf")
    with Registry.open(ws.registry_path) as reg:
        claim = reg.claim(NewConvention(
            type_id="fifty-fifty", year=2026, number_format="FF_{year}_{seq:03d}",
            reference=reference, fingerprint="f" * 64, title="Jardin partagé",
            holders=[{"kind": "person", "name": "Camille Dupré"}],
            commune_amount=Decimal("1000"), inkind_value=Decimal("500"),
            start=date(2026, 12, 1), end=date(2027, 3, 1), commitment_end=None,
            signatories=SIGNATORIES,
        ))
        store_documents(ws, reg, claim.convention_id, 2026, claim.version,
                        [(f"{claim.convention_id}.pdf", "pdf", pdf)])
    return claim.convention_id


@pytest.fixture
def ws(tmp_path: Path, demo_pki: DemoPki, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    monkeypatch.setenv(ENV, demo_pki.passphrase.decode())
    return Workspace(tmp_path / "ws")


def _sign(ws: Workspace, pki: DemoPki, conv: str, key: str, *extra: str) -> click.testing.Result:
    args = ["sign", conv, "--signatory", key, "--pkcs12", str(pki.pkcs12_for(key)),
            "--passphrase-env", ENV, "--workspace", str(ws.root), *extra]
    return CliRunner().invoke(_cli(), args)


def _status(ws: Workspace, conv: str) -> str:
    with Registry.open(ws.registry_path) as reg:
        row = reg.get(conv)
        assert row is not None
        return row.status


def _verify(ws: Workspace, conv: str, *extra: str) -> click.testing.Result:
    return CliRunner().invoke(_cli(), ["verify", conv, "--workspace", str(ws.root), *extra])


def test_sign_in_order_then_verify(ws: Workspace, demo_pki: DemoPki, tmp_path: Path) -> None:
    conv = _new_convention(ws, tmp_path)
    assert _status(ws, conv) == "generated"
    expected_status = {"holder-2": "signing", "holder-1": "signing", "commune": "signed"}
    for n, key in enumerate(["holder-2", "holder-1", "commune"], start=1):  # holders any order
        result = _sign(ws, demo_pki, conv, key, "--json")
        assert result.exit_code == 0, result.output
        payload = json.loads(result.stdout)
        assert payload["status"] == expected_status[key] == _status(ws, conv)
        path = ws.root / payload["document"]
        assert path.name == f"{conv}-signed-{n}-{key}.pdf"
        entries = [e for e in pdfsig(path) if e.validation]
        assert len(entries) == n
        assert {e.validation for e in entries} == {"Signature is Valid."}
        assert {e.subfilter for e in entries} == {"ETSI.CAdES.detached"}
        verdict = _verify(ws, conv, "--trust", str(demo_pki.ca_cert), "--json")
        report = json.loads(verdict.stdout)
        assert report["document"] == payload["document"]
        assert [s["signed"] for s in report["signatories"]].count(True) == n
        assert verdict.exit_code == (0 if n == 3 else 1)
        if n < 3:
            assert any("is not signed" in r for r in report["reasons"])

    with Registry.open(ws.registry_path) as reg:
        signed_docs = [d for d in reg.documents(conv) if d.kind == "signed"]
        assert len(signed_docs) == 3
        for doc in signed_docs:
            assert hashlib.sha256((ws.root / doc.relpath).read_bytes()).hexdigest() == doc.sha256
        assert set(reg.signatures(conv)) == {"holder-1", "holder-2", "commune"}
        statuses = [e.details["to"] for e in reg.events(conv) if e.action == "status"]
        assert statuses == ["generated", "signing", "signed"]
    text = _verify(ws, conv)
    assert text.exit_code == 0 and "OK: every signature is intact and valid." in text.output


def _archive_files(ws: Workspace) -> set[Path]:
    return {p for p in (ws.root / "archive").rglob("*") if p.is_file()}


def test_refusals_write_nothing(ws: Workspace, demo_pki: DemoPki, tmp_path: Path) -> None:
    conv = _new_convention(ws, tmp_path)
    before = _archive_files(ws)
    cases = [
        (("commune",), "The commune signs last: " + conv + " still awaits holder-1, holder-2"),
        (("guardian-1",), "'guardian-1' is not a signatory"),
    ]
    for (key,), message in cases:
        pki_key = key if key != "guardian-1" else "holder-1"
        args = ["sign", conv, "--signatory", key, "--pkcs12", str(demo_pki.pkcs12_for(pki_key)),
                "--passphrase-env", ENV, "--workspace", str(ws.root)]
        result = CliRunner().invoke(_cli(), args)
        assert result.exit_code == 1, result.output
        assert message in result.output
    wrong = CliRunner().invoke(_cli(), [
        "sign", conv, "--signatory", "holder-1", "--pkcs12", str(demo_pki.pkcs12_for("holder-1")),
        "--workspace", str(ws.root)], input="not-it\n")
    assert wrong.exit_code == 1 and "wrong passphrase" in wrong.output
    assert "not-it" not in wrong.output  # the prompt hides it
    assert _archive_files(ws) == before and _status(ws, conv) == "generated"

    assert _sign(ws, demo_pki, conv, "holder-1").exit_code == 0
    twice = _sign(ws, demo_pki, conv, "holder-1")
    assert twice.exit_code == 1 and "holder-1 has already signed" in twice.output

    with Registry.open(ws.registry_path) as reg:
        reg.set_status(conv, "cancelled", actor="test")
    cancelled = _sign(ws, demo_pki, conv, "holder-2")
    assert cancelled.exit_code == 1 and "is cancelled" in cancelled.output


def test_prompted_passphrase_signs(ws: Workspace, demo_pki: DemoPki, tmp_path: Path) -> None:
    conv = _new_convention(ws, tmp_path)
    secret = demo_pki.passphrase.decode()
    result = CliRunner().invoke(_cli(), [
        "sign", conv, "--signatory", "holder-1", "--pkcs12", str(demo_pki.pkcs12_for("holder-1")),
        "--workspace", str(ws.root)], input=secret + "\n")
    assert result.exit_code == 0, result.output
    assert secret not in result.output


def test_paper_original(ws: Workspace, tmp_path: Path) -> None:
    conv = _new_convention(ws, tmp_path)
    scan = make_unsigned_pdf(tmp_path / "scan.pdf", fields=())
    base = ["sign", conv, "--scan", str(scan), "--workspace", str(ws.root)]
    future = CliRunner().invoke(_cli(), [*base, "--signed-on", "2099-01-01"])
    assert future.exit_code == 2 and "in the future" in future.output
    result = CliRunner().invoke(_cli(), [*base, "--signed-on", "2026-11-20", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["mode"] == "handwritten" and _status(ws, conv) == "signed"
    with Registry.open(ws.registry_path) as reg:
        (doc,) = [d for d in reg.documents(conv) if d.kind == "scan"]
        assert doc.sha256 == payload["sha256"]
        modes = {e.details["signatory"]: e.details["mode"] for e in reg.events(conv)
                 if e.action == "signed"}
        assert modes == {"holder-1": "handwritten", "holder-2": "handwritten",
                         "commune": "handwritten"}
    again = CliRunner().invoke(_cli(), [*base, "--signed-on", "2026-11-20"])
    assert again.exit_code == 1 and "is signed" in again.output


def test_verify_id_detects_archive_tampering(
    ws: Workspace, demo_pki: DemoPki, tmp_path: Path
) -> None:
    conv = _new_convention(ws, tmp_path)
    payload = json.loads(_sign(ws, demo_pki, conv, "holder-1", "--json").stdout)
    path = ws.root / payload["document"]
    data = bytearray(path.read_bytes())
    data[data.index(b"Convention FF_2026_001")] ^= 0x20
    path.write_bytes(bytes(data))
    result = _verify(ws, conv)
    assert result.exit_code == 1
    assert "SHA-256 differs from the registry" in result.output
    assert "altered after signing" in result.output
    missing = _verify(ws, "FF_2026_999")
    assert missing.exit_code == 1 and "No convention FF_2026_999" in missing.output


def test_signing_order_comes_from_the_convention_type(ws: Workspace, tmp_path: Path) -> None:
    from pipeline.core.errors import SigningError
    from pipeline.signatures.workflow import check_can_sign

    conv_id = _new_convention(ws, tmp_path, "order-ref")
    with Registry.open(ws.registry_path) as reg:
        row = reg.get(conv_id)
        assert row is not None
        holder = next(s["key"] for s in SIGNATORIES if s["key"] != "commune")
        # The bundled type: holders first, the commune last.
        with pytest.raises(SigningError, match="commune signs last"):
            check_can_sign(reg, row, "commune", ("holders", "commune"))
        assert check_can_sign(reg, row, holder, ("holders", "commune"))["key"] == holder
        # A type that has the commune sign first reverses the rule.
        assert check_can_sign(reg, row, "commune", ("commune", "holders"))["key"] == "commune"
        with pytest.raises(SigningError, match="signs later"):
            check_can_sign(reg, row, holder, ("commune", "holders"))
