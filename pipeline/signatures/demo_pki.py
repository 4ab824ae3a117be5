"""A throw-away certificate authority for demonstrations and tests.

``create_demo_pki`` writes, into one folder, a :class:`~pipeline.signatures.local_pki.
LocalPki` (root and intermediate CA whose names say loudly that they are a demo, a
timestamp authority and an OCSP responder, saved under ``ca/``), one PKCS#12 file per
signatory role (``holder-1.p12``, ``commune.p12``, …) whose certificate carries the
signatory's name, the root certificate as PEM (``ca.pem``, for ``trust add``) and the
passphrase of every PKCS#12 in ``PASSPHRASE.txt``. Private files are 0600. The
certificates name OCSP/CRL URLs on ``http://127.0.0.1:PORT``, served by
``fiftyfifty demo-pki-serve DIR``.

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

from pipeline.core.errors import InputError
from pipeline.signatures.local_pki import ROOT_NAME, LocalPki, pem
from pipeline.signatures.pki_server import free_port

CA_NAME = ROOT_NAME
"""Common name of the demo CA, shown by every PDF reader that inspects a signature."""
CA_FILE = "ca.pem"
PASSPHRASE_FILE = "PASSPHRASE.txt"  # noqa: S105 - a file name, not a secret
README_FILE = "README.txt"
PKI_DIR = "ca"
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
    base_url: str
    """Where ``demo-pki-serve`` answers (TSA at ``/tsa``, OCSP, CRLs)."""
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


def _write_private(path: Path, data: bytes) -> None:
    """Create ``path`` readable by its owner only, whatever the umask."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(path, 0o600)


def create_demo_pki(
    directory: Path,
    roles: Sequence[tuple[str, str]],
    *,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    port: int | None = None,
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
    targets = [directory / CA_FILE, directory / PASSPHRASE_FILE, directory / README_FILE,
               directory / PKI_DIR]
    targets += [directory / f"{key}.p12" for key, _ in roles]
    taken = [p.name for p in targets if p.exists()]
    if taken:
        raise InputError(
            f"{directory} already holds demo PKI files ({', '.join(taken)}); "
            "choose an empty folder."
        )
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)

    pki = LocalPki.create(f"http://127.0.0.1:{port or free_port()}")
    pki.save(directory / PKI_DIR)
    passphrase = secrets.token_urlsafe(18).encode("ascii")
    credentials: list[RoleCredential] = []
    for key, common_name in roles:
        issued = pki.issue_signer(common_name, not_before=start, not_after=end)
        path = directory / f"{key}.p12"
        _write_private(path, issued.pkcs12(pki.chain, passphrase, key))
        credentials.append(RoleCredential(key=key, common_name=common_name, pkcs12=path))

    ca_path = directory / CA_FILE
    _write_private(ca_path, pem(pki.root.cert))
    pass_path = directory / PASSPHRASE_FILE
    _write_private(pass_path, passphrase + b"\n")
    _write_private(
        directory / README_FILE,
        (
            f"{CA_NAME}\n\n"
            "Throw-away keys for demonstrations and tests. Never use them to sign a real\n"
            "convention: anyone who reads this folder can sign in these names.\n"
            f"{CA_FILE}: the root certificate (fiftyfifty trust add {CA_FILE}).\n"
            f"{PKI_DIR}/: the CAs' keys; 'fiftyfifty demo-pki-serve' serves their TSA, OCSP "
            f"and CRLs on {pki.base_url}.\n"
            f"{PASSPHRASE_FILE}: the passphrase of every .p12 file.\n"
        ).encode(),
    )
    return DemoPki(
        directory=directory,
        base_url=pki.base_url,
        ca_cert=ca_path,
        passphrase_file=pass_path,
        passphrase=passphrase,
        roles=tuple(credentials),
    )


def load_demo_pki(directory: Path) -> LocalPki:
    """The CAs saved by :func:`create_demo_pki` in ``directory`` (to serve them)."""
    folder = Path(directory) / PKI_DIR
    if not (folder / "pki.json").is_file():
        raise InputError(f"{directory} holds no demo PKI (run 'fiftyfifty demo-pki' first).")
    return LocalPki.load(folder)


def read_passphrase(path: Path) -> bytes:
    """The passphrase stored in a ``PASSPHRASE.txt`` (without its line end)."""
    return Path(path).read_bytes().strip()


__all__ = [
    "CA_NAME",
    "DemoPki",
    "RoleCredential",
    "create_demo_pki",
    "load_demo_pki",
    "read_passphrase",
]
