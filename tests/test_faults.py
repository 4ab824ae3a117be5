"""Fault tests on the real ``fiftyfifty run``: SIGKILL at random points, a hanging
LibreOffice, a full disk, a read-only workspace and broken templates or registry.

Every test drives the installed console script in a subprocess, with real LibreOffice,
real SQLite and real files, then checks the workspace with ``archive verify``."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from paths import PROJECT_ROOT

BIN = Path(sys.executable).parent / "fiftyfifty"
EXAMPLES = PROJECT_ROOT / "conventions" / "examples"
RECORDS = sorted(EXAMPLES.glob("*.json"))
TRIALS = 20

pytestmark = pytest.mark.libreoffice


def cli(*args: str, env: dict[str, str] | None = None, timeout: float = 600
        ) -> subprocess.CompletedProcess[str]:
    """Run the console script and capture its output."""
    return subprocess.run([str(BIN), *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=timeout, check=False)


def make_records(folder: Path, n: int, tag: str) -> list[Path]:
    """``n`` distinct valid JSON records built from the bundled examples."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(n):
        data = json.loads(RECORDS[i % len(RECORDS)].read_text(encoding="utf-8"))
        data["reference"] = f"FF-T-{tag}-{i}".upper()
        data["title"] = f"{data['title']} {tag} {i}"
        path = folder / f"{tag}-{i}.json"
        path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        out.append(path)
    return out


def registered(ws: Path) -> list[tuple[str, str, str]]:
    """(id, reference, status) of every convention, read straight from SQLite."""
    con = sqlite3.connect(ws / "registry.sqlite")
    try:
        rows = con.execute("SELECT id, reference, status FROM conventions").fetchall()
    finally:
        con.close()
    return [(str(a), str(b), str(c)) for a, b, c in rows]


def assert_clean(ws: Path, references: set[str]) -> None:
    """Each reference registered exactly once, generated, archive verify OK, no temp files."""
    rows = registered(ws)
    refs = [r[1] for r in rows]
    assert sorted(refs) == sorted(references), rows
    assert len({r[0] for r in rows}) == len(rows)
    assert {r[2] for r in rows} == {"generated"}, rows
    check = cli("archive", "verify", "--workspace", str(ws))
    assert check.returncode == 0, check.stdout + check.stderr
    assert "OK" in check.stdout
    stray = [p for p in ws.rglob("*") if p.is_file() and (
        ".tmp" in p.name or p.name.startswith(".") or "tmp" in p.relative_to(ws).parts)]
    assert stray == [], stray


