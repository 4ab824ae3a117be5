"""The generated intake forms: filled in as a clerk would, then read back and validated."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner

from pipeline.catalogue.loader import Catalogue
from pipeline.cli import main
from pipeline.intake import flatten
from pipeline.intake.forms import columns
from pipeline.validation.validator import validate_files

MINIMAL = Path(__file__).parent / "data" / "intake" / "minimal.json"


def filled() -> dict[str, Any]:
    """The fixture as flat cells; booleans as a clerk types them."""
    data = json.loads(MINIMAL.read_text(encoding="utf-8"))
    return {k: ("oui" if v is True else v) for k, v in flatten(data).items()}


def make(tmp_path: Path, fmt: str) -> Path:
    out = tmp_path / "forms" / f"projets.{fmt}"
    result = CliRunner().invoke(main, ["intake-template", "--format", fmt, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.is_file()
    return out


def test_columns_cover_the_fixture() -> None:
    keys = {c.key for c in columns()}
    missing = sorted(set(filled()) - keys)
    assert missing == []
    assert "holders.1.name" in keys and "holders.0.members.2.name" in keys
    assert not any(k.startswith(("commune.", "signatories_override")) for k in keys)
    required = {c.key for c in columns() if c.required}
    assert {"title", "holders.0.name", "schedule.start"} <= required
    assert "holders.1.name" not in required   # a second holder is optional
    assert "public_land.description" not in required


def test_xlsx_has_labels_comments_and_drop_downs(tmp_path: Path) -> None:
    wb = openpyxl.load_workbook(make(tmp_path, "xlsx"))
    assert wb.sheetnames == ["Projets", "Aide"]
    ws = wb["Projets"]
    labels = [c.value for c in ws[1]]
    keys = [c.value for c in ws[2]]
    assert keys == [c.key for c in columns()]
    col = {k: i + 1 for i, k in enumerate(keys)}
    assert labels[col["title"] - 1] == "Intitulé *"
    assert labels[col["holders.0.kind"] - 1] == "Porteurs 1 – Type de porteur *"
    assert labels[col["holders.0.address.postcode"] - 1] == "Porteurs 1 – Adresse – Code postal *"
    comment = ws.cell(row=1, column=col["holders.0.kind"]).comment
    assert comment is not None and "association" in comment.text
    assert ("Valeurs : Habitant (person), Collectif informel (group), Association "
            "(association), Établissement scolaire (school), Entreprise (company)") in comment.text
    validations = {}
    for dv in ws.data_validations.dataValidation:
        for rng in dv.sqref.ranges:
            validations[rng.min_col] = dv.formula1
    enumerated = [c for c in columns() if c.choices]
    assert len(enumerated) > 10
    for c in enumerated:
        assert validations.get(col[c.key]) == '"' + ",".join(c.shown) + '"', c.key
    assert validations[col["holders.0.kind"]] == ('"Habitant,Collectif informel,Association,'
                                                  'Établissement scolaire,Entreprise"')
    assert validations[col["holders.0.republican_commitment_signed"]] == '"oui,non"'
    assert col["title"] not in validations
    help_rows = list(wb["Aide"].iter_rows(min_row=2, values_only=True))
    assert ("title", "Intitulé", "oui") == help_rows[[r[0] for r in help_rows].index("title")][:3]


def test_xlsx_filled_with_openpyxl_reads_back(tmp_path: Path, catalogue: Catalogue) -> None:
    path = make(tmp_path, "xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb["Projets"]
    col = {c.value: c.column for c in ws[2]}
    good = filled()
    bad = {**good, "reference": "TEST-BAD", "title": "Mauvais dossier", "holders.0.rna": "W12",
           "schedule.end": "31/02/2027"}
    for row, cells in ((3, good), (4, bad)):
        for key, value in cells.items():
            ws.cell(row=row, column=col[key], value=value)
    ws.cell(row=3, column=col["upkeep.years"], value=3)              # a number cell
    ws.cell(row=3, column=col["holder_commitments.in_kind.0.hours"], value=250.0)
    wb.save(path)
    report = validate_files([path], catalogue)
    assert [(o.row, o.accepted) for o in report.outcomes] == [(3, True), (4, False)]
    rejected = report.outcomes[1]
    assert {(i.row, i.field) for i in rejected.issues} == {
        (4, "holders.0.rna"), (4, "schedule.end")}
    assert {i.value for i in rejected.issues} == {"W12", "31/02/2027"}


def test_csv_template_filled_reads_back(tmp_path: Path, catalogue: Catalogue) -> None:
    path = make(tmp_path, "csv")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f, delimiter=";"))
    assert len(rows) == 2
    labels, keys = rows
    assert keys == [c.key for c in columns()]
    assert labels[keys.index("title")] == "Intitulé *"
    cells = filled()
    with path.open("a", encoding="utf-8", newline="") as f:
        csv.writer(f, delimiter=";").writerow([cells.get(k, "") for k in keys])
    report = validate_files([path], catalogue)
    assert [(o.row, o.accepted) for o in report.outcomes] == [(3, True)]


def test_json_template(tmp_path: Path, catalogue: Catalogue) -> None:
    path = make(tmp_path, "json")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["holders"][0]["kind"] is None
    assert data["holders"][0]["address"] == {"street": None, "postcode": None, "city": None}
    assert "commune" not in data and "signatories_override" not in data
    assert "amounts" not in data
    # Validated untouched, the skeleton is refused for its missing fields only: null is empty.
    report = validate_files([path], catalogue)
    assert report.rejected == 1
    assert {i.code for i in report.issues} == {"schema.missing"}
    fields = {i.field for i in report.issues}
    assert {"title", "holders", "schedule"} <= fields
    assert len(report.issues) < 12


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
def test_template_output_folder_is_created(tmp_path: Path, fmt: str) -> None:
    assert make(tmp_path, fmt).parent == tmp_path / "forms"
