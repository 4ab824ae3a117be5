"""Online signatures made in the server's signing processes (real spawned processes, a
real SMTP server): a second click joins the signature being made, two signatories of
one convention sign one after the other, a signing process killed mid-signature loses
nothing and the page says so in French, and the next signature is made by a fresh
process."""

from __future__ import annotations

import functools
import os
import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from web_fault_points import install_gate, install_kill_points
from web_fixtures import (
    CA_ENV,
    CA_PASSPHRASE,
    HOLDERS,
    Inbox,
    make_web_workspace,
    new_convention,
    smtp,
)

from pipeline.core.errors import StateError
from pipeline.core.i18n import set_language
from pipeline.core.settings import Settings, load_settings
from pipeline.core.workspace import Workspace
from pipeline.records.registry import Registry
from pipeline.signatures.online import journey
from pipeline.signatures.online.invite import InviteRequest, invite
from pipeline.web.server import build, free_port
from pipeline.web.signing.workers import EXTENSION, SignWorkers, WorkerLost

__all__ = ["smtp"]  # fixture

H1, H2 = HOLDERS[0]["email"], HOLDERS[1]["email"]
VISITOR = journey.Visitor(ip="127.0.0.1", user_agent="pytest")
REQUEST = journey.SignRequest(consent=True, typed_name="Camille Dupré", drawing=None)
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture()
def site(tmp_path: Path, smtp: tuple[Inbox, int]) -> Iterator[tuple[Workspace, Settings,
                                                                      Inbox, str]]:
    os.environ[CA_ENV] = CA_PASSPHRASE
    set_language(None)
    inbox, smtp_port = smtp
    ws = make_web_workspace(tmp_path / "ws", smtp_port, free_port())
    conv = new_convention(ws, tmp_path, "workers")
    settings = load_settings(ws)
    for key in ("holder-1", "holder-2"):
        invite(ws, settings, InviteRequest(conv, key))
    yield ws, settings, inbox, conv


def _verified(ws: Workspace, settings: Settings, inbox: Inbox, address: str) -> int:
    """The invitation of ``address``, its code asked for and checked."""
    token = inbox.link(address).rsplit("/", 1)[1]
    inv = journey.open_link(ws, token, VISITOR)
    assert inv is not None
    journey.request_code(ws, settings, inv, VISITOR)
    assert journey.check_code(ws, inv, inbox.code(address), VISITOR).ok
    return inv


def _kinds(ws: Workspace, conv: str) -> list[str]:
    with Registry.open(ws.registry_path) as reg:
        return [d.kind for d in reg.documents(conv)]


def _signed(ws: Workspace, conv: str) -> set[str]:
    with Registry.open(ws.registry_path) as reg:
        return set(reg.signatures(conv))


def test_a_second_click_joins_the_signature_being_made(
        site: tuple[Workspace, Settings, Inbox, str], tmp_path: Path) -> None:
    ws, settings, inbox, conv = site
    inv = _verified(ws, settings, inbox, H1)
    gate = tmp_path / "gate"
    workers = SignWorkers(1, functools.partial(install_gate, str(gate)))
    try:
        workers.start()
        first = workers.submit(ws, settings, inv, REQUEST, VISITOR)
        second = workers.submit(ws, settings, inv, REQUEST, VISITOR)
        assert second is first  # the worker waits at the gate: the first is not done
        gate.touch()
        assert first.result(timeout=120).signatory == "holder-1"
        with pytest.raises(StateError):  # once signed, another click is refused
            workers.sign(ws, settings, inv, REQUEST, VISITOR)
    finally:
        workers.close()
    assert _signed(ws, conv) == {"holder-1"}
    assert _kinds(ws, conv).count("signed") == 1
    assert _kinds(ws, conv).count("evidence") == 1


