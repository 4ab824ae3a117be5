"""The workspace's settings file, ``<workspace>/settings.yaml``: what the server and the
e-mails need (public address, SMTP). Secrets are never in it: only the *name* of the
environment variable that holds the SMTP password.

Example::

    base_url: https://conventions.mairie-exemple.fr
    smtp:
      host: smtp.mairie-exemple.fr
      port: 587
      starttls: true
      user: conventions@mairie-exemple.fr
      password_env: FIFTYFIFTY_SMTP_PASSWORD
      sender: "Mairie d'Exemple <conventions@mairie-exemple.fr>"
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from pipeline.core.errors import ConfigError
from pipeline.core.workspace import Workspace

__all__ = ["SETTINGS_FILE", "Settings", "SmtpSettings", "load_settings"]

SETTINGS_FILE = "settings.yaml"


@dataclass(frozen=True)
class SmtpSettings:
    """How to send e-mail."""

    host: str
    """SMTP server name or address."""
    sender: str
    """The ``From`` of every message, e.g. ``Mairie <conventions@mairie.fr>``."""
    port: int = 25
    starttls: bool = False
    """Upgrade the connection with STARTTLS before authenticating."""
    user: str | None = None
    """Login, when the server wants one (then ``password_env`` is required)."""
    password_env: str | None = None
    """Name of the environment variable holding the password (never the password)."""

    def password(self) -> str | None:
        """The password read from its environment variable, or ``None``."""
        if not self.password_env:
            return None
        value = os.environ.get(self.password_env)
        if value is None:
            raise ConfigError(
                f"The SMTP password variable {self.password_env} is not set.",
                hint=f"Set it in the environment before starting: export {self.password_env}=…",
            )
        return value


@dataclass(frozen=True)
class Settings:
    """Everything in ``settings.yaml`` (each part optional until a command needs it)."""

    path: Path
    base_url: str | None = None
    """Public address of ``fiftyfifty serve`` (as reached through the reverse proxy)."""
    smtp: SmtpSettings | None = None
    extra: tuple[tuple[str, Any], ...] = ()
    """Other top-level sections, kept for the parts of the application that read them."""

    def section(self, name: str) -> dict[str, Any]:
        """A further top-level section as a dict (empty when absent)."""
        for key, value in self.extra:
            if key == name and isinstance(value, dict):
                return value
        return {}


def _smtp(raw: Any, path: Path) -> SmtpSettings | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: 'smtp' must be a mapping of settings.")
    if "password" in raw:
        raise ConfigError(f"{path}: never write the password here; use password_env.")
    known = {"host", "port", "starttls", "user", "password_env", "sender"}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ConfigError(f"{path}: unknown smtp setting(s): {', '.join(unknown)}.")
    try:
        smtp = SmtpSettings(
            host=str(raw["host"]), sender=str(raw["sender"]), port=int(raw.get("port", 25)),
            starttls=bool(raw.get("starttls", False)),
            user=str(raw["user"]) if raw.get("user") else None,
            password_env=str(raw["password_env"]) if raw.get("password_env") else None,
        )
    except KeyError as exc:
        raise ConfigError(f"{path}: smtp setting {exc.args[0]!r} is missing.") from exc
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{path}: smtp port must be a number.") from exc
    if smtp.user and not smtp.password_env:
        raise ConfigError(f"{path}: smtp user is set but password_env is not.")
    return smtp


def load_settings(ws: Workspace) -> Settings:
    """Read ``<workspace>/settings.yaml``; a missing file gives empty settings."""
    path = ws.root / SETTINGS_FILE
    if not path.is_file():
        return Settings(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"Cannot read the settings file {path}: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of settings.")
    base_url = raw.get("base_url")
    if base_url is not None and not str(base_url).startswith(("http://", "https://")):
        raise ConfigError(f"{path}: base_url must start with https:// (or http:// locally).")
    extra = tuple((k, v) for k, v in raw.items() if k not in {"base_url", "smtp"})
    return Settings(path, str(base_url).rstrip("/") if base_url else None,
                    _smtp(raw.get("smtp"), path), extra)
