"""Verification: each attack is built here and reported with its own reason, by the
library and the CLI (exit 1), and checked against pdfsig where pdfsig can tell."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.fields import SigFieldSpec, append_signature_field
from pyhanko.sign.timestamps import HTTPTimeStamper
from pypdf import PdfReader, PdfWriter
from sign_fixtures import (
    FIELDS,
    PAGE_ONE_TEXT,
    SignedChain,
    make_unsigned_pdf,
    pdfsig,
    roots_of,
    sign_file,
)

from pipeline.cli.sign_cmds import register
from pipeline.signatures.credentials import KeyCredential
from pipeline.signatures.local_pki import pem
from pipeline.signatures.pki_server import PkiServer, start_local_pki
from pipeline.signatures.verify import verify_pdf

pytestmark = pytest.mark.usefixtures("english")


ALTERED = "bytes covered by the signature were altered after signing"
REWRITTEN = "the file was rewritten after signing"


def _final(chain: SignedChain) -> Path:
    return chain.versions[-1]


def _update(src: Path, dst: Path, change: object) -> Path:
    writer = IncrementalPdfFileWriter(io.BytesIO(src.read_bytes()))
    change(writer)  # type: ignore[operator]
    out = io.BytesIO()
    writer.write(out)
    dst.write_bytes(out.getvalue())
    return dst


def _add_page_content(writer: IncrementalPdfFileWriter) -> None:
    page = writer.root["/Pages"]["/Kids"][0].get_object()
    extra = writer.add_object(generic.StreamObject(stream_data=b"BT 72 700 Td (ANNULE) Tj ET"))
    old = page["/Contents"]
    contents = list(old) if isinstance(old, generic.ArrayObject) else [old]
    page["/Contents"] = generic.ArrayObject([*contents, extra])
    writer.update_container(page)


def _add_visible_field(writer: IncrementalPdfFileWriter) -> None:
    """The attack of the issue: a new visible, unsigned signature field over an amount."""
    append_signature_field(writer, SigFieldSpec("sig-montant", on_page=1,
                                                box=(40, 700, 300, 760)))


def _change_appearance(writer: IncrementalPdfFileWriter) -> None:
    """Replace the appearance of the first (signed) field with other drawing."""
    form = writer.root["/AcroForm"]
    widget = next(f.get_object() for f in form["/Fields"]
                  if f.get_object()["/T"] == "sig-holder-1")
    stream = generic.StreamObject({generic.NameObject("/Type"): generic.NameObject("/XObject"),
                                   generic.NameObject("/Subtype"): generic.NameObject("/Form"),
                                   generic.NameObject("/BBox"): generic.ArrayObject(
                                       [generic.NumberObject(0)] * 2 + [
                                           generic.NumberObject(170), generic.NumberObject(80)])},
                                  stream_data=b"0 0 1 rg 0 0 170 80 re f")
    widget["/AP"] = generic.DictionaryObject({generic.NameObject("/N"):
                                              writer.add_object(stream)})
    writer.update_container(widget)


def _need_appearances(writer: IncrementalPdfFileWriter) -> None:
    """Ask viewers to redraw every field (and so forget the signed appearances)."""
    form = writer.root["/AcroForm"]
    form[generic.NameObject("/NeedAppearances")] = generic.BooleanObject(True)
    writer.update_container(form)


def test_untouched_final_version_is_ok(signed_chain: SignedChain, pki_server: PkiServer) -> None:
    report = verify_pdf(_final(signed_chain), roots=roots_of(pki_server.pki))
    assert report.ok and report.reasons == () and report.unsigned_fields == ()
    assert report.expected_fields == FIELDS  # every field fixed at generation
    assert [s.verdict for s in report.signatures] == ["ok"] * 3


def test_byte_flipped_inside_signed_range(signed_chain: SignedChain, pki_server: PkiServer,
                                          tmp_path: Path) -> None:
    data = bytearray(_final(signed_chain).read_bytes())
    data[data.index(PAGE_ONE_TEXT.encode("ascii"))] ^= 0x20
    bad = tmp_path / "flipped.pdf"
    bad.write_bytes(bytes(data))
    report = verify_pdf(bad, roots=roots_of(pki_server.pki))
    assert not report.ok
    assert all(s.verdict == "altered" for s in report.signatures)
    assert sum(ALTERED in r for r in report.reasons) == 3
    assert "Digest Mismatch." in {e.validation for e in pdfsig(bad)}


@pytest.mark.parametrize(("attack", "reason"), [
    (_add_page_content, "page 1: its /Contents was changed"),
    (_add_visible_field, "a new field 'sig-montant' was added after a signature"),
    (_change_appearance, "existing objects were rewritten"),
    (_need_appearances, "the form's /NeedAppearances was changed"),
], ids=["page-content", "new-visible-field", "changed-appearance", "need-appearances"])
def test_update_after_the_last_signature_is_refused(
    signed_chain: SignedChain, pki_server: PkiServer, tmp_path: Path, attack: object,
    reason: str,
) -> None:
    bad = _update(_final(signed_chain), tmp_path / "bad.pdf", attack)
    report = verify_pdf(bad, roots=roots_of(pki_server.pki))
    assert not report.ok
    assert all(s.intact and s.valid for s in report.signatures)  # bytes untouched...
    assert any(reason in r for r in report.reasons), report.reasons  # ...but refused
    result = CliRunner().invoke(_cli(), ["verify", str(bad), "--workspace", str(tmp_path),
                                         "--trust", str(_root_file(pki_server, tmp_path))])
    assert result.exit_code == 1 and reason in result.output


def test_new_field_also_flagged_by_widget_check(signed_chain: SignedChain,
                                                pki_server: PkiServer, tmp_path: Path) -> None:
    bad = _update(_final(signed_chain), tmp_path / "bad.pdf", _add_visible_field)
    reasons = verify_pdf(bad, roots=roots_of(pki_server.pki)).reasons
    assert any("page 2: an annotation or widget was added" in r for r in reasons), reasons


@pytest.mark.parametrize("tool", ["pypdf", "qpdf"])
def test_whole_file_rewrite(signed_chain: SignedChain, pki_server: PkiServer, tmp_path: Path,
                            tool: str) -> None:
    bad = tmp_path / "rewritten.pdf"
    if tool == "qpdf":
        subprocess.run(["qpdf", str(_final(signed_chain)), str(bad)], check=False)
    else:
        writer = PdfWriter(clone_from=PdfReader(_final(signed_chain)))
        writer.pages[0].rotate(90)
        writer.write(bad)
    report = verify_pdf(bad, roots=roots_of(pki_server.pki))
    assert not report.ok
    assert sum(REWRITTEN in r for r in report.reasons) == 3


def test_file_cut_back_to_its_first_signature(signed_chain: SignedChain,
                                              pki_server: PkiServer) -> None:
    report = verify_pdf(signed_chain.versions[0], roots=roots_of(pki_server.pki))
    assert not report.ok
    assert report.unsigned_fields == FIELDS[1:]
    assert "expected signature field 'sig-commune' is not signed" in report.reasons


def test_without_trust_root_nothing_is_ok(signed_chain: SignedChain) -> None:
    report = verify_pdf(_final(signed_chain), roots=())
    assert not report.ok
    assert "trust add" in report.reasons[0]
    assert all(s.verdict == "untrusted" for s in report.signatures)


def test_signer_of_another_ca_is_untrusted(signed_chain: SignedChain, tmp_path: Path) -> None:
    with start_local_pki() as other:
        report = verify_pdf(_final(signed_chain), roots=roots_of(other.pki))
    assert not report.ok
    assert any("UNTRUSTED: the signer's certificate" in r for r in report.reasons)


def test_timestamp_of_an_untrusted_authority_is_reported(
    pki_server: PkiServer, people: dict[str, KeyCredential], tmp_path: Path
) -> None:
    """Built by hand with pyHanko (our signer refuses it): a rogue TSA's timestamp."""
    data = make_unsigned_pdf(tmp_path / "blank.pdf", ("sig-holder-1",)).read_bytes()
    with start_local_pki() as rogue, people["holder-1"].open() as opened:
        out = signers.sign_pdf(
            IncrementalPdfFileWriter(io.BytesIO(data)),
            signers.PdfSignatureMetadata(field_name="sig-holder-1",
                                         subfilter=fields.SigSeedSubFilter.PADES),
            signer=opened.signer, timestamper=HTTPTimeStamper(rogue.pki.tsa_url))
    bad = tmp_path / "rogue-tsa.pdf"
    bad.write_bytes(out.getvalue())
    report = verify_pdf(bad, roots=roots_of(pki_server.pki))
    assert not report.ok
    assert any("UNTRUSTED TIMESTAMP" in r for r in report.reasons), report.reasons