def _sign_page(client: Any, inbox: Inbox, address: str) -> str:
    """Through the pages, up to the signature: the final page's text."""
    link = inbox.link(address)
    page = client.get(link[link.index("/signer/"):], follow_redirects=True).get_data(
        as_text=True)
    found = _CSRF.search(page)
    assert found, "no form on the convention's page"
    token = found.group(1)
    client.post("/signature/code", data={"csrf_token": token})
    checked = client.post("/signature/code/check", follow_redirects=True, data={
        "csrf_token": token, "code": inbox.code(address)}).get_data(as_text=True)
    assert 'id="sign-form"' in checked
    return str(client.post("/signature/sign", follow_redirects=True, data={
        "csrf_token": token, "consent": "yes", "drawing": "",
        "typed_name": "Signataire"}).get_data(as_text=True))


def test_a_signing_process_killed_loses_nothing_and_the_page_says_so(
        site: tuple[Workspace, Settings, Inbox, str]) -> None:
    ws, settings, inbox, conv = site
    app = build(ws, settings, config={"TESTING": True})
    workers = SignWorkers(1, functools.partial(install_kill_points, str(ws.root)),
                          registry=ws.registry_path)
    app.extensions[EXTENSION] = workers
    try:
        workers.start()
        (ws.root / "KILL_AT").write_text("before-archive")
        client = app.test_client()
        page = _sign_page(client, inbox, H1)
        assert "rien n’a été enregistré" in page and 'id="signed-ok"' not in page
        assert not _signed(ws, conv) and "signed" not in _kinds(ws, conv)

        again = client.get("/signature").get_data(as_text=True)  # still checked: sign again
        token = _CSRF.search(again)
        assert token and 'id="sign-form"' in again
        done = client.post("/signature/sign", follow_redirects=True, data={
            "csrf_token": token.group(1), "consent": "yes", "drawing": "",
            "typed_name": "Camille Dupré"}).get_data(as_text=True)
        assert 'id="signed-ok"' in done  # by a fresh process

        (ws.root / "KILL_AT").write_text("after-signature")
        page = _sign_page(app.test_client(), inbox, H2)
        assert 'id="signed-ok"' in page  # recorded before the kill: finished by the page
    finally:
        workers.close()
    assert _signed(ws, conv) == {"holder-1", "holder-2"}
    assert _kinds(ws, conv).count("evidence") == 2


def test_a_dead_pool_is_replaced_before_the_next_signature(
        site: tuple[Workspace, Settings, Inbox, str]) -> None:
    ws, settings, inbox, conv = site
    inv = _verified(ws, settings, inbox, H1)
    workers = SignWorkers(1, functools.partial(install_kill_points, str(ws.root)))
    try:
        (ws.root / "KILL_AT").write_text("before-archive")
        with pytest.raises(WorkerLost):
            workers.sign(ws, settings, inv, REQUEST, VISITOR)
        assert not _signed(ws, conv)
        assert workers.sign(ws, settings, inv, REQUEST, VISITOR).signatory == "holder-1"
    finally:
        workers.close()
    assert _signed(ws, conv) == {"holder-1"}


def test_two_signatories_of_one_convention_sign_one_after_the_other(
        site: tuple[Workspace, Settings, Inbox, str], tmp_path: Path) -> None:
    ws, settings, inbox, conv = site
    first, second = _verified(ws, settings, inbox, H1), _verified(ws, settings, inbox, H2)
    gate = tmp_path / "gate"
    workers = SignWorkers(2, functools.partial(install_gate, str(gate)))
    try:
        workers.start()
        with ThreadPoolExecutor(2) as pool:
            one = pool.submit(workers.sign, ws, settings, first, REQUEST, VISITOR)
            while not workers.signing(first):  # the first waits at the gate
                assert not one.done(), one.exception()
                time.sleep(0.01)
            two = pool.submit(workers.sign, ws, settings, second, REQUEST, VISITOR)
            for _ in range(50):  # time for the second to start too, were it allowed to
                if workers.signing(second):
                    break
                time.sleep(0.01)
            gate.touch()
            assert {one.result().signatory, two.result().signatory} == {"holder-1",
                                                                         "holder-2"}
    finally:
        workers.close()
    assert _signed(ws, conv) == {"holder-1", "holder-2"}
    assert _kinds(ws, conv).count("evidence") == 2
