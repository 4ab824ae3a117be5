"""A small but complete certificate authority: root, intermediate, timestamp authority,
OCSP responder and CRLs, for demonstrations and tests.

Certificates name their own revocation sources (an OCSP URL and a CRL URL under
``base_url``), so pyHanko checks them exactly as it would check a commercial
certificate. :mod:`pipeline.signatures.pki_server` serves those URLs on 127.0.0.1.

A PKI can be saved to a folder (private keys 0600) and loaded back, so a server process
and the signing commands can share it (``make demo``). Nothing here is fit for real
signatures: the keys sit on disk.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

ROOT_NAME = "fiftyfifty DEMO CA — NOT FOR REAL USE"
INTERMEDIATE_NAME = "fiftyfifty DEMO signing CA — NOT FOR REAL USE"
ORGANISATION = "fiftyfifty DEMO — NOT FOR REAL USE"
STATE_FILE = "pki.json"


def _name(common_name: str, email: str | None = None) -> x509.Name:
    attrs = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANISATION),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ]
    if email:
        attrs.append(x509.NameAttribute(NameOID.EMAIL_ADDRESS, email))
    return x509.Name(attrs)


def _usage(*, sign: bool = False, ca: bool = False, encipher: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=sign, content_commitment=sign, key_encipherment=encipher,
        data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca,
        encipher_only=False, decipher_only=False,
    )


@dataclass(frozen=True)
class Issued:
    """A private key and its certificate."""

    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
    """EC P-256 (RSA 2048 for the timestamp authority: pyHanko's TSA signs with RSA)."""
    cert: x509.Certificate

    def pkcs12(self, chain: list[x509.Certificate], passphrase: bytes, label: str) -> bytes:
        """The key, certificate and ``chain`` as a PKCS#12 protected by ``passphrase``."""
        return pkcs12.serialize_key_and_certificates(
            label.encode(), self.key, self.cert, chain,
            serialization.BestAvailableEncryption(passphrase),
        )


@dataclass
class LocalPki:
    """Root and intermediate CAs, a TSA and an OCSP responder, with URLs under ``base_url``."""

    base_url: str
    root: Issued
    intermediate: Issued
    tsa: Issued
    ocsp: Issued
    revoked: dict[int, datetime] = field(default_factory=dict)
    """Serial number → revocation time, for certificates issued by the intermediate."""

    @property
    def tsa_url(self) -> str:
        return f"{self.base_url}/tsa"

    @property
    def ocsp_url(self) -> str:
        return f"{self.base_url}/ocsp"

    def crl_url(self, ca: str) -> str:
        return f"{self.base_url}/crl/{ca}.crl"

    @property
    def chain(self) -> list[x509.Certificate]:
        """The certificates above a signer: intermediate, then root."""
        return [self.intermediate.cert, self.root.cert]

    @classmethod
    def create(cls, base_url: str, *, now: datetime | None = None) -> LocalPki:
        """A new PKI; the CAs and the TSA stay valid 20 and 15 years from ``now``."""
        start = (now or datetime.now(UTC)) - timedelta(days=2)
        root_key = ec.generate_private_key(ec.SECP256R1())
        root_cert = (
            x509.CertificateBuilder().subject_name(_name(ROOT_NAME)).issuer_name(_name(ROOT_NAME))
            .public_key(root_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(start + timedelta(days=365 * 20))
            .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
            .add_extension(_usage(ca=True), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()),
                           critical=False)
            .sign(root_key, hashes.SHA256())
        )
        root = Issued(root_key, root_cert)
        pki = cls(base_url=base_url.rstrip("/"), root=root, intermediate=root, tsa=root,
                  ocsp=root)
        pki.intermediate = pki._issue(root, INTERMEDIATE_NAME, start, start + timedelta(
            days=365 * 18), ca=True, crl="root")
        pki.tsa = pki._issue(pki.intermediate, "fiftyfifty DEMO timestamp authority", start,
                             start + timedelta(days=365 * 15),
                             eku=ExtendedKeyUsageOID.TIME_STAMPING)
        pki.ocsp = pki._issue(pki.intermediate, "fiftyfifty DEMO OCSP responder", start,
                              start + timedelta(days=365 * 15),
                              eku=ExtendedKeyUsageOID.OCSP_SIGNING)
        return pki

    def _issue(self, issuer: Issued, common_name: str, not_before: datetime,
               not_after: datetime, *, ca: bool = False, crl: str | None = "intermediate",
               eku: x509.ObjectIdentifier | None = None, email: str | None = None,
               ocsp: bool = False, usage: x509.KeyUsage | None = None) -> Issued:
        key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
        if eku == ExtendedKeyUsageOID.TIME_STAMPING:
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        else:
            key = ec.generate_private_key(ec.SECP256R1())
        builder = (
            x509.CertificateBuilder().subject_name(_name(common_name, email))
            .issuer_name(issuer.cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before).not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None),
                           critical=True)
            .add_extension(usage or _usage(sign=not ca, ca=ca), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                issuer.key.public_key()), critical=False)
        )
        if eku is not None:
            builder = builder.add_extension(x509.ExtendedKeyUsage([eku]), critical=True)
            if eku == ExtendedKeyUsageOID.OCSP_SIGNING:
                builder = builder.add_extension(x509.OCSPNoCheck(), critical=False)
        if crl is not None and eku != ExtendedKeyUsageOID.OCSP_SIGNING:
            builder = builder.add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
                full_name=[x509.UniformResourceIdentifier(self.crl_url(crl))],
                relative_name=None, reasons=None, crl_issuer=None)]), critical=False)
        if ocsp:
            builder = builder.add_extension(x509.AuthorityInformationAccess([
                x509.AccessDescription(x509.oid.AuthorityInformationAccessOID.OCSP,
                                       x509.UniformResourceIdentifier(self.ocsp_url)),
            ]), critical=False)
        return Issued(key, builder.sign(issuer.key, hashes.SHA256()))

    def issue_signer(self, common_name: str, *, email: str | None = None,
                     not_before: datetime | None = None, not_after: datetime | None = None,
                     revocation: bool = True, signing_usage: bool = True) -> Issued:
        """A signer's certificate from the intermediate CA (two years from yesterday).

        ``revocation=False`` leaves out the OCSP and CRL URLs; ``signing_usage=False``
        gives a key-encipherment-only certificate (a wrong key usage).
        """
        start = not_before or datetime.now(UTC) - timedelta(days=1)
        end = not_after or start + timedelta(days=730)
        usage = None if signing_usage else _usage(encipher=True)
        return self._issue(self.intermediate, common_name, start, end, email=email,
                           crl="intermediate" if revocation else None, ocsp=revocation,
                           usage=usage)

    def revoke(self, cert: x509.Certificate, when: datetime | None = None) -> None:
        """Mark ``cert`` revoked from ``when`` (default: now); saved by :meth:`save`."""
        self.revoked[cert.serial_number] = when or datetime.now(UTC) - timedelta(minutes=1)

    # --- persistence -------------------------------------------------------------------

    def save(self, folder: Path) -> None:
        """Write every key (0600), certificate and the revocation list into ``folder``."""
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        for label, issued in self._parts().items():
            _write(folder / f"{label}.key.pem", issued.key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption()), private=True)
            _write(folder / f"{label}.cert.pem", issued.cert.public_bytes(
                serialization.Encoding.PEM))
        state = {"base_url": self.base_url,
                 "revoked": {str(k): v.isoformat() for k, v in self.revoked.items()}}
        _write(folder / STATE_FILE, json.dumps(state, indent=2).encode())

    @classmethod
    def load(cls, folder: Path) -> LocalPki:
        """The PKI saved by :meth:`save` in ``folder``."""
        state = json.loads((folder / STATE_FILE).read_text())
        parts = {}
        for label in ("root", "intermediate", "tsa", "ocsp"):
            key = serialization.load_pem_private_key(
                (folder / f"{label}.key.pem").read_bytes(), None)
            assert isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey)
            cert = x509.load_pem_x509_certificate((folder / f"{label}.cert.pem").read_bytes())
            parts[label] = Issued(key, cert)
        revoked = {int(k): datetime.fromisoformat(v) for k, v in state["revoked"].items()}
        return cls(base_url=state["base_url"], revoked=revoked, **parts)

    def _parts(self) -> dict[str, Issued]:
        return {"root": self.root, "intermediate": self.intermediate, "tsa": self.tsa,
                "ocsp": self.ocsp}


def _write(path: Path, data: bytes, *, private: bool = False) -> None:
    mode = 0o600 if private else 0o644
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(path, mode)


def pem(cert: x509.Certificate) -> bytes:
    """``cert`` as PEM bytes."""
    return cert.public_bytes(serialization.Encoding.PEM)


__all__ = ["INTERMEDIATE_NAME", "ROOT_NAME", "Issued", "LocalPki", "pem"]
