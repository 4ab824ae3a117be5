"""Import a batch: the intake form, the upload, the validation report, the run's progress.

The upload is validated at once (:func:`pipeline.imports.stage_upload`); the page shows
the report as a table and offers it as CSV. Starting the run queues the job for the
background worker; the page then polls ``progress.json`` (a small script, no inline
code) until the job ends, and shows the summary. Nothing lives in the browser: reloading
the page, or opening it from another computer, shows the same state.
"""

from __future__ import annotations

import io
import tempfile
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from werkzeug.wrappers import Response

from pipeline.catalogue.loader import Catalogue
from pipeline.core.errors import PipelineError
from pipeline.core.i18n import _
from pipeline.imports import files_of, report_issues, stage_upload
from pipeline.intake.forms import WRITERS
from pipeline.records.registry.jobs import Job, get_job, list_jobs, queue_job, queue_position
from pipeline.web.agents import worker_of
from pipeline.web.agents.auth import current_agent, registry
from pipeline.web.agents.failures import explain
from pipeline.web.agents.labels import JOB_LABELS, SEVERITY_LABELS
from pipeline.web.context import workspace_of

__all__ = ["install"]

FORM_NAMES = {"xlsx": "formulaire-projets.xlsx", "csv": "formulaire-projets.csv"}


def _job(job_id: int) -> Job:
    job = get_job(registry(), job_id)
    if job is None:
        abort(404)
    return job


def _progress(job: Job) -> dict[str, Any]:
    return {
        "id": job.id, "state": job.state, "label": _(JOB_LABELS[job.state]),
        "finished": not job.active, "position": queue_position(registry(), job),
        "records": job.counts.records, "accepted": job.counts.accepted,
        "validated": int(job.progress.get("validated", 0)),
        "converted": int(job.progress.get("converted", 0)),
        "archived": int(job.progress.get("archived", 0)),
    }


def install(bp: Blueprint) -> None:
    """Add the import pages to the blueprint."""

    @bp.get("/imports")
    def imports() -> str:
        worker_of()  # started with the first visit: notices imports a dead server left
        return render_template("agents/imports.html", jobs=list_jobs(registry()),
                               labels=JOB_LABELS)

    @bp.get("/imports/form.<fmt>")
    def intake_form(fmt: str) -> Response:
        if fmt not in FORM_NAMES:
            abort(404)
        tmp = Path(tempfile.mkdtemp(prefix="form-"))
        path = tmp / FORM_NAMES[fmt]
        WRITERS[fmt](path)
        data = path.read_bytes()
        path.unlink()
        tmp.rmdir()
        mime = ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
                if fmt == "xlsx" else "text/csv")
        response = current_app.response_class(data, mimetype=mime)
        response.headers["Content-Disposition"] = f"attachment; filename={FORM_NAMES[fmt]}"
        return response

    @bp.post("/imports")
    def upload() -> Response | tuple[str, int]:
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            flash(_("Choose the filled intake form to import."), "error")
            return redirect(url_for("agents.imports"))
        try:
            job = stage_upload(
                workspace_of(current_app), registry(), filename=upload.filename,
                data=upload.read(), login=current_agent().login,
                catalogue=Catalogue.load(current_app.config.get("AGENTS_CATALOGUE")))
        except PipelineError as exc:
            return render_template("agents/imports.html", jobs=list_jobs(registry()),
                                   labels=JOB_LABELS, error=explain(exc)), 400
        return redirect(url_for("agents.import_job", job_id=job.id))

    @bp.get("/imports/<int:job_id>")
    def import_job(job_id: int) -> str:
        job = _job(job_id)
        issues, total = report_issues(files_of(workspace_of(current_app), job))
        conventions = (job.summary or {}).get("conventions", [])
        return render_template("agents/import_job.html", job=job, issues=issues,
                               total_issues=total, progress=_progress(job), labels=JOB_LABELS,
                               severities=SEVERITY_LABELS, conventions=conventions)

    @bp.get("/imports/<int:job_id>/report.csv")
    def import_report(job_id: int) -> Response:
        files = files_of(workspace_of(current_app), _job(job_id))
        return send_file(io.BytesIO(files.report_csv.read_bytes()), as_attachment=True,
                         mimetype="text/csv", download_name=f"rapport-import-{job_id}.csv")

    @bp.get("/imports/<int:job_id>/run-report.csv")
    def import_run_report(job_id: int) -> Response:
        files = files_of(workspace_of(current_app), _job(job_id))
        if not files.run_report_csv.is_file():
            abort(404)
        return send_file(io.BytesIO(files.run_report_csv.read_bytes()), as_attachment=True,
                         mimetype="text/csv", download_name=f"rapport-production-{job_id}.csv")

    @bp.post("/imports/<int:job_id>/start")
    def import_start(job_id: int) -> Response:
        job = _job(job_id)
        try:
            queue_job(registry(), job.id)
        except PipelineError:
            flash(_("This import cannot be started now."), "error")
            return redirect(url_for("agents.import_job", job_id=job_id))
        registry().record_event(None, "import_queued", current_agent().login,
                                {"import": job.id, "file": job.source_name})
        worker_of().notify()
        return redirect(url_for("agents.import_job", job_id=job_id))

    @bp.get("/imports/<int:job_id>/progress.json")
    def import_progress(job_id: int) -> Response:
        worker_of()  # make sure the worker runs (after a restart, too)
        response = jsonify(_progress(_job(job_id)))
        response.headers["Cache-Control"] = "no-store"
        return response
