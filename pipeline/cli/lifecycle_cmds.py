"""``fiftyfifty works start|done``, ``terminate`` and ``cancel``: statuses after signature."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from pipeline.cli.common import emit_json, get_workspace, guarded, json_option, workspace_option
from pipeline.cli.lifecycle_opts import by_option, on_option, resolve
from pipeline.core.i18n import _
from pipeline.documents.frenchfmt import amount_fr, date_fr
from pipeline.lifecycle.statuses import (
    StatusChange,
    cancel,
    clean_text,
    finish_works,
    start_works,
    status_label,
    terminate,
)
from pipeline.records.registry import ConventionRow


def _done(row: ConventionRow, on: date, by: str, as_json: bool) -> None:
    if as_json:
        emit_json({"convention": row.id, "status": row.status, "on": on.isoformat(), "by": by})
    else:
        click.echo(_("{id}: {status} (on {on}, recorded by {by}).").format(
            id=row.id, status=status_label(row.status), on=date_fr(on), by=by))


@click.command("start")
@click.argument("convention_id")
@on_option
@by_option
@workspace_option
@json_option
def works_start_cmd(convention_id: str, on: date | None, by: str | None,
                    workspace: str | None, as_json: bool) -> None:
    """Record that the works of a signed convention started.

    \b
    Example:
      fiftyfifty works start FF_2026_001 --on 2027-03-03 --workspace ws
    """
    with guarded():
        day, author = resolve(on, by)
        row = start_works(get_workspace(workspace), StatusChange(convention_id, day, author))
        _done(row, day, author, as_json)


@click.command("done")
@click.argument("convention_id")
@on_option
@click.option("--report", type=click.Path(dir_okay=False, path_type=Path),
              help="Completion report to archive (PDF, photo, ODT, DOCX or text).")
@by_option
@workspace_option
@json_option
def works_done_cmd(convention_id: str, on: date | None, report: Path | None, by: str | None,
                   workspace: str | None, as_json: bool) -> None:
    """Record the completion check of the works, with an optional report archived.

    \b
    Example:
      fiftyfifty works done FF_2026_001 --on 2027-06-30 --report constat.pdf --workspace ws
    """
    with guarded():
        day, author = resolve(on, by)
        row = finish_works(get_workspace(workspace),
                           StatusChange(convention_id, day, author, report=report))
        _done(row, day, author, as_json)


@click.command("terminate")
@click.argument("convention_id")
@click.option("--reason", required=True, help="Why the convention ends early.")
@on_option
@by_option
@workspace_option
@json_option
def terminate_cmd(convention_id: str, reason: str, on: date | None, by: str | None,
                  workspace: str | None, as_json: bool) -> None:
    """End a signed convention early, with the pro-rata repayment computed and shown.

    The repayment is the grants paid by that day times the share of the commitment
    (start of the works to end of the upkeep) still to run, when the convention provides
    a pro-rata repayment.

    \b
    Example:
      fiftyfifty terminate FF_2026_001 --reason "projet abandonné" --on 2028-01-15 -w ws
    """
    with guarded():
        day, author = resolve(on, by)
        text = clean_text(reason, _("reason"))
        row, rep = terminate(get_workspace(workspace),
                             StatusChange(convention_id, day, author, reason=text))
        if as_json:
            emit_json({"convention": row.id, "status": row.status, "on": day.isoformat(),
                       "by": author, "repayment": rep.to_dict()})
            return
        _done(row, day, author, False)
        if not rep.applies:
            click.echo(_("The convention provides no pro-rata repayment."))
            return
        click.echo(_("Repayment: {amount} = grants paid {paid} × {left} days left / {total} "
                     "days of commitment ({start} → {end}).").format(
            amount=amount_fr(rep.amount), paid=amount_fr(rep.paid), left=rep.remaining_days,
            total=rep.total_days, start=date_fr(rep.period_start), end=date_fr(rep.period_end)))


@click.command("cancel")
@click.argument("convention_id")
@click.option("--reason", required=True, help="Why the convention is cancelled.")
@on_option
@by_option
@workspace_option
@json_option
def cancel_cmd(convention_id: str, reason: str, on: date | None, by: str | None,
               workspace: str | None, as_json: bool) -> None:
    """Cancel a convention before its signature (its number is never reused).

    \b
    Example:
      fiftyfifty cancel FF_2026_002 --reason "projet retiré par les porteurs" -w ws
    """
    with guarded():
        day, author = resolve(on, by)
        text = clean_text(reason, _("reason"))
        row = cancel(get_workspace(workspace),
                     StatusChange(convention_id, day, author, reason=text))
        _done(row, day, author, as_json)


def register(group: click.Group) -> None:
    """Add ``works start|done``, ``terminate`` and ``cancel`` to ``group``."""
    works = click.Group("works", help="Record the works of a signed convention." +
                        "\n\n\b\nExample:\n  fiftyfifty works start FF_2026_001 --on "
                        "2027-03-03 -w ws")
    works.add_command(works_start_cmd)
    works.add_command(works_done_cmd)
    group.add_command(works)
    group.add_command(terminate_cmd)
    group.add_command(cancel_cmd)
