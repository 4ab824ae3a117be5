"""Verification: each kind of tampering is reported as such, by the library and the CLI."""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pypdf import PdfReader, PdfWriter
from sign_fixtures import FIELDS, PAGE_ONE_TEXT, SignedChain, demo_pki, pdfsig, signed_chain

from pipeline.cli.sign_cmds import register
from pipeline.signatures.demo_pki import DemoPki, create_demo_pki
from pipeline.signatures.verify import verify_pdf

__all__ = ["demo_pki", "signed_chain"]  # fixtures, imported for pytest

ALTERED = "bytes covered by the signature were altered after signing"
REWRITTEN = "the file was rewritten after signing"
CHANGED = "changed after this signature by an update that is not a signature"


def _final(chain: SignedChain) -> Path:
    return chain.versions[-1]


def _flip_byte(src: Path, dst: Path) -> Path:
    data = bytearray(src.read_bytes())
    at = data.index(PAGE_ONE_TEXT.encode("ascii"))  # inside the first, signed revision
    data[at] ^= 0x20
    dst.write_bytes(bytes(data))
    return dst


def _add_page_content(src: Path, dst: Path) -> Path:
    """An incremental update by another tool that writes on page 1."""
    writer = IncrementalPdfFileWriter(io.BytesIO(src.read_bytes()))
    page = writer.root["/Pages"]["/Kids"][0].get_object()
    extra = writer.add_object(generic.StreamObject(stream_data=b"BT 72 700 Td (ANNULE) Tj ET"))
    old = page["/Contents"]
    contents = list(old) if isinstance(old, generic.ArrayObject) else [old]
    page["/Contents"] = generic.ArrayObject([*contents, extra])
    writer.update_container(page)
    out = io.BytesIO()
    writer.write(out)  # type: ignore[no-untyped-call]
    dst.write_bytes(out.getvalue())
    return dst


def _pypdf_rotate(src: Path, dst: Path) -> Path:
    writer = PdfWriter(clone_from=PdfReader(src))
    writer.pages[0].rotate(90)
    writer.write(dst)
    return dst


def _qpdf_rewrite(src: Path, dst: Path) -> Path:
    subprocess.run(["qpdf", str(src), str(dst)], check=True)
    return dst


def test_untouched_final_version_is_ok(signed_chain: SignedChain, demo_pki: DemoPki) -> None:
    report = verify_pdf(_final(signed_chain), trust=[demo_pki.ca_cert], expected_fields=FIELDS)
    assert report.ok and report.reasons == () and report.unsigned_fields == ()
    assert report.trust_checked


def test_byte_flipped_inside_signed_range(signed_chain: SignedChain, tmp_path: Path) -> None:
    bad = _flip_byte(_final(signed_chain), tmp_path / "flipped.pdf")
    report = verify_pdf(bad, expected_fields=FIELDS)
    assert not report.ok
    assert all(not s.intact for s in report.signatures)
    assert all(s.coverage != "partial" for s in report.signatures)
    assert sum(ALTERED in r for r in report.reasons) == 3
    assert not any(REWRITTEN in r for r in report.reasons)
    assert {e.validation for e in pdfsig(bad)} == {"Digest Mismatch."}


def test_page_content_added_by_incremental_update(
    signed_chain: SignedChain, tmp_path: Path
) -> None:
    bad = _add_page_content(_final(signed_chain), tmp_path / "annotated.pdf")
    report = verify_pdf(bad, expected_fields=FIELDS)
    assert not report.ok
    assert all(s.intact and s.valid for s in report.signatures)  # bytes untouched...
    assert all(s.modification_level == "other" for s in report.signatures)  # ...but changed
    assert sum(CHANGED in r for r in report.reasons) == 3


@pytest.mark.parametrize("rewrite", [_pypdf_rotate, _qpdf_rewrite], ids=["pypdf", "qpdf"])
def test_whole_file_rewrite(signed_chain: SignedChain, tmp_path: Path, rewrite: object) -> None:
    bad = rewrite(_final(signed_chain), tmp_path / "rewritten.pdf")  # type: ignore[operator]
    report = verify_pdf(bad, expected_fields=FIELDS)
    assert not report.ok
    assert all(s.coverage == "partial" for s in report.signatures)
    assert sum(REWRITTEN in r for r in report.reasons) == 3


