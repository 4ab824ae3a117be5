"""Property tests: generated records and malformed rows thrown at intake + validation.

Never an exception; every rejected record carries at least one error, and every issue
names its source and row, and either a field or a record-level message."""

from __future__ import annotations

import copy
import csv
import io
import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from paths import PROJECT_ROOT

from pipeline.catalogue.loader import Catalogue
from pipeline.validation.reports import Report
from pipeline.validation.validator import validate_files

EXAMPLES = PROJECT_ROOT / "conventions" / "examples"
CATALOGUE = Catalogue.load(PROJECT_ROOT / "conventions")
BASES = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(EXAMPLES.glob("*.json"))]
_CSV = list(csv.reader(io.StringIO(
    (EXAMPLES / "public-meeting-2026-11.csv").read_text(encoding="utf-8-sig")), delimiter=";"))
HEADER, CSV_ROWS = _CSV[0], _CSV[1:]
JSON_EXAMPLES = 250
CSV_EXAMPLES = 250
_HEALTH = [HealthCheck.too_slow]

text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40)
scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12),
                    st.floats(allow_nan=True, allow_infinity=True), text,
                    st.sampled_from(["", "25/11/2026", "2026-02-30", "1 250,50", "-5", "person",
                                     "minor", "=HYPERLINK(\"x\")", "\u202e", "../../x"]))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(text, inner, max_size=3)), max_leaves=8)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


@st.composite
def mutated_records(draw: st.DrawFn) -> Any:
    """An example record with a few values replaced, removed or added."""
    record = copy.deepcopy(draw(st.sampled_from(BASES)))
    for _ in range(draw(st.integers(1, 4))):
        paths = _paths(record)
        path = draw(st.sampled_from(paths))
        parent = record
        for part in path[:-1]:
            parent = parent[part]
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "replace":
            parent[path[-1]] = draw(values)
        elif action == "delete" and isinstance(parent, dict):
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(text)] = draw(values)
    if draw(st.booleans()):
        return record
    return draw(st.sampled_from([[record], [record, draw(values)], draw(values)]))


def check(report: Report) -> None:
    """The properties every validation report must keep."""
    for outcome in report.outcomes:
        assert outcome.source and isinstance(outcome.row, int) and outcome.row >= 0
        if not outcome.accepted:
            assert any(i.severity == "error" for i in outcome.issues), outcome
        for issue in outcome.issues:
            assert issue.source and isinstance(issue.row, int)
            assert issue.field or issue.message.strip(), issue
            assert issue.message.strip()
    json.loads(report.to_json())


def _validate(name: str, body: bytes) -> Report:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(body)
        return validate_files([path], CATALOGUE)


@settings(max_examples=JSON_EXAMPLES, deadline=None, suppress_health_check=_HEALTH)
@given(mutated_records())
def test_generated_json_records(record: Any) -> None:
    body = json.dumps(record, ensure_ascii=False, allow_nan=True).encode("utf-8")
    report = _validate("records.json", body)
    check(report)
    assert report.outcomes  # a file always yields at least one outcome


@st.composite
def malformed_csv(draw: st.DrawFn) -> bytes:
    """The example CSV with random columns dropped, cells replaced and rows cut."""
    keep = draw(st.lists(st.sampled_from(range(len(HEADER))), min_size=1, unique=True))
    header = [HEADER[i] for i in keep]
    if draw(st.booleans()):
        header.append(draw(st.sampled_from(["holders.9.name", "a..b", "x.-1", "#note",
                                            "holders.0.name.first", "commune.name"])))
    rows = []
    for base in draw(st.lists(st.sampled_from(CSV_ROWS), min_size=1, max_size=3)):
        row = [base[i] if i < len(base) else "" for i in keep]
        if len(header) > len(row):
            row.append(draw(text))
        for _ in range(draw(st.integers(0, 4))):
            row[draw(st.integers(0, len(row) - 1))] = draw(st.one_of(text, scalars.map(str)))
        rows.append(row[: draw(st.integers(0, len(row)))] if draw(st.booleans()) else row)
    buf = io.StringIO()
    csv.writer(buf, delimiter=";").writerows([header, *rows])
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]))
    return buf.getvalue().encode(encoding, errors="replace")


@settings(max_examples=CSV_EXAMPLES, deadline=None, suppress_health_check=_HEALTH)
@given(malformed_csv())
def test_malformed_csv_rows(body: bytes) -> None:
    check(_validate("rows.csv", body))


@settings(max_examples=100, deadline=None, suppress_health_check=_HEALTH)
@given(st.binary(max_size=300), st.sampled_from(["f.json", "f.csv", "f.xlsx"]))
def test_random_bytes(body: bytes, name: str) -> None:
    check(_validate(name, body))
