"""A server killed in the middle of a signature loses nothing and the signer can finish:
the real server in a subprocess, killed at two points, then restarted; and a server
whose signing process is killed stays up and says so."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from playwright.sync_api import expect
from sign_fixtures import pdfsig
from web_fixtures import (
    CA_ENV,
    CA_PASSPHRASE,
    HOLDERS,
    Inbox,
    browser,
    make_web_workspace,
    new_convention,
    smtp,
)

from pipeline.cli import main
from pipeline.core.workspace import Workspace
from pipeline.records.registry import Registry
from pipeline.web.server import free_port

__all__ = ["browser", "smtp"]  # fixtures

DRIVER = Path(__file__).with_name("web_server_driver.py")
H1, H2 = HOLDERS[0]["email"], HOLDERS[1]["email"]


def _wait_listening(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError("the server did not start")


@contextmanager
def _server(ws: Workspace, port: int, workers: int = 0) -> Iterator[subprocess.Popen[bytes]]:
    env = {**os.environ, CA_ENV: CA_PASSPHRASE}
    proc = subprocess.Popen([sys.executable, str(DRIVER), str(ws.root), str(port), str(workers)],
                            env=env, stderr=subprocess.PIPE)
    try:
        _wait_listening(port, proc)
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
        proc.wait(timeout=30)
        if proc.stderr:
            proc.stderr.close()


def _cli(ws: Workspace, *args: str) -> Any:
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(CliRunner().invoke, main,
                           [*args, "--workspace", str(ws.root)]).result()


def _up_to_signing(page: Any, inbox: Inbox, address: str) -> None:
    page.goto(inbox.link(address))
    page.click("#send-code")
    page.fill("#code", inbox.code(address))
    page.click("#check-code")
    page.check("#consent")
    page.fill("#typed_name", "Signataire")


def test_a_server_killed_mid_signature_loses_nothing(
        tmp_path: Path, smtp: tuple[Inbox, int], browser: Any) -> None:
    inbox, smtp_port = smtp
    port = free_port()
    ws = make_web_workspace(tmp_path / "ws", smtp_port, port)
    conv = new_convention(ws, tmp_path, "crash")
    assert _cli(ws, "invite", conv).exit_code == 0
    link_2 = inbox.link(H2)
    context = browser.new_context()
    page = context.new_page()

    (ws.root / "KILL_AT").write_text("before-archive")
    with _server(ws, port) as proc:  # killed before anything is written
        _up_to_signing(page, inbox, H1)
        page.click("#sign", no_wait_after=True)
        assert proc.wait(timeout=60) == -9
    with Registry.open(ws.registry_path) as reg:
        assert not reg.signatures(conv) and reg.get(conv).status == "generated"  # type: ignore[union-attr]
    assert _cli(ws, "archive", "verify").exit_code == 0

    other = browser.new_context()
    with _server(ws, port) as proc:
        page.goto(f"http://127.0.0.1:{port}/signature")  # the same browser signs again,
        page.check("#consent")  # its code still checked
        page.fill("#typed_name", "Camille Dupré")
        page.click("#sign")
        page.wait_for_selector("#signed-ok")
        (ws.root / "KILL_AT").write_text("after-signature")
        page = other.new_page()
        _up_to_signing(page, inbox, H2)
        page.click("#sign", no_wait_after=True)
        assert proc.wait(timeout=60) == -9  # killed after the signature was recorded
    with _server(ws, port):  # coming back finishes the invitation and its evidence
        page.goto(f"http://127.0.0.1:{port}/signature")
        page.wait_for_selector("#signed-ok")
        page.goto(link_2)
        assert "n’est pas valide" in page.locator("main").inner_text()
    context.close()
    other.close()

    with Registry.open(ws.registry_path) as reg:
        assert set(reg.signatures(conv)) == {"holder-1", "holder-2"}
        docs = reg.documents(conv)
        latest = reg.latest_document(conv, ["signed"])
    assert [d.kind for d in docs].count("evidence") == 2
    assert latest is not None
    valid = {e.field for e in pdfsig(ws.root / latest.relpath)
             if e.validation == "Signature is Valid."}
    assert valid == {"sig-holder-1", "sig-holder-2"}
    audit = _cli(ws, "archive", "verify")
    assert audit.exit_code == 0, audit.output


def test_a_signing_process_killed_leaves_the_server_up(
        tmp_path: Path, smtp: tuple[Inbox, int], browser: Any) -> None:
    inbox, smtp_port = smtp
    port = free_port()
    ws = make_web_workspace(tmp_path / "ws", smtp_port, port)
    conv = new_convention(ws, tmp_path, "crash-worker")
    assert _cli(ws, "invite", conv).exit_code == 0
    context = browser.new_context()
    page = context.new_page()
    (ws.root / "KILL_AT").write_text("before-archive")
    with _server(ws, port, workers=1) as proc:
        _up_to_signing(page, inbox, H1)
        page.click("#sign")
        expect(page.locator("main")).to_contain_text("rien n’a été enregistré")
        assert proc.poll() is None
        with Registry.open(ws.registry_path) as reg:
            assert not reg.signatures(conv)
        page.check("#consent")
        page.fill("#typed_name", "Camille Dupré")
        page.click("#sign")
        page.wait_for_selector("#signed-ok")
    context.close()
    with Registry.open(ws.registry_path) as reg:
        assert set(reg.signatures(conv)) == {"holder-1"}
