"""Row-level problems as data, and the validation report that collects them."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

Severity = Literal["error", "warning"]

# Characters that make a spreadsheet treat a cell as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[-+]?\d[\d \u00a0\u202f]*(?:[.,]\d+)?")


def neutralise_cell(value: object) -> str:
    """Return ``value`` as text a spreadsheet shows as-is (formula injection defused)."""
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_START) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem found in one record."""

    source: str
    """The input file's name."""
    row: int
    """Row number in a CSV/XLSX (the header is row 1) or record number in JSON (from 1)."""
    field: str
    """Dotted path of the field (``holders.0.email``), or ``""`` for the whole record."""
    message: str
    """What is wrong, in words a clerk understands."""
    value: str = ""
    """The offending value as given (shortened when very long)."""
    severity: Severity = "error"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def shorten(value: object, limit: int = 200) -> str:
    """Printable, bounded text for an offending value."""
    text = "" if value is None else str(value)
    text = text.replace("\x00", "\\0")
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass
class RecordOutcome:
    """What became of one input record."""

    source: str
    row: int
    reference: str | None
    accepted: bool
    issues: list[Issue] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass
class Report:
    """The validation report of a batch: every record's outcome."""

    outcomes: list[RecordOutcome] = field(default_factory=list)

    def add(self, outcome: RecordOutcome) -> None:
        self.outcomes.append(outcome)

    @property
    def issues(self) -> list[Issue]:
        return [i for o in self.outcomes for i in o.issues]

    @property
    def accepted(self) -> int:
        return sum(1 for o in self.outcomes if o.accepted)

    @property
    def rejected(self) -> int:
        return sum(1 for o in self.outcomes if not o.accepted)

    @property
    def valid(self) -> bool:
        return self.rejected == 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "stats": {
                "records": len(self.outcomes),
                "accepted": self.accepted,
                "rejected": self.rejected,
                "errors": sum(1 for i in self.issues if i.severity == "error"),
                "warnings": sum(1 for i in self.issues if i.severity == "warning"),
            },
            "issues": [i.to_dict() for i in self.issues],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)


REPORT_COLUMNS = ["source", "row", "reference", "status", "severity", "field", "message", "value"]


def issue_rows(outcomes: Iterable[RecordOutcome]) -> Iterable[list[str]]:
    """Flat rows for the CSV report: one per issue, rejected records first."""
    for o in sorted(outcomes, key=lambda o: o.accepted):
        status = "accepted" if o.accepted else "rejected"
        for i in o.issues:
            yield [
                i.source, str(i.row), o.reference or "", status,
                i.severity, i.field, i.message, i.value,
            ]


def write_report(report: Report, path: Path) -> None:
    """Write the report as CSV (UTF-8 with BOM, ``;``, for Excel) or JSON, by extension."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".json":
        payload = report.to_dict()
        payload["rejected_records"] = [
            {"source": o.source, "row": o.row, "reference": o.reference, "values": o.raw}
            for o in report.outcomes if not o.accepted
        ]
        path.write_text(json.dumps(payload, ensure_ascii=False, indent=2), encoding="utf-8")
        return
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    writer.writerow(REPORT_COLUMNS)
    for row in issue_rows(report.outcomes):
        writer.writerow([neutralise_cell(c) for c in row])
    path.write_text("\ufeff" + buf.getvalue(), encoding="utf-8")
    rejected = [o for o in report.outcomes if not o.accepted and o.raw]
    if rejected:
        write_rejected_rows(rejected, rejected_path(path))


def rejected_path(report_path: Path) -> Path:
    """Where the rejected rows go, beside the CSV report."""
    return report_path.with_name(report_path.stem + ".rejected.csv")


def write_rejected_rows(outcomes: list[RecordOutcome], path: Path) -> None:
    """The rejected records with all their original values and an ``#errors`` column, so a
    clerk can correct them in a spreadsheet and feed the file in again (the readers ignore
    columns whose name starts with ``#``)."""
    from pipeline.intake.flat import flatten

    rows = [(o, o.raw if all(isinstance(v, str | int | float | None) for v in o.raw.values())
             else flatten(o.raw)) for o in outcomes]
    columns: dict[str, None] = {}
    for _, flat in rows:
        columns.update(dict.fromkeys(flat))
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    writer.writerow(["#errors", "#source", "#row", *map(neutralise_cell, columns)])
    for o, flat in rows:
        errors = " | ".join(f"{i.field or '(record)'}: {i.message}" for i in o.issues
                            if i.severity == "error")
        writer.writerow([neutralise_cell(c) for c in
                         [errors, o.source, o.row, *(flat.get(c, "") for c in columns)]])
    path.write_text("\ufeff" + buf.getvalue(), encoding="utf-8")
