"""The registry as the back-office reads it: search, filters, sorting, pages, dashboard."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from registry_driver import new_convention

from pipeline.records.registry import Registry
from pipeline.records.registry.browse import Query, dashboard, search, years


@pytest.fixture
def reg(tmp_path: Path) -> Registry:
    registry = Registry.open(tmp_path / "registry.sqlite")
    for i in range(23):
        conv = new_convention({"reference": f"R-{i:02d}", "content": f"c{i}"})
        conv = dataclasses.replace(
            conv, title=f"Projet {chr(65 + i)}{'_%' if i == 5 else ''}",
            holders=[{"name": "Hélène Dœuf" if i == 7 else f"Porteur {i}"}],
            commune_amount=Decimal(100 * (23 - i)),
            commitment_end=date(2027, 1, 10) if i < 3 else date(2030, 1, 1))
        claim = registry.claim(conv, actor="t")
        if i % 2:
            registry.set_status(claim.convention_id, "generated", actor="t")
    return registry


def test_pages_and_sorting(reg: Registry) -> None:
    first = search(reg, Query(per_page=10, sort="number", descending=False))
    assert (first.total, first.pages, first.page) == (23, 3, 1)
    assert [r.id for r in first.rows][:2] == ["FF_2026_001", "FF_2026_002"]
    last = search(reg, Query(per_page=10, page=99, sort="number", descending=False))
    assert last.page == 3 and len(last.rows) == 3
    by_title = search(reg, Query(sort="title", descending=True, per_page=1)).rows
    assert by_title[0].title == "Projet W"
    by_amount = search(reg, Query(sort="amount", descending=True, per_page=1)).rows
    assert by_amount[0].commune_amount == Decimal(2300)
    assert search(reg, Query(sort="'; DROP TABLE conventions; --")).total == 23


def test_search_and_filters(reg: Registry) -> None:
    assert [r.reference for r in search(reg, Query(text="r-07")).rows] == ["R-07"]
    for typed in ("HÉLÈNE", "helene", "doeuf", "Dœuf"):  # as clerks type, accents or not
        assert [r.reference for r in search(reg, Query(text=typed)).rows] == ["R-07"], typed
    assert [r.reference for r in search(reg, Query(text="_%")).rows] == ["R-05"]
    assert search(reg, Query(text="%")).total == 1  # a literal percent sign, not "all"
    assert search(reg, Query(status="generated")).total == 11
    assert search(reg, Query(status="nonsense")).total == 23
    assert search(reg, Query(year=2025)).total == 0 and years(reg) == [2026]
    due = search(reg, Query(upkeep="due", today=date(2026, 12, 1)))
    assert sorted(r.reference for r in due.rows) == ["R-00", "R-01", "R-02"]
    assert search(reg, Query(upkeep="overdue", today=date(2027, 2, 1))).total == 3


def test_dashboard(reg: Registry) -> None:
    board = dashboard(reg, today=date(2026, 12, 1))
    assert board.by_status["pending"] == 12 and board.by_status["generated"] == 11
    assert len(board.waiting) == 11
    assert board.waiting[0].missing == ["Porteur", "Maire"]
    assert [c.reference for c in board.upkeep_due] == ["R-00", "R-01", "R-02"]
