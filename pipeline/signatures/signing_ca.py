"""The workspace's signing CA: one-time certificates for inhabitants who sign on the web,
and the commune's seal certificate that seals evidence files.

``fiftyfifty ca init`` creates, under ``<workspace>/signing-ca/`` (mode 0700):

- ``ca.pem``: the CA certificate, also copied into the workspace's trust folder so that
  ``verify`` trusts what it issues;
- ``ca-key.pem``: its private key, encrypted with a passphrase read from an environment
  variable (the variable's *name* is kept in ``ca.json``, never the passphrase);
- ``seal.p12``: the commune's seal certificate and key (same passphrase);
- ``ca.json``: the commune's name, the variable's name, the creation time.

A one-time certificate names the signer (common name and e-mail address). Its key lives
only in memory for the one signature it makes and is then dropped: nobody, not even the
server, can sign with it again.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from pipeline.core.errors import ConfigError, InputError
from pipeline.core.workspace import Workspace

__all__ = [
    "CA_DIR",
    "DEFAULT_PASSPHRASE_ENV",
    "TRUST_FILE",
    "OneTimeCredential",
    "SigningCa",
    "init_signing_ca",
    "load_signing_ca",
]

CA_DIR = "signing-ca"
TRUST_FILE = "fiftyfifty-signing-ca.pem"
"""Name of the CA's root in ``<workspace>/trust/``."""
DEFAULT_PASSPHRASE_ENV = "FIFTYFIFTY_CA_PASSPHRASE"  # noqa: S105 (a variable's name)
ONE_TIME_VALIDITY = timedelta(days=3650)
"""Long enough to verify for years; the key is dropped after its one signature."""
CA_VALIDITY = timedelta(days=365 * 30)


@dataclass(frozen=True)
class OneTimeCredential:
    """A key and its certificate for exactly one signature; never written to disk."""

    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate
    ca_cert: x509.Certificate

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the certificate (hex), as the evidence file records it."""
        return self.cert.fingerprint(hashes.SHA256()).hex()

    def to_pkcs12(self, passphrase: bytes) -> bytes:
        """A PKCS#12 blob (for the signing functions that take one)."""
        return pkcs12.serialize_key_and_certificates(
            b"one-time", self.key, self.cert, [self.ca_cert],
            serialization.BestAvailableEncryption(passphrase),
        )


def _name(common_name: str, email: str | None = None, org: str | None = None) -> x509.Name:
    parts = [x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64])]
    if org:
        parts.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org[:64]))
    if email:
        parts.append(x509.NameAttribute(NameOID.EMAIL_ADDRESS, email[:128]))
    return x509.Name(parts)


def _usage(*, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not ca, content_commitment=not ca, key_encipherment=False,
        data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca,
        encipher_only=False, decipher_only=False,
    )


def _leaf(ca_key: ec.EllipticCurvePrivateKey, ca_cert: x509.Certificate, subject: x509.Name,
          start: datetime, end: datetime, email: str | None
          ) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(ca_cert.subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(min(end, ca_cert.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(ca=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]),
                       critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                       critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
            ca_key.public_key()), critical=False)
    )
    if email:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.RFC822Name(email)]), critical=False)
    return key, builder.sign(ca_key, hashes.SHA256())


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())


@dataclass(frozen=True)
class SigningCa:
    """The workspace's CA, opened with its passphrase."""

    folder: Path
    commune: str
    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate
    passphrase: bytes

    def issue_one_time(self, name: str, email: str, when: datetime | None = None
                       ) -> OneTimeCredential:
        """A fresh key and a certificate naming ``name`` and ``email``, valid from now."""
        if not name.strip() or "@" not in email:
            raise InputError("A one-time certificate needs the signer's name and e-mail.")
        start = (when or datetime.now(UTC)) - timedelta(minutes=5)
        key, cert = _leaf(self.key, self.cert, _name(name.strip(), email, None), start,
                          start + ONE_TIME_VALIDITY, email)
        return OneTimeCredential(key, cert, self.cert)

    @property
    def seal_pkcs12(self) -> Path:
        """The commune's seal (PKCS#12, protected by the CA passphrase)."""
        return self.folder / "seal.p12"


def init_signing_ca(ws: Workspace, commune: str, passphrase: bytes, *,
                    passphrase_env: str = DEFAULT_PASSPHRASE_ENV,
                    when: datetime | None = None) -> SigningCa:
    """Create the CA and the commune's seal; add the CA's root to the workspace trust.

    Refuses a workspace that already has one (keys are never replaced)."""
    if len(passphrase) < 12:
        raise InputError("The CA passphrase must have at least 12 characters.")
    if not commune.strip():
        raise InputError("The commune's name is empty.")
    folder = ws.root / CA_DIR
    if (folder / "ca.pem").exists():
        raise ConfigError(f"{folder} already holds a signing CA; it is never replaced.")
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(folder, 0o700)
    now = when or datetime.now(UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name(f"Autorité de signature en ligne — {commune}"[:64], None, commune)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1)).not_valid_after(now + CA_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_usage(ca=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                       critical=False)
        .sign(key, hashes.SHA256())
    )
    encryption = serialization.BestAvailableEncryption(passphrase)
    _write_private(folder / "ca-key.pem", key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption))
    pem = cert.public_bytes(serialization.Encoding.PEM)
    seal_key, seal_cert = _leaf(key, cert, _name(f"Cachet de la commune de {commune}"[:64],
                                                 None, commune),
                                now - timedelta(days=1), now + CA_VALIDITY, None)
    _write_private(folder / "seal.p12", pkcs12.serialize_key_and_certificates(
        b"seal", seal_key, seal_cert, [cert], encryption))
    _write_private(folder / "ca.json", json.dumps({
        "commune": commune, "passphrase_env": passphrase_env,
        "created": now.isoformat(timespec="seconds"),
        "fingerprint": cert.fingerprint(hashes.SHA256()).hex(),
    }, ensure_ascii=False, indent=2).encode())
    _write_private(folder / "ca.pem", pem)
    os.chmod(folder / "ca.pem", 0o644)
    ws.trust_dir.mkdir(parents=True, exist_ok=True)
    (ws.trust_dir / TRUST_FILE).write_bytes(pem)
    return SigningCa(folder, commune, key, cert, passphrase)


def load_signing_ca(ws: Workspace) -> SigningCa:
    """Open the CA, its passphrase taken from the environment variable named in ca.json."""
    folder = ws.root / CA_DIR
    try:
        meta = json.loads((folder / "ca.json").read_text(encoding="utf-8"))
        cert = x509.load_pem_x509_certificate((folder / "ca.pem").read_bytes())
        blob = (folder / "ca-key.pem").read_bytes()
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"The workspace has no usable signing CA ({folder}).",
            hint="Create it with: fiftyfifty ca init --commune NAME",
        ) from exc
    env = str(meta.get("passphrase_env") or DEFAULT_PASSPHRASE_ENV)
    value = os.environ.get(env)
    if value is None:
        raise ConfigError(f"The signing CA's passphrase variable {env} is not set.",
                          hint=f"export {env}=… before starting the server.")
    try:
        key = serialization.load_pem_private_key(blob, value.encode("utf-8"))
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{env} does not open the signing CA's key.") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ConfigError("The signing CA's key is not an elliptic-curve key.")
    return SigningCa(folder, str(meta.get("commune") or ""), key, cert,
                     value.encode("utf-8"))


def random_passphrase() -> bytes:
    """A throw-away passphrase for an in-memory PKCS#12."""
    return secrets.token_urlsafe(24).encode("ascii")
