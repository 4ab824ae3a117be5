"""The web application behind ``fiftyfifty serve``: another shell over the same library.

Two audiences, kept apart: inhabitants who sign through a personal link (blueprint
``signing``), and town-hall staff in the back-office under ``/agents/`` (blueprint
``agents``). Pages are server-rendered Jinja in French (English on request), with no
front-end build; the only script is a small hand-written one for drawing a signature.

Security by default (see :mod:`pipeline.web.security`): a CSRF token on every form, a
strict Content-Security-Policy (no inline script or style), HttpOnly SameSite cookies
(Secure behind HTTPS), rate limits, no personal data in URLs or logs.
"""

from __future__ import annotations

from pipeline.web.app import create_app

__all__ = ["create_app"]
