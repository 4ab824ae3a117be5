"""A throw-away certificate authority for demonstrations and tests.

``create_demo_pki`` writes, into one folder, a self-signed CA whose name says loudly that
it is a demo, one PKCS#12 file per signatory role (``holder-1.p12``, ``commune.p12``, …),
the CA certificate as PEM (to pass to ``verify --trust``) and the passphrase of every
PKCS#12 in ``PASSPHRASE.txt``. Every file is readable by its owner only (0600).

Nothing here is fit for real signatures: the keys sit on disk next to their passphrase.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from pipeline.core.errors import InputError

CA_NAME = "fiftyfifty DEMO CA — NOT FOR REAL USE"
"""Common name of the demo CA, shown by every PDF reader that inspects a signature."""
DEMO_ORGANISATION = "fiftyfifty DEMO — NOT FOR REAL USE"
CA_FILE = "ca.pem"
PASSPHRASE_FILE = "PASSPHRASE.txt"  # noqa: S105 - a file name, not a secret
README_FILE = "README.txt"
_KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


@dataclass(frozen=True)
class RoleCredential:
    """The signing credential made for one signatory role."""

    key: str
    """Signatory key (``holder-1``, ``guardian-1``, ``commune``)."""
    common_name: str
    """Name in the certificate, shown in the signature appearance."""
    pkcs12: Path
    """The PKCS#12 file holding the key and its certificate chain."""


@dataclass(frozen=True)
class DemoPki:
    """What :func:`create_demo_pki` wrote."""

    directory: Path
    """Folder holding every file below."""
    ca_cert: Path
    """The CA certificate (PEM), to use as a trust root."""
    passphrase_file: Path
    """``PASSPHRASE.txt``: the passphrase of every PKCS#12 file."""
    passphrase: bytes
    """The same passphrase, for callers that sign straight away (tests, ``make demo``)."""
    roles: tuple[RoleCredential, ...]
    """One credential per requested role, in the order given."""

    def pkcs12_for(self, key: str) -> Path:
        """The PKCS#12 file of role ``key``; ``KeyError`` when there is none."""
        for role in self.roles:
            if role.key == key:
                return role.pkcs12
        raise KeyError(key)


def _name(common_name: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, DEMO_ORGANISATION),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])


def _write_private(path: Path, data: bytes) -> None:
    """Create ``path`` readable by its owner only, whatever the umask."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(path, 0o600)


def _check_roles(roles: Sequence[tuple[str, str]]) -> None:
    if not roles:
        raise InputError("A demo PKI needs at least one signatory role.")
    seen: set[str] = set()
    for key, common_name in roles:
        if not _KEY_PATTERN.match(key):
            raise InputError(
                f"Invalid role key {key!r}: use lower-case letters, digits and '-' "
                "(holder-1, guardian-1, commune)."
            )
        if key in seen:
            raise InputError(f"Role {key!r} is given twice.")
        if not common_name.strip():
            raise InputError(f"Role {key!r} has an empty name.")
        seen.add(key)


def _make_ca(
    not_before: datetime, not_after: datetime
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name(CA_NAME)
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True,
                crl_sign=True, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def _make_leaf(
    ca_key: ec.EllipticCurvePrivateKey,
    ca_cert: x509.Certificate,
    common_name: str,
    not_before: datetime,
    not_after: datetime,
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(ca_cert.subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=True, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=False,
                crl_sign=False, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    return key, cert


def create_demo_pki(
    directory: Path,
    roles: Sequence[tuple[str, str]],
    *,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
) -> DemoPki:
    """Write a demo CA and one PKCS#12 per ``(key, common_name)`` role into ``directory``.

    The signers' certificates are valid from ``not_before`` (default: one day ago) to
    ``not_after`` (default: two years on); the CA covers a wider span. Give a window in
    the past to obtain an expired certificate. Refuses a folder that already holds a
    demo PKI, so keys are never silently replaced.
    """
    _check_roles(roles)
    now = datetime.now(UTC)
    start = not_before or now - timedelta(days=1)
    end = not_after or now + timedelta(days=730)
    if end <= start:
        raise InputError("The certificates' validity ends before it starts.")
    directory = Path(directory)
    targets = [directory / CA_FILE, directory / PASSPHRASE_FILE, directory / README_FILE]
    targets += [directory / f"{key}.p12" for key, _ in roles]
    taken = [p.name for p in targets if p.exists()]
    if taken:
        raise InputError(
            f"{directory} already holds demo PKI files ({', '.join(taken)}); "
            "choose an empty folder."
        )
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)

    ca_key, ca_cert = _make_ca(start - timedelta(days=1), end + timedelta(days=1))
    passphrase = secrets.token_urlsafe(18).encode("ascii")
    encryption = serialization.BestAvailableEncryption(passphrase)
    credentials: list[RoleCredential] = []
    for key, common_name in roles:
        leaf_key, leaf_cert = _make_leaf(ca_key, ca_cert, common_name, start, end)
        blob = pkcs12.serialize_key_and_certificates(
            key.encode("ascii"), leaf_key, leaf_cert, [ca_cert], encryption
        )
        path = directory / f"{key}.p12"
        _write_private(path, blob)
        credentials.append(RoleCredential(key=key, common_name=common_name, pkcs12=path))

    ca_path = directory / CA_FILE
    _write_private(ca_path, ca_cert.public_bytes(serialization.Encoding.PEM))
    pass_path = directory / PASSPHRASE_FILE
    _write_private(pass_path, passphrase + b"\n")
    _write_private(
        directory / README_FILE,
        (
            f"{CA_NAME}\n\n"
            "Throw-away keys for demonstrations and tests. Never use them to sign a real\n"
            "convention: anyone who reads this folder can sign in these names.\n"
            f"{CA_FILE}: the CA certificate (fiftyfifty verify --trust {CA_FILE}).\n"
            f"{PASSPHRASE_FILE}: the passphrase of every .p12 file.\n"
        ).encode(),
    )
    return DemoPki(
        directory=directory,
        ca_cert=ca_path,
        passphrase_file=pass_path,
        passphrase=passphrase,
        roles=tuple(credentials),
    )


def read_passphrase(path: Path) -> bytes:
    """The passphrase stored in a ``PASSPHRASE.txt`` (without its line end)."""
    return Path(path).read_bytes().strip()


__all__ = [
    "CA_NAME",
    "DemoPki",
    "RoleCredential",
    "create_demo_pki",
    "read_passphrase",
]
