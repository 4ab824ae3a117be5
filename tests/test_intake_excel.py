"""Intake as Excel really saves it: numbers and dates in cells, hidden columns, trailing
spaces, French labels in drop-downs, Windows-1252 CSV with ``;``, CRLF and non-breaking
spaces, the empty JSON template, longer forms, rules told in the same pass as the field
errors, and a reference given twice in a batch."""

from __future__ import annotations

import csv
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner

from pipeline.catalogue.loader import Catalogue
from pipeline.cli import main
from pipeline.intake import flatten
from pipeline.validation.validator import Validator, iter_validated, validate_files
from schemas.base import luhn_ok

MINIMAL = Path(__file__).parent / "data" / "intake" / "minimal.json"


def minimal() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(MINIMAL.read_text(encoding="utf-8"))
    return data


def siret_with_leading_zero() -> str:
    """A SIRET whose first digit is 0, with a right Luhn key."""
    for last in range(10):
        candidate = f"0123456789012{last}"
        if luhn_ok(candidate):
            return candidate
    raise AssertionError("no key digit")


def template(tmp_path: Path, fmt: str, *options: str) -> Path:
    out = tmp_path / f"projets.{fmt}"
    result = CliRunner().invoke(main, ["intake-template", "--format", fmt, "-o", str(out),
                                       *options])
    assert result.exit_code == 0, result.output
    return out


def excel_cells(siret: str) -> dict[str, Any]:
    """The fixture typed in Excel: numbers, dates and booleans as Excel stores them, French
    labels in the drop-downs, a second holder (a company) whose codes lost their zeros."""
    cells: dict[str, Any] = dict(flatten(minimal()))
    cells.update({
        "holders.0.name": "Les Amis du Jardin   ",           # trailing spaces
        "holders.0.kind": "association",
        "holders.0.address.postcode": 62750,                  # a number
        "holders.0.republican_commitment_signed": True,       # Excel's TRUE
        "holders.1.kind": "ENTREPRISE",                       # a label, any case
        "holders.1.name": "Menuiserie Dufour",
        "holders.1.siret": int(siret),                        # 14 digits, the 0 lost
        "holders.1.address.street": "8 rue Basly",
        "holders.1.address.postcode": 6200,                   # 06200 as a number
        "holders.1.address.city": "Nice",
        "holders.1.representative.name": "Luc Dufour",
        "holders.1.representative.capacity": "gérant",
        "holders.1.liability_certificate": "oui",
        "project.request_date": datetime(2026, 10, 1),       # dates as dates
        "project.location.land_status": "domaine PUBLIC",     # label, case differs
        "schedule.start": datetime(2027, 3, 1),
        "schedule.end": datetime(2027, 5, 31, 0, 0),
        "council_decision.date": datetime(2026, 11, 20),
        "commune_commitments.money.0.amount": 2000.0,         # a float
        "commune_commitments.money.0.form": "Subvention versée au porteur",
        "holder_commitments.in_kind.0.kind": "heures de benevolat",   # no accent
        "holder_commitments.in_kind.0.hours": 250,
        "holder_commitments.in_kind.0.rate": 12.5,
        "upkeep.years": 3,
        "insurance.insurer_notified": True,
    })
    return cells


def test_workbook_saved_by_excel_is_accepted(tmp_path: Path, catalogue: Catalogue) -> None:
    siret = siret_with_leading_zero()
    path = template(tmp_path, "xlsx", "--holders", "3")
    wb = openpyxl.load_workbook(path)
    ws = wb["Projets"]
    col = {c.value: c.column for c in ws[2]}
    assert "holders.2.name" in col                            # room for three holders
    for key, value in excel_cells(siret).items():
        ws.cell(row=3, column=col[key], value=value)
    ws.column_dimensions["C"].hidden = True                   # a hidden column
    ws.column_dimensions["D"].hidden = True
    wb.save(path)

    validator = Validator(catalogue)
    (v,) = list(iter_validated([path], validator))
    assert v.accepted, [(i.field, i.message) for i in v.issues]
    conv = v.convention
    assert conv is not None
    assert conv.holders[0].name == "Les Amis du Jardin"
    assert conv.holders[0].address.postcode == "62750"
    assert conv.holders[1].kind == "company"
    assert conv.holders[1].siret == siret                     # the zero is back
    assert conv.holders[1].address.postcode == "06200"
    assert conv.project.location.land_status == "public"
    assert conv.commune_commitments.money[0].form == "grant"
    assert conv.holder_commitments.in_kind[0].kind == "volunteer_hours"
    assert str(conv.commune_commitments.money[0].amount) == "2000.00"
    assert conv.schedule.end.isoformat() == "2027-05-31"


