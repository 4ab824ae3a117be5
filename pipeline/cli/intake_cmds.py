"""Commands about intake: validate, intake-template, schema export."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import click

from pipeline.catalogue.loader import Catalogue
from pipeline.catalogue.schema_export import export
from pipeline.cli.common import EXIT_OK, EXIT_REJECTED, F, guarded, json_option, shown_path
from pipeline.core.i18n import _, ngettext
from pipeline.intake.forms import MAX_REPEAT, WRITERS, Repeats
from pipeline.validation.reports import Report, write_report
from pipeline.validation.validator import check_inputs, validate_files

catalogue_option = click.option(
    "--catalogue", type=click.Path(file_okay=False, exists=True), default=None,
    help="Catalogue folder of convention types and commune profile "
         "(default: $FIFTYFIFTY_CATALOGUE, else the bundled conventions/).",
)


def print_report(report: Report) -> None:
    """The human summary of a validation report, on stderr-free stdout."""
    echo_lines(_report_lines(report))


def _report_lines(report: Report) -> Iterator[str]:
    ok, rejected, row = _("ok"), _("REJECTED"), _("row")
    error, warning, record = _("error"), _("warning"), _("(record)")
    line, value = _("{severity}: {field}: {message}"), _("[value: {value}]")
    for o in report.outcomes:
        mark = ok if o.accepted else rejected
        yield f"{mark:8} {o.source} {row} {o.row}  {o.reference or ''}\n"
        for i in o.issues:
            text = line.format(severity=error if i.severity == "error" else warning,
                               field=i.field or record, message=i.message)
            val = "  " + value.format(value=i.value) if i.value else ""
            yield f"    {text}{val}  ({i.code})\n"
    yield summary_line(report.accepted, report.rejected, len(report.outcomes)) + "\n"


def summary_line(accepted: int, rejected: int, records: int, warnings: int | None = None) -> str:
    """``5 acceptés, 1 rejeté, 6 enregistrements.`` with the plurals right."""
    parts = [ngettext("{n} accepted", "{n} accepted", accepted).format(n=accepted),
             ngettext("{n} rejected", "{n} rejected", rejected).format(n=rejected)]
    if warnings is not None:
        parts.append(ngettext("{n} warning", "{n} warnings", warnings).format(n=warnings))
    parts.append(ngettext("{n} record", "{n} records", records).format(n=records))
    return ", ".join(parts) + "."


def echo_lines(pieces: Iterable[str]) -> None:
    """``click.echo`` of the text made of ``pieces``, a batch at a time: a report of
    100,000 records is neither held whole nor written a line per system call. A batch
    ends only where a piece ends, and pieces are whole lines or JSON (never split inside
    a terminal escape sequence, which click may strip)."""
    batch: list[str] = []
    size = 0
    for piece in pieces:
        batch.append(piece)
        size += len(piece)
        if size > 65536:
            click.echo("".join(batch), nl=False)
            batch, size = [], 0
    if batch:
        click.echo("".join(batch), nl=False)


@click.command("validate")
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the report to FILE.csv (Excel-ready) or FILE.json.")
@catalogue_option
@json_option
def validate_cmd(inputs: tuple[Path, ...], report_path: Path | None, catalogue: str | None,
                 as_json: bool) -> None:
    """Check intake files (JSON, CSV, XLSX) without producing anything.

    Every problem is listed with its file, row, field and value. Warnings do not reject a
    record. Exit 0 when every record is valid, 1 when any is rejected.

    \b
    Example:
      fiftyfifty validate projets.xlsx --report rapport.csv
    """
    with guarded():
        report = validate_files(check_inputs(inputs), Catalogue.load(catalogue))
        if report_path:
            write_report(report, report_path)
        if as_json:  # emit_json(report.to_dict()), streamed
            echo_lines(itertools.chain(report.json_chunks(default=str), ["\n"]))
        else:
            print_report(report)
            if report_path:
                click.echo(_("Report written to {path}").format(path=shown_path(report_path)))
    raise SystemExit(EXIT_OK if report.valid else EXIT_REJECTED)


def _count_option(name: str, what: str) -> Callable[[F], F]:
    return click.option(f"--{name}", type=click.IntRange(1, MAX_REPEAT), default=None,
                        help=what)


@click.command("intake-template")
@click.option("--format", "fmt", type=click.Choice(sorted(WRITERS)), default="xlsx",
              show_default=True, help="Form format.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="File to write.")
@_count_option("holders", "Columns for this many holders (default 2, at most 20).")
@_count_option("members", "Columns for this many members per holder (default 3, at most 20).")
@_count_option("money-lines", "Columns for this many money lines (default 3, at most 20).")
@_count_option("in-kind", "Columns for this many contributions in kind (default 3, at most "
                          "20).")
@_count_option("tasks", "Columns for this many tasks of the holders (default 3, at most 20).")
def intake_template_cmd(fmt: str, output: Path, holders: int | None, members: int | None,
                        money_lines: int | None, in_kind: int | None,
                        tasks: int | None) -> None:
    """Write an empty intake form to fill in.

    The XLSX has French labels, help in comments, drop-down lists of French labels for
    every choice (the codes are accepted too), the code columns (postcode, SIRET…) kept
    as text, and an "Aide" sheet; the CSV has a row of labels then the row of field
    names. By default the form has room for 2 holders, 3 members each and 3 money lines:
    ask for more (at most 20 of each) with the options below.

    \b
    Example:
      fiftyfifty intake-template --format xlsx --holders 4 --money-lines 6 -o projets.xlsx
    """
    with guarded():
        repeats = Repeats.of(holders=holders, members=members, money=money_lines,
                             in_kind=in_kind, tasks=tasks)
        output.parent.mkdir(parents=True, exist_ok=True)
        WRITERS[fmt](output, repeats)
        click.echo(_("Intake form written to {path}").format(path=shown_path(output)))


@click.group("schema")
def schema_group() -> None:
    """JSON Schemas of the intake and the catalogue files.

    \b
    Example:
      fiftyfifty schema export -o schemas/json
    """


@schema_group.command("export")
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path),
              required=True, help="Folder to write the schemas to.")
def schema_export_cmd(output: Path) -> None:
    """Write the JSON Schemas (intake record, convention type, commune profile).

    \b
    Example:
      fiftyfifty schema export -o schemas/json
    """
    with guarded():
        for path in export(output):
            click.echo(_("wrote {path}").format(path=shown_path(path)))


def register(group: click.Group) -> None:
    group.add_command(validate_cmd)
    group.add_command(intake_template_cmd)
    group.add_command(schema_group)
