"""Sending e-mail through the workspace's SMTP settings (standard library only)."""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import make_msgid

from pipeline.core.errors import ConfigError
from pipeline.core.settings import SmtpSettings

__all__ = ["MailError", "send_mail"]

log = logging.getLogger(__name__)


class MailError(ConfigError):
    """The SMTP server could not be reached or refused the message."""


def send_mail(smtp: SmtpSettings, to: str, subject: str, body: str, *,
              html: str | None = None, timeout: float = 30.0) -> str:
    """Send one message; return its Message-ID. Raises :class:`MailError` on failure."""
    msg = EmailMessage()
    msg["From"] = smtp.sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain=smtp.sender.rpartition("@")[2].strip("> ") or None)
    msg.set_content(body)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    try:
        with smtplib.SMTP(smtp.host, smtp.port, timeout=timeout) as client:
            if smtp.starttls:
                client.starttls(context=ssl.create_default_context())
            if smtp.user:
                client.login(smtp.user, smtp.password() or "")
            client.send_message(msg)
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(f"The message could not be sent through {smtp.host}:{smtp.port}: "
                        f"{exc}") from exc
    log.info("mail sent to a recipient through %s:%s", smtp.host, smtp.port)
    return str(msg["Message-ID"])
