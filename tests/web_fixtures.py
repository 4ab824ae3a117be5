"""Fixtures for the web tests, shared by the signing pages and the back-office: a real
SMTP server on loopback (aiosmtpd), the real waitress server in a thread, Debian's
Chromium through Playwright (one browser per session), and a workspace with a
convention ready to sign online.

Import what a module needs: ``from web_fixtures import smtp, browser, ...``.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sign_fixtures import make_unsigned_pdf

from pipeline.core.workspace import Workspace
from pipeline.records.archive import store_documents
from pipeline.records.registry import NewConvention, Registry
from pipeline.signatures.signing_ca import init_signing_ca
from pipeline.web.server import free_port

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
CA_ENV = "FF_TEST_CA_PASSPHRASE"
CA_PASSPHRASE = "correct horse battery staple"
COMMUNE_EMAIL = "maire@mairie.example.fr"
HOLDERS = [
    {"kind": "person", "name": "Camille Dupré", "email": "camille@example.org"},
    {"kind": "person", "name": "Léa Martin", "email": "lea.martin@example.org"},
]
SIGNATORIES = [
    {"key": "holder-1", "name": "Camille Dupré", "capacity": "en son nom propre",
     "party": "Camille Dupré (habitant)"},
    {"key": "holder-2", "name": "Léa Martin", "capacity": "en son nom propre",
     "party": "Léa Martin (habitant)"},
    {"key": "commune", "name": "Jean-François Maëlle", "capacity": "maire de Loos-en-Gohelle",
     "party": "Commune de Loos-en-Gohelle"},
]


@dataclass
class Inbox:
    """Every message the SMTP server received, in order."""

    messages: list[EmailMessage] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.messages.append(msg)
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for m in self.messages if address in str(m["To"])]

    def last_body(self, address: str) -> str:
        found = self.to(address)
        assert found, f"no message to {address}"
        part = found[-1].get_body(("plain",))
        assert part is not None
        return str(part.get_content())

    def link(self, address: str) -> str:
        found = re.search(r"(https?://\S+/signer/[A-Za-z0-9_-]+)", self.last_body(address))
        assert found, "no link in the invitation"
        return found.group(1)

    def code(self, address: str) -> str:
        found = re.search(r"\b(\d{6})\b", self.last_body(address))
        assert found, "no code in the message"
        return found.group(1)


@pytest.fixture(scope="session")
def smtp() -> Iterator[tuple[Inbox, int]]:
    """A real SMTP server on 127.0.0.1 for the whole session."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (never ``playwright install``), one per test
    module: while it runs, Playwright's event loop occupies the main thread (where
    ``asyncio.run`` then fails), so it must not outlive the module that uses it."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def draw_signature(page: Any) -> None:
    """A few strokes on the signature pad."""
    box = page.locator("#signature-pad").bounding_box()
    x, y = box["x"] + 20, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    for step in range(1, 12):
        page.mouse.move(x + step * 18, y + (12 if step % 2 else -12))
    page.mouse.up()


def get_code(page: Any, inbox: Inbox, address: str) -> None:
    """Ask for the one-time code, read it from the mail, enter it."""
    page.click("#send-code")
    page.wait_for_selector("#code")
    page.fill("#code", inbox.code(address))
    page.click("#check-code")
    page.wait_for_selector("#sign-form")


def sign_through_browser(browser: Any, inbox: Inbox, address: str, name: str,
                         draw: bool = True, pages: int | None = 2) -> Any:
    """An inhabitant signs from the link of their last invitation, in a fresh context:
    one-time code from the mail, consent, typed name, drawn signature (``pages``: how
    many page images the signing page shows, when known)."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(inbox.link(address))
    assert page.locator("h1").inner_text().startswith("Convention FF_")
    if pages is not None:
        assert page.locator("img.page").count() == pages
    get_code(page, inbox, address)
    page.check("#consent")
    page.fill("#typed_name", name)
    if draw:
        draw_signature(page)
    page.click("#sign")
    page.wait_for_selector("#signed-ok")
    context.close()
    return page


def write_settings(ws: Workspace, smtp_port: int, base_url: str) -> None:
    """A settings file pointing at the test SMTP server and the server's address."""
    ws.root.mkdir(parents=True, exist_ok=True)
    (ws.root / "settings.yaml").write_text(
        f"base_url: {base_url}\n"
        f"smtp:\n  host: 127.0.0.1\n  port: {smtp_port}\n"
        "  sender: \"Mairie de Loos-en-Gohelle <conventions@mairie.example.fr>\"\n"
        f"signing:\n  commune_email: {COMMUNE_EMAIL}\n  location: Loos-en-Gohelle\n  level: B-B\n",
        encoding="utf-8")


def new_convention(ws: Workspace, tmp: Path, reference: str) -> str:
    """A generated convention (PDF with three empty signature fields) in the registry."""
    pdf = make_unsigned_pdf(tmp / f"{reference}.pdf")
    with Registry.open(ws.registry_path) as reg:
        claim = reg.claim(NewConvention(
            type_id="fifty-fifty", year=2026, number_format="FF_{year}_{seq:03d}",
            reference=reference, fingerprint=reference.ljust(64, "0")[:64],
            title="Jardin partagé de la rue Voltaire", holders=HOLDERS,
            commune_amount=Decimal("1000"), inkind_value=Decimal("500"),
            start=date(2026, 12, 1), end=date(2027, 3, 1), commitment_end=None,
            signatories=SIGNATORIES,
        ))
        store_documents(ws, reg, claim.convention_id, 2026, claim.version,
                        [(f"{claim.convention_id}.pdf", "pdf", pdf)])
    return claim.convention_id


def make_web_workspace(root: Path, smtp_port: int, port: int) -> Workspace:
    """Settings, a signing CA (its passphrase in ``$FF_TEST_CA_PASSPHRASE``)."""
    ws = Workspace(root)
    write_settings(ws, smtp_port, f"http://127.0.0.1:{port}")
    init_signing_ca(ws, "Loos-en-Gohelle", CA_PASSPHRASE.encode(), passphrase_env=CA_ENV)
    return ws
