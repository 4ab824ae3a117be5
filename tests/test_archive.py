"""The archive: safe paths, atomic writes, versions, and exactly-once under SIGKILL and
concurrency (real subprocesses running tests/registry_driver.py on real files)."""

from __future__ import annotations

import json
import os
import random
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from registry_driver import new_convention, run_batch

from pipeline.core.errors import ArchiveError, StateError
from pipeline.core.files import write_atomic
from pipeline.core.workspace import Workspace
from pipeline.records.archive import (
    MANIFEST_NAME,
    add_files,
    archive_folder,
    store_documents,
    versioned_name,
)
from pipeline.records.audit import verify_archive
from pipeline.records.registry import Registry, is_valid_convention_id

DRIVER = Path(__file__).with_name("registry_driver.py")


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path / "ws")


def records(refs: range | list[int], tag: str = "") -> list[dict[str, str]]:
    return [{"reference": f"R{i:03d}", "content": f"contenu {i}{tag}"} for i in refs]


# -- safe paths ------------------------------------------------------------------------
@pytest.mark.parametrize("bad", ["", "..", "../etc", "FF/2026", "ff_2026_001", "A" * 16,
                                 "FF_2026_001\n", "FF 2026", "FF_2026_001/..", "É", "/tmp"])
def test_archive_folder_refuses_bad_ids(ws: Workspace, bad: str) -> None:
    with pytest.raises(ArchiveError, match="Refused"):
        archive_folder(ws, 2026, bad)


@pytest.mark.parametrize("year", [0, -1, 12345, True])
def test_archive_folder_refuses_bad_years(ws: Workspace, year: int) -> None:
    with pytest.raises(ArchiveError):
        archive_folder(ws, year, "FF_2026_001")


@given(st.text(max_size=20))
def test_any_id_either_refused_or_inside_archive(convention_id: str) -> None:
    ws = Workspace(Path("/srv/ws"))
    try:
        folder = archive_folder(ws, 2026, convention_id)
    except ArchiveError:
        assert not is_valid_convention_id(convention_id)
    else:
        assert folder.resolve().parent == Path("/srv/ws/archive/2026")


def test_symlinked_year_folder_cannot_escape(ws: Workspace, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    ws.archive_dir.mkdir(parents=True)
    (ws.archive_dir / "2026").symlink_to(outside)
    with pytest.raises(ArchiveError, match="outside the archive"):
        archive_folder(ws, 2026, "FF_2026_001")


@pytest.mark.parametrize("bad", ["../x.pdf", ".hidden", "a/b.pdf", MANIFEST_NAME, "", "x\n"])
def test_file_names_are_checked(bad: str) -> None:
    with pytest.raises(ArchiveError):
        versioned_name(bad, 1)


def test_versioned_names() -> None:
    assert versioned_name("FF_2026_001.pdf", 1) == "FF_2026_001.pdf"
    assert versioned_name("FF_2026_001.pdf", 2) == "FF_2026_001_v2.pdf"
    assert versioned_name("intake.json", 3) == "intake_v3.json"


# -- atomic writes ---------------------------------------------------------------------
def test_write_atomic_bytes_and_source(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        target = tmp_path / "a.pdf"
        written = write_atomic(target, b"%PDF-1.7 hello")
        assert target.read_bytes() == b"%PDF-1.7 hello" and written.size == 14
        assert stat.S_IMODE(target.stat().st_mode) == 0o644
        src = tmp_path / "src.bin"
        src.write_bytes(os.urandom(3 << 20))
        copy = write_atomic(tmp_path / "b.bin", src)
        assert (tmp_path / "b.bin").read_bytes() == src.read_bytes()
        assert copy.size == 3 << 20
    finally:
        os.umask(old)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.pdf", "b.bin", "src.bin"]


def test_failed_write_keeps_old_file_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "a.pdf"
    write_atomic(target, b"old")
    with pytest.raises(FileNotFoundError):
        write_atomic(target, tmp_path / "missing-source")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.pdf"]


# -- storing ---------------------------------------------------------------------------
def _files(cid: str, tag: str) -> list[tuple[str, str, Path | bytes]]:
    return [("intake.json", "intake", f'{{"t": "{tag}"}}'.encode()),
            (f"{cid}.pdf", "pdf", f"%PDF {tag}".encode())]


def test_store_then_new_version_keeps_old_files(ws: Workspace) -> None:
    with Registry.open(ws.registry_path) as reg:
        c1 = reg.claim(new_convention({"reference": "A", "content": "one"}))
        stored = store_documents(ws, reg, c1.convention_id, 2026, 1, _files(c1.convention_id,
                                                                             "one"))
        folder = archive_folder(ws, 2026, c1.convention_id)
        assert [s.relpath for s in stored] == [f"archive/2026/{c1.convention_id}/intake.json",
                                               f"archive/2026/{c1.convention_id}/FF_2026_001.pdf"]
        row = reg.get(c1.convention_id)
        assert row is not None and row.status == "generated"
        c2 = reg.claim(new_convention({"reference": "A", "content": "two"}))
        assert (c2.action, c2.version) == ("new_version", 2)
        store_documents(ws, reg, c2.convention_id, 2026, 2, _files(c2.convention_id, "two"))
        assert (folder / "FF_2026_001.pdf").read_bytes() == b"%PDF one"
        assert (folder / "FF_2026_001_v2.pdf").read_bytes() == b"%PDF two"
        manifest = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))
        assert [f["name"] for f in manifest["files"]] == [
            "FF_2026_001.pdf", "FF_2026_001_v2.pdf", "intake.json", "intake_v2.json"]
        assert len(reg.documents(c1.convention_id)) == 4
        assert verify_archive(ws, registry=reg).valid


