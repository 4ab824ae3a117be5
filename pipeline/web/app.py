"""The Flask application factory: settings, session cookies, security, errors, language."""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask, render_template
from werkzeug.exceptions import HTTPException

from pipeline.core.i18n import _, current_language, ngettext
from pipeline.core.settings import Settings, load_settings
from pipeline.core.workspace import Workspace
from pipeline.web import security
from pipeline.web.context import EXTENSION

__all__ = ["SECRET_FILE", "create_app"]

log = logging.getLogger(__name__)

SECRET_FILE = "web-secret.key"  # noqa: S105 (a file name, not a secret)
"""The key that signs session cookies, created at random in the workspace (mode 0600)."""

_MESSAGES = {
    400: "The request could not be handled. Go back, reload the page and try again.",
    403: "You are not allowed to open this page.",
    404: "This page does not exist.",
    405: "This action is not available here.",
    413: "The file is too large.",
    429: "Too many attempts. Wait a few minutes and try again.",
    500: "Something went wrong on the server. Try again later or contact the town hall.",
}


def _secret_key(ws: Workspace) -> bytes:
    path = ws.root / SECRET_FILE
    if not path.is_file():
        ws.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(secrets.token_bytes(32))
    return path.read_bytes()


def create_app(workspace: Workspace | str | Path, *, settings: Settings | None = None,
               config: dict[str, Any] | None = None) -> Flask:
    """Build the application for one workspace. ``config`` overrides Flask settings (tests)."""
    ws = workspace if isinstance(workspace, Workspace) else Workspace.resolve(workspace)
    settings = settings or load_settings(ws)
    app = Flask(__name__, template_folder="templates", static_folder="static")
    https = bool(settings.base_url and settings.base_url.startswith("https://"))
    app.config.update(
        SECRET_KEY=_secret_key(ws),
        SESSION_COOKIE_NAME="ff_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=https,
        PERMANENT_SESSION_LIFETIME=3600,
        MAX_CONTENT_LENGTH=20 * 1024 * 1024,
        TEMPLATES_AUTO_RELOAD=False,
    )
    app.config.update(config or {})
    app.extensions[EXTENSION] = {"workspace": ws, "settings": settings}
    app.jinja_env.globals.update(_=_, ngettext=ngettext, lang=current_language)
    app.jinja_env.autoescape = True
    security.install(app)
    from pipeline.web.signing import blueprint as signing_pages

    app.register_blueprint(signing_pages)
    from pipeline.web.agents import register as register_agents
    register_agents(app)

    @app.errorhandler(HTTPException)
    def _error(exc: HTTPException) -> tuple[str, int]:
        code = exc.code or 500
        message = _(_MESSAGES.get(code, _MESSAGES[400]))
        return render_template("error.html", code=code, message=message), code

    @app.errorhandler(Exception)
    def _crash(exc: Exception) -> tuple[str, int]:
        log.exception("unexpected error while serving a page")
        return render_template("error.html", code=500, message=_(_MESSAGES[500])), 500

    return app

