"""``make demo``, last step: one holder signs online through a scripted browser.

In the demo workspace: settings pointing at a throw-away SMTP server on loopback
(aiosmtpd) and at the server's loopback address, the signing CA (``ca init``), the real
server (waitress) in a thread, an invitation for the rural-paths convention, then
Debian's Chromium (Playwright) reads the mail, opens the link, asks for the code, reads
it, ticks, types, draws and signs. The server is stopped; the signed PDF and its evidence
file are in the archive, and ``archive verify`` checks everything.

Usage: ``python bench/web_demo.py WORKSPACE [REFERENCE]``.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from playwright.sync_api import sync_playwright

from pipeline.core.workspace import Workspace
from pipeline.signatures.signing_ca import init_signing_ca
from pipeline.web.server import BackgroundServer, build, free_port

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
BIN = Path(sys.executable).parent


class Inbox:
    """The demo's mailbox: every message the SMTP server received."""

    def __init__(self) -> None:
        self.bodies: list[tuple[str, str]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg: Any = message_from_bytes(envelope.content, policy=policy.default)
        self.bodies.append((str(msg["To"]), str(msg.get_body(("plain",)).get_content())))
        return "250 OK"

    def last(self, pattern: str) -> str:
        for _to, body in reversed(self.bodies):
            found = re.search(pattern, body)
            if found:
                return found.group(1)
        raise SystemExit("demo: expected message not received")


def fiftyfifty(*args: str) -> str:
    done = subprocess.run([str(BIN / "fiftyfifty"), *args], capture_output=True, text=True,
                          check=False, env=os.environ)
    if "--json" not in args:
        print(done.stdout, end="")
    if done.returncode not in (0, 1):
        print(done.stderr, end="", file=sys.stderr)
        raise SystemExit(done.returncode)
    return done.stdout


def main() -> None:
    ws = Workspace(Path(sys.argv[1]).absolute())
    reference = sys.argv[2] if len(sys.argv) > 2 else "FF-2026-CHEMINS-RURAUX"
    listing = json.loads(fiftyfifty("registry", "list", "-w", str(ws.root), "--json"))
    conv = next(c["id"] for c in listing["conventions"] if c["reference"] == reference)
    inbox, smtp_port, port = Inbox(), free_port(), free_port()
    (ws.root / "settings.yaml").write_text(
        f"base_url: http://127.0.0.1:{port}\n"
        f"smtp:\n  host: 127.0.0.1\n  port: {smtp_port}\n"
        "  sender: \"Mairie de Loos-en-Gohelle <conventions@example.org>\"\n"
        "signing:\n  location: Loos-en-Gohelle\n  level: B-B\n", encoding="utf-8")
    os.environ["FIFTYFIFTY_CA_PASSPHRASE"] = secrets.token_urlsafe(18)
    init_signing_ca(ws, "Loos-en-Gohelle", os.environ["FIFTYFIFTY_CA_PASSPHRASE"].encode())
    smtp = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    try:
        with BackgroundServer(build(ws), port=port) as server:
            print(f"Server on {server.url}; inviting the holders of {conv}")
            fiftyfifty("invite", conv, "-w", str(ws.root))
            link = inbox.last(r"(http://\S+/signer/[A-Za-z0-9_-]+)")
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path="/usr/bin/chromium",
                                             args=CHROMIUM_ARGS)
                page = browser.new_page()
                page.goto(link)
                page.click("#send-code")
                page.fill("#code", inbox.last(r"\b(\d{6})\b"))
                page.click("#check-code")
                page.check("#consent")
                page.fill("#typed_name", page.locator("#signer-name").inner_text())
                box = page.locator("#signature-pad").bounding_box()
                assert box is not None
                page.mouse.move(box["x"] + 20, box["y"] + 60)
                page.mouse.down()
                for step in range(1, 14):
                    page.mouse.move(box["x"] + 20 + 16 * step, box["y"] + 60 + (-1) ** step * 14)
                page.mouse.up()
                page.click("#sign")
                page.wait_for_selector("#signed-ok")
                print("Signed in the browser:", page.locator("#signed-ok").inner_text())
                browser.close()
    finally:
        smtp.stop()
    show = json.loads(fiftyfifty("registry", "show", conv, "-w", str(ws.root), "--json"))
    for doc in show["documents"]:
        if doc["kind"] in ("signed", "evidence", "evidence_json"):
            print(f"  {doc['kind']:<13} {doc['path']}")


if __name__ == "__main__":
    main()