def test_revoked_signer_is_reported(pki_server: PkiServer, tmp_path: Path) -> None:
    pki = pki_server.pki
    issued = pki.issue_signer("Camille Dupré")
    cred = KeyCredential(issued.key, issued.cert, tuple(pki.chain))
    data = make_unsigned_pdf(tmp_path / "blank.pdf", ("sig-holder-1",)).read_bytes()
    signed = tmp_path / "signed.pdf"
    signed.write_bytes(sign_file(pki, data, "holder-1", cred, level="B-T").data)
    assert verify_pdf(signed, roots=roots_of(pki)).ok
    pki.revoke(issued.cert, datetime.now(UTC) - timedelta(hours=1))
    report = verify_pdf(signed, roots=roots_of(pki))
    assert not report.ok
    assert report.signatures[0].verdict == "revoked"
    assert any("REVOKED" in r for r in report.reasons)


def _root_file(pki_server: PkiServer, folder: Path) -> Path:
    path = folder / "root.pem"
    path.write_bytes(pem(pki_server.pki.root.cert))
    return path


def test_ten_years_later_b_lta_verifies_and_b_t_is_expired(
    signed_chain: SignedChain, pki_server: PkiServer, people: dict[str, KeyCredential],
    tmp_path: Path
) -> None:
    root = _root_file(pki_server, tmp_path)
    data = make_unsigned_pdf(tmp_path / "blank.pdf", ("sig-holder-1",)).read_bytes()
    b_t = tmp_path / "b-t.pdf"
    b_t.write_bytes(sign_file(pki_server.pki, data, "holder-1", people["holder-1"],
                              level="B-T").data)
    env = {**os.environ, "FAKETIME_DONT_FAKE_MONOTONIC": "1"}

    def later(pdf: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["faketime", "-f", "+3650d", sys.executable, "-m", "pipeline.cli.verify_main",
             str(pdf), "--trust", str(root), "--workspace", str(tmp_path / "ws"), "--json"],
            capture_output=True, text=True, env=env, check=False, timeout=120)

    lta = later(_final(signed_chain))
    assert lta.returncode == 0, lta.stdout + lta.stderr
    payload = json.loads(lta.stdout)
    assert payload["level"] == "B-LTA" and payload["ok"]
    assert datetime.fromisoformat(payload["signatures"][0]["timestamp_time"]).year == \
        datetime.now(UTC).year
    old = later(b_t)
    assert old.returncode == 1
    assert [s["verdict"] for s in json.loads(old.stdout)["signatures"]] == ["expired"]