def test_unsigned_and_unknown_expected_fields(signed_chain: SignedChain) -> None:
    report = verify_pdf(
        signed_chain.versions[1], expected_fields=[*FIELDS, "sig-guardian-1"]
    )
    assert not report.ok
    assert all(s.ok for s in report.signatures)
    assert report.unsigned_fields == ("sig-commune", "sig-guardian-1")
    assert report.reasons == (
        "expected signature field 'sig-commune' is not signed",
        "expected signature field 'sig-guardian-1' does not exist in the document",
    )


def test_signer_outside_the_trust_roots(signed_chain: SignedChain, tmp_path: Path) -> None:
    other = create_demo_pki(tmp_path / "other", [("commune", "Autre")])
    report = verify_pdf(_final(signed_chain), trust=[other.ca_cert])
    assert not report.ok
    assert all(s.trusted is False for s in report.signatures)
    assert all("does not chain to a given trust root" in r for r in report.reasons)
    assert verify_pdf(_final(signed_chain)).ok  # without roots, trust is not required


def test_unreadable_or_unsigned_pdf_is_not_ok(
    signed_chain: SignedChain, tmp_path: Path
) -> None:
    junk = tmp_path / "junk.pdf"
    junk.write_bytes(b"this is not a PDF")
    assert "not a readable PDF" in verify_pdf(junk).reasons[0]
    assert verify_pdf(signed_chain.unsigned).reasons == ("the document carries no signature",)


# -- command line ---------------------------------------------------------------------


def _cli() -> click.Group:
    @click.group()
    def group() -> None:
        """Throw-away group for the tests."""

    register(group)
    return group


def test_cli_verify_ok_and_json(signed_chain: SignedChain, demo_pki: DemoPki) -> None:
    runner = CliRunner()
    args = ["verify", str(_final(signed_chain)), "--trust", str(demo_pki.ca_cert)]
    human = runner.invoke(_cli(), args)
    assert human.exit_code == 0, human.output
    assert "OK: every signature is intact and valid." in human.output
    result = runner.invoke(_cli(), [*args, "--json", *[f"--expect={f}" for f in FIELDS]])
    assert result.exit_code == 0
    payload = json.loads(result.stdout)
    assert payload["ok"] is True
    assert [s["field"] for s in payload["signatures"]] == list(FIELDS)
    assert payload["signatures"][0]["signer"] == "Camille Dupré"


def test_cli_verify_tampered_exits_1_with_reason(
    signed_chain: SignedChain, tmp_path: Path
) -> None:
    bad = _qpdf_rewrite(_final(signed_chain), tmp_path / "rewritten.pdf")
    result = CliRunner().invoke(_cli(), ["verify", str(bad), "--workspace", str(tmp_path)])
    assert result.exit_code == 1
    assert "FAILED" in result.output and REWRITTEN in result.output
    assert "Traceback" not in result.output


def test_cli_verify_uses_workspace_trust_folder(
    signed_chain: SignedChain, demo_pki: DemoPki, tmp_path: Path
) -> None:
    ws = tmp_path / "ws"
    (ws / "trust").mkdir(parents=True)
    other = create_demo_pki(tmp_path / "other", [("commune", "Autre")])
    (ws / "trust" / "other.pem").write_bytes(other.ca_cert.read_bytes())
    args = ["verify", str(_final(signed_chain)), "--workspace", str(ws), "--json"]
    result = CliRunner().invoke(_cli(), args)
    assert result.exit_code == 1
    assert json.loads(result.stdout)["trust_checked"] is True
    (ws / "trust" / "demo.pem").write_bytes(demo_pki.ca_cert.read_bytes())
    assert CliRunner().invoke(_cli(), args).exit_code == 0


def test_cli_verify_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(_cli(), ["verify", str(tmp_path / "absent.pdf")])
    assert result.exit_code == 2
    assert "No such PDF file" in result.output
