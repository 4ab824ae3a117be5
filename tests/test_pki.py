"""The demo PKI: clearly named, private files, usable keys, never overwritten."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from pipeline.core.errors import InputError
from pipeline.signatures.demo_pki import (
    CA_NAME,
    create_demo_pki,
    load_demo_pki,
    read_passphrase,
)
from pipeline.signatures.pki_server import PkiServer

ROLES = [("holder-1", "Camille Dupré"), ("commune", "Jean-François Maëlle")]


def _cn(name: x509.Name) -> str:
    return str(name.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value)


def test_files_names_and_permissions(tmp_path: Path) -> None:
    pki = create_demo_pki(tmp_path / "pki", ROLES)
    names = sorted(p.name for p in pki.directory.iterdir())
    assert names == ["PASSPHRASE.txt", "README.txt", "ca", "ca.pem", "commune.p12",
                     "holder-1.p12"]
    for path in pki.directory.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == (0o700 if path.is_dir() else 0o600), path
    for key in (pki.directory / "ca").glob("*.key.pem"):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600, key
    ca = x509.load_pem_x509_certificate(pki.ca_cert.read_bytes())
    assert _cn(ca.subject) == CA_NAME == "fiftyfifty DEMO CA — NOT FOR REAL USE"
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert "NOT FOR REAL USE" in (pki.directory / "README.txt").read_text()


def test_pkcs12_opens_with_the_passphrase_file(tmp_path: Path) -> None:
    pki = create_demo_pki(tmp_path / "pki", ROLES)
    passphrase = read_passphrase(pki.passphrase_file)
    assert passphrase == pki.passphrase and len(passphrase) >= 20
    ca = x509.load_pem_x509_certificate(pki.ca_cert.read_bytes())
    for key, name in ROLES:
        blob = pki.pkcs12_for(key).read_bytes()
        private, cert, chain = pkcs12.load_key_and_certificates(blob, passphrase)
        assert private is not None and cert is not None
        assert _cn(cert.subject) == name
        intermediate = chain[0]
        cert.verify_directly_issued_by(intermediate)
        intermediate.verify_directly_issued_by(ca)
        assert [c.subject for c in chain] == [intermediate.subject, ca.subject]
        with pytest.raises(ValueError):
            pkcs12.load_key_and_certificates(blob, b"wrong")


def test_each_pki_has_its_own_passphrase(tmp_path: Path) -> None:
    one = create_demo_pki(tmp_path / "one", ROLES)
    two = create_demo_pki(tmp_path / "two", ROLES)
    assert one.passphrase != two.passphrase


def test_refuses_to_overwrite_and_bad_roles(tmp_path: Path) -> None:
    pki = create_demo_pki(tmp_path / "pki", ROLES)
    before = pki.pkcs12_for("commune").read_bytes()
    with pytest.raises(InputError, match="already holds demo PKI files"):
        create_demo_pki(tmp_path / "pki", ROLES)
    assert pki.pkcs12_for("commune").read_bytes() == before
    with pytest.raises(InputError, match="given twice"):
        create_demo_pki(tmp_path / "x", [("commune", "A"), ("commune", "B")])
    with pytest.raises(InputError, match="Invalid role key"):
        create_demo_pki(tmp_path / "y", [("../evil", "A")])
    with pytest.raises(KeyError):
        pki.pkcs12_for("holder-9")


def test_cli_demo_pki(tmp_path: Path) -> None:
    from pipeline.cli.demo_pki_cmds import DEFAULT_ROLES
    from pipeline.cli.sign_cmds import register

    @click.group()
    def group() -> None:
        """Throw-away group for the tests."""

    register(group)
    runner = CliRunner()
    result = runner.invoke(group, ["demo-pki", str(tmp_path / "d"), "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert [r["key"] for r in payload["roles"]] == [k for k, _ in DEFAULT_ROLES]
    assert payload["timestamp_url"].startswith("http://127.0.0.1:")
    assert payload["ca_name"] == CA_NAME
    passphrase = read_passphrase(Path(payload["passphrase_file"])).decode()
    assert passphrase not in result.output  # never printed

    custom = runner.invoke(group, ["demo-pki", str(tmp_path / "e"), "--role", "commune=Le maire"])
    assert custom.exit_code == 0 and "commune" in custom.output
    assert (tmp_path / "e" / "commune.p12").exists()
    again = runner.invoke(group, ["demo-pki", str(tmp_path / "e")])
    assert again.exit_code == 2 and "already holds" in again.output
    bad = runner.invoke(group, ["demo-pki", str(tmp_path / "f"), "--role", "commune"])
    assert bad.exit_code == 2


def test_saved_pki_serves_its_tsa_ocsp_and_crl(tmp_path: Path) -> None:
    """The demo's server process loads the saved CAs and answers on loopback."""
    import urllib.request

    from asn1crypto import tsp
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509 import ocsp

    pki = create_demo_pki(tmp_path / "pki", ROLES)
    loaded = load_demo_pki(pki.directory)
    port = int(loaded.base_url.rsplit(":", 1)[1])
    blob = pki.pkcs12_for("commune").read_bytes()
    _key, cert, chain = pkcs12.load_key_and_certificates(blob, pki.passphrase)
    assert cert is not None
    with PkiServer(loaded, port):
        crl = urllib.request.urlopen(f"{loaded.base_url}/crl/intermediate.crl", timeout=10)
        parsed = x509.load_der_x509_crl(crl.read())
        assert parsed.is_signature_valid(chain[0].public_key())  # type: ignore[arg-type]
        request = ocsp.OCSPRequestBuilder().add_certificate(cert, chain[0], hashes.SHA256())
        body = request.build().public_bytes(serialization.Encoding.DER)
        answer = urllib.request.urlopen(urllib.request.Request(
            f"{loaded.base_url}/ocsp", data=body,
            headers={"Content-Type": "application/ocsp-request"}), timeout=10)
        status = ocsp.load_der_ocsp_response(answer.read())
        assert status.certificate_status == ocsp.OCSPCertStatus.GOOD
        stamp = tsp.TimeStampReq({"version": 1, "message_imprint": {
            "hash_algorithm": {"algorithm": "sha256"}, "hashed_message": b"x" * 32},
            "cert_req": True})
        reply = urllib.request.urlopen(urllib.request.Request(
            f"{loaded.base_url}/tsa", data=stamp.dump(),
            headers={"Content-Type": "application/timestamp-query"}), timeout=10)
        assert tsp.TimeStampResp.load(reply.read())["status"]["status"].native == "granted"
