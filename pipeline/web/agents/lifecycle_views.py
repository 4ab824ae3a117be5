"""The actions of a convention's page that follow its life: invite the signatories
(send, resend, revoke), record the works started and done, end it early.

Each route calls the same library function as its command (``invite``, ``works start``,
``works done``, ``terminate``), with the clerk's login as the author of the event."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, current_app, flash, redirect, request, url_for
from werkzeug.wrappers import Response

from pipeline.core.errors import PipelineError
from pipeline.core.i18n import _, ngettext
from pipeline.core.settings import load_settings
from pipeline.documents.frenchfmt import amount_fr
from pipeline.lifecycle.statuses import StatusChange, finish_works, start_works, terminate
from pipeline.records.registry import is_valid_convention_id
from pipeline.signatures.online.invite import InviteRequest, invite
from pipeline.web.agents.auth import current_agent, registry
from pipeline.web.agents.failures import explain
from pipeline.web.context import workspace_of

__all__ = ["install"]


def _back(cid: str) -> Response:
    return redirect(url_for("agents.convention", cid=cid))


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text or "")
    except ValueError:
        return None


def _known(cid: str) -> bool:
    return is_valid_convention_id(cid) and registry().get(cid) is not None


def install(bp: Blueprint) -> None:
    """Add the invite, works and terminate actions to the blueprint."""

    @bp.post("/conventions/<cid>/invite")
    def invite_signatories(cid: str) -> Response:
        if not _known(cid):
            return _back(cid)
        mode = request.form.get("mode", "send")
        ws = workspace_of(current_app)
        try:
            outcome = invite(ws, load_settings(ws), InviteRequest(
                cid, resend=mode == "resend", revoke=mode == "revoke"),
                actor=current_agent().login)
        except PipelineError as exc:
            flash(_("Nothing was sent: {error}").format(error=explain(exc)), "error")
            return _back(cid)
        n = len(outcome.invited)
        flash(ngettext("{n} invitation handled.", "{n} invitations handled.", n).format(n=n),
              "notice")
        return _back(cid)

    @bp.post("/conventions/<cid>/works")
    def works(cid: str) -> Response:
        row = registry().get(cid) if is_valid_convention_id(cid) else None
        on = _day(request.form.get("on"))
        if row is None or on is None:
            flash(_("Give the date of the works."), "error")
            return _back(cid)
        change = StatusChange(cid, on, current_agent().login)
        try:
            if row.status == "signed":
                start_works(workspace_of(current_app), change)
                flash(_("The start of the works is recorded."), "notice")
            else:
                finish_works(workspace_of(current_app), change)
                flash(_("The end of the works is recorded."), "notice")
        except PipelineError as exc:
            flash(explain(exc), "error")
        return _back(cid)

    @bp.post("/conventions/<cid>/terminate")
    def end_early(cid: str) -> Response:
        on = _day(request.form.get("on"))
        reason = request.form.get("reason", "").strip()
        if not _known(cid) or on is None or not reason:
            flash(_("Give the date and the reason of the early end."), "error")
            return _back(cid)
        try:
            _row, repayment = terminate(workspace_of(current_app), StatusChange(
                cid, on, current_agent().login, reason=reason))
        except PipelineError as exc:
            flash(explain(exc), "error")
            return _back(cid)
        flash(_("The convention is terminated; repayment due: {amount}.").format(
            amount=amount_fr(repayment.amount if repayment.applies else 0)), "notice")
        return _back(cid)
