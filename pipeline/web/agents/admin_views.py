"""Administrators only: the accounts of the staff and the workspace's trust roots."""

from __future__ import annotations

import tempfile
from pathlib import Path

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from pipeline.core.errors import PipelineError
from pipeline.core.i18n import _
from pipeline.records.registry.users import ROLES, NewUser, Role, add_user, list_users, set_active
from pipeline.signatures.trust import add_root, list_roots
from pipeline.web.agents.auth import admin_only, current_agent, registry
from pipeline.web.agents.failures import explain
from pipeline.web.context import workspace_of

__all__ = ["install"]


def install(bp: Blueprint) -> None:
    """Add the account and trust-root pages to the blueprint."""

    def users_page(error: str | None = None, status: int = 200) -> tuple[str, int]:
        return render_template("agents/users.html", users=list_users(registry()),
                               roles=ROLES, error=error), status

    @bp.get("/users")
    @admin_only
    def users() -> tuple[str, int]:
        return users_page()

    @bp.post("/users")
    @admin_only
    def user_add() -> Response | tuple[str, int]:
        f = request.form
        role: Role = "admin" if f.get("role") == "admin" else "clerk"
        try:
            added = add_user(registry(), NewUser(f.get("login", "").strip(), f.get("name", ""),
                                                 role, f.get("password", "")),
                             actor=current_agent().login)
        except PipelineError as exc:
            return users_page(explain(exc), 400)
        flash(_("Account {login} created.").format(login=added.login), "notice")
        return redirect(url_for("agents.users"))

    @bp.post("/users/<login>/<any(disable, enable):change>")
    @admin_only
    def user_active(login: str, change: str) -> Response | tuple[str, int]:
        if login == current_agent().login:
            return users_page(_("You cannot disable your own account."), 400)
        try:
            set_active(registry(), login, change == "enable", actor=current_agent().login)
        except PipelineError as exc:
            return users_page(explain(exc), 400)
        return redirect(url_for("agents.users"))

    def trust_page(error: str | None = None, status: int = 200) -> tuple[str, int]:
        return render_template("agents/trust.html",
                               roots=list_roots(workspace_of(current_app)),
                               error=error), status

    @bp.get("/trust")
    @admin_only
    def trust() -> tuple[str, int]:
        return trust_page()

    @bp.post("/trust")
    @admin_only
    def trust_add() -> Response | tuple[str, int]:
        upload = request.files.get("certificate")
        if upload is None or not upload.filename:
            return trust_page(_("Choose a certificate file (PEM or DER)."), 400)
        ws = workspace_of(current_app)
        (ws.root / "tmp").mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=ws.root / "tmp") as tmp:
            received = Path(tmp) / "certificate"
            received.write_bytes(upload.read(1_000_001))
            try:  # the same checks and event as `fiftyfifty trust add`
                add_root(ws, received, actor=current_agent().login)
            except PipelineError as exc:
                return trust_page(explain(exc), 400)
        flash(_("Trust root added."), "notice")
        return redirect(url_for("agents.trust"))
