"""Inhabitants sign online, end to end: the real server on loopback, a real SMTP server,
Debian's Chromium through Playwright; then ``verify``, ``pdfsig`` and ``archive verify``.
Negative paths: wrong codes, expired, used and foreign links, missing CSRF token, the
commune before the holders."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sign_fixtures import pdfsig
from web_fixtures import (
    CA_ENV,
    CA_PASSPHRASE,
    COMMUNE_EMAIL,
    HOLDERS,
    Inbox,
    browser,
    get_code,
    make_web_workspace,
    new_convention,
    sign_through_browser,
    smtp,
)

from pipeline.cli import main
from pipeline.core.i18n import set_language
from pipeline.core.workspace import Workspace
from pipeline.records.registry import Registry
from pipeline.records.registry.invitations import InvitationStore
from pipeline.signatures.online.tokens import new_token
from pipeline.web.server import BackgroundServer, build, free_port

__all__ = ["browser", "smtp"]  # fixtures

H1, H2 = HOLDERS[0]["email"], HOLDERS[1]["email"]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, smtp: tuple[Inbox, int]
         ) -> Iterator[tuple[Workspace, str, Inbox]]:
    os.environ[CA_ENV] = CA_PASSPHRASE
    set_language(None)
    inbox, smtp_port = smtp
    port = free_port()
    ws = make_web_workspace(tmp_path_factory.mktemp("web") / "ws", smtp_port, port)
    new_convention(ws, tmp_path_factory.mktemp("pdf"), "boot")  # creates the registry
    with BackgroundServer(build(ws), port=port) as server:
        yield ws, server.url, inbox


def cli(ws: Workspace, *args: str) -> Any:
    """The CLI, in a worker thread: Playwright's sync API keeps an event loop running in
    the main thread, where pyHanko's ``asyncio.run`` cannot start another."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(CliRunner().invoke, main,
                           [*args, "--workspace", str(ws.root)]).result()


def test_holders_then_commune_sign_online_and_everything_verifies(
        site: tuple[Workspace, str, Inbox], browser: Any, tmp_path: Path) -> None:
    ws, _url, inbox = site
    conv = new_convention(ws, tmp_path, "happy")
    early = cli(ws, "invite", conv, "--signatory", "commune")
    assert early.exit_code == 1 and "commune" in early.output.lower()

    sent = cli(ws, "invite", conv, "--expires", "7d", "--json")
    assert sent.exit_code == 0, sent.output
    assert [s["action"] for s in json.loads(sent.stdout)["signatories"]] == ["sent", "sent"]
    assert "Convention" in str(inbox.to(H1)[-1]["Subject"])
    again = cli(ws, "invite", conv)
    assert "--resend" in again.output  # an active link is not sent twice

    sign_through_browser(browser, inbox, H1, "Camille Dupré")
    with Registry.open(ws.registry_path) as reg:
        assert reg.get(conv).status == "signing"  # type: ignore[union-attr]
        signed = reg.latest_document(conv, ["signed"])
        kinds = [d.kind for d in reg.documents(conv)]
    assert signed is not None and kinds.count("evidence") == kinds.count("evidence_json") == 1
    entries = [e for e in pdfsig(ws.root / signed.relpath) if e.validation]
    assert [(e.field, e.validation) for e in entries] == [("sig-holder-1", "Signature is Valid.")]
    assert entries[0].common_name == "Camille Dupré"

    sign_through_browser(browser, inbox, H2, "Léa Martin", draw=False)
    assert "Convention" in str(inbox.to(COMMUNE_EMAIL)[-1]["Subject"])  # invited at once
    commune = cli(ws, "invite", conv)
    assert commune.exit_code == 0 and "commune" in commune.output and "--resend" in commune.output
    sign_through_browser(browser, inbox, COMMUNE_EMAIL, "Jean-François Maëlle")

    verdict = cli(ws, "verify", conv, "--json")
    assert verdict.exit_code == 0, verdict.output
    report = json.loads(verdict.stdout)
    assert [s["signed"] for s in report["signatories"]] == [True, True, True]
    assert len(report["evidence"]) == 3 and all(e["ok"] for e in report["evidence"])
    audit = cli(ws, "archive", "verify")
    assert audit.exit_code == 0, audit.output
    shown = json.loads(cli(ws, "registry", "show", conv, "--json").stdout)
    assert shown["convention"]["status"] == "signed"
    evidence = [d for d in shown["documents"] if d["kind"] == "evidence_json"]
    facts = json.loads((ws.root / evidence[0]["path"]).read_text(encoding="utf-8"))
    steps = [s["step"] for s in facts["steps"]]
    assert steps == ["invitation_sent", "link_opened", "code_sent", "code_checked", "consent",
                     "signed"]
    assert facts["signer"]["email"] == H1 and facts["certificate"]["sha256_fingerprint"]
    assert facts["steps"][1]["ip"] == "127.0.0.1" and "Chrome" in facts["steps"][1]["user_agent"]
    sealed = (ws.root / evidence[0]["path"]).with_suffix(".pdf").read_bytes()
    assert b"<pdfaid:part>2</pdfaid:part>" in sealed and b"/GTS_PDFA1" in sealed
    final = ws.root / report["document"]
    assert {e.field for e in pdfsig(final) if e.validation == "Signature is Valid."} == {
        "sig-holder-1", "sig-holder-2", "sig-commune"}


