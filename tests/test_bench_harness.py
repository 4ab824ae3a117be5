"""``make bench``'s orchestrator: the parts named run in order, a part not yet written is
skipped saying so, a part that crashes is reported and makes the exit code 1 while the
others still run, and every target lands in the results file with its verdict."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from paths import PROJECT_ROOT

sys.path.insert(0, str(PROJECT_ROOT / "bench"))
import run as bench_run

GOOD = """
from common import Part, Target

def measure(work):
    (work / "seen").write_text("here")
    return Part(figures={"n": 3}, lines=["three done"],
                targets=[Target("quick enough", 1.5, 2.0, "s"),
                         Target("fast enough", 2.0, 4.0, "x", higher_is_better=True)])
"""
BROKEN = """
def measure(work):
    raise ValueError("the measure broke")
"""
NEEDS_MISSING = """
import a_module_nobody_has_installed

def measure(work):
    raise AssertionError("never reached")
"""


@pytest.fixture
def parts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "parts"
    folder.mkdir()
    (folder / "goodpart.py").write_text(GOOD)
    (folder / "brokenpart.py").write_text(BROKEN)
    (folder / "needspart.py").write_text(NEEDS_MISSING)
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.setattr(bench_run, "PARTS",
                        ("goodpart", "notwritten", "brokenpart", "needspart"))
    monkeypatch.setattr(bench_run, "WORK", tmp_path / "work")
    monkeypatch.setattr(bench_run, "RESULTS", tmp_path / "results.json")
    return tmp_path


def test_parts_run_skip_and_crash_without_stopping_the_others(
        parts: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("BENCH_ONLY", raising=False)
    assert bench_run.main() == 1
    out = capsys.readouterr().out
    assert "notwritten: skipped (bench/notwritten.py is not in this branch yet)" in out
    assert "[CRASH] brokenpart" in out and "the measure broke" in out
    assert "[CRASH] needspart" in out and "a_module_nobody_has_installed" in out
    assert "three done" in out
    assert "[pass] quick enough: 1.50 s (goal <= 2.00 s)" in out
    assert "[FAIL] fast enough: 2.00 x (goal >= 4.00 x)" in out
    assert (parts / "work" / "goodpart" / "seen").read_text() == "here"
    results = json.loads((parts / "results.json").read_text("utf-8"))
    assert {"date", "machine", "cores", "soffice", "python", "load_average_at_start",
            "load_average_at_end"} <= set(results)
    statuses = {name: p["status"] for name, p in results["parts"].items()}
    assert statuses == {"goodpart": "measured", "notwritten": "missing",
                        "brokenpart": "crashed", "needspart": "crashed"}
    good = results["parts"]["goodpart"]
    assert good["figures"] == {"n": 3}
    assert [(t["name"], t["met"]) for t in good["targets"]] == [("quick enough", True),
                                                               ("fast enough", False)]


def test_only_the_parts_asked_for_run_and_targets_failing_still_exit_0(
        parts: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BENCH_ONLY", "notwritten, goodpart")
    assert bench_run.main() == 0  # a report: a target not met is no failure of the bench
    results = json.loads((parts / "results.json").read_text("utf-8"))
    assert list(results["parts"]) == ["goodpart", "notwritten"]


def test_an_unknown_part_stops_before_anything_runs(parts: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BENCH_ONLY", "goodpart,nosuchpart")
    with pytest.raises(SystemExit, match="nosuchpart"):
        bench_run.main()
    assert not (parts / "results.json").exists()
