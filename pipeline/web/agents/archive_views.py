"""The archive check (``archive verify``) and the registry's exports, in the browser."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, current_app, render_template
from werkzeug.wrappers import Response

from pipeline.records.audit import verify_archive
from pipeline.records.registry import export_csv, export_json
from pipeline.web.agents.auth import current_agent, registry
from pipeline.web.context import workspace_of

__all__ = ["install"]


def install(bp: Blueprint) -> None:
    """Add the archive page and the export downloads to the blueprint."""

    @bp.get("/archive")
    def archive() -> str:
        return render_template("agents/archive.html", report=None)

    @bp.post("/archive")
    def archive_check() -> str:
        reg = registry()
        report = verify_archive(workspace_of(current_app), registry=reg)
        reg.record_event(None, "archive_checked", current_agent().login, {
            "valid": report.valid, "problems": len(report.problems),
            "files": report.files_checked, "chain_head": report.chain_head})
        return render_template("agents/archive.html", report=report)

    @bp.get("/archive/export.<fmt>")
    def export(fmt: str) -> Response:
        reg = registry()
        rows = reg.list()
        if fmt == "csv":
            body, mime = export_csv(rows), "text/csv; charset=utf-8"
        elif fmt == "json":
            docs = {r.id: reg.documents(r.id) for r in rows}
            body, mime = export_json(rows, docs), "application/json"
        else:
            abort(404)
        reg.record_event(None, "registry_exported", current_agent().login,
                         {"format": fmt, "conventions": len(rows)})
        response = current_app.response_class(body.encode("utf-8"), mimetype=mime)
        name = f"registre-{date.today().isoformat()}.{fmt}"
        response.headers["Content-Disposition"] = f"attachment; filename={name}"
        return response
