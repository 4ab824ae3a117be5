"""Hostile and broken inputs: reported as issues, never a traceback, the batch goes on."""

from __future__ import annotations

import codecs
import io
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from pipeline.catalogue.loader import Catalogue
from pipeline.core.issues import Issue
from pipeline.intake import flatten, read_records
from pipeline.validation.reports import Report
from pipeline.validation.validator import validate_files

MINIMAL = Path(__file__).parent / "data" / "intake" / "minimal.json"
HEADER = "title;holders.0.name\n"

pytestmark = pytest.mark.usefixtures("english")  # the messages asserted in English


def minimal() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(MINIMAL.read_text(encoding="utf-8"))
    return data


def valid_csv_lines() -> tuple[str, str]:
    row = {k: str(v) for k, v in flatten(minimal()).items()}
    return ";".join(row), ";".join(v.replace(";", ",") for v in row.values())


def check_issues(report: Report) -> list[Issue]:
    """Every issue names its source, a row number and a field (possibly the whole record)."""
    for i in report.issues:
        assert i.source and isinstance(i.row, int) and i.row >= 0 and isinstance(i.field, str)
        assert i.message and "Traceback" not in i.message
    return report.issues


def only_issue(path: Path, catalogue: Catalogue) -> Issue:
    report = validate_files([path], catalogue)
    assert report.rejected == 1 and report.accepted == 0
    (issue,) = check_issues(report)
    assert issue.source == path.name
    return issue


