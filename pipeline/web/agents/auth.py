"""Who is logged in to the back-office: login, logout, session expiry, roles.

The clerk's session lives under its own key (``session["agent"]``), apart from anything
an inhabitant's signing link puts in the session: a citizen's session never opens these
pages. Each request reloads the account, so that a disabled account loses access at once.
Sessions end after :data:`IDLE_SECONDS` without activity or :data:`MAX_SECONDS` in all.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.wrappers import Response

from pipeline.core.i18n import _
from pipeline.records.registry import Registry
from pipeline.records.registry.users import User, authenticate, get_user, record_logout
from pipeline.web.context import workspace_of
from pipeline.web.security import RateLimiter

__all__ = ["IDLE_SECONDS", "MAX_SECONDS", "SESSION_KEY", "admin_only", "current_agent",
           "install_auth", "registry"]

SESSION_KEY = "agent"
IDLE_SECONDS = 30 * 60
MAX_SECONDS = 10 * 3600
PUBLIC_ENDPOINTS = frozenset({"agents.login", "agents.static"})

F = TypeVar("F", bound=Callable[..., Any])


def registry() -> Registry:
    """The registry of this request (opened once, closed at the end of the request)."""
    reg = g.get("agents_registry")
    if reg is None:
        reg = Registry.open(workspace_of(current_app).registry_path)
        g.agents_registry = reg
    return cast(Registry, reg)


def current_agent() -> User:
    """The logged-in account (only inside a protected page)."""
    return cast(User, g.agent)


def admin_only(view: F) -> F:
    """Refuse a page to anyone but an administrator (403)."""
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_agent().is_admin:
            abort(403)
        return view(*args, **kwargs)
    return cast(F, wrapper)


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/agents/") and "//" not in target and "\\" not in target:
        return target
    return url_for("agents.dashboard")


def _require_login() -> Response | None:
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    state = session.get(SESSION_KEY)
    now = time.time()
    user = None
    if isinstance(state, dict) and isinstance(state.get("login"), str):
        fresh = (now - float(state.get("seen", 0)) < IDLE_SECONDS
                 and now - float(state.get("since", 0)) < MAX_SECONDS)
        user = get_user(registry(), state["login"]) if fresh else None
        if user is None or not user.active:
            session.pop(SESSION_KEY, None)
            flash(_("Your session has ended: log in again."), "notice")
            user = None
    if user is None:
        nxt = request.full_path if request.method == "GET" else None
        return redirect(url_for("agents.login", next=_safe_next(nxt and nxt.rstrip("?"))))
    g.agent = user
    session[SESSION_KEY] = {**cast(dict[str, Any], state), "seen": now}
    return None


def _close_registry(_exc: BaseException | None) -> None:
    reg = g.pop("agents_registry", None)
    if reg is not None:
        reg.close()


def install_auth(bp: Blueprint) -> None:
    """Protect every page of the blueprint and add the login and logout pages."""
    limiters: dict[str, RateLimiter] = {}

    def limiter() -> RateLimiter:
        """Login attempts per address: ``AGENTS_LOGIN_LIMIT`` per 5 minutes (30)."""
        if "login" not in limiters:
            limiters["login"] = RateLimiter(
                int(current_app.config.get("AGENTS_LOGIN_LIMIT", 30)), 300)
        return limiters["login"]

    bp.before_request(_require_login)
    bp.teardown_request(_close_registry)

    @bp.context_processor
    def _agent() -> dict[str, Any]:
        return {"agent": g.get("agent")}

    @bp.route("/login", methods=["GET", "POST"])
    def login() -> str | Response | tuple[str, int]:
        nxt = _safe_next(request.values.get("next"))
        if request.method == "GET":
            return render_template("agents/login.html", next=nxt)
        if not limiter().hit(request.remote_addr or "?"):
            abort(429)
        result = authenticate(registry(), request.form.get("login", ""),
                              request.form.get("password", ""),
                              address=request.remote_addr or "")
        if result.user is None:
            message = {
                "locked": _("Too many wrong passwords: this account is locked for 15 minutes."),
            }.get(result.reason, _("Wrong login or password, or account disabled."))
            return render_template("agents/login.html", next=nxt, error=message), 401
        now = time.time()
        session[SESSION_KEY] = {"login": result.user.login, "since": now, "seen": now}
        session["_csrf"] = secrets.token_urlsafe(32)  # a new token for the new identity
        session.permanent = True
        return redirect(nxt)

    @bp.post("/logout")
    def logout() -> Response:
        record_logout(registry(), current_agent().login)
        session.pop(SESSION_KEY, None)
        session.pop("_csrf", None)
        flash(_("You are logged out."), "notice")
        return redirect(url_for("agents.login"))
