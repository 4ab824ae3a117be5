"""``fiftyfifty due``, ``calendar``, ``checks record`` and ``remind``: upkeep followed."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import click

from pipeline.cli.common import (
    EXIT_OK,
    EXIT_REJECTED,
    emit_json,
    get_workspace,
    guarded,
    json_option,
    workspace_option,
)
from pipeline.cli.lifecycle_opts import PERIOD, by_option, on_option, resolve
from pipeline.core.clock import today
from pipeline.core.i18n import _
from pipeline.documents.frenchfmt import date_fr
from pipeline.lifecycle.calendar import write_calendar
from pipeline.lifecycle.checks import OUTCOMES, CheckRequest, record_check
from pipeline.lifecycle.obligations import Obligation, due_list
from pipeline.lifecycle.reminders import build_reminders, send_reminders


def _kind(o: Obligation) -> str:
    return {"upkeep": _("upkeep"), "payment": _("payment"), "review": _("review"),
            "commitment_end": _("end")}[o.kind]


@click.command("due")
@click.option("--within", type=PERIOD, default="90d", show_default=True,
              help="How far ahead to look (90d, 12w).")
@click.option("--convention", "convention_id", help="Only this convention.")
@workspace_option
@json_option
def due_cmd(within: int, convention_id: str | None, workspace: str | None,
            as_json: bool) -> None:
    """List what falls due, by convention and holder: upkeep, payments, review, end.

    Upkeep tasks whose latest occurrence passed without a check recorded are shown as
    overdue. Exit code 1 when anything is overdue.

    \b
    Example:
      fiftyfifty due --within 90d --workspace ws
    """
    with guarded():
        items = due_list(get_workspace(workspace), today=today(), within=within,
                         convention_id=convention_id)
        overdue = sum(1 for o in items if o.overdue)
        if as_json:
            emit_json({"today": today().isoformat(), "within_days": within,
                       "overdue": overdue, "items": [o.to_dict() for o in items]})
        elif not items:
            click.echo(_("Nothing falls due in the next {n} days.").format(n=within))
        else:
            current = None
            for o in items:
                if o.convention_id != current:
                    current = o.convention_id
                    click.echo(f"{o.convention_id}  {o.title} — {o.holders}")
                flag = _("OVERDUE") if o.overdue else ""
                task = f"#{o.task} " if o.task else ""
                more = f" (×{o.count})" if o.count > 1 else ""
                who = f" [{o.who}]" if o.who else ""
                click.echo(f"  {date_fr(o.due):<20} {_kind(o):<10} {task}{o.label}{who}"
                           f"{more} {flag}".rstrip())
    sys.exit(EXIT_REJECTED if overdue else EXIT_OK)


@click.command("calendar")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("upkeep.ics"), show_default=True, help="iCalendar file to write.")
@click.option("--convention", "convention_id", help="Only this convention.")
@workspace_option
def calendar_cmd(output: Path, convention_id: str | None, workspace: str | None) -> None:
    """Write the upkeep calendar (iCalendar, with recurrence rules) for Outlook/Thunderbird.

    \b
    Example:
      fiftyfifty calendar -o upkeep.ics --workspace ws
    """
    with guarded():
        n = write_calendar(get_workspace(workspace), output, convention_id=convention_id)
        click.echo(_("{n} events written to {path}.").format(n=n, path=output))


@click.command("record")
@click.argument("convention_id")
@click.option("--task", type=click.IntRange(1, 50), required=True,
              help="Number of the upkeep task (1 = the first one of the convention).")
@on_option
@click.option("--outcome", type=click.Choice(OUTCOMES), required=True,
              help="ok, or issue when something is wrong.")
@click.option("--note", help="What was seen.")
@by_option
@workspace_option
@json_option
def checks_record_cmd(convention_id: str, task: int, on: date | None, outcome: str,
                      note: str | None, by: str | None, workspace: str | None,
                      as_json: bool) -> None:
    """Record a check of an upkeep task.

    \b
    Example:
      fiftyfifty checks record FF_2026_001 --task 1 --on 2027-09-15 --outcome ok -w ws
    """
    with guarded():
        day, author = resolve(on, by)
        event = record_check(get_workspace(workspace), CheckRequest(
            convention_id, task, day, outcome, author, note), today=today())  # type: ignore[arg-type]
        if as_json:
            emit_json(event.to_dict())
        else:
            click.echo(_("Check of task {n} of {id} recorded ({outcome}).").format(
                n=task, id=convention_id, outcome=outcome))


@click.command("remind")
@click.option("--send", "mode", flag_value="send", help="Send the e-mails.")
@click.option("--dry-run", "mode", flag_value="dry-run", default=True,
              help="Print the e-mails without sending them (default).")
@click.option("--within", type=PERIOD, default="30d", show_default=True,
              help="How far ahead to look (30d, 4w).")
@workspace_option
@json_option
def remind_cmd(mode: str, within: int, workspace: str | None, as_json: bool) -> None:
    """E-mail each holder what falls due on their convention (SMTP from settings.yaml).

    Without --send nothing is sent: the messages are printed. Exit code 1 when a holder
    has no e-mail address in the convention.

    \b
    Example:
      fiftyfifty remind --dry-run --within 30d --workspace ws
    """
    with guarded():
        ws = get_workspace(workspace)
        reminders = build_reminders(ws, today=today(), within=within)
        if mode == "send":
            reminders = send_reminders(ws, reminders)
        missing = [r for r in reminders if r.to is None]
        if as_json:
            emit_json({"sent": mode == "send", "reminders": [r.to_dict() for r in reminders]})
        else:
            for r in reminders:
                if r.to is None:
                    click.echo(_("{id}: no e-mail address for {holder}.").format(
                        id=r.convention_id, holder=r.holder))
                    continue
                head = _("Sent to") if r.sent else _("To")
                subject = _("Subject")
                click.echo(f"{head}: {r.to}\n{subject}: {r.subject}\n\n{r.body}\n" + "-" * 40)
            if not reminders:
                click.echo(_("Nothing falls due in the next {n} days.").format(n=within))
    sys.exit(EXIT_REJECTED if missing else EXIT_OK)


def register(group: click.Group) -> None:
    """Add ``due``, ``calendar``, ``checks record`` and ``remind`` to ``group``."""
    for cmd in (due_cmd, calendar_cmd, remind_cmd):
        group.add_command(cmd)
    checks = click.Group("checks", help="Record the commune's upkeep checks.\n\n\b\nExample:"
                         "\n  fiftyfifty checks record FF_2026_001 --task 1 --outcome ok -w ws")
    checks.add_command(checks_record_cmd)
    group.add_command(checks)
