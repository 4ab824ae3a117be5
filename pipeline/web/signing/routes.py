"""Routes of the signing pages (see the package docstring)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from werkzeug.wrappers import Response

from pipeline.core.errors import PipelineError, SigningError, StateError
from pipeline.core.i18n import _
from pipeline.records.registry.invitations import utc_now
from pipeline.signatures.online import journey
from pipeline.signatures.online.drawing import decode_drawing
from pipeline.web.context import settings_of, workspace_of
from pipeline.web.security import RateLimiter
from pipeline.web.signing import workers
from pipeline.web.signing.pages import current_pdf, page_count, page_png

__all__ = ["SESSION_KEY", "blueprint"]

log = logging.getLogger(__name__)

blueprint = Blueprint("signing", __name__, template_folder="../templates")

SESSION_KEY = "citizen"
"""The inhabitants' part of the session; the back-office uses its own keys."""


@dataclass(frozen=True)
class Limits:
    """Rate limits (in memory, per server process)."""

    links: RateLimiter
    """Links opened per address: slows down guessing (on top of 256-bit tokens)."""
    codes_per_link: RateLimiter
    codes_per_address: RateLimiter
    attempts_per_link: RateLimiter
    attempts_per_address: RateLimiter


def _limits(app: Flask) -> Limits:
    found = app.extensions.get("signing_limits")
    if isinstance(found, Limits):
        return found
    limits = Limits(RateLimiter(30, 600), RateLimiter(3, 600), RateLimiter(10, 600),
                    RateLimiter(10, 600), RateLimiter(30, 600))
    app.extensions["signing_limits"] = limits
    return limits


def _visitor() -> journey.Visitor:
    return journey.Visitor(ip=request.remote_addr or "?",
                           user_agent=str(request.user_agent.string or "")[:400])


def _state() -> dict[str, Any] | None:
    state = session.get(SESSION_KEY)
    return state if isinstance(state, dict) and isinstance(state.get("inv"), int) else None


def _invalid() -> tuple[str, int]:
    """One answer for every link that does not lead to a signature."""
    return render_template("signing/invalid.html"), 404