@pytest.mark.parametrize("name, content, words", [
    ("empty.json", b"", "empty"),
    ("blank.json", b"  \n\t\n", "empty"),
    ("empty.csv", b"", "empty"),
    ("blank.csv", b"\r\n\r\n", "empty"),
    ("truncated.json", b'{"title": "Jardin", "holders": [{"kind": "pers', "is the file complete"),
    ("truncated-list.json", b'[{"title": "a"', "is the file complete"),
    ("deep.json", b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    ("deep-object.json", b'{"a":' * 50_000 + b"1" + b"}" * 50_000, "nested too deeply"),
    ("utf16.json", codecs.BOM_UTF16_LE + '{"title": "Été"}'.encode("utf-16-le"), "not UTF-8"),
    ("latin1.json", '{"title": "Été"}'.encode("latin-1"), "not UTF-8"),
    ("number.json", b"42", "expected an object"),
    ("binary.json", bytes(range(256)) * 20, "not UTF-8"),
    ("binary.csv", bytes(range(256)) * 20, "encoding is not readable"),
    ("zeros.csv", b"\x00" * 5000, "NUL"),
    ("notes.txt", b"hello", "unsupported file type"),
])
def test_unreadable_files_become_one_issue(tmp_path: Path, catalogue: Catalogue, name: str,
                                           content: bytes, words: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    issue = only_issue(path, catalogue)
    assert words in issue.message
    assert issue.severity == "error"


def test_random_bytes_csv(tmp_path: Path, catalogue: Catalogue) -> None:
    path = tmp_path / "random.csv"
    path.write_bytes(os.urandom(4096).replace(b"\x00", b"\x81") + b"\x81\x8d")
    report = validate_files([path], catalogue)
    assert not report.valid
    check_issues(report)


def test_utf16_csv_is_read(tmp_path: Path) -> None:
    path = tmp_path / "utf16.csv"
    path.write_text(HEADER + "Été à Loos;Hélène\n", encoding="utf-16")
    (rec,) = read_records(path)
    assert rec.data == {"title": "Été à Loos", "holders": [{"name": "Hélène"}]}


def test_truncated_list_keeps_the_complete_records(tmp_path: Path, catalogue: Catalogue) -> None:
    text = json.dumps([minimal(), minimal()])
    path = tmp_path / "cut.json"
    path.write_text(text[: len(text) - 40], encoding="utf-8")
    report = validate_files([path], catalogue)
    assert [(o.row, o.accepted) for o in report.outcomes] == [(1, True), (2, False)]
    assert "is the file complete" in check_issues(report)[0].message


def test_ten_megabyte_cell_is_refused_on_its_row(tmp_path: Path, catalogue: Catalogue) -> None:
    header, good = valid_csv_lines()
    big = good.replace("Jardin partagé", "x" * (10 * 1024 * 1024), 1).replace(
        "TEST-MINIMAL", "TEST-BIG")
    path = tmp_path / "big.csv"
    last = good.replace("TEST-MINIMAL", "TEST-LAST")  # one reference, one record
    path.write_text("\n".join([header, good, big, last]) + "\n", encoding="utf-8")
    report = validate_files([path], catalogue)
    assert [(o.row, o.accepted) for o in report.outcomes] == [(2, True), (3, False), (4, True)]
    (issue,) = check_issues(report)
    assert (issue.row, issue.field) == (3, "title")
    assert issue.message.startswith("the cell holds 10,485,")
    assert "at most 100,000" in issue.message
    assert len(issue.value) <= 200


def test_nul_byte_in_a_cell(tmp_path: Path, catalogue: Catalogue) -> None:
    header, good = valid_csv_lines()
    rows = [good.replace("TEST-MINIMAL", f"TEST-{n}") for n in range(300)]
    rows.append(good.replace("Jardin", "Jar\x00din", 1))
    path = tmp_path / "nul.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    report = validate_files([path], catalogue)
    assert report.accepted == 300
    (issue,) = check_issues(report)
    assert (issue.row, issue.field) == (302, "title")
    assert "NUL" in issue.message and "\x00" not in issue.value


def test_nul_byte_in_json_text(tmp_path: Path, catalogue: Catalogue) -> None:
    path = tmp_path / "nul.json"
    path.write_text(json.dumps({**minimal(), "title": "Jar\u0000din"}), encoding="utf-8")
    issue = only_issue(path, catalogue)
    assert issue.field == "title" and "control characters" in issue.message


def test_impossible_date_and_negative_amount(tmp_path: Path, catalogue: Catalogue) -> None:
    data = minimal()
    data["project"]["request_date"] = "31/02/2026"
    data["commune_commitments"]["money"][0]["amount"] = "-300"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    report = validate_files([path], catalogue)
    got = {i.field: i for i in check_issues(report)}
    assert set(got) == {"project.request_date", "commune_commitments.money.0.amount"}
    assert "is not a date that exists" in got["project.request_date"].message
    assert got["project.request_date"].value == "31/02/2026"
    assert "cannot be negative" in got["commune_commitments.money.0.amount"].message


def test_wrong_shapes_in_json(tmp_path: Path, catalogue: Catalogue) -> None:
    data = minimal()
    data["holders"] = {"kind": "person"}
    data["title"] = ["a", "list"]
    data["upkeep"]["years"] = "trois"
    path = tmp_path / "shapes.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    fields = {i.field for i in check_issues(validate_files([path], catalogue))}
    assert fields == {"holders", "title", "upkeep.years"}


def test_unknown_convention_type_is_a_record_issue(tmp_path: Path,
                                                    catalogue: Catalogue) -> None:
    for type_id in ("../commune", "inconnu"):
        path = tmp_path / "t.json"
        path.write_text(json.dumps({**minimal(), "convention_type": type_id}), encoding="utf-8")
        issue = only_issue(path, catalogue)
        assert issue.field == "convention_type" and "unknown type" in issue.message


# ------------------------------------------------------------------ XLSX


def test_not_a_workbook(tmp_path: Path, catalogue: Catalogue) -> None:
    path = tmp_path / "fake.xlsx"
    path.write_text("title;holders.0.name\n", encoding="utf-8")
    assert "not an Excel workbook" in only_issue(path, catalogue).message


def test_damaged_workbook(tmp_path: Path, catalogue: Catalogue) -> None:
    path = tmp_path / "damaged.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
    assert "cannot be read" in only_issue(path, catalogue).message


def test_xlsx_zip_bomb_is_refused(tmp_path: Path, catalogue: Catalogue) -> None:
    wb = Workbook()
    plain = io.BytesIO()
    wb.save(plain)
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item))
        dst.writestr("xl/media/padding.bin", b"\0" * 60_000_000)
    assert path.stat().st_size < 1_000_000
    assert "zip bomb" in only_issue(path, catalogue).message


def test_xlsx_xml_entities_are_refused(tmp_path: Path, catalogue: Catalogue) -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["title"])
    ws.append(["Jardin"])
    plain = io.BytesIO()
    wb.save(plain)
    path = tmp_path / "entities.xlsx"
    laugh = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
             b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><sst>&lol2;</sst>')
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(path, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"?>", b"?><!DOCTYPE x [<!ENTITY e SYSTEM "
                                    b'"file:///etc/passwd">]>', 1)
            dst.writestr(item, data)
        dst.writestr("xl/lol.xml", laugh)
    issue = only_issue(path, catalogue)
    assert "XML entities" in issue.message


def test_hostile_inputs_do_not_stop_the_batch(tmp_path: Path, catalogue: Catalogue,
                                              examples_dir: Path) -> None:
    (tmp_path / "empty.json").write_bytes(b"")
    (tmp_path / "binary.csv").write_bytes(bytes(range(256)))
    (tmp_path / "cut.json").write_text('{"title": ', encoding="utf-8")
    paths = [tmp_path / "empty.json", examples_dir / "skatepark.json", tmp_path / "binary.csv",
             tmp_path / "cut.json", examples_dir / "solar-church.json"]
    report = validate_files(paths, catalogue)
    assert [o.accepted for o in report.outcomes] == [False, True, False, False, True]
    check_issues(report)
