"""Dashboard, the registry list, each convention's page, its documents and its actions.

The actions a convention's page offers are :data:`ACTIONS`: each is a small form posting
to its own route, which calls one library function with the clerk's login as actor, and
is shown only in the statuses where that function accepts it. An engineer adding a
lifecycle step (invite, works started, amend, terminate…) adds one :class:`Action`, one
template under ``agents/actions/`` and one route calling the library.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from werkzeug.wrappers import Response

from pipeline.core.clock import today as clock_today
from pipeline.core.errors import PipelineError
from pipeline.core.i18n import _
from pipeline.lifecycle.amendments import AMENDABLE
from pipeline.records.archive import workspace_path
from pipeline.records.registry import STATUSES, ConventionRow, DocumentRow, is_valid_convention_id
from pipeline.records.registry.browse import SORTS, Query, dashboard, search, years
from pipeline.signatures.workflow import record_scan
from pipeline.web.agents import worker_of
from pipeline.web.agents.auth import current_agent, registry
from pipeline.web.agents.failures import explain
from pipeline.web.agents.labels import DOCUMENT_LABELS, EVENT_LABELS, STATUS_LABELS
from pipeline.web.context import workspace_of

__all__ = ["ACTIONS", "Action", "install"]

PREVIEW_KINDS = ("signed", "scan", "pdf")


@dataclass(frozen=True)
class Action:
    """One thing a clerk can do to a convention from its page."""

    name: str
    """Its template is ``agents/actions/<name>.html``."""
    statuses: frozenset[str]
    """The statuses in which the library accepts it."""

    def allowed(self, row: ConventionRow, signed_keys: set[str]) -> bool:
        if self.name == "paper":
            return row.status in self.statuses and not signed_keys
        return row.status in self.statuses


ACTIONS: tuple[Action, ...] = (
    Action("invite", frozenset({"generated", "signing"})),
    Action("paper", frozenset({"generated", "signing"})),
    Action("works", frozenset({"signed", "works_started"})),
    Action("amend", frozenset(AMENDABLE)),
    Action("terminate", frozenset({"signed", "works_started", "works_done"})),
)
"""What a clerk can do from a convention's page, by status (each calls the library)."""


def _convention(cid: str) -> ConventionRow:
    if not is_valid_convention_id(cid):
        abort(404)
    row = registry().get(cid)
    if row is None:
        abort(404)
    return row


def _document(cid: str, doc_id: int) -> DocumentRow:
    doc = next((d for d in registry().documents(cid) if d.id == doc_id), None)
    if doc is None:
        abort(404)
    return doc


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def _preview(pdf: Path, digest: str, cache: Path) -> Path:
    """Page 1 of ``pdf`` as PNG (pdftoppm), cached under its SHA-256."""
    target = cache / f"{digest}.png"
    if target.is_file():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        out = Path(tmp) / "page"
        subprocess.run(["pdftoppm", "-png", "-f", "1", "-l", "1", "-scale-to", "900",
                        "-singlefile", str(pdf), str(out)],
                       check=True, capture_output=True, timeout=60)
        shutil.move(str(out.with_suffix(".png")), target)
    return target


def install(bp: Blueprint) -> None:
    """Add the dashboard, list and convention pages to the blueprint."""

    @bp.get("/", endpoint="dashboard")
    def dashboard_page() -> str:
        worker_of()  # the landing page starts the import worker (queued jobs resume)
        return render_template("agents/dashboard.html", board=dashboard(registry()),
                               statuses=STATUS_LABELS)

    @bp.get("/conventions")
    def conventions() -> str:
        a = request.args
        sort = a.get("sort", "number") if a.get("sort") in SORTS else "number"
        upkeep = a.get("upkeep", "")
        query = Query(text=a.get("q", ""), status=a.get("status", ""),
                      year=_int(a.get("year")), sort=sort,
                      upkeep=upkeep if upkeep in ("due", "overdue") else "",  # type: ignore[arg-type]
                      descending=a.get("dir", "desc") != "asc", page=_int(a.get("page")) or 1)
        page = search(registry(), query)
        return render_template("agents/conventions.html", page=page, query=query,
                               years=years(registry()), statuses=STATUS_LABELS,
                               all_statuses=STATUSES, sorts=list(SORTS))

    @bp.get("/conventions/<cid>")
    def convention(cid: str) -> str:
        row = _convention(cid)
        reg = registry()
        signed = reg.signatures(cid)
        docs = reg.documents(cid)
        preview = reg.latest_document(cid, PREVIEW_KINDS)
        actions = [a for a in ACTIONS if a.allowed(row, set(signed))]
        return render_template(
            "agents/convention.html", row=row, docs=docs, signed=signed,
            events=reg.events(cid), preview=preview, actions=actions,
            statuses=STATUS_LABELS, kinds=DOCUMENT_LABELS, event_labels=EVENT_LABELS,
            today=clock_today().isoformat())

    @bp.get("/conventions/<cid>/documents/<int:doc_id>")
    def document(cid: str, doc_id: int) -> Response:
        _convention(cid)
        doc = _document(cid, doc_id)
        path = workspace_path(workspace_of(current_app), doc.relpath)
        if not path.is_file():
            abort(404)
        return send_file(io.BytesIO(path.read_bytes()), as_attachment=True,
                         download_name=path.name)

    @bp.get("/conventions/<cid>/preview/<int:doc_id>.png")
    def preview(cid: str, doc_id: int) -> Response:
        _convention(cid)
        doc = _document(cid, doc_id)
        if doc.kind not in PREVIEW_KINDS:
            abort(404)
        ws = workspace_of(current_app)
        path = workspace_path(ws, doc.relpath)
        if not path.is_file():
            abort(404)
        image = _preview(path, doc.sha256, ws.root / "cache" / "previews")
        return send_file(io.BytesIO(image.read_bytes()), mimetype="image/png", max_age=3600)

    @bp.post("/conventions/<cid>/paper-original")
    def paper_original(cid: str) -> Response:
        _convention(cid)
        upload = request.files.get("scan")
        signed_on = request.form.get("signed_on", "")
        try:
            when = date.fromisoformat(signed_on)
        except ValueError:
            flash(_("Give the date the paper original was signed."), "error")
            return redirect(url_for("agents.convention", cid=cid))
        if upload is None or not upload.filename:
            flash(_("Choose the PDF scan of the signed paper original."), "error")
            return redirect(url_for("agents.convention", cid=cid))
        ws = workspace_of(current_app)
        tmp_root = ws.root / "tmp"
        tmp_root.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=tmp_root) as tmp:
            scan = Path(tmp) / "scan.pdf"
            upload.save(scan)
            try:
                reason = request.form.get("unchecked_reason", "").strip() or None
                record_scan(ws, cid, scan, when, actor=current_agent().login,
                            unchecked_reason=reason)
            except PipelineError as exc:
                flash(_("The paper original was not recorded: {error}").format(
                    error=explain(exc, hide=tmp)), "error")
                return redirect(url_for("agents.convention", cid=cid))
        flash(_("The signed paper original is recorded: the convention is signed."), "notice")
        return redirect(url_for("agents.convention", cid=cid))

