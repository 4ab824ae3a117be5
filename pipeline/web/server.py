"""Running the application with waitress, for ``fiftyfifty serve`` and the tests.

:func:`check_ready` refuses to start when the settings or the signing CA are incomplete;
:func:`serve` starts the signing processes (:mod:`pipeline.web.signing.workers`), then
blocks; :class:`BackgroundServer` runs the real server in a thread on a
loopback port (tests, ``make demo``).
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask
from waitress import wasyncore
from waitress.server import create_server
from werkzeug.middleware.proxy_fix import ProxyFix

from pipeline.core.errors import ConfigError
from pipeline.core.i18n import _
from pipeline.core.settings import Settings, load_settings
from pipeline.core.workspace import Workspace
from pipeline.records.registry import hold_open
from pipeline.signatures.signing_ca import load_signing_ca
from pipeline.web.app import create_app
from pipeline.web.signing.workers import EXTENSION as WORKERS
from pipeline.web.signing.workers import SignWorkers

__all__ = ["BackgroundServer", "ServeOptions", "build", "check_ready", "free_port", "serve"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServeOptions:
    """Where to listen."""

    host: str = "127.0.0.1"
    port: int = 8080
    threads: int = 8
    """Requests served at once: a page waits less behind a signature or a rendering."""
    sign_workers: int = 2
    """Processes that make the online signatures (0: in the server's own process)."""
    worker_setup: Callable[[], None] | None = None
    """Run once in each signing process when it starts (tests: fault points)."""


def check_ready(ws: Workspace, settings: Settings) -> None:
    """Raise :class:`ConfigError` (a clear message) when the server cannot do its job."""
    missing = []
    if not settings.base_url:
        missing.append("base_url")
    if settings.smtp is None:
        missing.append("smtp (host, sender)")
    if missing:
        raise ConfigError(
            _("The settings file {path} is incomplete: {missing}.").format(
                path=settings.path, missing=", ".join(missing)),
            hint=_("See the README, section 'Signing online', for an example."))
    if settings.smtp is not None:
        settings.smtp.password()  # the variable must be set
    if not ws.registry_path.is_file():
        raise ConfigError(_("No registry in {path}: run the batch first.").format(
            path=ws.root))
    load_signing_ca(ws)


def build(ws: Workspace, settings: Settings | None = None,
          config: dict[str, Any] | None = None) -> Any:
    """The WSGI application, behind ``ProxyFix`` when ``web.proxies`` says how many
    reverse proxies stand in front (so the evidence records the client's address)."""
    settings = settings or load_settings(ws)
    app: Flask = create_app(ws, settings=settings, config=config)
    proxies = int(settings.section("web").get("proxies", 0) or 0)
    if proxies > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies,  # type: ignore[method-assign]
                                x_host=proxies)
    return app


def serve(ws: Workspace, options: ServeOptions) -> None:
    """Check the settings, then serve until interrupted."""
    settings = load_settings(ws)
    check_ready(ws, settings)
    app = build(ws, settings)
    held = hold_open(ws.registry_path)  # the WAL kept between requests (see hold_open)
    workers = None
    try:
        if options.sign_workers > 0:  # started before any server thread exists
            workers = SignWorkers(options.sign_workers, options.worker_setup,
                                  registry=ws.registry_path)
            app.extensions[WORKERS] = workers
            workers.start()
        server = create_server(app, host=options.host, port=options.port,
                               threads=options.threads, ident="fiftyfifty")
        log.info("serving on %s:%s", options.host, options.port)
        server.run()
    finally:
        if workers is not None:
            workers.close()
        held.close()


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class BackgroundServer:
    """The real waitress server in a daemon thread, on ``127.0.0.1``."""

    def __init__(self, app: Any, port: int | None = None) -> None:
        self.port = port or free_port()
        self._server: Any = create_server(app, host="127.0.0.1", port=self.port, threads=4,
                                          ident="fiftyfifty")
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> BackgroundServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.task_dispatcher.shutdown()
        wasyncore.close_all(self._server._map)  # the listener and keep-alive connections
        self._thread.join(timeout=10)
