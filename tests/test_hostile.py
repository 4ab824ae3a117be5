"""The hostile corpus of tests/data/hostile/ through the real CLI, formula injection in
every CSV the tool writes, and a template that reaches for Python internals.

Complements tests/test_intake_hostile.py (reader-level checks on generated files)."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from paths import PROJECT_ROOT
from test_faults import cli

from pipeline.core.files import neutralise_cell

HOSTILE = Path(__file__).parent / "data" / "hostile"
CORPUS = sorted(p for p in HOSTILE.iterdir() if p.suffix in (".csv", ".json", ".xlsx"))
FORMULA = re.compile(r"^[=+\-@\t\r]")
NUMBER = re.compile(r"^[-+]?\d[\d \u00a0\u202f]*(?:[.,]\d+)?$")
ENV = {"FIFTYFIFTY_TODAY": "2026-11-25"}


def test_corpus_is_complete() -> None:
    names = {p.name for p in CORPUS}
    assert names >= {"zip-bomb.xlsx", "xml-entities.xlsx", "enormous-row.csv",
                     "deep-nesting.json", "deep-object.json", "control-chars.csv",
                     "rtl-override.json", "path-reference.json", "formula-injection.csv",
                     "formula-header.csv"}


def _cells(path: Path) -> list[list[str]]:
    text = path.read_text(encoding="utf-8-sig")
    return list(csv.reader(io.StringIO(text), delimiter=";"))


def assert_no_live_formula(path: Path, *, skip_header: bool = False) -> int:
    """Every cell of the CSV either is a plain number or does not start a formula."""
    rows = _cells(path)
    assert rows, path
    for r, row in enumerate(rows[1:] if skip_header else rows):
        for value in row:
            assert not (FORMULA.match(value) and not NUMBER.match(value)), (path, r, value)
    return sum(len(row) for row in rows)


@pytest.mark.parametrize("path", CORPUS, ids=[p.name for p in CORPUS])
def test_validate_each_hostile_file(path: Path, tmp_path: Path) -> None:
    report = tmp_path / "rapport.csv"
    res = cli("validate", str(path), "--report", str(report), "--json", env=ENV, timeout=120)
    assert res.returncode in (0, 1), (res.returncode, res.stderr)
    assert "Traceback" not in res.stderr and "unexpected failure" not in res.stderr
    data = json.loads(res.stdout)
    for issue in data["issues"]:
        assert issue["row"] is not None and issue["source"]
        assert issue["field"] or issue["message"], issue
        assert len(json.dumps(issue)) < 5_000  # an enormous value is shortened
    assert_no_live_formula(report)
    rejected = report.with_name("rapport.rejected.csv")
    if rejected.exists():
        assert_no_live_formula(rejected, skip_header=True)  # header: see below
    if path.suffix == ".xlsx" or path.name.startswith("deep"):
        assert res.returncode == 1 and data["issues"]


def test_whole_corpus_in_one_run_then_every_csv_is_neutralised(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    report = tmp_path / "reports" / "run.csv"
    res = cli("run", *map(str, CORPUS), "--workspace", str(ws), "--json",
              "--report", str(report), env=ENV)
    assert res.returncode == 1, res.stderr
    assert "Traceback" not in res.stderr
    summary = json.loads(res.stdout)
    refs = {c["reference"] for c in summary["conventions"]}
    assert "FF-HOSTILE-FORMULE" in refs  # a formula in free text is only text
    # nothing escaped the workspace; every archived path is a plain ID folder
    for c in summary["conventions"]:
        assert re.fullmatch(r"archive/2026/FF_2026_\d{3}/FF_2026_\d{3}\.pdf", c["pdf"]), c
    for found in ws.rglob("*"):
        assert found.resolve().is_relative_to(ws.resolve())
        assert "passwd" not in found.name and "\u202e" not in found.name
    export = tmp_path / "registre.csv"
    exp = cli("registry", "export", "--format", "csv", "-o", str(export),
              "--workspace", str(ws), env=ENV)
    assert exp.returncode == 0, exp.stderr
    written = [report, report.with_name("run.rejected.csv"), export]
    for path in written:
        assert path.exists(), path
        assert assert_no_live_formula(path, skip_header="rejected" in path.name) > 0
    titles = [row for row in _cells(export) if any("HYPERLINK" in v for v in row)]
    assert titles and all(neutralise_cell(v) == v for row in titles for v in row)
    rejected_text = report.with_name("run.rejected.csv").read_text(encoding="utf-8-sig")
    for needle in ("'=HYPERLINK", "'+cmd", "'@SUM", "'-2+3+cmd"):
        assert needle in rejected_text, needle
    verify = cli("archive", "verify", "--workspace", str(ws), env=ENV)
    assert verify.returncode == 0, verify.stdout


def test_rejected_rows_header_is_neutralised(tmp_path: Path) -> None:
    report = tmp_path / "rapport.csv"
    cli("validate", str(HOSTILE / "formula-header.csv"), "--report", str(report), env=ENV)
    assert_no_live_formula(report.with_name("rapport.rejected.csv"))


@pytest.mark.parametrize("value", ["=1+1", "+cmd", "@SUM(A1)", "-A1", "\t=1", "\r=1",
                                   "=HYPERLINK(\"x\")"])
def test_neutralise_cell_defuses(value: str) -> None:
    assert neutralise_cell(value).startswith("'")


@pytest.mark.parametrize("name", ["sandbox-class", "sandbox-globals"])
def test_template_reaching_python_internals_stops_the_run(tmp_path: Path, name: str) -> None:
    cat = tmp_path / "cat" / "conventions"
    shutil.copytree(PROJECT_ROOT / "conventions", cat)
    (cat.parent / "templates").mkdir()
    shutil.copy(Path(__file__).parent / "data" / "templates" / f"{name}.docx",
                cat.parent / "templates" / "fifty-fifty.docx")
    ws = tmp_path / "ws"
    res = cli("run", str(PROJECT_ROOT / "conventions" / "examples" / "rural-paths.json"),
              "--workspace", str(ws), "--catalogue", str(cat), env=ENV)
    assert res.returncode == 3, (res.stdout, res.stderr)
    assert "Traceback" not in res.stderr
    assert "sandbox forbids" in res.stderr, res.stderr
    assert not any((ws / "archive").rglob("*.pdf")) if (ws / "archive").exists() else True


@pytest.mark.parametrize(("change", "field", "words"), [
    (lambda d: d["commune_commitments"].__setitem__(
        "money", [{"label": f"L{i}", "amount": "999999999999", "form": "service"}
                  for i in range(3)]), "", "montants hors limites"),
    (lambda d: d.__setitem__("convention_type", ["fifty-fifty"]), "convention_type",
     "type de convention inconnu"),
    (lambda d: d.__setitem__("convention_type", {"id": 1}), "convention_type",
     "type de convention inconnu"),
])
def test_odd_values_are_rejected_not_crashed(tmp_path: Path, change: Any, field: str,
                                            words: str) -> None:
    record = json.loads((PROJECT_ROOT / "conventions" / "examples" / "skatepark.json")
                        .read_text("utf-8"))
    change(record)
    path = tmp_path / "odd.json"
    path.write_text(json.dumps(record, ensure_ascii=False), "utf-8")
    res = cli("validate", str(path), "--json", env=ENV)
    assert res.returncode == 1, res.stderr
    assert "Traceback" not in res.stderr and "unexpected" not in res.stderr
    [issue] = [i for i in json.loads(res.stdout)["issues"] if i["severity"] == "error"]
    assert (issue["row"], issue["field"]) == (1, field)
    assert words in issue["message"]