def _invalid_text(page: Any) -> str:
    return str(page.locator("main").inner_text())


def main_shows(page: Any, text: str) -> None:
    """The page's ``main`` comes to contain ``text`` (waiting for the page a form post
    loads to be parsed: a check made at once may read it half-loaded)."""
    from playwright.sync_api import expect

    expect(page.locator("main")).to_contain_text(text)


def test_unknown_expired_and_used_links_get_the_same_page(
        site: tuple[Workspace, str, Inbox], browser: Any, tmp_path: Path) -> None:
    ws, url, inbox = site
    conv = new_convention(ws, tmp_path, "links")
    assert cli(ws, "invite", conv).exit_code == 0
    link_1, link_2 = inbox.link(H1), inbox.link(H2)
    context = browser.new_context()
    page = context.new_page()
    unknown = page.goto(f"{url}/signer/{new_token()[0]}")
    assert unknown.status == 404
    reference = _invalid_text(page)
    assert "n’est pas valide, a expiré ou a déjà été utilisé" in reference
    assert page.goto(f"{url}/signer/short").status == 404 and _invalid_text(page) == reference

    with Registry.open(ws.registry_path) as reg:  # the second link expires
        reg.connection.execute(
            "UPDATE web_invitations SET expires_at = ? WHERE convention_id = ? AND signatory"
            " = 'holder-2'", ((datetime.now(UTC) - timedelta(minutes=1)).isoformat(), conv))
    assert page.goto(link_2).status == 404 and _invalid_text(page) == reference
    context.close()

    sign_through_browser(browser, inbox, H1, "Camille Dupré", draw=False)
    context = browser.new_context()
    page = context.new_page()
    assert page.goto(link_1).status == 404 and _invalid_text(page) == reference  # used
    revoked = cli(ws, "invite", conv, "--signatory", "holder-2", "--resend")
    assert revoked.exit_code == 0 and "holder-2" in revoked.output
    assert cli(ws, "invite", conv, "--revoke").exit_code == 0
    assert page.goto(inbox.link(H2)).status == 404 and _invalid_text(page) == reference
    context.close()


def test_five_wrong_codes_lock_the_link(site: tuple[Workspace, str, Inbox], browser: Any,
                                        tmp_path: Path) -> None:
    ws, _url, inbox = site
    conv = new_convention(ws, tmp_path, "locked")
    assert cli(ws, "invite", conv, "--signatory", "holder-1").exit_code == 0
    link = inbox.link(H1)
    context = browser.new_context()
    page = context.new_page()
    page.goto(link)
    page.click("#send-code")
    right = inbox.code(H1)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    for attempt in range(1, 5):
        page.fill("#code", wrong)
        page.click("#check-code")
        main_shows(page, f"Essais restants : {5 - attempt}")
    page.fill("#code", wrong)
    page.click("#check-code")
    main_shows(page, "verrouillé")
    main_shows(page, "Contactez la mairie")
    page.goto(link)  # even the right code no longer helps: the link is dead
    main_shows(page, "n’est pas valide")
    context.close()
    with Registry.open(ws.registry_path) as reg:
        assert "invitation_locked" in [e.action for e in reg.events(conv)]
        assert not reg.signatures(conv)


def test_csrf_foreign_link_and_commune_too_early(site: tuple[Workspace, str, Inbox],
                                                 browser: Any, tmp_path: Path) -> None:
    ws, url, inbox = site
    conv = new_convention(ws, tmp_path, "foreign")
    assert cli(ws, "invite", conv).exit_code == 0
    context = browser.new_context()
    page = context.new_page()
    page.goto(inbox.link(H1))
    get_code(page, inbox, H1)
    forged = page.request.post(f"{url}/signature/sign",
                               form={"consent": "yes", "typed_name": "Camille Dupré"})
    assert forged.status == 400 and "La demande n’a pas pu être traitée" in forged.text()

    page.goto(inbox.link(H2))  # another signer's link in the same browser
    assert page.locator("#signer-name").inner_text() == "Léa Martin"
    assert page.locator("#sign-form").count() == 0  # Léa must get her own code first
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    refused = page.request.post(f"{url}/signature/sign", form={
        "csrf_token": token, "consent": "yes", "typed_name": "Léa Martin"})
    assert refused.status == 403

    with Registry.open(ws.registry_path) as reg:  # a commune link, before the holders
        token_c, digest = new_token()
        InvitationStore(reg).create(conv, "commune", "Jean-François Maëlle", COMMUNE_EMAIL,
                                    digest, datetime.now(UTC) + timedelta(days=1))
    page.goto(f"{url}/signer/{token_c}")
    assert "les autres signataires doivent signer d’abord" in page.locator("#waiting").inner_text()
    assert page.locator("#send-code").count() == 0
    context.close()
    with Registry.open(ws.registry_path) as reg:
        assert not reg.signatures(conv)
