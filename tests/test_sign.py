"""Signing at each PAdES level against a real local PKI (root, intermediate, TSA, OCSP,
CRL on loopback), checked by our verifier and by poppler's pdfsig; every refusal
(expired, not yet valid, revoked, untrusted, wrong key usage, no revocation source at
B-LT, unreachable or untrusted timestamp authority, no trust root) writes nothing."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sign_fixtures import FIELDS, ROLES, SignedChain, make_unsigned_pdf, pdfsig, roots_of, sign_file

from pipeline.core.errors import ConfigError, SigningError
from pipeline.signatures.credentials import KeyCredential, Pkcs12Credential
from pipeline.signatures.local_pki import pem
from pipeline.signatures.pades import FieldSignature, SigningPolicy, TimestampError, sign_pdf_bytes
from pipeline.signatures.pki_server import PkiServer, start_local_pki
from pipeline.signatures.verify import verify_pdf

pytestmark = pytest.mark.usefixtures("english")



@pytest.fixture(scope="module")
def rogue() -> Iterator[PkiServer]:
    """Another PKI, not trusted: its certificates and its TSA must be refused."""
    server = start_local_pki()
    yield server
    server.stop()


def _cred(pki_server: PkiServer, name: str, **kw: object) -> KeyCredential:
    issued = pki_server.pki.issue_signer(name, **kw)  # type: ignore[arg-type]
    return KeyCredential(issued.key, issued.cert, tuple(pki_server.pki.chain))


def test_each_version_verifies_with_us_and_with_pdfsig(
    signed_chain: SignedChain, pki_server: PkiServer, tmp_path: Path
) -> None:
    roots = roots_of(pki_server.pki)
    ca = tmp_path / "ca.pem"
    ca.write_bytes(pem(pki_server.pki.root.cert))
    for n, version in enumerate(signed_chain.versions, start=1):
        report = verify_pdf(version, roots=roots, expected_fields=FIELDS[:n])
        assert report.ok, report.reasons
        assert report.level == "B-LTA"
        assert [s.field for s in report.signatures] == list(FIELDS[:n])
        assert all(s.intact and s.valid and s.trusted for s in report.signatures)
        assert all(s.timestamp_time is not None for s in report.signatures)
        assert [s.signer for s in report.signatures] == [name for _, name in ROLES[:n]]
        assert len(report.timestamps) == n and all(t["trusted"] for t in report.timestamps)
        seen = [e for e in pdfsig(version) if e.subfilter == "ETSI.CAdES.detached"]
        assert len(seen) == n
        assert {e.validation for e in seen} == {"Signature is Valid."}
        assert [e.common_name for e in seen] == [name for _, name in ROLES[:n]]


def test_every_signature_is_an_incremental_update_at_pdf_1_7(signed_chain: SignedChain) -> None:
    previous = signed_chain.unsigned.read_bytes()
    for version, result in zip(signed_chain.versions, signed_chain.results, strict=True):
        data = version.read_bytes()
        assert data.startswith(previous)
        assert result.level == "B-LTA" and result.warnings == ()
        info = subprocess.run(["pdfinfo", str(version)], capture_output=True, text=True,
                              check=True).stdout
        assert re.search(r"PDF version:\s+1\.7\n", info), info
        assert b"/Version /2.0" not in data and b"/Version/2.0" not in data
        previous = data


def test_first_signature_certifies_the_document(signed_chain: SignedChain) -> None:
    data = signed_chain.versions[0].read_bytes()
    assert b"/DocMDP" in data and b"/Perms" in data
    assert b"/P 2" in data  # form filling (further signatures) allowed


def test_appearance_shows_name_and_embedded_font(signed_chain: SignedChain) -> None:
    final = signed_chain.versions[-1]
    text = subprocess.run(["pdftotext", "-f", "2", "-l", "2", str(final), "-"],
                          capture_output=True, text=True, check=True).stdout
    assert text.count("Signé électroniquement par") == 3
    for _, name in ROLES:
        assert name in text
    def fonts(pdf: Path) -> list[str]:
        out = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True,
                             check=True).stdout
        return out.splitlines()[2:]

    added = [r for r in fonts(final) if r not in fonts(signed_chain.unsigned)]
    assert len(added) == 3, added  # one DejaVu subset per appearance
    assert all("DejaVuSans" in r and r.split()[-5] == "yes" for r in added), added


@pytest.mark.parametrize("level", ["B-B", "B-T", "B-LT"])
def test_each_level_is_reached_and_reported(
    level: str, pki_server: PkiServer, people: dict[str, KeyCredential], tmp_path: Path
) -> None:
    data = make_unsigned_pdf(tmp_path / "blank.pdf", ("sig-holder-1",)).read_bytes()
    result = sign_file(pki_server.pki, data, "holder-1", people["holder-1"],
                       level=level)  # type: ignore[arg-type]
    out = tmp_path / "out.pdf"
    out.write_bytes(result.data)
    report = verify_pdf(out, roots=roots_of(pki_server.pki))
    assert report.ok, report.reasons
    assert report.level == level
    assert (b"/DSS" in result.data) == (level == "B-LT")


def _refuse(pki_server: PkiServer, cred: KeyCredential, tmp_path: Path, *,
            level: str = "B-T", url: str | None = "", roots: tuple[object, ...] | None = None
            ) -> SigningError:
    data = make_unsigned_pdf(tmp_path / "blank.pdf").read_bytes()
    policy = SigningPolicy(level, pki_server.pki.tsa_url if url == "" else url,  # type: ignore[arg-type]
                           roots_of(pki_server.pki) if roots is None else roots)
    with pytest.raises(SigningError) as caught, cred.open() as opened:
        sign_pdf_bytes(data, FieldSignature("sig-holder-1", "Porteuse"), opened, policy)
    return caught.value


def test_expired_and_not_yet_valid_certificates_are_refused(
    pki_server: PkiServer, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    old = _cred(pki_server, "Ancien Porteur", not_before=now - timedelta(days=800),
                not_after=now - timedelta(days=30))
    assert "expired" in _refuse(pki_server, old, tmp_path).msg
    future = _cred(pki_server, "Futur Porteur", not_before=now + timedelta(days=10),
                   not_after=now + timedelta(days=400))
    assert "not valid before" in _refuse(pki_server, future, tmp_path).msg


def test_revoked_certificate_is_refused(pki_server: PkiServer, tmp_path: Path) -> None:
    cred = _cred(pki_server, "Porteur Révoqué")
    pki_server.pki.revoke(cred.cert)
    err = _refuse(pki_server, cred, tmp_path)
    assert "REVOKED" in err.msg and err.exit_code == 1


def test_certificate_of_another_ca_is_refused(
    pki_server: PkiServer, rogue: PkiServer, tmp_path: Path
) -> None:
    err = _refuse(pki_server, _cred(rogue, "Camille Dupré"), tmp_path)
    assert "does not chain to a trusted root" in err.msg


def test_wrong_key_usage_is_refused(pki_server: PkiServer, tmp_path: Path) -> None:
    err = _refuse(pki_server, _cred(pki_server, "Camille Dupré", signing_usage=False), tmp_path)
    assert "cannot sign" in err.msg


def test_no_revocation_source_b_t_warns_b_lt_refuses(
    pki_server: PkiServer, tmp_path: Path
) -> None:
    cred = _cred(pki_server, "Sans Révocation", revocation=False)
    err = _refuse(pki_server, cred, tmp_path, level="B-LT")
    assert "names no revocation source" in err.msg
    data = make_unsigned_pdf(tmp_path / "b.pdf").read_bytes()
    policy = SigningPolicy("B-T", pki_server.pki.tsa_url, roots_of(pki_server.pki))
    with cred.open() as opened:
        result = sign_pdf_bytes(data, FieldSignature("sig-holder-1", "P"), opened, policy)
    assert result.level == "B-T" and "no revocation source" in result.warnings[0]


def test_unreachable_timestamp_authority_refuses_never_downgrades(
    pki_server: PkiServer, people: dict[str, KeyCredential], tmp_path: Path
) -> None:
    err = _refuse(pki_server, people["holder-1"], tmp_path, url="http://127.0.0.1:9/tsa")
    assert isinstance(err, TimestampError) and err.exit_code == 3
    assert "did not answer" in err.msg


def test_untrusted_timestamp_authority_is_refused(
    pki_server: PkiServer, rogue: PkiServer, people: dict[str, KeyCredential], tmp_path: Path
) -> None:
    err = _refuse(pki_server, people["holder-1"], tmp_path, url=rogue.pki.tsa_url)
    assert isinstance(err, TimestampError) and "not trusted" in err.msg


def test_timestamped_level_without_authority_says_how(
    pki_server: PkiServer, people: dict[str, KeyCredential], tmp_path: Path
) -> None:
    data = make_unsigned_pdf(tmp_path / "blank.pdf").read_bytes()
    policy = SigningPolicy("B-LTA", None, roots_of(pki_server.pki))
    with pytest.raises(ConfigError) as caught, people["holder-1"].open() as opened:
        sign_pdf_bytes(data, FieldSignature("sig-holder-1", "P"), opened, policy)
    assert "--level B-B" in str(caught.value) and "timestamp_url" in str(caught.value)


def test_no_trust_root_refuses(
    pki_server: PkiServer, people: dict[str, KeyCredential], tmp_path: Path
) -> None:
    err = _refuse(pki_server, people["holder-1"], tmp_path, roots=())
    assert "trust add" in str(err)


def test_wrong_passphrase_is_refused(pki_server: PkiServer, tmp_path: Path) -> None:
    issued = pki_server.pki.issue_signer("Camille Dupré")
    p12 = tmp_path / "c.p12"
    p12.write_bytes(issued.pkcs12(pki_server.pki.chain, b"right", "c"))
    with pytest.raises(SigningError, match="wrong passphrase"), \
            Pkcs12Credential(p12, b"wrong").open():
        pass
    with Pkcs12Credential(p12, b"right").open() as opened:
        assert opened.common_name == "Camille Dupré" and len(opened.chain) == 2


def test_signing_a_signed_or_missing_field_is_refused(
    signed_chain: SignedChain, pki_server: PkiServer, people: dict[str, KeyCredential]
) -> None:
    policy = SigningPolicy("B-B", None, roots_of(pki_server.pki))
    data = signed_chain.versions[0].read_bytes()
    with people["holder-1"].open() as opened:
        with pytest.raises(SigningError, match="already signed"):
            sign_pdf_bytes(data, FieldSignature("sig-holder-1", "P"), opened, policy)
        with pytest.raises(SigningError, match="no signature field 'sig-guardian-1'"):
            sign_pdf_bytes(data, FieldSignature("sig-guardian-1", "P"), opened, policy)
