"""Shared fixtures: the bundled catalogue and examples, a fresh workspace, a fixed clock."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from paths import PROJECT_ROOT

from pipeline.catalogue.loader import Catalogue

pytest_plugins = ["sign_fixtures"]  # session-wide local PKI and signed chain, built once

EXAMPLES = PROJECT_ROOT / "conventions" / "examples"
FIXED_NOW = datetime(2026, 11, 25, 10, 30, tzinfo=UTC)
FIXED_TODAY = date(2026, 11, 25)


@pytest.fixture(scope="session")
def project_root() -> Path:
    return PROJECT_ROOT


@pytest.fixture(scope="session")
def examples_dir() -> Path:
    return EXAMPLES


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    return Catalogue.load(PROJECT_ROOT / "conventions")


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty workspace folder, also set as $FIFTYFIFTY_WORKSPACE."""
    ws = tmp_path / "ws"
    monkeypatch.setenv("FIFTYFIFTY_WORKSPACE", str(ws))
    yield ws


@pytest.fixture(autouse=True)
def _fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Documents are dated by $FIFTYFIFTY_TODAY when set: tests use a fixed day."""
    monkeypatch.setenv("FIFTYFIFTY_TODAY", FIXED_TODAY.isoformat())
    os.environ.setdefault("TZ", "UTC")


@pytest.fixture
def english(monkeypatch: pytest.MonkeyPatch) -> None:
    """Messages in English for this test (the program's default is French); a test can
    still ask for French with ``FIFTYFIFTY_LANG=fr``."""
    monkeypatch.setenv("FIFTYFIFTY_LANG", "en")
