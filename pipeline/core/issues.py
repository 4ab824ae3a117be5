"""A problem found in one input record, as plain data (never an exception)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["CODES", "Issue", "Severity", "shorten"]

Severity = Literal["error", "warning"]


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
    code: str = ""
    """The stable code of the kind of problem (``schema.missing``, ``rule.group-money``…:
    see :data:`CODES`), for scripts and spreadsheets to sort on."""

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "row": self.row, "field": self.field,
                "message": self.message, "value": self.value, "severity": self.severity,
                "code": self.code}

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled as its arguments: far quicker than the generic way for a slotted
        # dataclass (outcomes are spooled and cross processes by the thousand).
        return Issue, (self.source, self.row, self.field, self.message, self.value,
                       self.severity, self.code)


def shorten(value: object, limit: int = 200) -> str:
    """Printable, bounded text for an offending value."""
    text = "" if value is None else str(value)
    text = text.replace("\x00", "\\0")
    return text if len(text) <= limit else text[: limit - 1] + "…"


CODES: dict[str, str] = {
    # Reading the files
    "intake.unreadable": "the file cannot be opened",
    "intake.not-found": "the file does not exist",
    "intake.file-type": "the file is not .json, .jsonl, .csv or .xlsx",
    "intake.empty": "the file is empty",
    "intake.encoding": "the text is not in a readable encoding",
    "intake.json": "the JSON is malformed",
    "intake.csv": "the CSV is malformed",
    "intake.workbook": "the workbook is damaged or refused",
    "intake.not-object": "a JSON record is not an object",
    "intake.too-deep": "the record is nested too deeply",
    "intake.too-large": "a record is too large",
    "intake.no-header": "no row of field names",
    "intake.no-record": "the file holds no record",
    "intake.no-column-name": "a value in a column without a name",
    "intake.column-name": "a column name that is not a field path",
    "intake.cell-too-long": "a cell is too long",
    "intake.nul-byte": "a cell holds a NUL byte",
    # Checking each field against the schema
    "schema.missing": "a required field is empty",
    "schema.unknown-field": "a column or key the form does not have",
    "schema.type": "a value of the wrong kind (text, number, date, yes/no…)",
    "schema.choice": "a value that is not one of the drop-down's",
    "schema.length": "a text or list too short or too long",
    "schema.range": "a number too small or too large",
    "schema.format": "a badly written value (SIRET, postcode, e-mail, amount…)",
    "schema.convention-type": "an unknown type of convention",
    "schema.amounts": "computed totals beyond what a convention can hold",
    # Rules across fields
    "rule.schedule-order": "the works end before they start",
    "rule.schedule-length": "the works last more or less than the type allows",
    "rule.milestone-date": "a milestone outside the works",
    "rule.request-date": "the request is dated after the works start",
    "rule.minor-guardian": "a minor without a legal guardian",
    "rule.minor-adult": "a birth date of an adult on a minor",
    "rule.minor-unmarked": "a birth date of a minor on someone not marked minor",
    "rule.birth-date-unneeded": "a birth date given for an adult (not printed)",
    "rule.minor-kind": "a holder other than an inhabitant marked minor",
    "rule.association-rna": "an association without its RNA number",
    "rule.company-siret": "a company without its SIRET",
    "rule.school-uai": "a school without its UAI code",
    "rule.representative-missing": "a holder without a representative",
    "rule.representative-person": "an inhabitant with a representative",
    "rule.minors-supervision": "minors without a named supervisor",
    "rule.insurer-notified": "the commune's insurer not yet told",
    "rule.liability-certificate": "a liability certificate to provide",
    "rule.money-holder": "a money line for a holder that does not exist",
    "rule.group-money": "money paid to a group or an inhabitant",
    "rule.republican-commitment": "an association's subsidy without the republican contract",
    "rule.transparency-threshold": "more than 23,000 euros to one legal entity",
    "rule.commune-share": "the commune pays more than the scheme's share",
    "rule.commune-nothing": "the commune commits to nothing",
    "rule.land-free-reason": "a free occupation of public land without a reason",
    "rule.land-selection": "an economic use of public land without a selection procedure",
    "rule.payment-schedule": "a payment schedule that does not match the grants",
    # Across the batch and the registry
    "batch.duplicate-reference": "the same reference twice in one batch",
    "run.reference-conflict": "the reference belongs to another convention",
    "run.failed": "the documents of the record could not be produced",
}
"""Every issue code the program emits, with what it means (the README lists them too)."""
