"""``fiftyfifty run``: the main job."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import click

from pipeline.catalogue.loader import Catalogue
from pipeline.cli.common import (
    EXIT_OK,
    EXIT_REJECTED,
    emit_json,
    get_workspace,
    guarded,
    json_option,
    shown_path,
    workspace_option,
)
from pipeline.cli.intake_cmds import catalogue_option, summary_line
from pipeline.core.i18n import N_, _
from pipeline.documents.convert import terminate_on_sigterm
from pipeline.runner import RunOptions, RunSummary, run_batch
from pipeline.validation.reports import write_report
from pipeline.validation.validator import check_inputs

_ACTIONS = {"new": N_("new"), "resume": N_("resumed"), "new_version": N_("new version"),
            "unchanged": N_("already archived")}


def _print_summary(summary: RunSummary, report_path: Path, root: Path) -> None:
    """The conventions produced, each record's problems under it, the counts; every path
    usable from where the command was typed."""
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False, width=None if sys.stdout.isatty() else 160)
    table = Table(title=_("Conventions"), show_lines=False)
    for col in (_("ID"), _("Reference"), _("Version"), _("Status"), _("Done"), _("PDF")):
        table.add_column(col)
    for c in summary.conventions:
        table.add_row(c.id, c.reference, str(c.version), c.status,
                      _(_ACTIONS.get(c.action, c.action)),
                      shown_path(root / c.pdf) if c.pdf else "")
    if summary.conventions:
        console.print(table)
    for c in summary.conventions:
        if c.message:
            console.print(f"  {c.id}: {c.message}", markup=False)
    for o in summary.report.outcomes:
        if not o.issues:
            continue
        mark = _("Accepted with warnings") if o.accepted else _("Rejected")
        style = "yellow" if o.accepted else "bold red"
        console.print(f"[{style}]{mark}[/] {o.source} {_('row')} {o.row} {o.reference or ''}",
                      markup=True)
        for i in o.issues:
            console.print("    " + _("{severity}: {field}: {message}").format(
                severity=_("error") if i.severity == "error" else _("warning"),
                field=i.field or _("(record)"), message=i.message), markup=False)
    warnings = sum(1 for i in summary.report.issues if i.severity == "warning")
    console.print(summary_line(summary.report.accepted, summary.report.rejected,
                               len(summary.report.outcomes), warnings)
                  + " " + _("Report: {path}").format(path=shown_path(report_path)),
                  markup=False)


@click.command("run")
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@workspace_option
@click.option("--draft", is_flag=True, help='Review drafts: "PROJET" watermark, labelled '
              "PROJET-<reference>, not numbered, cannot be signed.")
@click.option("--as-new-version", is_flag=True,
              help="Accept a record identical to an older version as a new version.")
@click.option("--workers", type=click.IntRange(1, 64), default=None,
              help="LibreOffice processes in parallel (default: number of cores).")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Report file (.csv or .json); default: <workspace>/reports/run-<time>.csv")
@click.option("--timeout", type=click.FloatRange(1, 3600), default=60.0, show_default=True,
              help="Seconds a LibreOffice chunk may go without producing a PDF.")
@catalogue_option
@json_option
def run_cmd(inputs: tuple[Path, ...], workspace: str | None, draft: bool, as_new_version: bool,
            workers: int | None,
            report_path: Path | None, timeout: float, catalogue: str | None,
            as_json: bool) -> None:
    """Produce numbered, stamped PDF conventions ready for signature.

    Validates every record, numbers the accepted ones in the registry, renders the Word
    template, converts to PDF/A with LibreOffice, stamps each page (number, page X / Y, QR
    code), adds one empty signature field per signatory and archives everything. Rejected
    records never stop the batch; running the same input again creates nothing new.
    Exit 0 when every record was accepted, 1 when any was rejected.

    \b
    Example:
      fiftyfifty run conventions/examples/*.json --workspace ws
    """
    with guarded():
        ws = get_workspace(workspace)
        paths = check_inputs(inputs)
        options = RunOptions(ws, Catalogue.load(catalogue), draft=draft,
                             as_new_version=as_new_version, workers=workers,
                             timeout=timeout)
        with terminate_on_sigterm():
            if sys.stderr.isatty() and not as_json:
                summary = _run_with_progress(paths, options)
            else:
                summary = run_batch(paths, options)
        if report_path is None:
            stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
            report_path = ws.reports_dir / f"run-{stamp}.csv"
        write_report(summary.report, report_path)
        if as_json:
            payload = summary.to_dict()
            payload["report"] = shown_path(report_path)
            emit_json(payload)
        else:
            _print_summary(summary, report_path, ws.root)
    raise SystemExit(EXIT_OK if summary.ok else EXIT_REJECTED)


def _run_with_progress(paths: list[Path], options: RunOptions) -> RunSummary:
    from rich.console import Console
    from rich.progress import Progress

    names = {"validated": _("validated"), "converted": _("converted"), "archived": _("archived")}
    with Progress(transient=True, console=Console(stderr=True)) as bar:
        tasks = {s: bar.add_task(names[s], total=None) for s in names}

        def advance(stage: str, n: int) -> None:
            bar.advance(tasks[stage], n)

        return run_batch(paths, options, advance)


def register(group: click.Group) -> None:
    group.add_command(run_cmd)
