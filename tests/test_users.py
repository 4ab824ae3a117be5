"""Back-office accounts (argon2id, lock-out), the ``users`` commands, the import queue."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from agents_fixtures import light_argon2, write_cp1252_csv
from click.testing import CliRunner

from pipeline.catalogue.loader import Catalogue
from pipeline.cli import main
from pipeline.core.errors import InputError, StateError
from pipeline.core.workspace import Workspace
from pipeline.imports import files_of, safe_upload_name, stage_upload
from pipeline.records.registry import Registry
from pipeline.records.registry.jobs import claim_next, get_job, mark_interrupted, queue_job
from pipeline.records.registry.users import (
    LOCK_AFTER,
    NewUser,
    add_user,
    authenticate,
    get_user,
    list_users,
    set_active,
)
from pipeline.web.agents.worker import ImportWorker


@pytest.fixture
def reg(tmp_path: Path) -> Registry:
    return Registry.open(tmp_path / "ws" / "registry.sqlite")


def test_passwords_are_stored_as_argon2id_only(reg: Registry) -> None:
    add_user(reg, NewUser("mdupont", "Marie  Dupont", "clerk", "un mot de passe sûr"),
             actor="test")
    (stored,) = reg.connection.execute("SELECT password_hash FROM users").fetchone()
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert "un mot de passe" not in stored
    assert authenticate(reg, "mdupont", "un mot de passe sûr").ok
    assert authenticate(reg, "MDupont ", "un mot de passe sûr").ok  # as typed on a phone
    assert not authenticate(reg, "mdupont", "un mot de passe sur").ok
    user = get_user(reg, "mdupont")
    assert user is not None and user.name == "Marie Dupont" and user.last_login
    events = [(e.action, e.actor, e.details) for e in reg.events()]
    assert ("user_added", "test", {"login": "mdupont", "name": "Marie Dupont",
                                   "role": "clerk"}) in events
    assert not any("mot de passe" in json.dumps(d) for _, _, d in events)


@pytest.mark.parametrize("new, message", [
    (NewUser("Bad Login", "N", "clerk", "x" * 12), "Invalid login"),
    (NewUser("ok", "N", "clerk", "x" * 11), "too short"),
    (NewUser("ok", " ", "clerk", "x" * 12), "name is required"),
])
def test_bad_accounts_are_refused(reg: Registry, new: NewUser, message: str,
                                  english: None) -> None:
    with pytest.raises(InputError, match=message):
        add_user(reg, new, actor="test")


def test_lock_out_after_wrong_passwords_then_it_expires(reg: Registry) -> None:
    with light_argon2():
        add_user(reg, NewUser("cle", "Clé", "clerk", "le-bon-mot-de-passe"), actor="t")
        now = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
        results = [authenticate(reg, "cle", "faux", now=now).reason for _ in range(LOCK_AFTER)]
        assert results == ["wrong"] * (LOCK_AFTER - 1) + ["locked"]
        assert authenticate(reg, "cle", "le-bon-mot-de-passe", now=now).reason == "locked"
        later = now + timedelta(minutes=16)
        assert authenticate(reg, "cle", "le-bon-mot-de-passe", now=later).ok
        assert [e.action for e in reg.events()].count("user_locked") == 1
        (n,) = reg.connection.execute(
            "SELECT COUNT(*) FROM login_attempts WHERE login = 'cle' AND ok = 0").fetchone()
        assert n == LOCK_AFTER + 1


def test_disabled_and_unknown_accounts(reg: Registry) -> None:
    with light_argon2():
        add_user(reg, NewUser("parti", "Parti", "clerk", "mot-de-passe-long"), actor="t")
        set_active(reg, "parti", False, actor="admin")
        assert authenticate(reg, "parti", "mot-de-passe-long").reason == "disabled"
        assert authenticate(reg, "personne", "mot-de-passe-long").reason == "unknown"
        set_active(reg, "parti", True, actor="admin")
        assert authenticate(reg, "parti", "mot-de-passe-long").ok
        with pytest.raises(StateError):
            add_user(reg, NewUser("parti", "Autre", "admin", "mot-de-passe-long"), actor="t")


def test_users_commands(tmp_path: Path) -> None:
    ws = str(tmp_path / "ws")
    runner = CliRunner()
    with light_argon2():
        res = runner.invoke(main, ["users", "add", "adm", "--name", "Alice Admin", "--role",
                                   "admin", "--password-env", "FF_TEST_PASS", "-w", ws],
                            env={"FF_TEST_PASS": "secret-password-1"})
        assert res.exit_code == 0, res.output
        assert "Compte adm (admin) créé." in res.output
        res = runner.invoke(main, ["users", "add", "clerk", "--name", "Claude", "-w", ws],
                            input="prompted-password\nprompted-password\n")
        assert res.exit_code == 0, res.output
        assert "prompted-password" not in res.output
        res = runner.invoke(main, ["users", "add", "x2", "--name", "X", "-w", ws],
                            input="first-password-1\nsecond-password\n")
        assert res.exit_code == 2 and "differ" in res.output
        res = runner.invoke(main, ["users", "password", "clerk", "-w", ws],
                            input="a-new-password-1\na-new-password-1\n")
        assert res.exit_code == 0, res.output
        res = runner.invoke(main, ["users", "disable", "clerk", "-w", ws])
        assert res.exit_code == 0 and "Compte clerk désactivé." in res.output, res.output
        listing = runner.invoke(main, ["users", "list", "-w", ws]).output.splitlines()
        assert listing[-1] == "2 comptes." and "désactivé" in listing[1], listing
        res = runner.invoke(main, ["users", "list", "--json", "-w", ws])
        users = {u["login"]: u for u in json.loads(res.output)["users"]}
        assert users["adm"]["role"] == "admin" and users["clerk"]["active"] is False
        assert runner.invoke(main, ["users", "disable", "nobody", "-w", ws]).exit_code != 0
    with Registry.open(Path(ws) / "registry.sqlite") as reg, light_argon2():
        assert [u.login for u in list_users(reg)] == ["adm", "clerk"]
        set_active(reg, "clerk", True, actor="t")
        assert authenticate(reg, "clerk", "a-new-password-1").ok
        assert not authenticate(reg, "clerk", "prompted-password").ok
        assert any(e.action == "user_disabled" and e.actor.startswith("fiftyfifty users")
                   for e in reg.events())


@pytest.mark.parametrize("name, safe", [
    ("../../etc/passwd.csv", "passwd.csv"), ("C:\\Users\\réunion 1.XLSX", "r_union_1.xlsx"),
    ("projets.json", "projets.json"),
])
def test_upload_names_are_made_safe(name: str, safe: str) -> None:
    assert safe_upload_name(name) == safe


def test_upload_of_another_type_is_refused() -> None:
    with pytest.raises(InputError, match="unsupported"):
        safe_upload_name("virus.exe")


def test_a_job_left_running_by_a_dead_server_is_interrupted_then_restartable(
        tmp_path: Path, catalogue: Catalogue) -> None:
    ws = Workspace(tmp_path / "ws")
    with Registry.open(ws.registry_path) as reg:
        job = stage_upload(ws, reg, filename="lot.csv", catalogue=catalogue, login="clerk",
                           data=write_cp1252_csv(tmp_path / "lot.csv").read_bytes())
        assert (job.counts.records, job.counts.accepted, job.counts.rejected) == (3, 2, 1)
        assert files_of(ws, job).report_csv.is_file()
        queue_job(reg, job.id)
        claimed = claim_next(reg)  # a server took it ... and was killed
        assert claimed is not None and claimed.state == "running"
    worker = ImportWorker(ws, poll=0.05)  # the next server starts
    worker.start()
    worker.stop(10)
    with Registry.open(ws.registry_path) as reg:
        assert mark_interrupted(reg) == []  # already done by the worker's start
        again = get_job(reg, job.id)
        assert again is not None and again.state == "interrupted" and again.startable
        assert queue_job(reg, job.id).state == "queued"
        with pytest.raises(StateError):
            queue_job(reg, job.id)
