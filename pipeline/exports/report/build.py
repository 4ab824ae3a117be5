"""``report``: figures, charts, the Word template, LibreOffice, a PDF/A file (and a web page).

The same route as the conventions: the Word template (``templates/rapport-annuel.docx``,
built by ``templates/build_report_template.py``) is rendered by docxtpl in the sandboxed,
autoescaping environment, converted to PDF/A-2b by the LibreOffice pool, checked (pages,
PDF/A part), then written atomically to the output. ``--html`` writes ``index.html`` with
the same sentences, tables and chart images.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from pipeline.catalogue.project import template_file
from pipeline.core.errors import ConverterError, TemplateError
from pipeline.core.files import write_atomic
from pipeline.core.i18n import _
from pipeline.core.workspace import Workspace
from pipeline.documents.convert import convert_batch, pdfa_conformance
from pipeline.documents.render import make_environment
from pipeline.exports.report.charts import draw_charts
from pipeline.exports.report.document import report_context
from pipeline.exports.report.figures import year_figures
from pipeline.exports.report.html import write_html
from pipeline.exports.sources import load_sources, select_rows
from pipeline.records.registry import Registry

log = logging.getLogger(__name__)

REPORT_TEMPLATE = "rapport-annuel.docx"
"""The report's Word template, in the project folder's ``templates/`` or the defaults."""
CHART_WIDTH_MM = 165


@dataclass(frozen=True)
class ReportRequest:
    """What to build."""

    year: int
    output: Path
    today: date
    html_dir: Path | None = None
    soffice: str | None = None
    template: Path | None = None
    """Default: :data:`REPORT_TEMPLATE` of the project folder in use."""


@dataclass(frozen=True)
class ReportResult:
    """What was written."""

    pdf: Path
    pages: int
    charts: int
    projects: int
    pdfa: str | None
    html: Path | None

    def to_dict(self) -> dict[str, Any]:
        return {"pdf": str(self.pdf), "pages": self.pages, "charts": self.charts,
                "projects": self.projects, "pdfa": self.pdfa,
                "html": str(self.html) if self.html else None}


def _render_docx(template: Path, context: dict[str, Any], chart_paths: dict[str, Path],
                 out: Path) -> None:
    from docx.shared import Mm
    from docxtpl import DocxTemplate, InlineImage

    if not template.is_file():
        raise TemplateError(_("{path}: the report template was not found.").format(
            path=template), hint=_("Rebuild it: python templates/build_report_template.py"))
    try:
        doc = DocxTemplate(str(template))
        images = {k: InlineImage(doc, str(p), width=Mm(CHART_WIDTH_MM))
                  for k, p in chart_paths.items()}
        doc.render({**context, "charts": images}, jinja_env=make_environment(),
                   autoescape=True)
        doc.save(str(out))
    except TemplateError:
        raise
    except Exception as exc:  # docxtpl raises jinja2, lxml, KeyError… on a bad template
        raise TemplateError(_("{name}: the report template cannot be rendered ({error}).")
                            .format(name=template.name,
                                    error=f"{type(exc).__name__}: {exc}")) from exc


def build_report(ws: Workspace, req: ReportRequest) -> ReportResult:
    """Compute, draw, render, convert; write the PDF (and the web page)."""
    with Registry.open(ws.registry_path, create=False) as reg:
        sources = load_sources(ws, reg, select_rows(reg, year=req.year))
        figures = year_figures(reg, sources, req.year, req.today)
    with tempfile.TemporaryDirectory(prefix="ff-report-") as tmp:
        scratch = Path(tmp)
        charts = draw_charts(figures, scratch / "charts")
        paths = {c.key: c.path for c in charts}
        docx = scratch / f"rapport-{req.year}.docx"
        template = req.template or template_file(REPORT_TEMPLATE)
        _render_docx(template, report_context(figures, {}), paths, docx)
        (result,) = convert_batch([docx], scratch / "pdf", workers=1, soffice=req.soffice)
        if not result.ok or result.pdf is None:
            raise ConverterError(_("The report could not be converted to PDF: {error}")
                                 .format(error=result.error))
        level = pdfa_conformance(result.pdf)
        req.output.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(req.output, result.pdf)
        html = None
        if req.html_dir is not None:
            html = write_html(req.html_dir, figures, charts)
        log.info("report %s: %d pages, PDF/A %s", req.output, result.pages, level)
        return ReportResult(req.output, result.pages, len(charts), len(figures.projects),
                            level, html)


__all__ = ["REPORT_TEMPLATE", "ReportRequest", "ReportResult", "build_report"]
