"""Intake readers (JSON, CSV, XLSX) and the flat layout: what offices really produce."""

from __future__ import annotations

import codecs
import csv
import json
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from pipeline.catalogue.loader import Catalogue
from pipeline.intake import RawRecord, flatten, read_records, unflatten
from pipeline.intake.flat import FlatKeyError
from pipeline.validation.validator import Validator, validate_files

MINIMAL = Path(__file__).parent / "data" / "intake" / "minimal.json"


def minimal() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(MINIMAL.read_text(encoding="utf-8"))
    return data


def flat_row(changes: dict[str, str] | None = None) -> dict[str, str]:
    row = {k: str(v).lower() if isinstance(v, bool) else str(v)
           for k, v in flatten(minimal()).items()}
    row.update(changes or {})
    return row


def write_csv(path: Path, rows: list[dict[str, str]], *, delimiter: str = ";",
              encoding: str = "utf-8", before: list[list[str]] | None = None) -> Path:
    keys = list(rows[0])
    with path.open("w", encoding=encoding, newline="") as f:
        w = csv.writer(f, delimiter=delimiter)
        for line in before or []:
            w.writerow(line)
        w.writerow(keys)
        for row in rows:
            w.writerow([row.get(k, "") for k in keys])
    return path


def records(path: Path) -> list[RawRecord]:
    return list(read_records(path))


# ------------------------------------------------------------------ flat layout


def test_unflatten_builds_nested_lists() -> None:
    nested = unflatten({"title": " Jardin ", "holders.0.name": "A", "holders.1.name": "B",
                        "holders.0.address.city": "Loos", "annexes.0.title": "",
                        "legal_basis.0": "CGCT"})
    assert nested == {"title": "Jardin", "holders": [{"name": "A", "address": {"city": "Loos"}},
                                                     {"name": "B"}], "legal_basis": ["CGCT"]}


def test_unflatten_keeps_gaps_so_paths_stay_true() -> None:
    assert unflatten({"holders.1.name": "B"}) == {"holders": [{}, {"name": "B"}]}


@pytest.mark.parametrize("row", [
    {"Holders.0.name": "x"}, {"holders..name": "x"}, {"0.name": "x"},
    {"holders.0": "x", "holders.0.name": "y"}, {"title; DROP": "x"},
])
def test_unflatten_refuses_bad_columns(row: dict[str, str]) -> None:
    with pytest.raises(FlatKeyError):
        unflatten(row)


def test_flatten_is_the_inverse() -> None:
    assert unflatten(flatten(minimal())) == minimal()


# ------------------------------------------------------------------ JSON


def test_json_single_object(tmp_path: Path) -> None:
    path = tmp_path / "one.json"
    path.write_text(json.dumps(minimal()), encoding="utf-8")
    (rec,) = records(path)
    assert (rec.source, rec.row, rec.issues) == ("one.json", 1, [])
    assert rec.data == minimal()


def test_json_list_and_json_lines(tmp_path: Path) -> None:
    items = [minimal(), {**minimal(), "title": "Deuxième projet"}, minimal()]
    listed = tmp_path / "list.json"
    listed.write_text(json.dumps(items, indent=2), encoding="utf-8")
    lines = tmp_path / "lines.jsonl"
    lines.write_text("\n".join(json.dumps(i) for i in items) + "\n", encoding="utf-8")
    for path in (listed, lines):
        got = records(path)
        assert [r.row for r in got] == [1, 2, 3]
        assert [r.data["title"] for r in got if r.data] == [i["title"] for i in items]


def test_json_with_bom(tmp_path: Path) -> None:
    path = tmp_path / "bom.json"
    path.write_bytes(codecs.BOM_UTF8 + json.dumps(minimal()).encode("utf-8"))
    (rec,) = records(path)
    assert rec.data == minimal()


@pytest.mark.parametrize("pad", [0, 1, 2, 3])
def test_json_list_across_chunk_boundaries(tmp_path: Path, pad: int) -> None:
    """A separator or the closing bracket falling exactly on the reader's 64 KiB chunk edge."""
    empty = len(json.dumps({"title": ""})) + 1
    first = json.dumps({"title": "x" * (65536 - empty - pad)})
    for tail in (", " + json.dumps({"title": "b"}) + "]", "]"):
        path = tmp_path / "edge.json"
        path.write_text("[" + first + " " * pad + tail, encoding="utf-8")
        got = records(path)
        assert all(r.issues == [] for r in got), [i.message for r in got for i in r.issues]
        assert len(got) == (2 if tail != "]" else 1)


def test_json_many_records_are_streamed(tmp_path: Path) -> None:
    path = tmp_path / "many.json"
    path.write_text(json.dumps([{"title": f"Projet {n}", "notes": "z" * 500}
                                for n in range(3000)]), encoding="utf-8")
    got = read_records(path)
    assert next(got).row == 1
    assert sum(1 for _ in got) == 2999


# ------------------------------------------------------------------ CSV


@pytest.mark.parametrize("delimiter", [";", ","])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
def test_csv_delimiters_and_encodings(tmp_path: Path, delimiter: str, encoding: str,
                                      catalogue: Catalogue) -> None:
    row = flat_row({"title": "Été à Loos : « jardin », œuvre", "holders.0.name": "Hélène Dœuf"})
    path = write_csv(tmp_path / "f.csv", [row], delimiter=delimiter, encoding=encoding)
    (rec,) = records(path)
    assert rec.issues == []
    assert rec.row == 2
    assert rec.data is not None
    assert rec.data["title"] == "Été à Loos : « jardin », œuvre"
    assert rec.data["holders"][0]["name"] == "Hélène Dœuf"
    validated = Validator(catalogue).validate(rec)
    assert validated.accepted, validated.issues
    assert validated.convention is not None
    assert validated.convention.amounts.commune_money == 2000


