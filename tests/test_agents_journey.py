"""The clerk's whole journey in Debian's Chromium, against the real server (waitress on
loopback), real LibreOffice and a real SMTP server (aiosmtpd): log in, import the
Windows-1252 CSV and the XLSX, read the reports, run both batches, open a convention,
invite its holder; the holder then the mayor sign through the signing page; the clerk sees
the signatures arrive, downloads the signed PDF and ``verify`` accepts it; then an
amendment and an early end from the same page, each through the library the commands use.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from agents_fixtures import (
    MINIMAL,
    add_accounts,
    light_argon2,
    log_in,
    start_runs,
    upload_both,
)
from click.testing import CliRunner, Result
from web_fixtures import (
    CA_ENV,
    CA_PASSPHRASE,
    COMMUNE_EMAIL,
    Inbox,
    browser,
    make_web_workspace,
    sign_through_browser,
    smtp,
)

from pipeline.cli import main
from pipeline.core.i18n import set_language
from pipeline.core.workspace import Workspace
from pipeline.records.registry import ConventionRow, Registry
from pipeline.web.server import BackgroundServer, build, free_port

__all__ = ["browser", "smtp"]  # fixtures

pytestmark = [pytest.mark.browser, pytest.mark.libreoffice]

HOLDER = "helene@example.org"  # the first row of the intake files


class Site:
    """The running server, its workspace and the mail it sent."""

    def __init__(self, ws: Workspace, url: str, inbox: Inbox) -> None:
        self.ws, self.url, self.inbox = ws, url, inbox

    def row(self, cid: str) -> ConventionRow:
        with Registry.open(self.ws.registry_path) as reg:
            row = reg.get(cid)
        assert row is not None
        return row


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, smtp: tuple[Inbox, int]
         ) -> Iterator[Site]:
    os.environ[CA_ENV] = CA_PASSPHRASE
    inbox, smtp_port = smtp
    port = free_port()
    ws = make_web_workspace(tmp_path_factory.mktemp("journey") / "ws", smtp_port, port)
    with light_argon2():
        add_accounts(ws)
        set_language("fr")
        try:
            app = build(ws, config={"TESTING": False, "AGENTS_LOGIN_LIMIT": 1000})
            with BackgroundServer(app, port=port) as server:
                yield Site(ws, server.url, inbox)
        finally:
            set_language(None)


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(accept_downloads=True, locale="fr-FR")
    tab = context.new_page()
    try:
        yield tab
    finally:
        context.close()


def cli(ws: Workspace, *args: str) -> Result:
    """The CLI in a worker thread (Playwright's loop holds the main thread's asyncio)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(CliRunner().invoke, main,
                           [*args, "--workspace", str(ws.root)]).result()


def flash(page: Any) -> str:
    return " ".join(page.locator("p.notice, p.error").all_inner_texts())


def import_and_run(page: Any, site: Site, tmp: Path) -> str:
    """Both intake files through the import pages; the first produced convention."""
    first, second = upload_both(page, site, tmp)
    start_runs(page, (first, second))
    for url in (second, first):
        page.goto(url)
        page.locator("#produced").wait_for(timeout=300_000)  # the script reloads at the end
    assert page.locator("#produced li").count() == 2
    page.locator("#produced a").first.click()
    page.wait_for_url("**/agents/conventions/*")
    return str(page.url.rsplit("/", 1)[-1])


def invite_and_sign(page: Any, site: Site, cid: str, browser: Any) -> None:
    """The clerk invites; the holder, then the mayor (invited once the holder signed),
    sign through the signing page; the clerk's page shows both signatures."""
    page.locator("#invite-mode").select_option(label="Envoyer les invitations")
    page.get_by_role("button", name="Valider").click()
    page.wait_for_load_state()
    assert "1 invitation traitée." in flash(page)
    names = {s["key"]: s["name"] for s in site.row(cid).signatories}
    assert set(names) == {"holder-1", "commune"}
    sign_through_browser(browser, site.inbox, HOLDER, names["holder-1"], pages=None)
    page.reload()
    assert page.locator(".lead .status").inner_text() == "Signature en cours"
    sign_through_browser(browser, site.inbox, COMMUNE_EMAIL, names["commune"], pages=None)
    page.reload()
    assert page.locator(".lead .status").inner_text() == "Signée"
    states = page.locator("table").first.locator("tbody tr td:nth-child(3)").all_inner_texts()
    assert len(states) == 2 and all(s.startswith("Signé le ") for s in states), states


def download_signed(page: Any, tmp: Path) -> Path:
    row = page.locator("tr", has_text="PDF signé").last
    with page.expect_download() as info:
        row.get_by_role("link").click()
    target: Path = tmp / str(info.value.suggested_filename)
    info.value.save_as(target)
    return target


def changed_record(tmp: Path) -> Path:
    """The first row's record with the commune's money raised: the amendment's input."""
    data = json.loads(MINIMAL.read_text(encoding="utf-8"))
    data.update({"title": "Jardin partagé de l'Église", "reference": "WEB-0"})
    data["holders"][0]["email"] = HOLDER
    data["commune_commitments"]["money"][0]["amount"] = "2 500"
    path = tmp / "jardin-avenant.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def test_import_invite_sign_verify_amend_and_end_early(
        page: Any, site: Site, browser: Any, tmp_path: Path) -> None:
    log_in(page, site)
    cid = import_and_run(page, site, tmp_path)
    assert site.row(cid).status == "generated"
    # Invite, and the signatures arrive on the clerk's page.
    invite_and_sign(page, site, cid, browser)
    signed = download_signed(page, tmp_path)
    verdict = cli(site.ws, "verify", str(signed), "--json")
    assert verdict.exit_code == 0, verdict.output
    report = json.loads(verdict.stdout)
    assert report["ok"] and len(report["signatures"]) == 2
    # Amend: the changed record uploaded, the amendment produced and archived.
    page.get_by_label("Dossier modifié (.json, .xlsx ou .csv)").set_input_files(
        str(changed_record(tmp_path)))
    page.get_by_role("button", name="Produire l’avenant").click()
    page.wait_for_load_state()
    assert f"L’avenant {cid}_A1 est produit" in flash(page), flash(page)
    assert page.get_by_role("link", name=f"{cid}_A1.pdf").count() == 1
    # End early: the repayment is computed from the terms in force.
    page.locator("#terminate-on").fill("2027-01-15")
    page.locator("#terminate-reason").fill("Projet abandonné par l’association")
    page.get_by_role("button", name="Résilier").click()
    page.wait_for_load_state()
    assert "La convention est résiliée ; reversement dû : " in flash(page), flash(page)
    assert page.locator(".lead .status").inner_text() == "Résiliée"
    with Registry.open(site.ws.registry_path) as reg:
        events = reg.events(cid)
    by_clerk = {(e.action, e.details.get("to")) for e in events if e.actor == "clerk"}
    assert {("amendment", None), ("status", "terminated")} <= by_clerk, by_clerk
    assert any(e.action.startswith("invit") and e.actor == "clerk" for e in events), [
        (e.action, e.actor) for e in events]
    shown = cli(site.ws, "registry", "show", cid, "--json")
    assert json.loads(shown.stdout)["convention"]["status"] == "terminated"
    assert cli(site.ws, "archive", "verify").exit_code == 0
