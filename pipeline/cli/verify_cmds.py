"""Command ``verify``: every signature of a convention (its ID) or of a signed PDF file."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import click

from pipeline.cli.common import (
    EXIT_OK,
    EXIT_REJECTED,
    emit_json,
    get_workspace,
    guarded,
    json_option,
    verbose_enabled,
    workspace_option,
)
from pipeline.cli.evidence_view import print_evidence
from pipeline.core.errors import InputError
from pipeline.core.i18n import _, ngettext
from pipeline.records.registry import is_valid_convention_id
from pipeline.signatures.convention_check import verify_convention
from pipeline.signatures.online.evidence import verify_evidence
from pipeline.signatures.trust import load_roots
from pipeline.signatures.verify import VerifyReport, verify_pdf


@contextmanager
def _quiet_pyhanko() -> Iterator[None]:
    """pyHanko logs tracebacks for suspicious files; the report says it in words."""
    loggers = [logging.getLogger(n) for n in ("pyhanko", "pyhanko_certvalidator")]
    before = [lg.level for lg in loggers]
    if not verbose_enabled():
        for lg in loggers:
            lg.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for lg, level in zip(loggers, before, strict=True):
            lg.setLevel(level)


def _print_report(report: VerifyReport) -> None:
    click.echo(ngettext("{path}: {n} signature, level {level}",
                        "{path}: {n} signatures, level {level}", len(report.signatures)).format(
        path=report.path, n=len(report.signatures), level=report.level))
    for sig in report.signatures:
        when = sig.timestamp_time or sig.signing_time
        stamp = when.isoformat(timespec="seconds") if when else _("unknown time")
        proof = _("timestamped") if sig.timestamp_time else _("claimed")
        click.echo(_("  {field}: {signer}, {time} ({proof}), {level}; {intact}, {valid}; "
                     "certificate: {verdict}").format(
            field=sig.field, signer=sig.signer or "?", time=stamp, proof=proof,
            level=sig.level, intact=_("intact") if sig.intact else _("ALTERED"),
            valid=_("valid") if sig.valid else _("INVALID"), verdict=_(sig.verdict.upper())))
    for stamp_info in report.timestamps:
        state = _("trusted") if stamp_info["trusted"] else _("NOT trusted")
        click.echo(_("  document timestamp {time}: {state}").format(
            time=stamp_info["time"], state=state))
    for name in report.unsigned_fields:
        click.echo(_("  {field}: not signed").format(field=name))
    if report.ok:
        click.echo(_("OK: every signature is intact, valid, trusted and in its place."))
        return
    click.echo(_("FAILED:"))
    for reason in report.reasons:
        click.echo(f"  - {reason}")


@click.command("verify")
@click.argument("target")
@click.option(
    "--trust", "trust", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
    help="Extra trust root certificate (PEM or DER), besides the workspace's "
    "(see 'fiftyfifty trust'); repeatable.",
)
@click.option(
    "--expect", "expect", multiple=True, metavar="FIELD",
    help="For a PDF file: a signature field that must be signed; repeatable (default: "
    "every signature field the file had before its first signature).",
)
@click.option("--at", "at", type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]),
              help="Verify as of this date (UTC) instead of now.")
@workspace_option
@json_option
def verify_command(
    target: str, trust: tuple[Path, ...], expect: tuple[str, ...], at: datetime | None,
    workspace: str | None, as_json: bool,
) -> None:
    """Verify every signature of a convention (its ID) or of a signed PDF file.

    Each signature is checked at its proven time with the validation data the file
    carries: intact, valid, trusted (chains to a workspace root), not revoked, not
    expired, and nothing was added after it but the next expected signature, validation
    data or document timestamps. For a convention ID, also the signing order and that
    each certificate names its slot's person. Without any trust root, exit 1. Exit 0
    only when every check passes.

    \b
    Example:
      fiftyfifty verify FF_2026_001 --workspace ws
      fiftyfifty verify convention-signee.pdf --trust ca.pem --at 2036-01-01 --json
    """
    with guarded():
        moment = at.replace(tzinfo=UTC) if at is not None else None
        path = Path(target)
        ws = get_workspace(workspace)
        if is_valid_convention_id(target) and not path.is_file():
            with _quiet_pyhanko():
                result = verify_convention(ws, target, extra_trust=trust, at=moment)
                evidence = verify_evidence(ws, target, load_roots(ws, trust))
            if as_json:
                emit_json({**result.to_dict(), "evidence": [e.to_dict() for e in evidence]})
            else:
                click.echo(f"{result.convention_id}: {result.document}")
                if not result.hash_matches:
                    click.echo(_("  the file's SHA-256 differs from the registry's record"))
                _print_report(result.report)
                for reason in result.reasons[len(result.report.reasons):]:
                    click.echo(f"  - {reason}")
                print_evidence(evidence)
            ok = result.ok and all(e.ok for e in evidence)
            sys.exit(EXIT_OK if ok else EXIT_REJECTED)
        if not path.is_file():
            raise InputError(_("No such PDF file or convention: {target}.").format(
                target=target))
        with _quiet_pyhanko():
            report = verify_pdf(path, roots=load_roots(ws, trust),
                                expected_fields=expect or None, at=moment)
        if as_json:
            emit_json(report.to_dict())
        else:
            _print_report(report)
        sys.exit(EXIT_OK if report.ok else EXIT_REJECTED)


__all__ = ["verify_command"]
