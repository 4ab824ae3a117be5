"""Row-level problems as data, and the validation report that collects them."""

from __future__ import annotations

import csv
import io
import itertools
import json
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.core.files import neutralise_cell
from pipeline.core.issues import Issue
from pipeline.intake.flat import flatten
from pipeline.validation.outcome import RecordOutcome
from pipeline.validation.spool import OutcomeSpool


# Characters that make a spreadsheet treat a cell as a formula.
@dataclass
class Report:
    """The validation report of a batch: every record's outcome, in memory or, for a large
    batch, in an :class:`~pipeline.validation.spool.OutcomeSpool` (``Report(OutcomeSpool())``)."""

    outcomes: list[RecordOutcome] | OutcomeSpool = field(default_factory=list)

    def add(self, outcome: RecordOutcome) -> None:
        self.outcomes.append(outcome)

    @property
    def issues(self) -> list[Issue]:
        return [i for o in self.outcomes for i in o.issues]

    @property
    def accepted(self) -> int:
        if isinstance(self.outcomes, OutcomeSpool):
            return self.outcomes.accepted
        return sum(1 for o in self.outcomes if o.accepted)

    @property
    def rejected(self) -> int:
        return len(self.outcomes) - self.accepted

    @property
    def valid(self) -> bool:
        return self.rejected == 0

    def _counts(self) -> tuple[int, int]:
        if isinstance(self.outcomes, OutcomeSpool):
            return self.outcomes.errors, self.outcomes.warnings
        severities = [i.severity for o in self.outcomes for i in o.issues]
        return severities.count("error"), severities.count("warning")

    def _head(self) -> dict[str, Any]:
        errors, warnings = self._counts()
        return {
            "valid": self.valid,
            "stats": {
                "records": len(self.outcomes),
                "accepted": self.accepted,
                "rejected": self.rejected,
                "errors": errors,
                "warnings": warnings,
            },
        }

    def to_dict(self) -> dict[str, Any]:
        return {**self._head(), "records": [_record_dict(o) for o in self.outcomes],
                "issues": [i.to_dict() for i in self.issues]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)

    def json_chunks(self, *, rejected_records: bool = False,
                    default: Callable[[Any], Any] | None = None) -> Iterator[str]:
        """The text of ``json.dumps(self.to_dict(), ensure_ascii=False, indent=2)``, piece
        by piece, so that a large report is never held whole (the rejected records' values
        appended as :func:`write_report` does)."""
        lists: dict[str, Iterable[Any]] = {
            "records": (_record_dict(o) for o in self.outcomes),
            "issues": (i.to_dict() for o in self.outcomes for i in o.issues)}
        if rejected_records:
            lists["rejected_records"] = (
                {"source": o.source, "row": o.row, "reference": o.reference, "values": o.raw}
                for o in self.outcomes if not o.accepted)
        return _json_object(self._head(), lists, default)


def _record_dict(o: RecordOutcome) -> dict[str, Any]:
    """One record's line of the report: where it is, its reference and its status."""
    return {"source": o.source, "row": o.row, "reference": o.reference or "",
            "status": outcome_status(o)}


def _json_object(head: dict[str, Any], lists: dict[str, Iterable[Any]],
                 default: Callable[[Any], Any] | None) -> Iterator[str]:
    """A JSON object as ``json.dumps(..., indent=2)`` writes it: ``head``'s members, then
    each of ``lists`` streamed item by item."""
    def dumps(value: Any, pad: str) -> str:
        text = _flat_json(value, pad)
        if text is None:
            text = json.dumps(value, ensure_ascii=False, indent=2, default=default)
            text = text.replace("\n", "\n" + pad)  # JSON strings hold no raw newline
        return text

    members = [json.dumps(k, ensure_ascii=False) for k in [*head, *lists]]
    if not members:
        yield "{}"
        return
    sep = "{\n  "
    for name, value in zip(members, head.values(), strict=False):
        yield f"{sep}{name}: {dumps(value, '  ')}"
        sep = ",\n  "
    for name, items in zip(members[len(head):], lists.values(), strict=True):
        yield f"{sep}{name}: ["
        sep = ",\n  "
        item_sep = "\n    "
        for item in items:
            yield item_sep + dumps(item, "    ")
            item_sep = ",\n    "
        yield "]" if item_sep == "\n    " else "\n  ]"
    yield "\n}"


