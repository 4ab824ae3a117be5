"""Amend a running convention from its page: the clerk uploads the changed record (the
intake form or the archived ``intake.json``, edited) and the amendment is produced by the
same library function as ``fiftyfifty amend``, with the clerk's login as its author."""

from __future__ import annotations

import tempfile
from pathlib import Path

from flask import Blueprint, current_app, flash, redirect, request, url_for
from werkzeug.utils import secure_filename
from werkzeug.wrappers import Response

from pipeline.catalogue.loader import Catalogue
from pipeline.core.clock import today as clock_today
from pipeline.core.errors import PipelineError
from pipeline.core.i18n import _, ngettext
from pipeline.lifecycle.amendments import AmendRequest, produce_amendment
from pipeline.records.registry import is_valid_convention_id
from pipeline.web.agents.auth import current_agent, registry
from pipeline.web.agents.failures import explain
from pipeline.web.context import workspace_of

__all__ = ["RECORD_SUFFIXES", "install"]

RECORD_SUFFIXES = (".json", ".xlsx", ".csv")
"""The formats of a changed record, as ``amend INPUT`` reads them."""


def _back(cid: str) -> Response:
    return redirect(url_for("agents.convention", cid=cid))


def install(bp: Blueprint) -> None:
    """Add the amend action to the blueprint."""

    @bp.post("/conventions/<cid>/amend")
    def amend(cid: str) -> Response:
        if not is_valid_convention_id(cid) or registry().get(cid) is None:
            return _back(cid)
        upload = request.files.get("record")
        name = secure_filename(upload.filename or "") if upload is not None else ""
        if upload is None or not name.lower().endswith(RECORD_SUFFIXES):
            flash(_("Choose the changed record (.json, .xlsx or .csv)."), "error")
            return _back(cid)
        ws = workspace_of(current_app)
        tmp_root = ws.root / "tmp"
        tmp_root.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=tmp_root) as tmp:
            source = Path(tmp) / name
            upload.save(source)
            try:
                made, changes, _pdf = produce_amendment(
                    ws, Catalogue.load(current_app.config.get("AGENTS_CATALOGUE")),
                    AmendRequest(cid, source, current_agent().login,
                                 soffice=current_app.config.get("AGENTS_SOFFICE")),
                    today=clock_today())
            except PipelineError as exc:
                flash(_("No amendment was made: {error}").format(
                    error=explain(exc, hide=tmp)), "error")
                return _back(cid)
        n = len(changes)
        flash(ngettext("Amendment {id} is produced ({n} change): it now awaits the "
                       "signatures.", "Amendment {id} is produced ({n} changes): it now "
                       "awaits the signatures.", n).format(id=made.id, n=n), "notice")
        return _back(cid)
