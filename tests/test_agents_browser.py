"""A clerk's day in Debian's Chromium, driven by Playwright, against the real server
(waitress on loopback) and real LibreOffice: log in, import a Windows-1252 CSV and an
XLSX, read the reports, run both batches, follow the progress, open a convention,
download its PDF, check the archive."""

from __future__ import annotations

import io
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from agents_fixtures import (
    Server,
    add_accounts,
    light_argon2,
    log_in,
    make_app,
    serve,
    start_runs,
    upload_both,
)
from playwright.sync_api import expect
from pypdf import PdfReader

from pipeline.core.i18n import set_language
from pipeline.core.workspace import Workspace
from pipeline.records.registry import Registry
from pipeline.records.registry.jobs import list_jobs

pytestmark = pytest.mark.browser

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    ws = Workspace(tmp_path_factory.mktemp("browser") / "ws")
    with light_argon2():
        add_accounts(ws)
        set_language("fr")
        try:
            with serve(make_app(ws)) as running:
                yield running
        finally:
            set_language(None)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(accept_downloads=True, locale="fr-FR")
    tab = context.new_page()
    errors: list[str] = []

    def console(msg: Any) -> None:
        if msg.type == "error" and not str(msg.location.get("url", "")).endswith("favicon.ico"):
            errors.append(msg.text)

    tab.on("console", console)
    try:
        yield tab
    finally:
        context.close()
    assert not errors, errors  # e.g. a script or style refused by the CSP


def test_the_intake_form_downloads(page: Any, server: Server) -> None:
    log_in(page, server)
    page.goto(server.url + "/agents/imports")
    with page.expect_download() as info:
        page.get_by_role("link", name="Formulaire de saisie (Excel)").click()
    data = Path(info.value.path()).read_bytes()
    assert info.value.suggested_filename == "formulaire-projets.xlsx"
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    assert "title" in [c.value for row in sheet.iter_rows(max_row=5) for c in row]


@pytest.mark.libreoffice
def test_import_run_and_open_a_convention(page: Any, server: Server, tmp_path: Path) -> None:
    log_in(page, server)
    # 1. The Windows-1252 CSV (two good rows, one with a bad e-mail), then the XLSX, checked
    # before the first batch runs; 2. both started: the second waits for the first.
    first, second = upload_both(page, server, tmp_path)
    start_runs(page, (first, second))
    page.goto(first)
    page.locator("#produced").wait_for(timeout=240_000)  # the script reloads at the end
    assert page.locator("#produced li").count() == 2
    page.goto(second)
    page.locator("#produced").wait_for(timeout=240_000)
    assert "Lignes rejetées : 1" in page.locator("#summary + p").inner_text()
    workspace = server.app.extensions["fiftyfifty"]["workspace"]
    with Registry.open(workspace.registry_path) as reg:
        jobs = sorted(list_jobs(reg), key=lambda j: j.id)[-2:]
        assert [j.state for j in jobs] == ["done", "done"]
        assert jobs[1].started_at is not None and jobs[0].finished_at is not None
        assert jobs[1].started_at >= jobs[0].finished_at  # one after the other
        assert jobs[0].progress == {"validated": 3, "converted": 2, "archived": 2}
        allocations = [e for e in reg.events() if e.action == "allocated"]
        assert {e.actor for e in allocations} == {"clerk"}
    # 4. Open a convention, see page 1, download the PDF.
    page.locator("#produced a").first.click()
    page.wait_for_url("**/agents/conventions/*")
    assert page.get_by_role("heading", name="Signataires", exact=True).is_visible()
    assert "Pas encore signé" in page.content()
    image = page.locator("img.page")
    image.wait_for()
    assert page.evaluate("img => img.complete && img.naturalWidth > 0", image.element_handle())
    number = page.url.rsplit("/", 1)[-1]
    with page.expect_download() as info:
        page.get_by_role("link", name=f"{number}.pdf").click()
    pdf = Path(info.value.path())
    reader = PdfReader(pdf)
    fields = reader.get_fields() or {}
    assert any(name.startswith("sig-") for name in fields), fields
    text = subprocess.run(["pdftotext", "-l", "1", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert number in text
    # 5. The holders signed on paper: record the scan, the convention becomes signed.
    page.get_by_label("Scan de l’original signé (PDF)").set_input_files(str(pdf))
    page.get_by_label("Signé le", exact=True).fill("2026-11-20")
    page.get_by_role("button", name="Enregistrer l’original papier").click()
    expect(page.locator("body")).to_contain_text("L’original papier signé est enregistré")
    assert page.locator(".lead .status").inner_text() == "Signée"
    assert page.get_by_text("Signé le").count() >= 2  # each signatory's state
    # 6. The archive is intact, and the registry export lists the conventions.
    page.goto(server.url + "/agents/archive")
    page.get_by_role("button", name="Vérifier maintenant").click()
    expect(page.locator("#check-result")).to_contain_text("L’archive est intacte")
    with page.expect_download() as info:
        page.get_by_role("link", name="Registre avec les documents (JSON)").click()
    exported = json.loads(Path(info.value.path()).read_text(encoding="utf-8"))
    assert len(exported["conventions"]) == 3


def test_phone_width_keeps_the_navigation(page: Any, server: Server) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, server)
    assert page.get_by_role("link", name="Conventions", exact=True).is_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, width
