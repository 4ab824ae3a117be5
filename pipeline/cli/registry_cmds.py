"""``fiftyfifty registry list|show|export`` and ``fiftyfifty archive verify``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from pipeline.cli.common import (
    EXIT_OK,
    EXIT_REJECTED,
    EXIT_USAGE,
    emit_json,
    get_workspace,
    guarded,
    json_option,
    workspace_option,
)
from pipeline.cli.evidence_view import check_archive_evidence, print_evidence
from pipeline.core.files import write_atomic
from pipeline.records.audit import AuditReport, verify_archive
from pipeline.records.registry import STATUSES, ConventionRow, Registry, export_csv, export_json
from pipeline.records.registry.export import holder_names


def _open(workspace: str | None) -> Registry:
    return Registry.open(get_workspace(workspace).registry_path, create=False)


def _line(row: ConventionRow) -> str:
    return (f"{row.id:<15}  {row.status:<9}  v{row.version:<2}  {row.type_id:<12}  "
            f"{row.reference:<20}  {row.title}")


@click.command("list")
@click.option("--status", type=click.Choice(STATUSES), help="Only conventions in this status.")
@click.option("--type", "type_id", help="Only conventions of this type.")
@click.option("--year", type=int, help="Only conventions numbered in this year.")
@workspace_option
@json_option
def list_cmd(status: str | None, type_id: str | None, year: int | None,
             workspace: str | None, as_json: bool) -> None:
    """List the conventions of the registry, by year and number.

    \b
    Example:
      fiftyfifty registry list --status signing --year 2026 --workspace ws
    """
    with guarded(), _open(workspace) as reg:
        rows = reg.list(status=status, type_id=type_id, year=year)
        if as_json:
            emit_json({"conventions": [r.to_dict() for r in rows]})
            return
        if not rows:
            click.echo("No convention matches.")
        for row in rows:
            click.echo(_line(row))


def show_payload(reg: Registry, row: ConventionRow) -> dict[str, Any]:
    """The convention, its documents, signatories with their state, and its history."""
    signed = reg.signatures(row.id)
    signatories = []
    for sig in row.signatories:
        key = str(sig.get("key", ""))
        event = signed.get(key)
        signatories.append({**sig, "signed": event is not None,
                            "signed_at": event.at if event else None})
    return {
        "convention": row.to_dict(),
        "documents": [d.to_dict() for d in reg.documents(row.id)],
        "signatories": signatories,
        "events": [e.to_dict() for e in reg.events(row.id)],
    }


@click.command("show")
@click.argument("convention_id")
@workspace_option
@json_option
def show_cmd(convention_id: str, workspace: str | None, as_json: bool) -> None:
    """Show one convention: its data, documents, signatories and event history.

    \b
    Example:
      fiftyfifty registry show FF_2026_001 --workspace ws
    """
    with guarded(), _open(workspace) as reg:
        row = reg.get(convention_id)
        if row is None:
            click.echo(f"Error: no convention {convention_id} in the registry.", err=True)
            sys.exit(EXIT_USAGE)
        data = show_payload(reg, row)
        if as_json:
            emit_json(data)
            return
        click.echo(f"{row.id}  {row.title}")
        click.echo(f"  type {row.type_id}, reference {row.reference}, status {row.status},"
                   f" version {row.version}")
        click.echo(f"  holders: {holder_names(row.holders) or '-'}")
        click.echo(f"  commune {row.commune_amount} €, in kind {row.inkind_value} €,"
                   f" {row.start} → {row.end}, upkeep until {row.commitment_end or '-'}")
        click.echo("Signatories:")
        for sig in data["signatories"]:
            state = f"signed {sig['signed_at']}" if sig["signed"] else "not signed"
            click.echo(f"  {sig.get('key', '?'):<12} {sig.get('name', ''):<30} {state}")
        click.echo("Documents:")
        for doc in data["documents"]:
            click.echo(f"  v{doc['version']} {doc['kind']:<7} {doc['path']}  "
                       f"{doc['size']} bytes  sha256 {doc['sha256']}")
        click.echo("History:")
        for ev in data["events"]:
            details = json.dumps(ev["details"], ensure_ascii=False, sort_keys=True)
            click.echo(f"  #{ev['seq']} {ev['at']}  {ev['action']:<12} {ev['actor']:<12}"
                       f" {details}")


@click.command("export")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv",
              show_default=True, help="CSV (UTF-8 with BOM, ';', opens in Excel) or JSON.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="File to write (default: standard output).")
@click.option("--status", type=click.Choice(STATUSES), help="Only conventions in this status.")
@click.option("--year", type=int, help="Only conventions numbered in this year.")
@workspace_option
def export_cmd(fmt: str, output: Path | None, status: str | None, year: int | None,
               workspace: str | None) -> None:
    """Export the registry as CSV or JSON.

    \b
    Example:
      fiftyfifty registry export --format csv -o conventions.csv --workspace ws
    """
    with guarded(), _open(workspace) as reg:
        rows = reg.list(status=status, year=year)
        if fmt == "csv":
            text = export_csv(rows)
        else:
            text = export_json(rows, {r.id: reg.documents(r.id) for r in rows}) + "\n"
        if output is None:
            click.echo(text, nl=False)
            return
        output.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(output, text.encode("utf-8"))
        click.echo(f"{len(rows)} conventions written to {output}", err=True)


def _print_report(report: AuditReport) -> None:
    click.echo(f"Archive {report.workspace / 'archive'}: {report.conventions} conventions,"
               f" {report.files_checked} files hashed, {report.events} events"
               f" (chain head {report.chain_head[:16]}…).")
    for tmp in report.temp_files:
        click.echo(f"  note: leftover temp file {report.workspace / tmp} (removed by the next"
                   " store)")
    if report.valid:
        click.echo("OK: every file is present, intact and registered; the history is intact.")
        return
    click.echo(f"{len(report.problems)} problem(s):")
    for p in report.problems:
        click.echo(f"  [{p.kind}] {report.workspace / p.path}: {p.message}")
        if p.expected or p.found:
            click.echo(f"      expected: {p.expected}")
            click.echo(f"      found:    {p.found}")


@click.command("verify")
@workspace_option
@json_option
def verify_cmd(workspace: str | None, as_json: bool) -> None:
    """Recompute every hash and check the archive against the registry and its history.

    Reports missing, altered and unregistered files and a broken event chain, each with
    its path and what differs. Exit code 1 when anything is wrong.

    \b
    Example:
      fiftyfifty archive verify --workspace ws
    """
    with guarded():
        report = verify_archive(get_workspace(workspace))
        evidence = check_archive_evidence(get_workspace(workspace))
        if as_json:
            emit_json({**report.to_dict(), "evidence": [e.to_dict() for e in evidence]})
        else:
            _print_report(report)
            print_evidence(evidence)
        ok = report.valid and all(e.ok for e in evidence)
        sys.exit(EXIT_OK if ok else EXIT_REJECTED)


def _subgroup(group: click.Group, name: str, help_text: str) -> click.Group:
    existing = group.commands.get(name)
    if isinstance(existing, click.Group):
        return existing
    sub = click.Group(name, help=help_text)
    group.add_command(sub)
    return sub


def register(group: click.Group) -> None:
    """Add ``registry list|show|export`` and ``archive verify`` to ``group``."""
    registry = _subgroup(group, "registry", "Look into the conventions registry.\n\n"
                         "\b\nExample:\n  fiftyfifty registry list --workspace ws")
    for cmd in (list_cmd, show_cmd, export_cmd):
        registry.add_command(cmd)
    archive = _subgroup(group, "archive", "Check the archive of signed conventions.\n\n"
                        "\b\nExample:\n  fiftyfifty archive verify --workspace ws")
    archive.add_command(verify_cmd)
