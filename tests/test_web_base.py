"""The web application's frame: security headers, CSRF, session cookie, errors in French."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from flask import Flask

from pipeline.core.i18n import set_language
from pipeline.core.workspace import Workspace
from pipeline.web import create_app
from pipeline.web.app import SECRET_FILE
from pipeline.web.security import CSP, RateLimiter, csrf_token


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    app = create_app(Workspace(tmp_path), config={"TESTING": True})

    @app.get("/form")
    def form() -> str:
        return f'<form method="post"><input name="csrf_token" value="{csrf_token()}"></form>'

    @app.post("/form")
    def post() -> str:
        return "ok"

    return app


def test_every_answer_carries_the_security_headers(app: Flask) -> None:
    res = app.test_client().get("/form")
    assert res.status_code == 200
    assert res.headers["Content-Security-Policy"] == CSP
    assert "'unsafe-inline'" not in CSP and "script-src 'self'" in CSP
    assert res.headers["X-Frame-Options"] == "DENY"
    assert res.headers["Referrer-Policy"] == "no-referrer"
    assert res.headers["Cache-Control"] == "no-store"
    cookie = res.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_a_post_without_the_csrf_token_is_refused_in_french(app: Flask) -> None:
    set_language(None)
    client = app.test_client()
    client.get("/form")
    res = client.post("/form", data={})
    assert res.status_code == 400
    assert "La demande n’a pas pu être traitée" in res.get_data(as_text=True)
    res = client.post("/form", data={"csrf_token": "forged" * 8})
    assert res.status_code == 400


def test_a_post_with_the_session_token_passes(app: Flask) -> None:
    client = app.test_client()
    page = client.get("/form").get_data(as_text=True)
    token = page.split('value="')[1].split('"')[0]
    assert client.post("/form", data={"csrf_token": token}).get_data(as_text=True) == "ok"
    other = app.test_client()  # another browser cannot reuse it
    other.get("/form")
    assert other.post("/form", data={"csrf_token": token}).status_code == 400


def test_unknown_page_in_french_and_english(app: Flask) -> None:
    try:
        set_language("fr")
        assert "Cette page n’existe pas." in app.test_client().get("/nope").get_data(True)
        set_language("en")
        assert "This page does not exist." in app.test_client().get("/nope").get_data(True)
    finally:
        set_language(None)


def test_session_key_is_private_and_stable(tmp_path: Path) -> None:
    create_app(Workspace(tmp_path))
    key = tmp_path / SECRET_FILE
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    first = key.read_bytes()
    create_app(Workspace(tmp_path))
    assert key.read_bytes() == first and len(first) == 32


def test_secure_cookie_behind_https(tmp_path: Path) -> None:
    (tmp_path / "settings.yaml").write_text("base_url: https://conv.example.fr\n")
    assert create_app(Workspace(tmp_path)).config["SESSION_COOKIE_SECURE"] is True


def test_rate_limiter_counts_per_key_within_the_window() -> None:
    now = [0.0]
    limiter = RateLimiter(3, 60, clock=lambda: now[0])
    assert [limiter.hit("a") for _ in range(4)] == [True, True, True, False]
    assert limiter.hit("b")
    now[0] = 61.0
    assert limiter.hit("a")
