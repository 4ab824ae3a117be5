"""The workspace's trust roots: the certification authorities whose certificates may sign.

Roots are PEM files in ``<workspace>/trust/``, named after their SHA-256 fingerprint.
Adding or removing one is recorded as an event in the registry's hash-chained log
(``trust_added`` / ``trust_removed``), so the archive shows who was trusted when.
Signing and verifying are refused when no root is configured: trust is on by default.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from pyhanko.keys import load_certs_from_pemder_data

from pipeline.core.errors import InputError, StateError
from pipeline.core.files import write_atomic
from pipeline.core.workspace import Workspace
from pipeline.records.registry import Registry

EVENT_TRUST_ADDED = "trust_added"
EVENT_TRUST_REMOVED = "trust_removed"
SUFFIXES = (".pem", ".crt", ".cer", ".der")


@dataclass(frozen=True)
class TrustRoot:
    """One trusted certification authority."""

    fingerprint: str
    """Hex SHA-256 of the certificate (DER)."""
    subject: str
    not_after: datetime
    path: Path

    def to_dict(self) -> dict[str, Any]:
        return {"fingerprint": self.fingerprint, "subject": self.subject,
                "not_after": self.not_after.isoformat(), "file": self.path.name}


def _read_certs(path: Path) -> list[x509.Certificate]:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise InputError(f"Cannot read the certificate {path}: {exc.strerror}.") from exc
    try:
        if b"-----BEGIN" in data:
            certs = x509.load_pem_x509_certificates(data)
        else:
            certs = [x509.load_der_x509_certificate(data)]
    except ValueError as exc:
        raise InputError(f"{path} is not an X.509 certificate (PEM or DER).") from exc
    if not certs:
        raise InputError(f"{path} holds no certificate.")
    return certs


def _root(cert: x509.Certificate, path: Path) -> TrustRoot:
    return TrustRoot(cert.fingerprint(hashes.SHA256()).hex(), cert.subject.rfc4514_string(),
                     cert.not_valid_after_utc, path)


def list_roots(ws: Workspace) -> list[TrustRoot]:
    """Every root in the workspace's ``trust/`` folder, by subject."""
    folder = ws.trust_dir
    if not folder.is_dir():
        return []
    roots = [_root(cert, p) for p in sorted(folder.iterdir())
             if p.suffix.lower() in SUFFIXES for cert in _read_certs(p)]
    return sorted(roots, key=lambda r: (r.subject, r.fingerprint))


def _is_authority(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return cert.issuer == cert.subject


def add_root(ws: Workspace, path: Path, *, actor: str) -> list[TrustRoot]:
    """Trust the certification authority (or authorities) in ``path``; one event each.

    Refuses a certificate that is not a CA (a signer's own certificate is never a root).
    Adding a root already trusted does nothing.
    """
    certs = _read_certs(path)
    for cert in certs:
        if not _is_authority(cert):
            raise InputError(f"{path}: {cert.subject.rfc4514_string()} is not a certification "
                             "authority; trust the CA that issued it instead.")
    known = {r.fingerprint for r in list_roots(ws)}
    added: list[TrustRoot] = []
    ws.trust_dir.mkdir(parents=True, exist_ok=True)
    with Registry.open(ws.registry_path) as reg, reg.transaction():
        for cert in certs:
            root = _root(cert, ws.trust_dir / "x.pem")
            if root.fingerprint in known:
                continue
            slug = re.sub(r"[^a-z0-9]+", "-", root.subject.lower()).strip("-")[:40]
            target = ws.trust_dir / f"{root.fingerprint[:16]}-{slug}.pem"
            write_atomic(target, cert.public_bytes(serialization.Encoding.PEM))
            root = _root(cert, target)
            reg.record_event(None, EVENT_TRUST_ADDED, actor, root.to_dict())
            known.add(root.fingerprint)
            added.append(root)
    return added


def remove_root(ws: Workspace, which: str, *, actor: str) -> TrustRoot:
    """Stop trusting the root whose fingerprint starts with ``which`` (or file name)."""
    wanted = which.lower().replace(":", "")
    matches = [r for r in list_roots(ws)
               if (len(wanted) >= 8 and r.fingerprint.startswith(wanted)) or r.path.name == which]
    if len(matches) != 1:
        raise StateError(f"{len(matches)} trust roots match {which!r}; give at least 8 "
                         "characters of the fingerprint shown by 'fiftyfifty trust list'.")
    root = matches[0]
    with Registry.open(ws.registry_path) as reg, reg.transaction():
        reg.record_event(None, EVENT_TRUST_REMOVED, actor, root.to_dict())
        root.path.unlink()
    return root


def load_roots(ws: Workspace, extra: Sequence[Path] = ()) -> tuple[Any, ...]:
    """The workspace's roots plus ``extra`` files, as pyHanko (asn1crypto) certificates."""
    paths = [r.path for r in list_roots(ws)] + list(extra)
    return load_root_files(paths)


@functools.lru_cache(maxsize=256)
def _asn1_cert(der: bytes) -> Any:
    """The asn1crypto form of one certificate, made once per process (what it works out
    on first use, such as its names prepared for comparison, is kept with it)."""
    return next(iter(load_certs_from_pemder_data(der)))


def load_root_files(paths: Sequence[Path]) -> tuple[Any, ...]:
    """Certificates in ``paths`` as pyHanko (asn1crypto) certificates (duplicates dropped)."""
    seen: dict[bytes, Any] = {}
    for path in paths:
        for cert in _read_certs(path):
            der = cert.public_bytes(serialization.Encoding.DER)
            if der not in seen:
                seen[der] = _asn1_cert(der)
    return tuple(seen.values())


__all__ = ["EVENT_TRUST_ADDED", "EVENT_TRUST_REMOVED", "TrustRoot", "add_root",
           "list_roots", "load_root_files", "load_roots", "remove_root"]
