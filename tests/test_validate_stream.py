"""Validation of large batches: the outcomes spooled to disk, the reports streamed, sheet
rows made records in one pass, worker processes. Each says and does what the plain,
in-memory, one-process way says and does."""

from __future__ import annotations

import csv
import io
import json
import pickle
import random
from dataclasses import asdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from test_validate_cli import write_rows

import pipeline.validation.pool as pool
from pipeline.catalogue.loader import Catalogue
from pipeline.cli import main
from pipeline.core.files import neutralise_cell
from pipeline.core.issues import Issue
from pipeline.intake import flatten, read_records, unflatten
from pipeline.intake.flat import FlatKeyError
from pipeline.intake.layout import layout
from pipeline.intake.rows import Header, Row
from pipeline.validation.outcome import RecordOutcome
from pipeline.validation.reports import Report, _flat_json, rejected_path, write_report
from pipeline.validation.spool import OutcomeSpool
from pipeline.validation.validator import Validator, iter_items, validate_files
from schemas.base import _no_controls

DATA = Path(__file__).parent / "data"
MINIMAL = DATA / "intake" / "minimal.json"


def flat_row(changes: dict[str, str] | None = None) -> dict[str, str]:
    data = json.loads(MINIMAL.read_text(encoding="utf-8"))
    row = {k: ("oui" if v is True else "non" if v is False else str(v))
           for k, v in flatten(data).items()}
    row.update(changes or {})
    return row


BREAKS = [
    {}, {"holders.0.address.postcode": "6275"}, {"title": "x\x01y"}, {"schedule.end": "31/02/2027"},
    {"holders.0.kind": "martian"}, {"unknown": "1"}, {"holders.1.name": "Sans adresse"},
    {"reference": "=cmd()"}, {"commune_commitments.money.0.amount": "-3"}, {"title": "  "},
    {"holders.0.email": "not@"}, {"title.sub": "clash"},
]


def mixed_csv(path: Path, n: int, breaks: list[dict[str, str]] = BREAKS) -> Path:
    """``n`` rows, valid and broken in turn (each row its own reference)."""
    rows = [flat_row({"reference": f"FF-{i:04d}", **breaks[i % len(breaks)]}) for i in range(n)]
    return write_rows(path, rows)


CLEAN = BREAKS[:-1]
"""The breaks but the clash of columns: the sheet's columns have a layout."""


def outcomes_of(report: Report) -> list[RecordOutcome]:
    return list(report.outcomes)


def sample_outcomes() -> list[RecordOutcome]:
    w = Issue("f.csv", 2, "holders.0", "aide de 30 000 €", "", "warning")
    e = Issue("f.csv", 3, "title", "Intitulé : texte trop court", "=x")
    return [
        RecordOutcome("f.csv", 2, "FF-1", True, [w]),
        RecordOutcome("f.csv", 3, None, False, [e], {"title": "=x", "holders.0.name": "A"}),
        RecordOutcome("f.csv", 4, "FF-3", True),
        RecordOutcome("g.json", 1, None, False, [e, w], {"holders": [{"name": "B"}], "n": 1}),
        RecordOutcome("g.json", 2, None, False, [Issue("g.json", 2, "", "the JSON is broken")]),
    ]


# ------------------------------------------------------------------ the spool


def test_spool_reads_back_like_a_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(OutcomeSpool, "BLOCK", 2)
    outcomes = sample_outcomes() * 3
    spool = OutcomeSpool()
    for o in outcomes:
        spool.append(o)
    assert len(spool) == len(outcomes)
    assert list(spool) == outcomes
    assert [spool[i] for i in range(len(outcomes))] == outcomes
    assert spool[-1] == outcomes[-1] and spool[3:11:2] == outcomes[3:11:2]
    with pytest.raises(IndexError):
        spool[len(outcomes)]
    assert spool.accepted == sum(o.accepted for o in outcomes)
    assert spool.errors == sum(i.severity == "error" for o in outcomes for i in o.issues)
    assert spool.warnings == sum(i.severity == "warning" for o in outcomes for i in o.issues)
    spool.sort(key=lambda o: (o.source, o.row))
    assert list(spool) == sorted(outcomes, key=lambda o: (o.source, o.row))
    spool.close()


