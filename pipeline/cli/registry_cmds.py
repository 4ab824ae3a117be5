"""``fiftyfifty registry list|show|export`` and ``fiftyfifty archive verify``."""

from __future__ import annotations

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
    shown_path,
    workspace_option,
)
from pipeline.cli.evidence_view import check_archive_evidence, print_evidence
from pipeline.cli.export_cmds import transfer_note
from pipeline.core.files import write_atomic
from pipeline.core.i18n import N_, _, ngettext
from pipeline.lifecycle.details import convention_details
from pipeline.lifecycle.drafts import list_drafts
from pipeline.lifecycle.filters import lifecycle_filter
from pipeline.lifecycle.statuses import status_label
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
@click.option("--holder", help="Only conventions with a holder whose name contains this.")
@click.option("--overdue", is_flag=True, help="Only conventions with upkeep overdue.")
@workspace_option
@json_option
def list_cmd(status: str | None, type_id: str | None, year: int | None, holder: str | None,
             overdue: bool, workspace: str | None, as_json: bool) -> None:
    """List the conventions of the registry, by year and number.

    ``--status draft`` lists the review drafts (``run --draft``), outside the series.

    \b
    Example:
      fiftyfifty registry list --status signing --year 2026 --workspace ws
    """
    with guarded(), _open(workspace) as reg:
        if status == "draft":
            _list_drafts(reg, type_id, holder, as_json)
            return
        rows = lifecycle_filter(get_workspace(workspace), reg,
                                reg.list(status=status, type_id=type_id, year=year),
                                holder=holder, overdue=overdue)
        if as_json:
            emit_json({"conventions": [r.to_dict() for r in rows]})
            return
        if not rows:
            click.echo(_("No convention matches."))
        for row in rows:
            click.echo(_line(row))


def _list_drafts(reg: Registry, type_id: str | None, holder: str | None,
                 as_json: bool) -> None:
    drafts = [d for d in list_drafts(reg) if type_id in (None, d.type_id)
              and (not holder or holder.casefold() in holder_names(d.holders).casefold())]
    if as_json:
        emit_json({"conventions": [d.to_dict() for d in drafts]})
        return
    if not drafts:
        click.echo("No convention matches.")
    for d in drafts:
        click.echo(f"{d.label:<30}  draft  r{d.revision:<2} {d.type_id:<12}  {d.title}")


def consolidated_lines(data: dict[str, Any]) -> list[str]:
    """The amendments of a convention and the terms in force after them."""
    from datetime import date
    from decimal import Decimal

    from pipeline.documents.frenchfmt import amount_fr, date_short

    def day(text: str | None) -> str:
        return date_short(date.fromisoformat(text)) if text else "-"

    lines = [_("Amendment {id}: {status}, {n} change(s)").format(
        id=a["id"], status=a["status"], n=len(a["changes"])) for a in data.get("amendments", [])]
    terms = data.get("terms_in_force")
    if terms:
        lines.append(_("Terms in force (after {id}): commune {amount}, in kind {inkind}, "
                       "{start} → {end}, upkeep until {until}").format(
            id=terms["after"], amount=amount_fr(Decimal(terms["commune_amount"])),
            inkind=amount_fr(Decimal(terms["inkind_value"])), start=day(terms["start"]),
            end=day(terms["end"]), until=day(terms["commitment_end"])))
    return lines


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
            click.echo(_("Error: no convention {id} in the registry.").format(id=convention_id),
                       err=True)
            sys.exit(EXIT_USAGE)
        data = convention_details(get_workspace(workspace), reg, row)
        if as_json:
            emit_json(data)
            return
        lines = show_lines(row, data)
        if note := transfer_note(reg, row.id):  # archive hand-over (exports stage)
            lines.insert(4, f"  {note}")
        for line in lines:
            click.echo(line)


_ACTIONS = {
    "allocated": N_("number allocated"), "new_version": N_("new version"),
    "status": N_("status changed"), "document": N_("document filed"),
    "signed": N_("signed"),
}


def _when(stamp: object) -> str:
    """An ISO time stamp as ``25/11/2026 10:30`` (UTC as stored); as given when unreadable."""
    from datetime import datetime

    try:
        moment = datetime.fromisoformat(str(stamp))
    except ValueError:
        return str(stamp)
    return f"{moment:%d/%m/%Y %H:%M}"


