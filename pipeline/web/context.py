"""What an application built by :func:`pipeline.web.app.create_app` serves.

The workspace and the settings are kept in ``app.extensions["fiftyfifty"]``; the
blueprints read them through these helpers (and so never import the factory).
"""

from __future__ import annotations

from flask import Flask

from pipeline.core.settings import Settings
from pipeline.core.workspace import Workspace

__all__ = ["EXTENSION", "settings_of", "workspace_of"]

EXTENSION = "fiftyfifty"
"""The key of ``app.extensions`` holding the workspace and the settings."""


def workspace_of(app: Flask) -> Workspace:
    """The workspace an application serves."""
    ws: Workspace = app.extensions[EXTENSION]["workspace"]
    return ws


def settings_of(app: Flask) -> Settings:
    """The settings an application was built with."""
    s: Settings = app.extensions[EXTENSION]["settings"]
    return s
