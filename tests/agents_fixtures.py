"""Helpers for the back-office tests: accounts, a populated registry, the real server in a
thread (waitress on a free loopback port), intake files as offices make them."""

from __future__ import annotations

import csv
import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from flask import Flask
from registry_driver import new_convention
from sign_fixtures import make_unsigned_pdf
from waitress.server import create_server

from pipeline.core.workspace import Workspace
from pipeline.intake import flatten
from pipeline.records.archive import store_documents
from pipeline.records.registry import Registry
from pipeline.records.registry.users import NewUser, add_user
from pipeline.web import create_app

PASSWORDS = {"admin": "admin-password-42", "clerk": "clerk-password-42",
             "gone": "gone-password-42"}
MINIMAL = Path(__file__).parent / "data" / "intake" / "minimal.json"


def add_accounts(ws: Workspace) -> None:
    """An administrator, a clerk and a disabled clerk."""
    from pipeline.records.registry.users import set_active

    with Registry.open(ws.registry_path) as reg:
        add_user(reg, NewUser("admin", "Alice Admin", "admin", PASSWORDS["admin"]),
                 actor="test")
        add_user(reg, NewUser("clerk", "Claude Clerc", "clerk", PASSWORDS["clerk"]),
                 actor="test")
        add_user(reg, NewUser("gone", "Gaston Parti", "clerk", PASSWORDS["gone"]),
                 actor="test")
        set_active(reg, "gone", False, actor="test")


def add_conventions(ws: Workspace, tmp: Path, n: int = 3, first: int = 0) -> list[str]:
    """``n`` generated conventions with a real PDF, as the runner leaves them (references
    ``REF-<first>``, ``REF-<first + 1>``…)."""
    pdf = make_unsigned_pdf(tmp / "blank.pdf").read_bytes()
    ids = []
    with Registry.open(ws.registry_path) as reg:
        for i in range(first, first + n):
            record = {"reference": f"REF-{i:02d}", "content": f"jardin {i}"}
            claim = reg.claim(new_convention(record), actor="test")
            cid = claim.convention_id
            store_documents(ws, reg, cid, 2026, claim.version, [
                ("intake.json", "intake", json.dumps(record).encode()),
                (f"{cid}.pdf", "pdf", pdf)], actor="test")
            ids.append(cid)
    return ids


def make_app(ws: Workspace, **config: Any) -> Flask:
    return create_app(ws, config={"TESTING": False, "AGENTS_LOGIN_LIMIT": 1000, **config})


class HasUrl(Protocol):
    """A running server (:class:`Server`, ``BackgroundServer``)."""

    @property
    def url(self) -> str: ...


@dataclass
class Server:
    url: str
    app: Flask


@contextmanager
def serve(app: Flask) -> Iterator[Server]:
    """The application behind waitress on 127.0.0.1, in a thread."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = create_server(app, host="127.0.0.1", port=port, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield Server(f"http://127.0.0.1:{port}", app)
    finally:
        server.close()
        thread.join(5)


def intake_rows() -> list[dict[str, str]]:
    """Two good records (accented, one per holder) and one with a bad e-mail."""
    base = json.loads(MINIMAL.read_text(encoding="utf-8"))
    rows = []
    for i, (title, email) in enumerate([
            ("Jardin partagé de l'Église", "helene@example.org"),
            ("Fresque « Cœur de ville »", "pas-une-adresse"),
            ("Bancs du square Léon-Blum", "zoe@example.org")]):
        flat = {k: str(v).lower() if isinstance(v, bool) else str(v)
                for k, v in flatten(base).items()}
        flat.update({"title": title, "holders.0.email": email, "reference": f"WEB-{i}"})
        rows.append(flat)
    return rows


def write_cp1252_csv(path: Path) -> Path:
    rows = intake_rows()
    with path.open("w", encoding="cp1252", newline="") as f:
        w = csv.writer(f, delimiter=";")
        w.writerow(list(rows[0]))
        for row in rows:
            w.writerow(list(row.values()))
    return path


def write_xlsx(path: Path) -> Path:
    from openpyxl import Workbook

    rows = intake_rows()
    wb = Workbook()
    sheet = wb.active
    assert sheet is not None
    sheet.append(list(rows[0]))
    for row in rows[:2]:
        sheet.append([v.replace("WEB-", "XLS-") for v in row.values()])
    wb.save(path)
    return path


def log_in(page: Any, server: HasUrl, who: str = "clerk") -> None:
    """Log in through the login page (Playwright page), landing on the dashboard."""
    page.goto(server.url + "/agents/")
    assert "/agents/login" in page.url
    page.get_by_label("Identifiant").fill(who)
    page.get_by_label("Mot de passe").fill(PASSWORDS[who])
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url("**/agents/")


def upload(page: Any, server: HasUrl, path: Path) -> None:
    """Upload a filled intake form; the page then shows its validation report."""
    page.goto(server.url + "/agents/imports")
    page.get_by_label("Formulaire rempli (.xlsx, .csv ou .json)").set_input_files(str(path))
    page.get_by_role("button", name="Vérifier le fichier").click()
    page.wait_for_url("**/agents/imports/*")


def report_rows(page: Any) -> list[list[str]]:
    """The cells of the validation report's rows."""
    rows = page.locator("#report tbody tr")
    return [[c.strip() for c in rows.nth(i).locator("td").all_inner_texts()]
            for i in range(rows.count())]


BAD_EMAIL_ROW = ["3", "holders.0.email", "pas-une-adresse"]
"""The report row of the bad e-mail both intake files carry (row 3)."""


def upload_both(page: Any, server: HasUrl, tmp: Path) -> tuple[str, str]:
    """The Windows-1252 CSV (two good rows, a bad e-mail in row 3), then the same rows as an
    XLSX, through the import page; each report checked; the two reports' addresses."""
    upload(page, server, write_cp1252_csv(tmp / "réunion-publique.csv"))
    rows = report_rows(page)
    assert rows[0][:3] == BAD_EMAIL_ROW and rows[0][4] == "Erreur", rows
    assert page.locator("#count-accepted").inner_text() == "2"
    first = page.url
    upload(page, server, write_xlsx(tmp / "projets.xlsx"))
    assert [r[:3] for r in report_rows(page)] == [BAD_EMAIL_ROW]
    return first, str(page.url)


def start_runs(page: Any, reports: tuple[str, ...]) -> None:
    """Press "Lancer la production" on each report in turn; each shows its progress."""
    for url in reports:
        page.goto(url)
        page.get_by_role("button", name="Lancer la production").click()
        page.wait_for_url(url)
        assert page.locator("#progress").is_visible()


@contextmanager
def light_argon2() -> Iterator[None]:
    """A cheaper argon2id profile (still argon2id) so that the many logins of the tests stay
    quick on a loaded machine; ``test_users`` checks the production profile itself."""
    from argon2 import PasswordHasher

    from pipeline.records.registry import users

    saved = users._hasher
    users._hasher = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
    try:
        yield
    finally:
        users._hasher = saved
