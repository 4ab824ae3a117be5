"""PDF/A kept: a real convention (LibreOffice's PDF/A-2b) signed by its four signatories at
B-LTA; after every revision the file is still 1.7, declares PDF/A-2b, embeds every font,
passes qpdf --check and our own rules check."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from pipeline.cli import main
from pipeline.signatures.local_pki import pem
from pipeline.signatures.pdfa import pdfa_problems
from pipeline.signatures.pki_server import PkiServer

pytestmark = [pytest.mark.libreoffice, pytest.mark.usefixtures("english")]


def _cli(*args: str) -> Any:
    return CliRunner().invoke(main, list(args))


def _tool(*args: str) -> str:
    return subprocess.run(list(args), capture_output=True, text=True, check=False).stdout


def test_every_signed_revision_stays_pdfa_2b(
    pki_server: PkiServer, examples_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = tmp_path / "ws"
    run = _cli("run", str(examples_dir / "skatepark.json"), "--workspace", str(ws), "--json")
    assert run.exit_code == 0, run.output
    conv = json.loads(run.stdout)["conventions"][0]
    number = conv.get("id") or conv["number"]
    root = tmp_path / "root.pem"
    root.write_bytes(pem(pki_server.pki.root.cert))
    assert _cli("trust", "add", str(root), "--workspace", str(ws)).exit_code == 0
    shown = json.loads(_cli("registry", "show", number, "--workspace", str(ws),
                            "--json").stdout)
    monkeypatch.setenv("FF_PASS", "pdfa")
    pdfs = [ws / conv["pdf"]]
    for person in shown["signatories"]:
        issued = pki_server.pki.issue_signer(person["name"])
        p12 = tmp_path / f"{person['key']}.p12"
        p12.write_bytes(issued.pkcs12(pki_server.pki.chain, b"pdfa", person["key"]))
        signed = _cli("sign", number, "--signatory", person["key"], "--pkcs12", str(p12),
                      "--passphrase-env", "FF_PASS", "--level", "B-LTA", "--timestamp-url",
                      pki_server.pki.tsa_url, "--workspace", str(ws), "--json")
        assert signed.exit_code == 0, signed.output
        pdfs.append(ws / json.loads(signed.stdout)["document"])
    for pdf in pdfs:
        assert pdfa_problems(pdf.read_bytes()) == [], pdf.name
        assert re.search(r"PDF version:\s+1\.7", _tool("pdfinfo", str(pdf)))
        meta = _tool("pdfinfo", "-meta", str(pdf))
        assert 'pdfaid:part="2"' in meta or "<pdfaid:part>2<" in meta
        fonts = _tool("pdffonts", str(pdf)).splitlines()[2:]
        assert fonts and all(line.split()[-5] == "yes" for line in fonts), fonts
        check = subprocess.run(["qpdf", "--check", str(pdf)], capture_output=True, text=True,
                               check=False)
        assert check.returncode == 0 and "No syntax or stream encoding errors" in check.stdout
    verdict = _cli("verify", number, "--workspace", str(ws))
    assert verdict.exit_code == 0, verdict.output


def test_rules_check_catches_a_non_embedded_font_and_pdf_2(tmp_path: Path) -> None:
    from sign_fixtures import make_unsigned_pdf

    plain = make_unsigned_pdf(tmp_path / "plain.pdf").read_bytes()
    problems = pdfa_problems(plain)
    assert any("Helvetica" in p and "not embedded" in p for p in problems)
    assert "no XMP metadata" in problems
    bumped = plain.replace(b"%PDF-1.3", b"%PDF-2.0", 1)
    assert any("header" in p for p in pdfa_problems(bumped))
