"""How ``verify`` and ``archive verify`` show the checks of evidence files."""

from __future__ import annotations

from collections.abc import Sequence

import click

from pipeline.core.i18n import _
from pipeline.core.workspace import Workspace
from pipeline.signatures.online.evidence import EvidenceCheck, verify_evidence
from pipeline.signatures.trust import load_roots

__all__ = ["check_archive_evidence", "print_evidence"]

_TRUST_SUFFIXES = (".pem", ".crt", ".cer", ".der")


def print_evidence(checks: Sequence[EvidenceCheck]) -> None:
    """One line per evidence file, then its problems."""
    for check in checks:
        state = _("sealed, intact") if check.ok else _("FAILED")
        click.echo(_("  evidence {path}: {state}").format(path=check.report, state=state))
        for reason in check.reasons:
            click.echo(f"    - {reason}")


def check_archive_evidence(ws: Workspace) -> list[EvidenceCheck]:
    """Every evidence file of the workspace against the workspace's trust roots."""
    if not ws.registry_path.is_file():
        return []
    return verify_evidence(ws, None, load_roots(ws))
