"""Commands about the Word templates: ``fiftyfifty templates check``."""

from __future__ import annotations

from pathlib import Path

import click

from pipeline.catalogue.loader import Catalogue
from pipeline.cli.common import (
    EXIT_OK,
    EXIT_REJECTED,
    emit_json,
    guarded,
    json_option,
    shown_path,
)
from pipeline.core.i18n import _, ngettext
from pipeline.documents.template_check import TemplateReport, check_template


def bundled_templates(catalogue: str | None = None) -> list[Path]:
    """The template of every convention type of the catalogue, each once, in type order."""
    cat = Catalogue.load(catalogue)
    seen: dict[Path, None] = {}
    for type_id in cat.type_ids():
        seen.setdefault(cat.template_path(cat.get(type_id)), None)
    return list(seen)


def print_reports(reports: list[TemplateReport]) -> None:
    """One line per template, then one indented line per problem."""
    for report in reports:
        if report.ok:
            click.echo(f"{_('ok'):8} {shown_path(report.template)}")
            continue
        click.echo(f"{_('PROBLEMS'):8} {shown_path(report.template)}")
        for problem in report.problems:
            excerpt = f"  « {problem.excerpt} »" if problem.excerpt else ""
            click.echo(f"    {problem.location}:{excerpt}")
            click.echo(f"        {problem.message}")
    bad = sum(not r.ok for r in reports)
    click.echo(_("{ok}, {bad}.").format(
        ok=ngettext("{n} template ok", "{n} templates ok", len(reports) - bad).format(
            n=len(reports) - bad),
        bad=ngettext("{n} with problems", "{n} with problems", bad).format(n=bad)))


@click.group("templates")
def templates_group() -> None:
    """Work with the Word templates of the conventions.

    \b
    Example:
      fiftyfifty templates check
    """


@templates_group.command("check")
@click.argument("templates", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--catalogue", type=click.Path(file_okay=False, exists=True), default=None,
              help="Catalogue whose templates are checked when none is given "
                   "(default: $FIFTYFIFTY_CATALOGUE, else the bundled conventions/).")
@json_option
def check_cmd(templates: tuple[Path, ...], catalogue: str | None, as_json: bool) -> None:
    """Check Word templates against the convention model.

    Every variable, loop and filter a template uses must exist (dotted paths such as
    convention.holders and the fields of each holder in a loop), and every tag must be
    well formed. Each problem names the paragraph or table cell where the tag stands.
    Without TEMPLATE, checks the template of every convention type of the catalogue.
    Exit 0 when all are sound, 1 when any has a problem.

    \b
    Example:
      fiftyfifty templates check templates/fifty-fifty.docx
    """
    with guarded():
        paths = list(templates) or bundled_templates(catalogue)
        reports = [check_template(path) for path in paths]
        if as_json:
            emit_json({"ok": all(r.ok for r in reports),
                       "templates": [r.to_dict() for r in reports]})
        else:
            print_reports(reports)
    raise SystemExit(EXIT_OK if all(r.ok for r in reports) else EXIT_REJECTED)


def register(group: click.Group) -> None:
    """Add the ``templates`` commands to the ``fiftyfifty`` group."""
    group.add_command(templates_group)


__all__ = ["bundled_templates", "check_cmd", "register", "templates_group"]