def test_code_columns_are_text_and_drop_downs_show_labels(tmp_path: Path) -> None:
    wb = openpyxl.load_workbook(template(tmp_path, "xlsx"))
    ws = wb["Projets"]
    col = {c.value: c.column for c in ws[2]}
    for key in ("holders.0.address.postcode", "holders.0.siret", "holders.0.uai"):
        assert ws.cell(row=3, column=col[key]).number_format == "@", key
        assert ws.cell(row=500, column=col[key]).number_format == "@", key
    assert ws.cell(row=3, column=col["title"]).number_format == "General"
    formulas = {rng.min_col: dv.formula1 for dv in ws.data_validations.dataValidation
                for rng in dv.sqref.ranges}
    assert "Achat direct par la commune" in formulas[col["commune_commitments.money.0.form"]]
    assert "Domaine public" in formulas[col["project.location.land_status"]]


def test_csv_help_row_shows_labels(tmp_path: Path) -> None:
    text = template(tmp_path, "csv").read_text(encoding="utf-8-sig")
    labels = text.split("\r\n")[0]
    assert "Habitant (person)" in labels and "Collectif informel (group)" in labels


def test_windows_1252_csv_with_crlf_and_non_breaking_spaces(tmp_path: Path,
                                                            catalogue: Catalogue) -> None:
    cells = {k: ("oui" if v is True else str(v)) for k, v in flatten(minimal()).items()}
    cells["holders.0.name"] = "Les Amis du Jardin\u00a0"                 # NBSP at the end
    cells["holders.0.address.postcode"] = "62\u00a0750"
    cells["commune_commitments.money.0.amount"] = "2\u00a0000,00\u00a0€"
    cells["commune_commitments.money.0.form"] = "Subvention versée au porteur"
    cells["project.request_date"] = "01/10/2026"
    cells["title"] = "Jardin partagé « Les Tilleuls » – été"
    path = tmp_path / "excel.csv"
    lines = [";".join(cells), ";".join(v.replace(";", ",") for v in cells.values())]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))
    report = validate_files([path], catalogue, workers=1)
    (outcome,) = list(report.outcomes)
    assert outcome.accepted, [(i.field, i.message) for i in outcome.issues]
    (v,) = list(iter_validated([path], Validator(catalogue)))
    assert v.convention is not None
    assert v.convention.title == "Jardin partagé « Les Tilleuls » – été"
    assert v.convention.holders[0].name == "Les Amis du Jardin"
    assert v.convention.holders[0].address.postcode == "62750"


def test_empty_json_template_is_only_missing_fields(tmp_path: Path,
                                                     catalogue: Catalogue) -> None:
    path = template(tmp_path, "json")
    report = validate_files([path], catalogue, workers=1)
    assert report.rejected == 1
    codes = {i.code for i in report.issues}
    assert codes == {"schema.missing"}, [(i.field, i.message) for i in report.issues]
    assert len(report.issues) < 12


def test_null_is_empty_in_json(tmp_path: Path, catalogue: Catalogue) -> None:
    data = minimal()
    data["notes"] = None
    data["holders"][0]["siret"] = None
    data["public_land"] = None
    data["annexes"] = [None]
    path = tmp_path / "nulls.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    report = validate_files([path], catalogue, workers=1)
    assert report.accepted == 1, [(i.field, i.message) for i in report.issues]


