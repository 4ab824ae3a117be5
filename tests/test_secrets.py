"""Secrets and file modes after a real signing session through the CLI.

``fiftyfifty run``, ``demo-pki`` and ``sign --passphrase-env`` for every signatory, then
every file of the workspace, the reports and the commands' own output are searched for
the passphrase and for the private keys in PEM and DER form."""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    pkcs12,
)
from test_faults import BIN, EXAMPLES, cli

from pipeline.signatures.local_pki import pem
from pipeline.signatures.pki_server import PkiServer

pytestmark = pytest.mark.libreoffice


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory,
            pki_server: PkiServer) -> tuple[Path, Path, str, list[str]]:
    """(workspace, pki folder, passphrase, every output the commands printed)."""
    base = tmp_path_factory.mktemp("secrets")
    ws, pki, reports = base / "ws", base / "pki", base / "ws" / "reports"
    env = {"FIFTYFIFTY_TODAY": "2026-11-25"}
    outputs: list[str] = []
    # umask 000: the archive must not rely on the caller's umask to stay closed to others
    run = subprocess.run(["sh", "-c", 'umask 000 && exec "$@"', "sh", str(BIN), "run",
                          str(EXAMPLES / "rural-paths.json"), "--workspace", str(ws), "--json",
                          "--report", str(reports / "run.csv")],
                         capture_output=True, text=True, env={**os.environ, **env}, check=False)
    assert run.returncode == 0, run.stderr
    cid = json.loads(run.stdout)["conventions"][0]["id"]
    show = cli("registry", "show", cid, "--workspace", str(ws), "--json", env=env)
    signatories = json.loads(show.stdout)["signatories"]
    # Each signatory's PKCS#12, issued by the local PKI (its OCSP and CRL served on
    # 127.0.0.1), whose root the workspace trusts.
    passphrase = "secret-" + base64.b32encode(os.urandom(10)).decode()
    local = pki_server.pki
    pki.mkdir()
    (pki / "ca.pem").write_bytes(pem(local.root.cert))
    for s in signatories:
        (pki / f"{s['key']}.p12").write_bytes(
            local.issue_signer(s["name"]).pkcs12(local.chain, passphrase.encode(), s["key"]))
    trusted = cli("trust", "add", str(pki / "ca.pem"), "--workspace", str(ws), env=env)
    assert trusted.returncode == 0, trusted.stderr
    outputs += [run.stdout, run.stderr, show.stdout, trusted.stdout]
    for s in signatories:
        res = cli("sign", cid, "--signatory", s["key"], "--pkcs12", str(pki / f"{s['key']}.p12"),
                  "--passphrase-env", "FF_SECRET_PASS", "--location", "Loos-en-Gohelle",
                  "--level", "B-B",
                  "--workspace", str(ws),
                  env={**env, "FF_SECRET_PASS": passphrase})
        assert res.returncode == 0, res.stderr
        last = s is signatories[-1]
        assert ("statut signée ; doivent encore signer : personne" if last else
                "statut en cours de signature ; doivent encore signer") in res.stdout
        outputs += [res.stdout, res.stderr]
    for args in (["verify", cid, "--trust", str(pki / "ca.pem")], ["archive", "verify"],
                 ["registry", "export", "--format", "csv", "-o", str(reports / "reg.csv")],
                 ["registry", "list", "--json"]):
        res = cli(*args, "--workspace", str(ws), env=env)
        assert res.returncode == 0, (args, res.stdout, res.stderr)
        outputs += [res.stdout, res.stderr]
    return ws, pki, passphrase, outputs


def _key_forms(pki: Path, passphrase: str) -> list[bytes]:
    """Every private key of the PKI as PEM body, PKCS#8 DER and traditional DER."""
    forms: list[bytes] = []
    for p12 in sorted(pki.glob("*.p12")):
        key, _cert, _more = pkcs12.load_key_and_certificates(p12.read_bytes(),
                                                             passphrase.encode())
        assert key is not None
        for fmt in (PrivateFormat.PKCS8, PrivateFormat.TraditionalOpenSSL):
            der = key.private_bytes(Encoding.DER, fmt, NoEncryption())
            forms.append(der)
            forms.append(base64.b64encode(der)[:64])  # the first PEM line of its body
    assert forms
    return forms


def test_no_passphrase_or_private_key_anywhere(session: tuple[Path, Path, str, list[str]]
                                               ) -> None:
    ws, pki, passphrase, outputs = session
    files = [p for p in ws.rglob("*") if p.is_file()]
    assert any(p.suffix == ".sqlite" for p in files)
    assert any("signed" in p.name for p in files)
    assert any(p.suffix == ".csv" for p in files)
    needles = [passphrase.encode(), passphrase.encode("utf-16-le"), *_key_forms(pki, passphrase)]
    for path in files:
        body = path.read_bytes()
        for needle in needles:
            assert needle not in body, f"secret found in {path}"
        assert b"PRIVATE KEY" not in body, path
    for text in outputs:
        assert passphrase not in text
        assert "PRIVATE KEY" not in text


def test_archive_files_are_not_world_writable(session: tuple[Path, Path, str, list[str]]
                                              ) -> None:
    ws = session[0]
    checked = 0
    # the reports folder is the clerk's (written with their umask); the rest is the archive's
    for path in [ws, *(p for p in ws.rglob("*") if "reports" not in p.relative_to(ws).parts)]:
        mode = path.lstat().st_mode
        assert not mode & stat.S_IWOTH, f"{path} is world-writable ({oct(mode)})"
        checked += 1
    archived = [p for p in (ws / "archive").rglob("*") if p.is_file()]
    assert len(archived) >= 4 and checked > len(archived)
