"""Sheet rows (CSV, XLSX) to raw records: find the header, then one record per data row.

Reading a row and making it a record are two steps: :func:`sheet_items` gives each data
row as a :class:`Row`, whose :meth:`Row.record` does the costly part (checking the cells,
building the nested record). A large batch can so have the second step done where the
record is validated, in another process, while the file is read once, in order."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pipeline.core.i18n import _
from pipeline.core.issues import Issue, shorten
from pipeline.intake.flat import FlatKeyError, is_empty, unflatten
from pipeline.intake.layout import Layout, layout
from pipeline.intake.record import RawRecord, fail

MAX_CELL = 100_000
"""A longer cell is refused (a 10 MB cell is a mistake or an attack)."""


@dataclass(frozen=True, slots=True)
class Header:
    """A sheet's row of field names."""

    names: list[str]
    plain: bool
    """No comment column (``#…``) and no column without a name."""
    depth: int
    """The most parts a column name has (how deep a record can nest)."""
    layout: Layout | None
    """For a plain header whose columns cannot clash."""

    @classmethod
    def of(cls, names: list[str]) -> Header:
        plain = all(n and not n.startswith("#") for n in names)
        return cls(names, plain, max((n.count(".") + 1 for n in names), default=0),
                   layout(names) if plain else None)


@dataclass(frozen=True, slots=True)
class Row:
    """A data row of a sheet, read but not yet made a record."""

    source: str
    line: int
    header: Header
    cells: list[Any]

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled with its cells as one text when it can be (far quicker to send to another
        process than a list of cells): joined by NUL, which none of them holds then."""
        try:
            joined = "\x00".join(self.cells)
        except TypeError:  # a workbook's numbers and dates
            joined = None
        if not self.cells or joined is None or joined.count("\x00") != len(self.cells) - 1:
            return Row, (self.source, self.line, self.header, self.cells)
        return _joined_row, (self.source, self.line, self.header, joined)

    def record(self) -> RawRecord:
        names = self.header.names
        if self.header.plain and _plain_cells(self.cells, len(names)):
            if self.header.layout is not None:
                flat, data = self.header.layout.build(self.cells)
                return RawRecord(self.source, self.line, data, flat)
            flat = {col: v for col, v in zip(names, self.cells, strict=False)
                    if v and not v.isspace()}
            return _flat_record(self.source, self.line, flat)
        return _row_record(self.source, self.line, names, self.cells)


def _joined_row(source: str, line: int, header: Header, joined: str) -> Row:
    return Row(source, line, header, joined.split("\x00"))


def sheet_items(name: str, rows: Iterator[list[Any] | csv.Error]) -> Iterator[RawRecord | Row]:
    """Find the header (the row of dotted field names), then one item per data row."""
    header: Header | None = None
    for line_no, cells in enumerate(rows, start=1):
        if isinstance(cells, csv.Error):
            yield fail(name, line_no, _("the row cannot be read: {reason}").format(reason=cells),
                       code="intake.csv")
            continue
        if header is None:
            texts = [str(c).strip() if c is not None else "" for c in cells]
            if "title" in texts or any(t.startswith("holders.") for t in texts):
                header = Header.of(texts)
            elif line_no >= 5:
                yield fail(name, 1, _("no header row of field names found in the first rows "
                                      "(expected columns like title, holders.0.name: see "
                                      "`fiftyfifty intake-template`)"), code="intake.no-header")
                return
            continue
        if all(is_empty(c) for c in cells):
            continue
        yield Row(name, line_no, header, cells)
    if header is None:
        yield fail(name, 1, _("no header row of field names found"), code="intake.no-header")


def records(items: Iterator[RawRecord | Row]) -> Iterator[RawRecord]:
    """Items made records."""
    for item in items:
        yield item.record() if isinstance(item, Row) else item


def _row_record(name: str, line_no: int, header: list[str], cells: list[Any]) -> RawRecord:
    issues: list[Issue] = []
    flat: dict[str, Any] = {}
    width = len(header)
    for i, value in enumerate(cells):
        if value is None or (isinstance(value, str) and (not value or value.isspace())):
            continue  # empty (is_empty, spelled out: this loop runs for every cell)
        col = header[i] if i < width else ""
        if col.startswith("#"):
            continue  # a comment column, e.g. the errors of a rejected-rows file
        if not col:
            issues.append(Issue(name, line_no, f"column {i + 1}", _("a value stands in a column "
                                "without a header"), shorten(value),
                                code="intake.no-column-name"))
            continue
        if isinstance(value, str):
            if value[:1] == "'" and value[1:2] in ("=", "+", "-", "@"):
                value = value[1:]  # undo the neutralisation of our own reports
            if len(value) > MAX_CELL:
                issues.append(Issue(name, line_no, col, _("the cell holds {count} characters "
                                                          "(at most {limit})").format(
                    count=f"{len(value):,}", limit=f"{MAX_CELL:,}"), shorten(value),
                    code="intake.cell-too-long"))
                continue
            if "\x00" in value:
                issues.append(Issue(name, line_no, col, _("the cell contains a NUL byte"),
                                    shorten(value), code="intake.nul-byte"))
                continue
        flat[col] = value
    if issues:
        return RawRecord(name, line_no, None, flat=flat, issues=issues)
    return _flat_record(name, line_no, flat)


def _plain_cells(cells: list[Any], width: int) -> bool:
    """Whether a row needs none of :func:`_row_record`'s care, told at once for the whole
    row: text cells only, none outside the header, none holding a NUL byte or starting
    with a quote, and all of them together within :data:`MAX_CELL`."""
    if len(cells) > width:
        return False
    try:
        joined = "\x00".join(cells)
    except TypeError:  # a workbook's numbers and dates
        return False
    return (len(joined) <= MAX_CELL and joined.count("\x00") == len(cells) - 1
            and not joined.startswith("'") and "\x00'" not in joined)


def _flat_record(name: str, line_no: int, flat: dict[str, Any]) -> RawRecord:
    try:
        data = unflatten(flat)
    except FlatKeyError as exc:
        return RawRecord(name, line_no, None, flat=flat,
                         issues=[Issue(name, line_no, "", _("bad column name: {reason}").format(
                             reason=exc), code="intake.column-name")])
    return RawRecord(name, line_no, data, flat=flat)