@blueprint.get("/signer/<token>")
def open_link(token: str) -> Response | tuple[str, int]:
    """The personal link: check it, keep the invitation in the session, hide the token."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if not _limits(app).links.hit(request.remote_addr or "?"):
        abort(429)
    inv_id = journey.open_link(workspace_of(app), token, _visitor())
    if inv_id is None:
        session.pop(SESSION_KEY, None)
        return _invalid()
    session[SESSION_KEY] = {"inv": inv_id, "verified": False}
    return redirect(url_for("signing.overview"))


@blueprint.get("/signature")
def overview() -> str | tuple[str, int]:
    """The convention, who signs in which capacity, then the code and signature forms."""
    state = _state()
    if state is None:
        return _invalid()
    ws = workspace_of(current_app)
    try:
        if journey.finish_pending(ws, state["inv"]):
            return render_template("signing/done.html")
        inv, row = journey.status_of(ws, state["inv"])
    except StateError:  # an invitation this workspace does not know
        session.pop(SESSION_KEY, None)
        return _invalid()
    if inv.state != "active":
        return _invalid()
    if inv.locked:
        return render_template("signing/locked.html"), 403
    now = utc_now()
    if inv.expired(now):
        return _invalid()
    pdf, sha = current_pdf(ws, row.id)
    verified = bool(state.get("verified")) and inv.verified_at is not None
    return render_template(
        "signing/overview.html", inv=inv, row=row, pages=range(1, page_count(pdf, sha) + 1),
        version=sha[:12], waiting=journey.waiting_for(ws, inv), verified=verified,
        code_sent=inv.code_hash is not None,
    )


def _current_inv() -> int:
    state = _state()
    if state is None:
        abort(403)
    try:
        journey.status_of(workspace_of(current_app), int(state["inv"]))
    except StateError:
        abort(403)
    return int(state["inv"])


@blueprint.get("/signature/convention-<version>.pdf")
def document(version: str) -> Response:
    """The convention to download."""
    ws = workspace_of(current_app)
    inv, row = journey.status_of(ws, _current_inv())
    if inv.state != "active":
        abort(403)
    pdf, _sha = current_pdf(ws, row.id)
    return send_file(pdf, mimetype="application/pdf", as_attachment=True,
                     download_name=f"{row.id}.pdf")


@blueprint.get("/signature/page-<int:number>-<version>.png")
def page(number: int, version: str) -> Response:
    """One page of the convention as an image."""
    ws = workspace_of(current_app)
    inv, row = journey.status_of(ws, _current_inv())
    if inv.state != "active":
        abort(403)
    pdf, sha = current_pdf(ws, row.id)
    if not 1 <= number <= page_count(pdf, sha):
        abort(404)
    return send_file(page_png(ws, pdf, sha, number), mimetype="image/png", max_age=0)


@blueprint.post("/signature/code")
def send_code() -> Response:
    """E-mail a fresh one-time code."""
    inv_id = _current_inv()
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    limits = _limits(app)
    if not (limits.codes_per_link.hit(f"inv:{inv_id}")
            and limits.codes_per_address.hit(request.remote_addr or "?")):
        flash(_("Too many codes were asked for. Wait a few minutes and try again."), "error")
        return redirect(url_for("signing.overview"))
    try:
        journey.request_code(workspace_of(app), settings_of(app), inv_id, _visitor())
    except PipelineError as exc:
        log.warning("code not sent: %s", type(exc).__name__)
        flash(_("The code could not be sent. Try again later or contact the town hall."),
              "error")
        return redirect(url_for("signing.overview"))
    flash(_("A 6-digit code was sent to your e-mail address. It is valid for 10 minutes."),
          "notice")
    return redirect(url_for("signing.overview"))


@blueprint.post("/signature/code/check")
def check_code() -> Response | tuple[str, int]:
    """Check the typed code; five wrong codes lock the link."""
    inv_id = _current_inv()
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    limits = _limits(app)
    if not (limits.attempts_per_link.hit(f"inv:{inv_id}")
            and limits.attempts_per_address.hit(request.remote_addr or "?")):
        flash(_("Too many attempts. Wait a few minutes and try again."), "error")
        return redirect(url_for("signing.overview"))
    result = journey.check_code(workspace_of(app), inv_id, request.form.get("code", ""),
                                _visitor())
    if result.ok:
        session[SESSION_KEY] = {"inv": inv_id, "verified": True}
        flash(_("Code checked. You may now sign."), "notice")
    elif result.locked:
        return render_template("signing/locked.html"), 403
    else:
        flash(_("Wrong or expired code. Attempts left: {n}.").format(n=result.remaining),
              "error")
    return redirect(url_for("signing.overview"))


def _verified() -> int:
    state = _state()
    if state is None or not state.get("verified"):
        abort(403)
    return int(state["inv"])


@blueprint.post("/signature/sign")
def sign() -> Response | str | tuple[str, int]:
    """Sign: consent, typed name, optional drawing."""
    inv_id = _verified()
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    ws = workspace_of(app)
    consent = request.form.get("consent") == "yes"
    name = request.form.get("typed_name", "")
    if not consent or not name.strip():
        flash(_("Tick the box to accept the convention and type your name."), "error")
        return redirect(url_for("signing.overview"))
    try:
        drawing = decode_drawing(request.form.get("drawing", ""))
        workers.sign(app, ws, settings_of(app), inv_id,
                     journey.SignRequest(consent=True, typed_name=name, drawing=drawing),
                     _visitor())
    except workers.WorkerLost:
        if journey.finish_pending(ws, inv_id):
            return render_template("signing/done.html")
        log.warning("online signature interrupted: its worker process stopped")
        flash(_("The signature was interrupted by a problem on the server; nothing was "
                "recorded. Sign again in a moment."), "error")
        return redirect(url_for("signing.overview"))
    except SigningError as exc:
        if journey.finish_pending(ws, inv_id):
            return render_template("signing/done.html")
        log.warning("online signature refused: %s", exc.msg.split(":")[0])
        flash(_("The signature could not be made. Contact the town hall."), "error")
        return redirect(url_for("signing.overview"))
    except PipelineError as exc:
        log.warning("online signature failed: %s", type(exc).__name__)
        flash(_("The signature could not be made. Contact the town hall."), "error")
        return redirect(url_for("signing.overview"))
    session[SESSION_KEY] = {"inv": inv_id, "verified": False}
    return render_template("signing/done.html")


@blueprint.post("/signature/decline")
def decline() -> Response | str:
    """Refuse to sign, with a reason the clerk will read."""
    inv_id = _verified()
    reason = request.form.get("reason", "")
    if not reason.strip():
        flash(_("Give a reason to decline."), "error")
        return redirect(url_for("signing.overview"))
    try:
        journey.decline(workspace_of(current_app), inv_id, reason, _visitor())
    except PipelineError as exc:
        log.warning("decline failed: %s", type(exc).__name__)
        flash(_("The refusal could not be recorded. Contact the town hall."), "error")
        return redirect(url_for("signing.overview"))
    session.pop(SESSION_KEY, None)
    return render_template("signing/declined.html")
