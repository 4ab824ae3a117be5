"""The workspace's trust roots (``<workspace>/trust/``): list them, add one.

``fiftyfifty verify`` trusts every certificate in that folder; an administrator adds one
from the back-office (a commune's CA, the signing CA of a partner). A root is checked to
be an X.509 certificate (PEM or DER) before it is written, as PEM, under a name made of
its subject and fingerprint; the addition is an event of the registry's history.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding

from pipeline.core.errors import InputError, StateError
from pipeline.core.files import write_atomic
from pipeline.core.workspace import Workspace
from pipeline.records.registry import Registry

__all__ = ["TRUST_SUFFIXES", "TrustRoot", "add_trust_root", "list_trust_roots"]

TRUST_SUFFIXES = (".pem", ".crt", ".cer", ".der")
EVENT_TRUST_ADDED = "trust_root_added"


@dataclass(frozen=True)
class TrustRoot:
    """One certificate of the trust folder."""

    file: str
    subject: str
    sha256: str
    not_after: str
    ca: bool


def _parse(data: bytes, name: str) -> list[x509.Certificate]:
    try:
        if b"-----BEGIN CERTIFICATE-----" in data:
            return x509.load_pem_x509_certificates(data)
        return [x509.load_der_x509_certificate(data)]
    except ValueError as exc:
        raise InputError(f"{name} is not an X.509 certificate (PEM or DER).") from exc


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def _describe(file: str, cert: x509.Certificate) -> TrustRoot:
    return TrustRoot(file, cert.subject.rfc4514_string(),
                     cert.fingerprint(hashes.SHA256()).hex(),
                     cert.not_valid_after_utc.date().isoformat(), _is_ca(cert))


def list_trust_roots(ws: Workspace) -> list[TrustRoot]:
    """Every certificate in the trust folder (a file that cannot be read is skipped)."""
    folder = ws.trust_dir
    if not folder.is_dir():
        return []
    roots: list[TrustRoot] = []
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() not in TRUST_SUFFIXES or not path.is_file():
            continue
        try:
            roots += [_describe(path.name, c) for c in _parse(path.read_bytes(), path.name)]
        except InputError:
            continue
    return roots


def add_trust_root(ws: Workspace, reg: Registry, *, filename: str, data: bytes,
                   actor: str) -> TrustRoot:
    """Check and store one certificate as a trust root; refuse a duplicate."""
    name = Path((filename or "certificate").replace("\\", "/")).name or "certificate"
    certs = _parse(data[:1_000_000], name)
    if len(certs) != 1:
        raise InputError(f"{name} holds {len(certs)} certificates: send them one by one.")
    cert = certs[0]
    fingerprint = cert.fingerprint(hashes.SHA256()).hex()
    if any(r.sha256 == fingerprint for r in list_trust_roots(ws)):
        raise StateError("This certificate is already a trust root.")
    cn = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    label = re.sub(r"[^A-Za-z0-9]+", "-", str(cn[0].value) if cn else "root").strip("-")
    file = f"{(label or 'root')[:40]}-{fingerprint[:12]}.pem"
    ws.trust_dir.mkdir(parents=True, exist_ok=True)
    write_atomic(ws.trust_dir / file, cert.public_bytes(Encoding.PEM))
    root = _describe(file, cert)
    reg.record_event(None, EVENT_TRUST_ADDED, actor, {
        "file": file, "subject": root.subject, "sha256": fingerprint})
    return root