def _flat_json(value: Any, pad: str) -> str | None:
    """``json.dumps(value, ensure_ascii=False, indent=2)`` indented by ``pad``, for a
    mapping of texts and whole numbers (an issue), written directly: the json module's
    indenting encoder is pure Python, and slow. ``None`` for anything else."""
    if type(value) is not dict:
        return None
    lines = []
    for key, item in value.items():
        if type(key) is not str:
            return None
        if type(item) is str:
            text = _json_text(item)
        elif type(item) is int:
            text = int.__repr__(item)
        else:
            return None
        lines.append(f"{pad}  {_json_text(key)}: {text}")
    if not lines:
        return "{}"
    return "{\n" + ",\n".join(lines) + "\n" + pad + "}"


_json_text = json.encoder.encode_basestring
"""A text as JSON writes it with ``ensure_ascii=False``."""


REPORT_COLUMNS = ["source", "row", "reference", "status", "severity", "code", "field", "message",
                  "value"]
"""The CSV report's columns: one row per issue, and one for each record without any, so
that every record is listed with its status: ``rejected``, ``warned`` (accepted with
warnings) or ``accepted``."""


def outcome_status(o: RecordOutcome) -> str:
    """``rejected``, ``warned`` or ``accepted``."""
    if not o.accepted:
        return "rejected"
    return "warned" if o.issues else "accepted"


def issue_rows(outcomes: Iterable[RecordOutcome]) -> Iterable[list[str]]:
    """Flat rows for the CSV report: one per issue (a record without any has one row with
    its status alone), rejected records first."""
    kept = outcomes if isinstance(outcomes, Sequence) else list(outcomes)
    for accepted in (False, True):  # what a stable sort on ``accepted`` gives, in two passes
        for o in kept:
            if bool(o.accepted) is not accepted:
                continue
            status = outcome_status(o)
            if not o.issues:
                yield [o.source, str(o.row), o.reference or "", status, "", "", "", "", ""]
            for i in o.issues:
                yield [
                    i.source, str(i.row), o.reference or "", status,
                    i.severity, i.code, i.field, i.message, i.value,
                ]


def _csv_lines(rows: Iterable[list[Any]]) -> Iterator[str]:
    """Rows as ``;``-separated CSV lines for Excel, every cell neutralised."""
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    for row in rows:
        writer.writerow([neutralise_cell(c) for c in row])
        if buf.tell() > 65536:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()


def _write_text(path: Path, chunks: Iterable[str]) -> None:
    """``path.write_text("".join(chunks), encoding="utf-8")`` without holding the text: it
    is gathered in a temporary file, and the file at ``path`` is only touched once the text
    is complete (as when it was built in memory)."""
    with tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as tmp:
        for chunk in chunks:
            tmp.write(chunk)
        tmp.seek(0)
        with path.open("w", encoding="utf-8") as out:
            shutil.copyfileobj(tmp, out)


def write_report(report: Report, path: Path) -> None:
    """Write the report as CSV (UTF-8 with BOM, ``;``, for Excel) or JSON, by extension."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".json":
        _write_text(path, report.json_chunks(rejected_records=True))
        return
    rows = itertools.chain([REPORT_COLUMNS], issue_rows(report.outcomes))
    _write_text(path, itertools.chain(["\ufeff"], _csv_lines(rows)))
    if report.rejected and any(not o.accepted and o.raw for o in report.outcomes):
        _write_rejected(lambda: (o for o in report.outcomes if not o.accepted and o.raw),
                        rejected_path(path))


def rejected_path(report_path: Path) -> Path:
    """Where the rejected rows go, beside the CSV report."""
    return report_path.with_name(report_path.stem + ".rejected.csv")


def write_rejected_rows(outcomes: list[RecordOutcome], path: Path) -> None:
    """The rejected records with all their original values and an ``#errors`` column, so a
    clerk can correct them in a spreadsheet and feed the file in again (the readers ignore
    columns whose name starts with ``#``)."""
    _write_rejected(lambda: outcomes, path)


def _write_rejected(outcomes: Callable[[], Iterable[RecordOutcome]], path: Path) -> None:
    """:func:`write_rejected_rows` in two passes over ``outcomes()`` (the columns, then the
    rows), so that the records need not all be in memory at once."""
    columns: dict[str, None] = {}
    for o in outcomes():
        columns.update(dict.fromkeys(_flat_values(o)))

    def rows() -> Iterator[list[Any]]:
        yield ["#errors", "#source", "#row", *columns]
        for o in outcomes():
            flat = _flat_values(o)
            errors = " | ".join(f"{i.field or '(record)'}: {i.message}" for i in o.issues
                                if i.severity == "error")
            yield [errors, o.source, o.row, *(flat.get(c, "") for c in columns)]

    _write_text(path, itertools.chain(["\ufeff"], _csv_lines(rows())))


def _flat_values(o: RecordOutcome) -> dict[str, Any]:


    if all(isinstance(v, str | int | float | None) for v in o.raw.values()):
        return o.raw
    return flatten(o.raw)
