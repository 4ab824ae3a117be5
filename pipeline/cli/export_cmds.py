"""``fiftyfifty archive export-seda|review|record-decision``: hand the archive over."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import click

from pipeline.catalogue.loader import Catalogue
from pipeline.cli.common import (
    EXIT_OK,
    emit_json,
    get_workspace,
    guarded,
    json_option,
    workspace_option,
)
from pipeline.cli.intake_cmds import catalogue_option
from pipeline.core.clock import today
from pipeline.core.errors import ConfigError
from pipeline.core.i18n import _, ngettext
from pipeline.exports.retention import ACTIONS, DecisionRequest, record_decision, review
from pipeline.exports.seda.package import TransferRequest, export_seda
from pipeline.exports.seda.units import AgencyIds
from pipeline.records.registry import STATUSES, Registry
from pipeline.records.transfers import last_transfer


def _open(workspace: str | None) -> Registry:
    return Registry.open(get_workspace(workspace).registry_path, create=False)


def _action(name: str) -> str:
    labels = {"conservation": _("keep"), "destruction": _("destroy"), "tri": _("sort")}
    return labels.get(name, name)


@click.command("export-seda")
@click.argument("convention_ids", nargs=-1)
@click.option("--year", type=int, help="Every signed convention numbered in this year.")
@click.option("--status", type=click.Choice(STATUSES),
              help="Only conventions in this status (e.g. signed).")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The transfer package to write (a .zip).")
@click.option("--agreement", help="Archival agreement identifier (else settings.yaml).")
@click.option("--archival-agency", help="Identifier of the archive service receiving the "
              "package (else settings.yaml, archives: archival_agency).")
@click.option("--transferring-agency", help="Identifier of the transferring office (default: "
              "the commune's SIRET).")
@catalogue_option
@workspace_option
@json_option
def export_seda_cmd(convention_ids: tuple[str, ...], year: int | None, status: str | None,
                    output: Path, agreement: str | None, archival_agency: str | None,
                    transferring_agency: str | None, catalogue: str | None,
                    workspace: str | None, as_json: bool) -> None:
    """Write a SEDA 2.1 transfer package of signed conventions for the archive service.

    The package is a ZIP holding manifest.xml (an ArchiveTransfer message validated
    against the official SEDA 2.1 schema before anything is written) and the files under
    content/<ID>/: the signed PDF/A, signature evidence, the normalised intake and any
    amendments, each with its SHA-512 digest. The transfer is recorded in each
    convention's history; `archive verify` then checks the files still match it.

    \b
    Example:
      fiftyfifty archive export-seda --year 2026 -o transfert-2026.zip --archival-agency FRAD062
    """
    with guarded():
        ws = get_workspace(workspace)
        req = TransferRequest(
            output=output, ids=convention_ids, year=year, status=status,
            agencies=AgencyIds(archival_agency=archival_agency,
                               transferring_agency=transferring_agency, agreement=agreement))
        with _open(workspace) as reg:
            result = export_seda(ws, Catalogue.load(catalogue), req, registry=reg)
        if as_json:
            emit_json(result.to_dict())
            return
        click.echo(ngettext("Transfer package {path}: {n} convention, {files} files, "
                            "manifest valid against SEDA 2.1.",
                            "Transfer package {path}: {n} conventions, {files} files, "
                            "manifest valid against SEDA 2.1.", len(result.conventions))
                   .format(path=result.package, n=len(result.conventions), files=result.files))
        click.echo(_("Message identifier: {id}").format(id=result.message_id))


@click.command("review")
@catalogue_option
@workspace_option
@json_option
def review_cmd(catalogue: str | None, workspace: str | None, as_json: bool) -> None:
    """List signed conventions whose retention period has ended, with the proposed final
    action. Nothing is ever deleted: destruction needs the archive service's approval,
    recorded with `archive record-decision`.

    \b
    Example:
      fiftyfifty archive review --workspace ws
    """
    with guarded(), _open(workspace) as reg:
        items = review(reg, Catalogue.load(catalogue), today())
        if as_json:
            emit_json({"today": today().isoformat(), "conventions": [i.to_dict() for i in items]})
            return
        if not items:
            click.echo(_("No convention has reached the end of its retention period."))
            return
        click.echo(ngettext("{n} convention has reached the end of its retention period:",
                            "{n} conventions have reached the end of their retention period:",
                            len(items)).format(n=len(items)))
        for i in items:
            decided = (_("decision: {action}, approved by {who} on {on}").format(
                action=_action(str(i.decision["action"])), who=i.decision["approved_by"],
                on=i.decision["on"]) if i.decision else _("awaiting the archive service"))
            click.echo(_("  {id}  ended {due}  proposed: {action}  ({decided})  {title}").format(
                id=i.convention_id, due=i.due.isoformat(), action=_action(i.proposed),
                decided=decided, title=i.title))


def _parse_day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ConfigError(_("--on {value}: a date as YYYY-MM-DD is expected.")
                          .format(value=value)) from None


@click.command("record-decision")
@click.argument("convention_id")
@click.option("--approved-by", required=True,
              help="Who approved at the archive service (name and office).")
@click.option("--on", "on", required=True, help="Date of the approval (YYYY-MM-DD).")
@click.option("--action", type=click.Choice(ACTIONS),
              help="The approved final action (default: the proposed one).")
@click.option("--reference", help="Reference of the approval (destruction list, letter…).")
@catalogue_option
@workspace_option
@json_option
def record_decision_cmd(convention_id: str, approved_by: str, on: str, action: str | None,
                        reference: str | None, catalogue: str | None, workspace: str | None,
                        as_json: bool) -> None:
    """Record the archive service's decision on a convention whose retention has ended.

    The decision is written to the convention's history; no file is deleted or changed.

    \b
    Example:
      fiftyfifty archive record-decision FF_2026_001 --approved-by "J. Martin, AD62" --on 2040-03-01
    """
    with guarded(), _open(workspace) as reg:
        event = record_decision(reg, Catalogue.load(catalogue), DecisionRequest(
            convention_id, approved_by, _parse_day(on), action, reference), today())
        if as_json:
            emit_json(event.to_dict())
            sys.exit(EXIT_OK)
        click.echo(_("Decision recorded for {id}: {action}, approved by {who} on {on}. "
                     "Nothing was deleted.").format(
            id=convention_id, action=_action(str(event.details["action"])),
            who=event.details["approved_by"], on=event.details["on"]))


def transfer_note(reg: Registry, convention_id: str) -> str | None:
    """"transferred to the archive service on …" for ``registry show``, or ``None``."""
    found = last_transfer(reg, convention_id)
    if found is None:
        return None
    return _("transferred to the archive service on {day} (package {package}, message "
             "{id})").format(day=found.at[:10], package=found.package, id=found.message_id)


def register(group: click.Group) -> None:
    """Add ``archive export-seda|review|record-decision`` to the ``archive`` group."""
    archive = group.commands.get("archive")
    if not isinstance(archive, click.Group):
        archive = click.Group("archive", help="Check the archive of signed conventions.\n\n"
                              "\b\nExample:\n  fiftyfifty archive verify --workspace ws")
        group.add_command(archive)
    for cmd in (export_seda_cmd, review_cmd, record_decision_cmd):
        archive.add_command(cmd)


__all__ = ["register", "transfer_note"]