def test_spooled_report_counts_like_a_list_report(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(OutcomeSpool, "BLOCK", 2)  # its file is closed as it goes
    in_memory = Report(sample_outcomes())
    spooled = Report(OutcomeSpool())
    for o in sample_outcomes():
        spooled.add(o)
    for report in (in_memory, spooled):
        assert (report.accepted, report.rejected, report.valid) == (2, 3, False)
    assert spooled.to_dict() == in_memory.to_dict()
    assert spooled.issues == in_memory.issues


# ------------------------------------------------------------------ the reports, streamed


def old_csv_report(report: Report) -> str:
    """The CSV report as it was written, in memory."""
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    w.writerow(["source", "row", "reference", "status", "severity", "code", "field",
                "message", "value"])
    for o in sorted(report.outcomes, key=lambda o: o.accepted):
        status = "rejected" if not o.accepted else "warned" if o.issues else "accepted"
        if not o.issues:  # every record is listed, with its status
            w.writerow([o.source, str(o.row), neutralise_cell(o.reference or ""), status,
                        "", "", "", "", ""])
        for i in o.issues:
            w.writerow([neutralise_cell(c) for c in [
                i.source, str(i.row), o.reference or "", status, i.severity, i.code, i.field,
                i.message, i.value]])
    return "\ufeff" + buf.getvalue()


def old_rejected_rows(report: Report) -> str:
    """The rejected rows as they were written, in memory."""
    rows = [(o, o.raw if all(isinstance(v, str | int | float | None) for v in o.raw.values())
             else flatten(o.raw)) for o in report.outcomes if not o.accepted and o.raw]
    columns: dict[str, None] = {}
    for _, flat in rows:
        columns.update(dict.fromkeys(flat))
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    w.writerow(["#errors", "#source", "#row", *map(neutralise_cell, columns)])
    for o, flat in rows:
        errors = " | ".join(f"{i.field or '(record)'}: {i.message}" for i in o.issues
                            if i.severity == "error")
        w.writerow([neutralise_cell(c) for c in
                    [errors, o.source, o.row, *(flat.get(c, "") for c in columns)]])
    return "\ufeff" + buf.getvalue()


@pytest.mark.parametrize("spooled", [False, True])
def test_reports_are_written_as_before(tmp_path: Path, spooled: bool) -> None:
    report = Report(OutcomeSpool()) if spooled else Report()
    for o in sample_outcomes():
        report.add(o)
    write_report(report, tmp_path / "r.csv")
    assert (tmp_path / "r.csv").read_bytes().decode("utf-8") == old_csv_report(report)
    assert (rejected_path(tmp_path / "r.csv").read_bytes().decode("utf-8")
            == old_rejected_rows(report))
    write_report(report, tmp_path / "r.json")
    payload = report.to_dict()
    payload["rejected_records"] = [
        {"source": o.source, "row": o.row, "reference": o.reference, "values": o.raw}
        for o in report.outcomes if not o.accepted]
    assert (tmp_path / "r.json").read_bytes().decode("utf-8") == json.dumps(
        payload, ensure_ascii=False, indent=2)


def test_json_chunks_are_json_dumps_of_the_report() -> None:
    for outcomes in (sample_outcomes(), [], [RecordOutcome("f.csv", 2, "FF-1", True)]):
        report = Report(outcomes)
        assert "".join(report.json_chunks()) == report.to_json()


@pytest.mark.parametrize("value", [
    {"source": "a\"b\\c\n\x00\x1f\u2028\ud800😀é", "row": -12, "field": "", "severity": "x"},
    {}, {"n": 10**30}, {"b": True}, {"f": 1.5}, {"none": None}, {"nested": {"a": 1}}, {1: "x"},
    [1, 2], "text",
])
def test_issue_json_written_directly_is_json(value: Any) -> None:
    for pad in ("", "    "):
        direct = _flat_json(value, pad)
        if direct is not None:
            assert direct == json.dumps(value, ensure_ascii=False, indent=2).replace(
                "\n", "\n" + pad)


def test_issue_dict_and_pickle() -> None:
    issue = Issue("f.csv", 2, "title", "trop court", "x", "warning")
    assert issue.to_dict() == asdict(issue)
    assert list(issue.to_dict()) == list(asdict(issue))
    assert pickle.loads(pickle.dumps(issue)) == issue


# ------------------------------------------------------------------ rows made records


def test_unflatten_after_a_position_is_given_twice() -> None:
    assert unflatten({"a.0.b": "x", "a.0": "y"}) == {"a": ["y"]}
    with pytest.raises(FlatKeyError, match="follows an index of a list of plain values"):
        unflatten({"a.0.b": "x", "a.0": "y", "a.0.c": "z"})
    with pytest.raises(FlatKeyError, match="used both as a value and as a group"):
        unflatten({"a.b.c": "x", "a.b": "y"})
    with pytest.raises(FlatKeyError, match="used both as a value and as a group"):
        unflatten({"a.b": "x", "a.0": "y"})
    with pytest.raises(FlatKeyError, match="an index follows a field that is not a list"):
        unflatten({"a.0.x": "1", "a.0.1": "2"})
    assert unflatten({"a.2.b": "x", "a.0": "y"}) == {"a": ["y", {}, {"b": "x"}]}


@pytest.mark.parametrize("names", [
    ["title", "title.x"], ["a.0", "a.b"], ["a.0.x", "a.00.x"], ["title", "title"],
    ["Bad name"], ["a.0.b", "a.0"],
])
def test_columns_that_could_clash_have_no_layout(names: list[str]) -> None:
    assert layout(names) is None


def test_layout_builds_what_unflatten_builds() -> None:
    names = ["title", "holders.0.name", "holders.0.address.city", "holders.2.name",
             "holders.1.members.1.name", "legal_basis.0", "legal_basis.3",
             "project.location.address", "schedule.milestones.1.date"]
    lay = layout(names)
    assert lay is not None
    rng = random.Random(3)
    for _ in range(2000):
        cells = [rng.choice(["", " ", "v", " w ", "\u00a0x"]) for _ in names]
        flat = {n: c for n, c in zip(names, cells, strict=True) if c and not c.isspace()}
        assert lay.build(cells) == (flat, unflatten(flat))
        assert json.dumps(lay.build(cells)[1]) == json.dumps(unflatten(flat))  # key order


@pytest.mark.parametrize("cells", [["a", "", "b"], ["a\x00b", "c"], [None, 3, "x"], [], [""]])
def test_row_pickles_back_whole(cells: list[Any]) -> None:
    row = Row("f.csv", 3, Header.of(["title", "holders.0.name", "x"]), cells)
    back = pickle.loads(pickle.dumps(row))
    assert back == row and [type(c) for c in back.cells] == [type(c) for c in cells]


def test_sheet_rows_read_as_before(tmp_path: Path) -> None:
    for breaks in (BREAKS, CLEAN):
        path = mixed_csv(tmp_path / "m.csv", 2 * len(breaks), breaks)
        got = list(read_records(path))
        for raw in got:
            assert raw.data == (unflatten(raw.flat) if raw.data is not None else None)
        assert [r.row for r in got] == list(range(2, 2 + 2 * len(breaks)))


# ------------------------------------------------------------------ the checks


def test_control_characters_refused_as_before() -> None:
    def before(text: str) -> bool:
        return any((ord(c) < 32 and c not in "\n\t") or c in "\u202e\u202d\u2066\u2067\u2068"
                   for c in text)

    for code in [*range(0x3000), *range(0xFFF0, 0x10000), 0x1F600, 0xE0001]:
        text = f"ab{chr(code)}c"
        try:
            _no_controls(text)
            refused = False
        except ValueError:
            refused = True
        assert refused == before(text), hex(code)


def test_shared_defaults_give_the_same_conventions(tmp_path: Path, examples_dir: Path,
                                                   catalogue: Catalogue) -> None:
    plain = Validator(catalogue)
    shared = Validator(catalogue, shared_defaults=True)
    paths = [*sorted(examples_dir.iterdir()), mixed_csv(tmp_path / "m.csv", len(BREAKS))]
    for path in paths:
        for raw in read_records(path):
            a, b = plain.validate(raw), shared.validate(raw)
            assert (a.issues, a.fingerprint, a.reference) == (b.issues, b.fingerprint, b.reference)
            if a.convention is not None:
                assert b.convention is not None
                assert a.convention.model_dump() == b.convention.model_dump()
                assert a.convention.amounts.project_total >= Decimal(0)


# ------------------------------------------------------------------ worker processes


def test_workers_give_the_same_outcomes_in_order(tmp_path: Path, catalogue: Catalogue) -> None:
    paths = [mixed_csv(tmp_path / "m.csv", 60), DATA / "hostile" / "deep-nesting.json",
             mixed_csv(tmp_path / "n.csv", 15, CLEAN)]
    assert Header.of(paths[2].read_text("utf-8").splitlines()[0].split(";")).layout
    validator = Validator(catalogue, fingerprints=False, shared_defaults=True)
    alone = list(pool.outcomes(iter_items(paths), validator, 1))
    assert len(alone) == 76 and not all(o.accepted for o in alone)
    assert list(pool.outcomes(iter_items(paths), validator, 2, batch=7, pool_from=0)) == alone


def test_a_batch_the_workers_fail_is_redone_here(tmp_path: Path, catalogue: Catalogue,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(records: list[Any]) -> list[RecordOutcome]:
        raise RuntimeError("worker lost")

    path = mixed_csv(tmp_path / "m.csv", 30)
    validator = Validator(catalogue, fingerprints=False)
    alone = list(pool.outcomes(iter_items([path]), validator, 1))
    monkeypatch.setattr(pool, "_validate_batch", broken)  # the forked workers inherit it
    assert list(pool.outcomes(iter_items([path]), validator, 2, batch=4,
                                pool_from=0)) == alone


def test_validate_files_spools_and_keeps_order(tmp_path: Path, catalogue: Catalogue) -> None:
    path = mixed_csv(tmp_path / "m.csv", 2 * pool.BATCH + 5, CLEAN)
    report = validate_files([path], catalogue)
    assert isinstance(report.outcomes, OutcomeSpool)
    alone = validate_files([path], catalogue, workers=1)
    assert outcomes_of(report) == outcomes_of(alone)
    assert [o.row for o in report.outcomes] == list(range(2, 2 * pool.BATCH + 7))


@pytest.mark.usefixtures("english")
def test_cli_output_is_what_it_was(tmp_path: Path, catalogue: Catalogue) -> None:
    path = mixed_csv(tmp_path / "m.csv", 30)
    report = Report(outcomes_of(validate_files([path], catalogue, workers=1)))
    out = CliRunner().invoke(main, ["--lang", "en", "validate", str(path), "--json"])
    assert out.exit_code == 1
    assert out.output == json.dumps(report.to_dict(), ensure_ascii=False, indent=2,
                                    default=str) + "\n"
    lines = []
    for o in report.outcomes:
        lines.append(f"{'ok ' if o.accepted else 'REJECTED':8} {o.source} row {o.row}  "
                     f"{o.reference or ''}")
        for i in o.issues:
            val = f"  [value: {i.value}]" if i.value else ""
            lines.append(f"    {i.severity}: {i.field or '(record)'}: {i.message}{val}  "
                         f"({i.code})")
    lines.append(f"{report.accepted} accepted, {report.rejected} rejected, "
                 f"{len(report.outcomes)} records.")
    out = CliRunner().invoke(main, ["--lang", "en", "validate", str(path)])
    assert out.output == "\n".join(lines) + "\n"