def no_process_mentions(marker: str) -> list[str]:
    """Command lines of live processes that mention ``marker`` (should be none)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if marker in cmd:
            found.append(cmd)
    return found


# ----------------------------------------------------------------- SIGKILL loop


def _kill_trial(base: Path, seed: int, t_full: float) -> tuple[float, int]:
    """Start a run, SIGKILL its whole process group after a random delay, rerun, check."""
    rnd = random.Random(seed)
    ws = base / f"ws-{seed}"
    inputs = make_records(base / f"in-{seed}", 3, f"k{seed}")
    delay = rnd.uniform(0, t_full)
    proc = subprocess.Popen([str(BIN), "run", *map(str, inputs), "--workspace", str(ws),
                             "--json", "--workers", "1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        proc.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    rerun = cli("run", *map(str, inputs), "--workspace", str(ws), "--json", "--workers", "1")
    assert rerun.returncode == 0, (seed, delay, rerun.stderr)
    summary = json.loads(rerun.stdout)
    assert summary["accepted"] == 3
    assert_clean(ws, {f"FF-T-K{seed}-{i}" for i in range(3)})
    if seed % 5 == 0:  # a third run changes nothing
        again = json.loads(cli("run", *map(str, inputs), "--workspace", str(ws),
                               "--json").stdout)
        assert {c["action"] for c in again["conventions"]} == {"unchanged"}
    return delay, proc.returncode


@pytest.mark.slow
def test_sigkill_at_random_points_then_rerun_is_exactly_once(tmp_path: Path) -> None:
    start = time.monotonic()
    first = make_records(tmp_path / "probe", 3, "probe")
    assert cli("run", *map(str, first), "--workspace", str(tmp_path / "probe-ws"),
               "--json", "--workers", "1").returncode == 0
    t_full = time.monotonic() - start
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda s: _kill_trial(tmp_path, s, t_full), range(TRIALS)))
    killed = sum(1 for _delay, rc in results if rc == -signal.SIGKILL)
    assert len(results) == TRIALS
    assert killed >= TRIALS // 2, results  # most trials really were killed mid-run
    print(f"{TRIALS} trials, {killed} killed mid-run, t_full={t_full:.1f}s")


# ----------------------------------------------------------------- hanging LibreOffice

HANG_SOFFICE = '''
import os, subprocess, sys, time, zipfile
real, args = sys.argv[1], sys.argv[2:]
def hangs(p):
    try:
        with zipfile.ZipFile(p) as z:
            return b"HANGME" in z.read("word/document.xml")
    except (OSError, KeyError, zipfile.BadZipFile):
        return False
bad = [a for a in args if a.endswith(".docx") and hangs(a)]
good = [a for a in args if a not in bad]
if any(a.endswith(".docx") for a in good):
    subprocess.run([real, *good], check=False)
if bad:
    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(900)", "FFHANGCHILD"])
    time.sleep(900)
'''


@pytest.fixture
def hanging_soffice(tmp_path: Path) -> Iterator[str]:
    real = shutil.which("soffice")
    assert real
    script = tmp_path / "hang_soffice.py"
    script.write_text(HANG_SOFFICE)
    wrapper = tmp_path / "soffice-hang"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{script}" "{real}" "$@"\n')
    wrapper.chmod(0o755)
    yield str(wrapper)
    for cmd in no_process_mentions("FFHANGCHILD"):
        pytest.fail(f"orphan process left: {cmd}")


def test_hanging_libreoffice_on_one_document(tmp_path: Path, hanging_soffice: str) -> None:
    ws = tmp_path / "ws"
    inputs = make_records(tmp_path / "in", 3, "h")
    data = json.loads(inputs[1].read_text(encoding="utf-8"))
    data["title"] = "HANGME " + data["title"]
    inputs[1].write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    res = cli("run", *map(str, inputs), "--workspace", str(ws), "--json", "--timeout", "8",
              env={"FIFTYFIFTY_SOFFICE": hanging_soffice})
    assert res.returncode == 1, res.stderr
    summary = json.loads(res.stdout)
    assert summary["accepted"] == 2 and summary["rejected"] == 1
    failed = [i for i in summary["issues"] if "conversion failed" in i["message"]]
    assert len(failed) == 1 and "run again" in failed[0]["message"]
    assert {c["reference"] for c in summary["conventions"]} == {"FF-T-H-0", "FF-T-H-2"}
    assert no_process_mentions("FFHANGCHILD") == []
    assert no_process_mentions(str(ws)) == []
    # the real LibreOffice finishes the one left behind
    rerun = cli("run", *map(str, inputs), "--workspace", str(ws), "--json")
    assert rerun.returncode == 0, rerun.stderr
    assert_clean(ws, {"FF-T-H-0", "FF-T-H-1", "FF-T-H-2"})


# ----------------------------------------------------------------- fatal conditions


def _fatal(res: subprocess.CompletedProcess[str], *words: str) -> None:
    assert res.returncode == 3, (res.returncode, res.stdout, res.stderr)
    assert "Traceback" not in res.stderr
    assert res.stderr.startswith("Erreur :"), res.stderr  # French by default
    for w in words:
        assert w.lower() in res.stderr.lower(), res.stderr


@pytest.fixture
def done_ws(tmp_path: Path) -> Path:
    """A workspace that holds one archived convention."""
    ws = tmp_path / "done"
    res = cli("run", str(RECORDS[0]), "--workspace", str(ws), "--json")
    assert res.returncode == 0, res.stderr
    return ws


def _snapshot(ws: Path) -> dict[str, bytes]:
    return {str(p.relative_to(ws)): p.read_bytes() for p in sorted(ws.rglob("*"))
            if p.is_file() and "reports" not in p.parts}


def test_read_only_workspace(done_ws: Path, tmp_path: Path) -> None:
    if os.geteuid() == 0:
        # root ignores permission bits: a read-only bind of the folder is the real thing
        ro = tmp_path / "ro"
        ro.mkdir()
        mount = subprocess.run(["mount", "--bind", "-o", "ro", str(done_ws), str(ro)],
                               capture_output=True, check=False)
        if mount.returncode != 0:
            pytest.skip(f"cannot bind-mount read-only: {mount.stderr!r}")
        subprocess.run(["mount", "-o", "remount,bind,ro", str(ro)], check=True)
        target = ro
    else:
        for p in [done_ws, *done_ws.rglob("*")]:
            p.chmod(p.stat().st_mode & ~0o222)
        target = done_ws
    before = _snapshot(done_ws)
    try:
        res = cli("run", *map(str, RECORDS), "--workspace", str(target), "--json",
                  "--report", str(tmp_path / "r.csv"))
        _fatal(res)
        assert "read-only" in res.stderr.lower() or "permission" in res.stderr.lower()
    finally:
        if target != done_ws:
            subprocess.run(["umount", str(target)], check=True)
    assert _snapshot(done_ws) == before
    assert_clean(done_ws, {json.loads(RECORDS[0].read_text())["reference"]})


def _catalogue_copy(tmp_path: Path) -> Path:
    cat = tmp_path / "cat" / "conventions"
    shutil.copytree(PROJECT_ROOT / "conventions", cat)
    (cat.parent / "templates").mkdir()
    shutil.copy(PROJECT_ROOT / "templates" / "fifty-fifty.docx", cat.parent / "templates")
    return cat


def test_missing_template(tmp_path: Path) -> None:
    cat = _catalogue_copy(tmp_path)
    (cat.parent / "templates" / "fifty-fifty.docx").unlink()
    ws = tmp_path / "ws"
    res = cli("run", str(RECORDS[0]), "--workspace", str(ws), "--catalogue", str(cat))
    _fatal(res, "template")
    assert not (ws / "archive").exists() or not any((ws / "archive").rglob("*.pdf"))


@pytest.mark.parametrize("damage", ["truncated", "not-a-zip", "bad-xml"])
def test_corrupt_template(tmp_path: Path, damage: str) -> None:
    cat = _catalogue_copy(tmp_path)
    tpl = cat.parent / "templates" / "fifty-fifty.docx"
    if damage == "truncated":
        tpl.write_bytes(tpl.read_bytes()[: 3000])
    elif damage == "not-a-zip":
        tpl.write_text("this is not a Word file")
    else:
        src = zipfile.ZipFile(tpl)
        parts = {n: src.read(n) for n in src.namelist()}
        src.close()
        parts["word/document.xml"] = parts["word/document.xml"][:-200]
        with zipfile.ZipFile(tpl, "w") as out:
            for name, body in parts.items():
                out.writestr(name, body)
    ws = tmp_path / "ws"
    res = cli("run", str(RECORDS[0]), "--workspace", str(ws), "--catalogue", str(cat))
    _fatal(res, "template")
    assert not (ws / "archive").exists() or not any((ws / "archive").rglob("*.pdf"))


def test_corrupt_registry_file(done_ws: Path) -> None:
    reg = done_ws / "registry.sqlite"
    for extra in ("-wal", "-shm"):
        Path(f"{reg}{extra}").unlink(missing_ok=True)
    data = bytearray(reg.read_bytes())
    data[100:4096] = b"\xa5" * (4096 - 100)
    reg.write_bytes(bytes(data))
    damaged = reg.read_bytes()
    archive_before = _snapshot(done_ws / "archive")
    res = cli("run", *map(str, RECORDS), "--workspace", str(done_ws))
    _fatal(res, "registry")
    assert reg.read_bytes() == damaged
    assert _snapshot(done_ws / "archive") == archive_before
    ver = cli("archive", "verify", "--workspace", str(done_ws))
    assert ver.returncode == 3 and "Traceback" not in ver.stderr, ver.stderr


# ----------------------------------------------------------------- disk full


def test_disk_full_then_rerun_after_freeing(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (not running as root)")
    mnt = tmp_path / "small"
    mnt.mkdir()
    mount = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=600k", "tmpfs", str(mnt)],
                           capture_output=True, text=True, check=False)
    if mount.returncode != 0:
        pytest.skip(f"mount not permitted here: {mount.stderr.strip()}")
    try:
        ws = mnt / "ws"
        inputs = make_records(tmp_path / "in", 3, "d")
        res = cli("run", *map(str, inputs), "--workspace", str(ws), "--json",
                  "--report", str(tmp_path / "r.csv"))
        assert "Traceback" not in res.stderr
        if res.returncode == 3:  # the disk filled outside LibreOffice: one fatal message
            assert "space" in res.stderr.lower(), res.stderr
        else:  # LibreOffice could not write its PDFs: each record says why
            assert res.returncode == 1, (res.stdout, res.stderr)
            summary = json.loads(res.stdout)
            errors = [i["message"] for i in summary["issues"] if i["severity"] == "error"]
            assert errors and all("disk is full" in m for m in errors), errors
        # what was archived before the disk filled is consistent (or incomplete: resumable)
        if (ws / "registry.sqlite").exists():
            ver = cli("archive", "verify", "--workspace", str(ws), "--json")
            assert "Traceback" not in ver.stderr
            if ver.returncode != 0:
                kinds = {p["kind"] for p in json.loads(ver.stdout)["problems"]}
                assert kinds <= {"incomplete"}, ver.stdout
        # free space (grow the tmpfs), rerun in place: all done exactly once
        subprocess.run(["mount", "-o", "remount,size=200m", str(mnt)], check=True)
        roomy = ws
        rerun = cli("run", *map(str, inputs), "--workspace", str(roomy), "--json")
        assert rerun.returncode == 0, rerun.stderr
        assert_clean(roomy, {f"FF-T-D-{i}" for i in range(3)})
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)