def test_registered_and_signed_files_are_never_overwritten(ws: Workspace) -> None:
    with Registry.open(ws.registry_path) as reg:
        cid = reg.claim(new_convention({"reference": "A", "content": "x"})).convention_id
        store_documents(ws, reg, cid, 2026, 1, _files(cid, "x"))
        reg.set_status(cid, "signing", actor="t")
        add_files(ws, reg, cid, 1, [(f"{cid}_signed.pdf", "signed", b"%PDF signed")])
        with pytest.raises(ArchiveError, match="never overwritten"):
            add_files(ws, reg, cid, 1, [(f"{cid}_signed.pdf", "signed", b"%PDF other")])
        with pytest.raises(ArchiveError, match="never overwritten"):
            add_files(ws, reg, cid, 1, [(f"{cid}.pdf", "pdf", b"%PDF other")])
        folder = archive_folder(ws, 2026, cid)
        assert (folder / f"{cid}_signed.pdf").read_bytes() == b"%PDF signed"
        assert verify_archive(ws, registry=reg).valid


def test_store_after_another_process_finished_is_a_no_op(ws: Workspace) -> None:
    with Registry.open(ws.registry_path) as reg:
        claim = reg.claim(new_convention({"reference": "A", "content": "x"}))
        first = store_documents(ws, reg, claim.convention_id, 2026, 1,
                                _files(claim.convention_id, "x"))
        again = store_documents(ws, reg, claim.convention_id, 2026, 1,
                                _files(claim.convention_id, "different bytes"))
        assert [d.sha256 for d in again] == [d.sha256 for d in first]
        reg.claim(new_convention({"reference": "A", "content": "y"}))  # version 2 now
        with pytest.raises(StateError, match="superseded"):
            store_documents(ws, reg, claim.convention_id, 2026, 1, _files("X", "x"))


def test_resume_removes_temp_files_of_a_crashed_write(ws: Workspace) -> None:
    with Registry.open(ws.registry_path) as reg:
        claim = reg.claim(new_convention({"reference": "A", "content": "x"}))
        folder = archive_folder(ws, 2026, claim.convention_id)
        folder.mkdir(parents=True)
        (folder / ".FF_2026_001.pdf.0123456789ab.tmp").write_bytes(b"%PDF half")
        (folder / "FF_2026_001.pdf").write_bytes(b"%PDF stale, unregistered")
        assert reg.claim(new_convention({"reference": "A", "content": "x"})).action == "resume"
        store_documents(ws, reg, claim.convention_id, 2026, 1, _files(claim.convention_id, "x"))
        assert sorted(p.name for p in folder.iterdir()) == [
            "FF_2026_001.pdf", "intake.json", MANIFEST_NAME]
        report = verify_archive(ws, registry=reg)
        assert report.valid and report.temp_files == ()