def test_csv_french_amounts_and_dates(tmp_path: Path, catalogue: Catalogue) -> None:
    row = flat_row({"commune_commitments.money.0.amount": "1 999,50 €",
                    "schedule.start": "01/03/2027", "schedule.end": "31/05/2027"})
    (rec,) = records(write_csv(tmp_path / "f.csv", [row]))
    conv = Validator(catalogue).validate(rec).convention
    assert conv is not None
    assert str(conv.amounts.commune_money) == "1999.50"
    assert conv.schedule.end.isoformat() == "2027-05-31"


def test_csv_labels_rows_before_the_header_keep_spreadsheet_rows(tmp_path: Path) -> None:
    labels = [["Intitulé *", "Porteur – Nom"], ["(rempli en réunion publique)"]]
    rows = [flat_row(), flat_row({"title": "Deuxième"})]
    path = write_csv(tmp_path / "f.csv", rows, before=labels)
    with path.open("a", encoding="utf-8", newline="") as f:
        f.write(";;;\r\n")                     # an empty line, skipped but counted
        csv.writer(f, delimiter=";").writerow(list(flat_row({"title": "Cinquième"}).values()))
    got = records(path)
    # Lines 1-2 are labels, line 3 the header, data on lines 4, 5, then 7.
    assert [r.row for r in got] == [4, 5, 7]
    assert [r.data["title"] for r in got if r.data] == [
        "Jardin partagé du square des Tilleuls", "Deuxième", "Cinquième"]


@pytest.mark.usefixtures("english")
def test_csv_without_a_header_row(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text("a;b\n" * 10, encoding="utf-8")
    (rec,) = records(path)
    assert rec.data is None
    assert "header" in rec.issues[0].message


def test_csv_missing_column_names_the_field(tmp_path: Path, catalogue: Catalogue) -> None:
    row = flat_row()
    del row["holders.0.address.postcode"]
    del row["upkeep.years"]
    report = validate_files([write_csv(tmp_path / "f.csv", [row])], catalogue)
    assert report.rejected == 1
    fields = {i.field: i for i in report.issues}
    assert set(fields) == {"holders.0.address.postcode", "upkeep.years"}
    assert "obligatoire" in fields["upkeep.years"].message
    assert all(i.row == 2 and i.source == "f.csv" for i in report.issues)


def test_csv_unknown_column_is_reported(tmp_path: Path, catalogue: Catalogue) -> None:
    report = validate_files([write_csv(tmp_path / "f.csv", [flat_row({"holders.0.age": "40"})])],
                            catalogue)
    assert [(i.field, i.row) for i in report.issues] == [("holders.0.age", 2)]
    assert "champ inconnu" in report.issues[0].message


def test_template_text_stays_plain_text(tmp_path: Path, catalogue: Catalogue) -> None:
    hostile = "{{ commune.name }}{% raw %}<w:t>x</w:t><w:p/>"
    row = flat_row({"title": hostile, "project.description": "{%p if 1 %}<w:br/>&amp;"})
    (rec,) = records(write_csv(tmp_path / "f.csv", [row]))
    conv = Validator(catalogue).validate(rec).convention
    assert conv is not None
    assert conv.title == hostile
    assert conv.project.description == "{%p if 1 %}<w:br/>&amp;"


def test_streaming_a_large_csv_reads_lazily(tmp_path: Path) -> None:
    """The first record comes out before the 20,000-row file is read into memory."""
    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, delimiter=";")
        w.writerow(["title", "holders.0.name", "notes"])
        w.writerows([f"Projet {n}", "Collectif", "é" * 200] for n in range(20_000))
    size = path.stat().st_size
    assert size > 8_000_000
    tracemalloc.start()
    try:
        it = read_records(path)
        first = next(it)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert first.row == 2 and first.data is not None and first.data["title"] == "Projet 0"
    assert peak < size / 20, f"peak {peak} bytes for a {size}-byte file"
    rows = [first.row, *(r.row for r in it)]
    assert len(rows) == 20_000 and rows[-1] == 20_001


# ------------------------------------------------------------------ XLSX


def test_xlsx_written_by_openpyxl(tmp_path: Path, catalogue: Catalogue) -> None:
    from openpyxl import Workbook

    row = flat_row()
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Projets"
    ws.append(list(row))
    values: list[Any] = list(row.values())
    keys = list(row)
    values[keys.index("holder_commitments.in_kind.0.hours")] = 250      # a number cell
    ws.append(values)
    ws.append([])
    ws.append(list(flat_row({"holders.0.email": "pas-une-adresse"}).values()))
    path = tmp_path / "f.xlsx"
    wb.save(path)
    got = records(path)
    assert [r.row for r in got] == [2, 4]
    v = Validator(catalogue)
    outcomes = [v.validate(r) for r in got]
    assert [o.accepted for o in outcomes] == [True, False]
    assert [(i.row, i.field, i.value) for i in outcomes[1].issues] == [
        (4, "holders.0.email", "pas-une-adresse")]