def test_intake_template_counts_and_limit(tmp_path: Path) -> None:
    path = template(tmp_path, "csv", "--holders", "4", "--members", "1", "--money-lines", "5")
    with path.open(encoding="utf-8-sig", newline="") as f:
        keys = list(csv.reader(f, delimiter=";"))[1]
    assert "holders.3.name" in keys and "holders.4.name" not in keys
    assert "commune_commitments.money.4.amount" in keys
    assert "holders.0.members.0.name" in keys and "holders.0.members.1.name" not in keys
    result = CliRunner().invoke(main, ["intake-template", "--format", "csv", "-o",
                                       str(tmp_path / "x.csv"), "--holders", "21"])
    assert result.exit_code == 2
    assert "21" in result.output


def test_rules_run_with_the_field_errors(tmp_path: Path, catalogue: Catalogue) -> None:
    data = minimal()
    data["holders"][0]["email"] = "pas-une-adresse"           # a field error
    data["schedule"] = {"start": "2027-05-31", "end": "2027-03-01"}   # a rule error
    data["public_land"] = {"description": "Square", "fee": "0", "duration_years": 3}
    path = tmp_path / "two-rounds.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    report = validate_files([path], catalogue, workers=1)
    codes = {(i.field, i.code) for i in report.issues}
    assert ("holders.0.email", "schema.format") in codes
    assert ("schedule.end", "rule.schedule-order") in codes
    assert ("public_land.free_reason", "rule.land-free-reason") in codes
    # the rules that need the holders (whose field is wrong) are not run on half a record
    assert not any(c.startswith("rule.") and f.startswith("holders") for f, c in codes)


def test_duplicate_reference_in_a_batch(tmp_path: Path, catalogue: Catalogue) -> None:
    first, second = minimal(), minimal()
    second["title"] = "Un autre projet, même référence"
    one = tmp_path / "a.json"
    one.write_text(json.dumps(first), encoding="utf-8")
    two = tmp_path / "b.json"
    two.write_text(json.dumps([minimal() | {"reference": "AUTRE"}, second]), encoding="utf-8")
    report = validate_files([one, two], catalogue, workers=1)
    outcomes = list(report.outcomes)
    assert [(o.source, o.row, o.accepted) for o in outcomes] == [
        ("a.json", 1, True), ("b.json", 1, True), ("b.json", 2, False)]
    (issue,) = [i for i in outcomes[2].issues if i.code == "batch.duplicate-reference"]
    assert issue.field == "reference" and issue.value == "TEST-MINIMAL"
    assert "a.json" in issue.message and "1" in issue.message and issue.row == 2
    # the run's stream rejects it the same way, before anything is numbered
    streamed = list(iter_validated([one, two], Validator(catalogue)))
    assert [v.accepted for v in streamed] == [True, True, False]
    assert streamed[2].issues[-1].code == "batch.duplicate-reference"


@pytest.mark.parametrize("label", ["Collectif informel", "collectif INFORMEL", "group",
                                   "Collectif  informel "])
def test_labels_and_codes_are_both_accepted(label: str) -> None:
    from schemas.parties import Holder

    holder = Holder.model_validate({
        "kind": label, "name": "Les voisins", "address": {
            "street": "1 rue A", "postcode": "62750", "city": "Loos-en-Gohelle"}})
    assert holder.kind == "group"


@pytest.mark.libreoffice
def test_run_never_aborts_on_a_duplicate_reference(tmp_path: Path) -> None:
    second = minimal()
    second["title"] = "Un autre projet, même référence"
    batch = tmp_path / "lot.json"
    batch.write_text(json.dumps([minimal(), second]), encoding="utf-8")
    ws = tmp_path / "ws"
    result = CliRunner().invoke(main, ["run", str(batch), "--workspace", str(ws)],
                                catch_exceptions=False)
    assert result.exit_code == 1, result.output
    out = result.output
    assert "1 accepté, 1 rejeté" in out
    assert "Rejetée lot.json ligne 2" in out
    assert "déjà utilisée dans ce lot par lot.json ligne 1" in out
    again = CliRunner().invoke(main, ["--lang", "en", "run", str(batch), "--workspace",
                                      str(ws), "--json"], catch_exceptions=False)
    summary = json.loads(again.output)
    assert [(c["version"], c["action"]) for c in summary["conventions"]] == [(1, "unchanged")]
    assert [i["code"] for i in summary["issues"] if i["severity"] == "error"] == [
        "batch.duplicate-reference"]