def _what(action: str, details: dict[str, Any]) -> str:
    """The few words that say what an event did."""
    if action == "allocated":
        return _("reference {reference}, version {version}").format(
            reference=details.get("reference", "?"), version=details.get("version", 1))
    if action == "new_version":
        return _("version {old} → {new}").format(old=details.get("from_version", "?"),
                                                 new=details.get("to_version", "?"))
    if action == "status":
        return f"{details.get('from', '?')} → {details.get('to', '?')}"
    if action == "document":
        return f"{details.get('kind', '?')} v{details.get('version', '?')} " \
               f"{details.get('path', '')}"
    if action == "signed":
        return _("by {signer} ({signatory})").format(signer=details.get("signer", "?"),
                                                    signatory=details.get("signatory", "?"))
    return ", ".join(f"{k}: {v}" for k, v in sorted(details.items()) if k != "summary")


def show_lines(row: ConventionRow, data: dict[str, Any]) -> list[str]:
    """``registry show`` for a clerk: French amounts and dates, a readable history."""
    from pipeline.documents.frenchfmt import amount_fr, date_short

    lines = [f"{row.id}  {row.title}",
             "  " + _("type {type}, reference {reference}, status {status}, version "
                      "{version}").format(type=row.type_id, reference=row.reference,
                                          status=status_label(row.status),
                                          version=row.version),
             "  " + _("holders: {names}").format(names=holder_names(row.holders) or "-"),
             "  " + _("commune {money}, in kind {inkind}, from {start} to {end}, upkeep "
                      "until {until}").format(
                 money=amount_fr(row.commune_amount), inkind=amount_fr(row.inkind_value),
                 start=date_short(row.start), end=date_short(row.end),
                 until=date_short(row.commitment_end) or "-"),
             _("Signatories:")]
    for sig in data["signatories"]:
        state = (_("signed on {when}").format(when=_when(sig["signed_at"])) if sig["signed"]
                 else _("not signed"))
        lines.append(f"  {sig.get('key', '?'):<12} {sig.get('name', ''):<30} {state}")
    lines.append(_("Documents:"))
    for doc in data["documents"]:
        lines.append(f"  v{doc['version']} {doc['kind']:<7} {doc['path']}  "
                     + ngettext("{n} byte", "{n} bytes", doc["size"]).format(
                         n=f"{doc['size']:,}".replace(",", "\u202f"))
                     + f"  sha256 {doc['sha256'][:16]}…")
    lines += consolidated_lines(data)
    if data.get("timeline"):
        lines.append(_("Timeline:"))
        lines += [f"  {step['on']}  {step['text']}  ({step['actor']})"
                  for step in data["timeline"]]
    lines.append(_("History:"))
    for ev in data["events"]:
        action = ev["action"]
        label = _(_ACTIONS[action]) if action in _ACTIONS else action
        lines.append(f"  {_when(ev['at'])}  {label:<22} {ev['actor']:<16} "
                     f"{_what(action, ev['details'] or {})}")
    return lines


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
        click.echo(ngettext("{n} convention written to {path}",
                            "{n} conventions written to {path}", len(rows)).format(
            n=len(rows), path=shown_path(output)), err=True)


def _print_report(report: AuditReport) -> None:
    click.echo(_("Archive {path}: {conventions}, {files}, {events} (chain head {head}…).").format(
        path=shown_path(report.workspace / "archive"),
        conventions=ngettext("{n} convention", "{n} conventions",
                             report.conventions).format(n=report.conventions),
        files=ngettext("{n} file hashed", "{n} files hashed",
                       report.files_checked).format(n=report.files_checked),
        events=ngettext("{n} event", "{n} events", report.events).format(n=report.events),
        head=report.chain_head[:16]))
    for tmp in report.temp_files:
        click.echo("  " + _("note: leftover temp file {path} (removed by the next store)").format(
            path=shown_path(report.workspace / tmp)))
    if report.valid:
        click.echo(_("OK: every file is present, intact and registered; the history is "
                     "intact."))
        return
    click.echo(ngettext("{n} problem:", "{n} problems:", len(report.problems)).format(
        n=len(report.problems)))
    for p in report.problems:
        click.echo(f"  [{p.kind}] {shown_path(report.workspace / p.path)}: {p.message}")
        if p.expected or p.found:
            click.echo("      " + _("expected: {value}").format(value=p.expected))
            click.echo("      " + _("found:    {value}").format(value=p.found))


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
