"""Two, then four ``fiftyfifty run`` processes on one workspace at the same time, with
overlapping inputs: unique numbers, nothing lost, no "database is locked"."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from test_faults import BIN, assert_clean, make_records, registered

pytestmark = pytest.mark.libreoffice


def _together(ws: Path, batches: list[list[Path]]) -> list[tuple[int, str, str]]:
    """Start every batch at once on ``ws``; (exit code, stdout, stderr) of each."""
    procs = [subprocess.Popen([str(BIN), "run", *map(str, b), "--workspace", str(ws), "--json",
                               "--workers", "1"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for b in batches]
    out = []
    for p in procs:
        stdout, stderr = p.communicate(timeout=600)
        out.append((p.returncode, stdout, stderr))
    return out


@pytest.mark.parametrize("n", [2, 4])
def test_concurrent_runs_share_one_workspace(tmp_path: Path, n: int) -> None:
    ws = tmp_path / "ws"
    records = make_records(tmp_path / "in", n + 1, f"c{n}")
    # batch i holds records i and i+1: each record sits in one or two batches
    batches = [records[i:i + 2] for i in range(n)]
    results = _together(ws, batches)
    for code, stdout, stderr in results:
        assert "locked" not in stderr.lower() and "Traceback" not in stderr, stderr
        assert code == 0, (code, stderr)
        summary = json.loads(stdout)
        assert summary["accepted"] == 2 and summary["rejected"] == 0
    # every batch reports an ID per record, and the two reports of a shared record agree
    seen: dict[str, set[str]] = {}
    for _code, stdout, _stderr in results:
        for c in json.loads(stdout)["conventions"]:
            seen.setdefault(c["reference"], set()).add(c["id"])
    assert all(len(ids) == 1 for ids in seen.values()), seen
    assert len(seen) == n + 1
    rows = registered(ws)
    assert len(rows) == n + 1
    assert sorted(r[0] for r in rows) == [f"FF_2026_{i:03d}" for i in range(1, n + 2)]
    assert_clean(ws, {f"FF-T-C{n}-{i}" for i in range(n + 1)})