# -- real subprocesses: SIGKILL and concurrency ---------------------------------------
def _driver(ws: Workspace, recs: list[dict[str, str]], tmp: Path, kill_at: int = 0,
            name: str = "records.json") -> subprocess.Popen[str]:
    spec = tmp / name
    spec.write_text(json.dumps(recs), encoding="utf-8")
    env = {**os.environ, "FF_KILL_AT": str(kill_at)}
    return subprocess.Popen([sys.executable, str(DRIVER), str(ws.root), str(spec)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, cwd=DRIVER.parent)


def _finish(proc: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=120)
    return proc.returncode, out, err


def _assert_exactly_once(ws: Workspace, recs: list[dict[str, str]]) -> None:
    with Registry.open(ws.registry_path) as reg:
        rows = reg.list()
        assert sorted(r.reference for r in rows) == sorted(r["reference"] for r in recs)
        assert [r.seq for r in rows] == list(range(1, len(recs) + 1))
        assert {r.status for r in rows} == {"generated"}
        assert all(r.version == 1 for r in rows)
        for row in rows:
            assert len(reg.documents(row.id)) == 3
        report = verify_archive(ws, registry=reg)
    assert report.valid, report.problems
    assert report.temp_files == ()


def _total_points(ws: Workspace, tmp: Path, recs: list[dict[str, str]]) -> int:
    code, out, err = _finish(_driver(ws, recs, tmp))
    assert code == 0, err
    return int(json.loads(out.splitlines()[-1])["points"])


def test_sigkill_at_many_points_then_rerun_gives_exactly_once(tmp_path: Path) -> None:
    recs = records(range(1, 4))
    total = _total_points(Workspace(tmp_path / "probe"), tmp_path, recs)
    assert total > 30
    # Every 4th crash point, plus the very first and last ones.
    kill_points = sorted({1, 2, total - 1, *range(3, total, 4)})
    for n in kill_points:
        ws = Workspace(tmp_path / f"ws{n}")
        code, out, _ = _finish(_driver(ws, recs, tmp_path, kill_at=n))
        assert code == -signal.SIGKILL, f"point {n} was not reached"
        code, out, err = _finish(_driver(ws, recs, tmp_path))
        assert code == 0, err
        actions = [json.loads(line)["action"] for line in out.splitlines()[:-1]]
        assert set(actions) <= {"new", "resume", "unchanged"}
        _assert_exactly_once(ws, recs)
        # A third run changes nothing at all.
        code, out, _ = _finish(_driver(ws, recs, tmp_path))
        assert [json.loads(x)["action"] for x in out.splitlines()[:-1]] == ["unchanged"] * 3


def test_killed_twice_in_a_row_still_recovers(tmp_path: Path) -> None:
    recs = records(range(1, 5))
    ws = Workspace(tmp_path / "ws")
    for n in (9, 7, 20):
        code, _, _ = _finish(_driver(ws, recs, tmp_path, kill_at=n))
        assert code == -signal.SIGKILL
    code, _, err = _finish(_driver(ws, recs, tmp_path))
    assert code == 0, err
    _assert_exactly_once(ws, recs)


def test_parent_kills_after_random_delays_then_rerun(tmp_path: Path) -> None:
    """Kill points chosen by the clock (inside SQLite's own commit, too); the outcome
    asserted is the same whatever the point."""
    recs = records(range(1, 31))
    ws = Workspace(tmp_path / "ws")
    rng = random.Random(20260504)
    for _ in range(4):
        proc = _driver(ws, recs, tmp_path)
        time.sleep(rng.uniform(0.05, 0.5))
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=120)
    code, _, err = _finish(_driver(ws, recs, tmp_path))
    assert code == 0, err
    _assert_exactly_once(ws, recs)


def test_two_concurrent_batches_get_unique_numbers(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    first = records(range(0, 50))
    second = list(reversed(records(range(25, 75))))  # overlapping, in the other order
    procs = [_driver(ws, first, tmp_path, name="a.json"),
             _driver(ws, second, tmp_path, name="b.json")]
    results = [_finish(p) for p in procs]
    for code, _, err in results:
        assert code == 0, err
        assert "locked" not in err
    ids: dict[str, set[str]] = {}
    for _, out, _ in results:
        for line in out.splitlines()[:-1]:
            item = json.loads(line)
            ids.setdefault(item["reference"], set()).add(item["id"])
    assert all(len(v) == 1 for v in ids.values())  # both saw the same number for a record
    everything = records(range(0, 75))
    _assert_exactly_once(ws, everything)


def test_in_process_batch_helper_matches_driver(ws: Workspace) -> None:
    with Registry.open(ws.registry_path) as reg:
        claims = run_batch(ws, reg, records(range(1, 3)))
        assert [c.action for c in claims] == ["new", "new"]
        assert [c.action for c in run_batch(ws, reg, records(range(1, 3)))] == [
            "unchanged", "unchanged"]