def test_verify_at_a_later_date(people: dict[str, KeyCredential], pki_server: PkiServer,
                                tmp_path: Path) -> None:
    data = make_unsigned_pdf(tmp_path / "blank.pdf", ("sig-holder-1",)).read_bytes()
    b_b = tmp_path / "b-b.pdf"
    b_b.write_bytes(sign_file(pki_server.pki, data, "holder-1", people["holder-1"],
                              level="B-B").data)
    root = str(_root_file(pki_server, tmp_path))
    args = ["verify", str(b_b), "--trust", root, "--workspace", str(tmp_path)]
    assert CliRunner().invoke(_cli(), args).exit_code == 0
    later = CliRunner().invoke(_cli(), [*args, "--at", "2036-06-01"])
    assert later.exit_code == 1 and "EXPIRED" in later.output


# -- command line ---------------------------------------------------------------------


def _cli() -> click.Group:
    @click.group()
    def group() -> None:
        """Throw-away group for the tests."""

    register(group)
    return group


def test_cli_verify_ok_and_json(signed_chain: SignedChain, pki_server: PkiServer,
                                tmp_path: Path) -> None:
    runner = CliRunner()
    args = ["verify", str(_final(signed_chain)), "--trust",
            str(_root_file(pki_server, tmp_path)), "--workspace", str(tmp_path)]
    human = runner.invoke(_cli(), args)
    assert human.exit_code == 0, human.output
    assert "OK: every signature is intact, valid, trusted and in its place." in human.output
    assert "level B-LTA" in human.output
    result = runner.invoke(_cli(), [*args, "--json", *[f"--expect={f}" for f in FIELDS]])
    assert result.exit_code == 0
    payload = json.loads(result.stdout)
    assert payload["ok"] is True and payload["level"] == "B-LTA"
    assert [s["field"] for s in payload["signatures"]] == list(FIELDS)
    assert payload["signatures"][0]["signer"] == "Camille Dupré"


def test_cli_verify_without_roots_says_how_to_add_one(signed_chain: SignedChain,
                                                      tmp_path: Path) -> None:
    result = CliRunner().invoke(_cli(), ["verify", str(_final(signed_chain)), "--workspace",
                                         str(tmp_path / "ws")])
    assert result.exit_code == 1
    assert "fiftyfifty trust add" in result.output and "Traceback" not in result.output


def test_cli_verify_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(_cli(), ["verify", str(tmp_path / "absent.pdf")])
    assert result.exit_code == 2
    assert "No such PDF file" in result.output
