"""``make screenshots``: the back-office's main pages at phone and desktop widths.

Builds a throw-away workspace, starts the real server (waitress on loopback), and drives
Debian's Chromium with Playwright: an administrator logs in, imports the bundled
public-meeting CSV (one row is wrong on purpose) and the skate-park JSON, runs them with
LibreOffice, records one paper original, checks the archive; each main page is captured.

Usage: ``python tests/make_screenshots.py docs/screenshots``
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from agents_fixtures import PASSWORDS, add_accounts, make_app, serve
from paths import PROJECT_ROOT
from playwright.sync_api import ViewportSize, sync_playwright

from pipeline.core.i18n import set_language
from pipeline.core.workspace import Workspace
from pipeline.records.archive import workspace_path
from pipeline.records.registry import Registry

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
WIDTHS: dict[str, ViewportSize] = {"desktop": {"width": 1280, "height": 900},
                                   "phone": {"width": 390, "height": 844}}
EXAMPLES = PROJECT_ROOT / "conventions" / "examples"


def _import(page: Any, url: str, path: Path) -> None:
    page.goto(url + "/agents/imports")
    page.locator("#file").set_input_files(str(path))
    page.locator("form[enctype] button[type=submit]").click()
    page.wait_for_url("**/agents/imports/*")
    page.locator("#start").click()
    page.locator("#produced").wait_for(timeout=300_000)


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    set_language("fr")
    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace(Path(tmp) / "ws")
        add_accounts(ws)
        with serve(make_app(ws)) as server, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium",
                                         args=CHROMIUM_ARGS)
            page = browser.new_page(viewport=WIDTHS["desktop"], locale="fr-FR")
            page.goto(server.url + "/agents/login")
            shots: dict[str, str] = {"login": page.url}
            page.locator("#login").fill("admin")
            page.locator("#password").fill(PASSWORDS["admin"])
            page.locator("form.narrow button").click()
            page.wait_for_url("**/agents/")
            _import(page, server.url, EXAMPLES / "skatepark.json")
            _import(page, server.url, EXAMPLES / "public-meeting-2026-11.csv")
            shots["import"] = page.url
            with Registry.open(ws.registry_path) as reg:
                rows = reg.list()
                first = rows[0].id
                pdf = reg.latest_document(rows[-1].id, ["pdf"])
            if pdf is not None:  # one convention signed on paper, for the variety
                page.goto(f"{server.url}/agents/conventions/{rows[-1].id}")
                page.locator("#scan").set_input_files(str(workspace_path(ws, pdf.relpath)))
                page.locator("#signed_on").fill("2026-11-20")
                page.get_by_role("button", name="Enregistrer l’original papier").click()
                page.wait_for_load_state()
            shots.update({
                "dashboard": server.url + "/agents/",
                "conventions": server.url + "/agents/conventions",
                "convention": f"{server.url}/agents/conventions/{first}",
                "users": server.url + "/agents/users",
            })
            for label, size in WIDTHS.items():
                page.set_viewport_size(size)
                for name, url in shots.items():
                    if name == "login":
                        continue
                    page.goto(url)
                    page.wait_for_load_state("networkidle")
                    page.screenshot(path=str(out / f"{name}-{label}.png"), full_page=True)
                page.goto(server.url + "/agents/archive")
                page.locator("#run-check").click()
                page.wait_for_load_state()
                page.screenshot(path=str(out / f"archive-{label}.png"), full_page=True)
            browser.close()
    print(f"screenshots written to {out}")


if __name__ == "__main__":
    os.environ.setdefault("TZ", "UTC")
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots"))
