"""The workspace settings file and sending mail through a real SMTP server on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from pipeline.core.errors import ConfigError
from pipeline.core.mail import MailError, send_mail
from pipeline.core.settings import SmtpSettings, load_settings
from pipeline.core.workspace import Workspace


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[tuple[_Inbox, int]]:
    inbox = _Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def test_missing_settings_file_gives_empty_settings(tmp_path: Path) -> None:
    s = load_settings(Workspace(tmp_path))
    assert s.base_url is None and s.smtp is None and s.section("web") == {}


def test_settings_are_read_and_checked(tmp_path: Path) -> None:
    (tmp_path / "settings.yaml").write_text(
        "base_url: https://conventions.example.fr/\nsmtp:\n  host: 127.0.0.1\n  port: 2525\n"
        "  sender: Mairie <m@example.fr>\nweb:\n  rate: 5\n", encoding="utf-8")
    s = load_settings(Workspace(tmp_path))
    assert s.base_url == "https://conventions.example.fr"
    assert s.smtp == SmtpSettings(host="127.0.0.1", port=2525, sender="Mairie <m@example.fr>")
    assert s.section("web") == {"rate": 5}


@pytest.mark.parametrize(("text", "words"), [
    ("smtp:\n  host: h\n  sender: s\n  password: hunter2\n", "never write the password"),
    ("smtp:\n  host: h\n", "'sender' is missing"),
    ("smtp:\n  host: h\n  sender: s\n  user: u\n", "password_env is not"),
    ("base_url: ftp://x\n", "base_url must start"),
    ("- a\n- b\n", "expected a mapping"),
])
def test_bad_settings_are_refused_with_the_reason(tmp_path: Path, text: str, words: str) -> None:
    (tmp_path / "settings.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=words):
        load_settings(Workspace(tmp_path))


def test_mail_reaches_a_real_smtp_server(smtp_server: tuple[_Inbox, int]) -> None:
    inbox, port = smtp_server
    smtp = SmtpSettings(host="127.0.0.1", port=port, sender="Mairie <mairie@example.fr>")
    send_mail(smtp, "ines@example.fr", "Votre convention", "Bonjour Inès,\nÀ bientôt.")
    assert len(inbox.messages) == 1
    sender, rcpts, content = inbox.messages[0]
    assert sender == "mairie@example.fr" and rcpts == ["ines@example.fr"]
    msg = message_from_bytes(content)
    assert msg["Subject"] == "Votre convention"
    body = msg.get_payload(decode=True)
    assert isinstance(body, bytes) and "Inès" in body.decode("utf-8")


def test_unreachable_smtp_server_is_a_clear_error(tmp_path: Path) -> None:
    smtp = SmtpSettings(host="127.0.0.1", port=_free_port(), sender="m@example.fr")
    with pytest.raises(MailError, match="could not be sent"):
        send_mail(smtp, "x@example.fr", "s", "b", timeout=2)


def test_password_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    smtp = SmtpSettings(host="h", sender="s", user="u", password_env="FF_TEST_SMTP_PW")
    monkeypatch.delenv("FF_TEST_SMTP_PW", raising=False)
    with pytest.raises(ConfigError, match="FF_TEST_SMTP_PW"):
        smtp.password()
    monkeypatch.setenv("FF_TEST_SMTP_PW", "s3cret")
    assert smtp.password() == "s3cret"
