"""How many LibreOffice a run starts: one for a small batch, one per worker for a larger one.

Real LibreOffice; the only thing added is a record of which profiles were started."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from paths import PROJECT_ROOT

from pipeline.catalogue.loader import Catalogue
from pipeline.core.workspace import Workspace
from pipeline.documents.convert import _warm
from pipeline.runner import SPREAD_FROM, RunOptions, run_batch

pytestmark = pytest.mark.libreoffice

EXAMPLES = sorted((PROJECT_ROOT / "conventions" / "examples").glob("*.json"))


def records(path: Path, n: int) -> Path:
    """``n`` distinct valid records from the bundled examples, as one JSON list."""
    out = []
    for i in range(n):
        data = json.loads(EXAMPLES[i % len(EXAMPLES)].read_text("utf-8"))
        data["reference"] = f"FF-W-{n}-{i}"
        out.append(data)
    path.write_text(json.dumps(out, ensure_ascii=False), "utf-8")
    return path


def started_profiles(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the profiles LibreOffice is started on from now on (it still starts)."""
    names: list[str] = []
    real = _warm.WarmStarts.start

    def start(self: _warm.WarmStarts, profile: Path) -> None:
        names.append(profile.name)
        real(self, profile)

    monkeypatch.setattr(_warm.WarmStarts, "start", start)
    return names


@pytest.mark.parametrize(("n", "expected"), [(3, ["worker-0"]),
                                             (12, ["worker-0", "worker-1"])])
def test_a_small_batch_is_converted_by_one_libreoffice(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, n: int, expected: list[str]) -> None:
    assert 3 < SPREAD_FROM <= 12
    started = started_profiles(monkeypatch)
    options = RunOptions(Workspace(tmp_path / "ws"), Catalogue.load(None), workers=2)
    summary = run_batch([records(tmp_path / "records.json", n)], options)
    assert summary.report.accepted == n
    assert [c.status for c in summary.conventions] == ["generated"] * n, summary.conventions
    pdfs = [tmp_path / "ws" / str(c.pdf) for c in summary.conventions]
    assert all(p.read_bytes().startswith(b"%PDF-") for p in pdfs)
    assert started == expected
