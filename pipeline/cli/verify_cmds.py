"""Command ``verify``: every signature of a convention (its ID) or of a signed PDF file."""

from __future__ import annotations

import logging
import multiprocessing
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

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
from pipeline.core.workspace import Workspace
from pipeline.records.registry import is_valid_convention_id
from pipeline.signatures.convention_check import ConventionVerification, verify_convention
from pipeline.signatures.online.evidence import EvidenceCheck, verify_evidence
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


@dataclass(frozen=True)
class _Checked:
    """One target's verdict: a convention (with its evidence files) or a PDF file."""

    ok: bool
    payload: dict[str, Any]
    convention: ConventionVerification | None = None
    evidence: tuple[EvidenceCheck, ...] = ()
    report: VerifyReport | None = None


def _check(ws: Workspace, target: str, trust: tuple[Path, ...], expect: tuple[str, ...],
           moment: datetime | None) -> _Checked:
    """Check one convention ID or PDF file (raises when the target cannot be checked)."""
    path = Path(target)
    if is_valid_convention_id(target) and not path.is_file():
        with _quiet_pyhanko():
            result = verify_convention(ws, target, extra_trust=trust, at=moment)
            evidence = tuple(verify_evidence(ws, target, load_roots(ws, trust)))
        return _Checked(result.ok and all(e.ok for e in evidence),
                        {**result.to_dict(), "evidence": [e.to_dict() for e in evidence]},
                        convention=result, evidence=evidence)
    if not path.is_file():
        raise InputError(_("No such PDF file or convention: {target}.").format(
            target=target))
    with _quiet_pyhanko():
        report = verify_pdf(path, roots=load_roots(ws, trust),
                            expected_fields=expect or None, at=moment)
    return _Checked(report.ok, report.to_dict(), report=report)


def _show(checked: _Checked) -> None:
    result = checked.convention
    if result is None:
        assert checked.report is not None
        _print_report(checked.report)
        return
    click.echo(f"{result.convention_id}: {result.document}")
    if not result.hash_matches:
        click.echo(_("  the file's SHA-256 differs from the registry's record"))
    _print_report(result.report)
    for reason in result.reasons[len(result.report.reasons):]:
        click.echo(f"  - {reason}")
    print_evidence(list(checked.evidence))


PARALLEL_FROM = 8
"""From this many targets, they are checked by one process per core."""
_JOB: tuple[Workspace, tuple[Path, ...], tuple[str, ...], datetime | None] | None = None
"""What every worker process checks the targets against (inherited when it forks)."""


def _check_in_worker(target: str) -> _Checked | None:
    """In a worker: the verdict, or ``None`` when the target cannot be checked (the main
    process then checks it again itself, to raise the same error in the same order)."""
    assert _JOB is not None
    ws, trust, expect, moment = _JOB
    try:
        return _check(ws, target, trust, expect, moment)
    except Exception:
        return None


def _check_all(ws: Workspace, targets: tuple[str, ...], trust: tuple[Path, ...],
               expect: tuple[str, ...], moment: datetime | None) -> Iterator[_Checked]:
    """Each target's verdict, in order; several at once on a machine with several cores
    (each check is CPU-bound and independent of the others)."""
    cores = (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
             else os.cpu_count() or 1)
    workers = min(cores, len(targets) // (PARALLEL_FROM // 2), 8)
    if (len(targets) < PARALLEL_FROM or workers < 2
            or "fork" not in multiprocessing.get_all_start_methods()):
        for target in targets:
            yield _check(ws, target, trust, expect, moment)
        return
    global _JOB
    _JOB = (ws, trust, expect, moment)
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            found = pool.imap(_check_in_worker, targets,
                              chunksize=max(1, min(8, len(targets) // (workers * 4))))
            for target, checked in zip(targets, found, strict=True):
                yield (checked if checked is not None
                       else _check(ws, target, trust, expect, moment))
    finally:
        _JOB = None


@click.command("verify")
@click.argument("targets", nargs=-1, required=True, metavar="TARGET...")
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
    targets: tuple[str, ...], trust: tuple[Path, ...], expect: tuple[str, ...],
    at: datetime | None, workspace: str | None, as_json: bool,
) -> None:
    """Verify every signature of conventions (their IDs) or of signed PDF files.

    Each signature is checked at its proven time with the validation data the file
    carries: intact, valid, trusted (chains to a workspace root), not revoked, not
    expired, and nothing was added after it but the next expected signature, validation
    data or document timestamps. For a convention ID, also the signing order and that
    each certificate names its slot's person. Without any trust root, exit 1. Exit 0
    only when every check of every target passes. Several targets are checked in one
    go (faster than one command each); with --json, they come as a list under
    "results".

    \b
    Example:
      fiftyfifty verify FF_2026_001 --workspace ws
      fiftyfifty verify FF_2026_001 FF_2026_002 FF_2026_003 --workspace ws
      fiftyfifty verify convention-signee.pdf --trust ca.pem --at 2036-01-01 --json
    """
    with guarded():
        moment = at.replace(tzinfo=UTC) if at is not None else None
        ws = get_workspace(workspace)
        outcomes: list[_Checked] = []
        for checked in _check_all(ws, targets, trust, expect, moment):
            if outcomes and not as_json:
                click.echo()
            outcomes.append(checked)
            if not as_json:
                _show(checked)
        ok = all(c.ok for c in outcomes)
        failed = sum(1 for c in outcomes if not c.ok)
        if as_json:
            if len(outcomes) == 1:
                emit_json(outcomes[0].payload)
            else:
                emit_json({"ok": ok, "count": len(outcomes), "failed": failed,
                           "results": [c.payload for c in outcomes]})
        elif len(outcomes) > 1:
            click.echo()
            click.echo(ngettext("{n} target checked: {failed} failed.",
                                "{n} targets checked: {failed} failed.", len(outcomes)).format(
                n=len(outcomes), failed=failed))
        sys.exit(EXIT_OK if ok else EXIT_REJECTED)


__all__ = ["verify_command"]
