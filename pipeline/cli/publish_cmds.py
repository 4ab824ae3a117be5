"""``fiftyfifty opendata subventions`` and ``fiftyfifty report``: what the commune publishes."""

from __future__ import annotations

from pathlib import Path

import click

from pipeline.cli.common import emit_json, get_workspace, guarded, json_option, workspace_option
from pipeline.core.clock import today
from pipeline.core.files import write_atomic
from pipeline.core.i18n import _, ngettext
from pipeline.core.settings import load_settings
from pipeline.documents.frenchfmt import amount_fr
from pipeline.exports.opendata.scdl import subventions
from pipeline.exports.sources import load_sources, select_rows
from pipeline.records.registry import Registry


@click.command("subventions")
@click.option("--year", type=int, required=True, help="Conventions numbered in this year.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The CSV file to write.")
@click.option("--siret", help="The commune's SIRET (default: the commune profile's, else "
              "settings.yaml opendata: siret).")
@workspace_option
@json_option
def subventions_cmd(year: int, output: Path, siret: str | None, workspace: str | None,
                    as_json: bool) -> None:
    """Write the year's grants as open data in the SCDL "subventions" 2.1 format.

    One row per legal entity helped by a signed convention (association, company, school
    with a SIRET): money and valued help in kind. Inhabitants and informal groups are
    never named; their help is only counted in the summary.

    \b
    Example:
      fiftyfifty opendata subventions --year 2026 -o subventions-2026.csv --workspace ws
    """
    with guarded():
        ws = get_workspace(workspace)
        siret = siret or load_settings(ws).section("opendata").get("siret")
        with Registry.open(ws.registry_path, create=False) as reg:
            sources = load_sources(ws, reg, select_rows(reg, year=year))
            result = subventions(reg, sources, siret=str(siret) if siret else None)
        output.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(output, result.to_csv().encode("utf-8"))
        if as_json:
            emit_json({"output": str(output), **result.summary()})
            return
        click.echo(ngettext("{n} grant written to {path} (SCDL subventions 2.1).",
                            "{n} grants written to {path} (SCDL subventions 2.1).",
                            len(result.rows)).format(n=len(result.rows), path=output))
        if result.withheld:
            total = sum((w.amount for w in result.withheld), start=0)
            click.echo(ngettext(
                "{n} help to an inhabitant or an informal group ({amount}) is not published: "
                "only legal entities are named.",
                "{n} helps to inhabitants or informal groups ({amount}) are not published: "
                "only legal entities are named.", len(result.withheld)).format(
                n=len(result.withheld), amount=amount_fr(total)))


@click.command("report")
@click.option("--year", type=int, required=True, help="The year the report covers.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The PDF/A report to write.")
@click.option("--html", "html_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Also write a web page (index.html and its charts) into this folder.")
@click.option("--soffice", help="LibreOffice program (default: found on the PATH).")
@workspace_option
@json_option
def report_cmd(year: int, output: Path, html_dir: Path | None, soffice: str | None,
               workspace: str | None, as_json: bool) -> None:
    """Write the scheme's yearly report for the council and the public (PDF/A).

    Projects by kind of holder and by theme; the commune's money and technical help
    against the value the inhabitants brought (volunteer hours, machines, materials),
    project by project and in total; volunteer hours, participants, signature delays,
    upkeep obligations and the places of the projects. Charts have titles, units and
    French number formats and read well in black and white.

    \b
    Example:
      fiftyfifty report --year 2026 -o rapport-2026.pdf --html rapport-2026 --workspace ws
    """
    from pipeline.exports.report.build import ReportRequest, build_report

    with guarded():
        ws = get_workspace(workspace)
        result = build_report(ws, ReportRequest(year=year, output=output, html_dir=html_dir,
                                                soffice=soffice, today=today()))
        if as_json:
            emit_json(result.to_dict())
            return
        click.echo(ngettext("Report {path}: {n} project, {pages} pages, {charts} charts.",
                            "Report {path}: {n} projects, {pages} pages, {charts} charts.",
                            result.projects).format(path=result.pdf, n=result.projects,
                                                    pages=result.pages, charts=result.charts))
        if result.html is not None:
            click.echo(_("Web page: {path}").format(path=result.html))


def register(group: click.Group) -> None:
    """Add ``opendata subventions`` and ``report`` to ``group``."""
    opendata = click.Group("opendata", help="Publish the commune's data in open formats.\n\n"
                           "\b\nExample:\n  fiftyfifty opendata subventions --year 2026 "
                           "-o subventions.csv")
    opendata.add_command(subventions_cmd)
    group.add_command(opendata)
    group.add_command(report_cmd)


__all__ = ["register"]
