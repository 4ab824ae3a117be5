"""The clerks' back-office under ``/agents/``: a shell over the same library as the CLI.

Pages (French by default), each a thin view over one library call:

* ``/agents/login``, ``/agents/logout`` (:mod:`.auth`): accounts of
  :mod:`pipeline.records.registry.users`, argon2id, lock-out, expiring sessions;
* ``/agents/`` and ``/agents/conventions`` (:mod:`.registry_views`): dashboard, the
  registry list (:mod:`pipeline.records.registry.browse`), each convention's page and
  its actions (:mod:`.lifecycle_views`, :mod:`.amend_views`);
* ``/agents/imports`` (:mod:`.import_views`): intake form, upload, validation report,
  the run in the background worker (:mod:`.worker`, :mod:`pipeline.imports`);
* ``/agents/archive`` (:mod:`.archive_views`): ``archive verify`` and the exports;
* ``/agents/users``, ``/agents/trust`` (:mod:`.admin_views`): administrators only.

Every page but the login needs a clerk's session; every form carries the CSRF token;
every action is an event of the registry's history with the clerk's login as actor.
"""

from __future__ import annotations

from flask import Blueprint, Flask, current_app

from pipeline.web.agents.worker import ImportWorker
from pipeline.web.context import workspace_of

__all__ = ["register", "worker_of"]


def worker_of(app: Flask | None = None) -> ImportWorker:
    """The import worker of an application (started on first use)."""
    target = app or current_app
    worker: ImportWorker = target.extensions["fiftyfifty-agents"]["worker"]
    worker.start()
    return worker


def register(app: Flask) -> None:
    """Add the back-office blueprint and its import worker to ``app``."""
    from pipeline.web.agents import (
        admin_views,
        amend_views,
        archive_views,
        import_views,
        lifecycle_views,
        registry_views,
    )
    from pipeline.web.agents.auth import install_auth

    bp = Blueprint("agents", __name__, url_prefix="/agents",
                   static_folder="../static/agents", static_url_path="/static")
    install_auth(bp)
    registry_views.install(bp)
    lifecycle_views.install(bp)
    amend_views.install(bp)
    import_views.install(bp)
    archive_views.install(bp)
    admin_views.install(bp)
    app.register_blueprint(bp)
    app.extensions["fiftyfifty-agents"] = {"worker": ImportWorker(
        workspace_of(app), catalogue=app.config.get("AGENTS_CATALOGUE"),
        soffice=app.config.get("AGENTS_SOFFICE"))}
