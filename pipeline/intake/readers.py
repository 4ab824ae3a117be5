"""Readers for JSON, CSV and XLSX intake files, streamed record by record.

Each yields :class:`RawRecord`; a file that cannot be read at all yields one record carrying
the problem, so a bad file is reported and the batch goes on. :func:`read_items` gives a
sheet's data rows as :class:`~pipeline.intake.rows.Row` items, made records later."""

from __future__ import annotations

import codecs
import csv
import json
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from pipeline.core.i18n import _
from pipeline.intake.record import RawRecord
from pipeline.intake.record import fail as _fail
from pipeline.intake.rows import MAX_CELL, Row, records, sheet_items

__all__ = ["MAX_CELL", "READERS", "RawRecord", "read_csv", "read_items", "read_json",
           "read_records", "read_xlsx"]

CSV_FIELD_LIMIT = 64 * 1024 * 1024
"""Beyond this the csv module cannot even read the cell: the row is reported as unreadable."""
MAX_RECORD_BYTES = 2_000_000
MAX_XLSX_UNCOMPRESSED = 200_000_000
MAX_XLSX_RATIO = 200


# ------------------------------------------------------------------ JSON


class _JsonStream:
    """A text file read in chunks with a cursor: JSON values are decoded one at a time, so
    a list of 100,000 records never sits in memory whole."""

    CHUNK = 65536

    def __init__(self, handle: IO[str]) -> None:
        self.handle = handle
        self.buf = ""
        self.pos = 0
        self.lines_before = 0
        """Lines dropped from the buffer, for error positions counted from the file's start."""

    def _more(self) -> bool:
        data = self.handle.read(self.CHUNK)
        if not data:
            return False
        self.lines_before += self.buf.count("\n", 0, self.pos)
        self.buf = self.buf[self.pos:] + data
        self.pos = 0
        if len(self.buf) > MAX_RECORD_BYTES * 4:
            raise ValueError(_("a single record is larger than 8 MB"))
        return True

    def peek(self) -> str:
        """The next non-blank character, or "" at the end of the file."""
        while True:
            while self.pos < len(self.buf) and self.buf[self.pos] in " \t\r\n":
                self.pos += 1
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self._more():
                return ""

    def skip(self) -> None:
        self.pos += 1

    def value(self) -> Any:
        """Decode the value at the cursor, reading more of the file while it is incomplete."""
        self.peek()
        while True:
            try:
                obj, self.pos = _DECODER.raw_decode(self.buf, self.pos)
                return obj
            except json.JSONDecodeError as exc:
                if not self._more():
                    raise json.JSONDecodeError(exc.msg, exc.doc, exc.pos) from None

    def line_of(self, exc: json.JSONDecodeError) -> int:
        return self.lines_before + exc.lineno


_DECODER = json.JSONDecoder()


def read_json(path: Path) -> Iterator[RawRecord]:
    """One object, a list of objects, or JSON Lines (one object per line), streamed."""
    name = path.name
    try:
        handle = path.open("r", encoding="utf-8-sig", errors="strict")
    except OSError as exc:
        yield _fail(name, 0, _("cannot open the file: {reason}").format(reason=exc.strerror),
                    code="intake.unreadable")
        return
    number = 0
    with handle:
        stream = _JsonStream(handle)
        try:
            first = stream.peek()
            if not first:
                yield _fail(name, 0, _("the file is empty"), code="intake.empty")
                return
            in_list = first == "["
            if in_list:
                stream.skip()
            while True:
                c = stream.peek()
                if (in_list and c == "]") or not c:
                    if in_list and not c:
                        yield _fail(name, number + 1, _("the list is not closed by ]: "
                                                        "is the file complete?"),
                                    code="intake.json")
                    return
                if in_list and number:
                    if c != ",":
                        yield _fail(name, number + 1, _("a comma is missing between records"),
                                    code="intake.json")
                        return
                    stream.skip()
                number += 1
                yield _json_record(name, number, stream.value())
        except json.JSONDecodeError as exc:
            yield _fail(name, number, _("not valid JSON near line {line}, column {column}: "
                                        "{reason} (is the file complete?)").format(
                line=stream.line_of(exc), column=exc.colno, reason=exc.msg), code="intake.json")
        except RecursionError:
            yield _fail(name, number, _("the JSON is nested too deeply"), code="intake.too-deep")
        except UnicodeDecodeError:
            yield _fail(name, max(number, 1), _("the file is not UTF-8 text (save it as UTF-8 "
                                                "JSON)"), code="intake.encoding")
        except ValueError as exc:
            yield _fail(name, number, str(exc), code="intake.too-large")


def _json_record(name: str, number: int, obj: Any) -> RawRecord:
    if not isinstance(obj, dict):
        return _fail(name, number, _("expected an object {{…}}, found {kind}").format(
            kind=type(obj).__name__), obj, code="intake.not-object")
    return RawRecord(name, number, without_nulls(obj))


def without_nulls(obj: dict[str, Any]) -> dict[str, Any]:
    """``null`` means empty: a member whose value is ``null`` is left out, and so is an
    object or list left empty once its nulls are gone (``{"name": null}``, ``[null]``), so
    the empty template (``intake-template --format json``) reads as an empty record."""
    out: dict[str, Any] = {}
    for key, value in obj.items():
        kept = _kept(value)
        if kept is not _GONE:
            out[key] = kept
    return out


_GONE = object()


def _kept(value: Any) -> Any:
    """``value`` without its nulls, or ``_GONE`` when nothing is left of it."""
    if value is None:
        return _GONE
    if isinstance(value, dict) and value:
        inner = without_nulls(value)
        return inner if inner else _GONE
    if isinstance(value, list) and value:
        items = [kept for kept in map(_kept, value) if kept is not _GONE]
        return items if items else _GONE
    return value


# ------------------------------------------------------------------ CSV


def _decode_stream(path: Path) -> tuple[IO[str], str]:
    """Open a CSV as text: UTF-8 (BOM or not), UTF-16 with a BOM, else Windows-1252."""
    with path.open("rb") as head:
        raw = head.read(65536)  # a sample only: the file itself is streamed
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        enc = "utf-16"
    elif raw.startswith(codecs.BOM_UTF8):
        enc = "utf-8-sig"
    else:
        try:
            raw.decode("utf-8")
            enc = "utf-8"
        except UnicodeDecodeError as exc:
            # A cut multi-byte character at the end of the sample is still UTF-8.
            enc = "utf-8" if exc.start >= len(raw) - 3 else "cp1252"
    return path.open("r", encoding=enc, errors="strict", newline=""), enc


def _sniff_delimiter(sample: str) -> str:
    first = sample.split("\n", 1)[0]
    counts = {d: first.count(d) for d in ";,\t"}
    return max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","


def read_csv(path: Path) -> Iterator[RawRecord]:
    """CSV as French offices produce it: ``;`` or ``,`` sniffed, UTF-8 or Windows-1252."""
    return records(_csv_items(path))


def _csv_items(path: Path) -> Iterator[RawRecord | Row]:
    name = path.name
    try:
        handle, _enc = _decode_stream(path)
    except OSError as exc:
        yield _fail(name, 0, _("cannot open the file: {reason}").format(reason=exc.strerror),
                    code="intake.unreadable")
        return
    with handle:
        try:
            sample = handle.read(8192)
            if "\x00" in sample:
                yield _fail(name, 1, _("the file contains NUL bytes: it is not a CSV text file "
                                       "(was it saved as a spreadsheet?)"), code="intake.encoding")
                return
            if not sample.strip():
                yield _fail(name, 0, _("the file is empty"), code="intake.empty")
                return
            handle.seek(0)
            csv.field_size_limit(CSV_FIELD_LIMIT)
            reader = csv.reader(handle, delimiter=_sniff_delimiter(sample))
            yield from sheet_items(name, _csv_rows(reader))
        except UnicodeDecodeError:
            yield _fail(name, 0, _("the file's text encoding is not readable (save as CSV "
                                   "UTF-8)"), code="intake.encoding")
        except csv.Error as exc:
            yield _fail(name, 0, _("the CSV is malformed: {reason}").format(reason=exc),
                        code="intake.csv")


def _csv_rows(reader: Iterator[list[str]]) -> Iterator[list[Any] | csv.Error]:
    """The reader's rows; a row the csv module cannot read comes as its error, and the
    reading goes on with the next row."""
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield exc
            continue
        yield row


# ------------------------------------------------------------------ XLSX


def _xlsx_guard(path: Path) -> str | None:
    """Refuse zip bombs and XML entity tricks before openpyxl opens the file."""
    try:
        with zipfile.ZipFile(path) as zf:
            total = 0
            for info in zf.infolist():
                total += info.file_size
                if info.compress_size and info.file_size / info.compress_size > MAX_XLSX_RATIO \
                        and info.file_size > 10_000_000:
                    return _("the workbook part {part} expands suspiciously (zip bomb?)").format(
                        part=info.filename)
                if total > MAX_XLSX_UNCOMPRESSED:
                    return _("the workbook expands to more than 200 MB: refused")
                if info.filename.endswith(".xml") and info.file_size < 50_000_000:
                    with zf.open(info) as part:
                        head = part.read(4096)
                    if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
                        return _("the workbook part {part} declares XML entities: "
                                 "refused").format(part=info.filename)
    except zipfile.BadZipFile:
        return _("the file is not an Excel workbook (.xlsx)")
    return None


def read_xlsx(path: Path) -> Iterator[RawRecord]:
    """The first sheet (or the one named ``Projets``), streamed in read-only mode."""
    return records(_xlsx_items(path))


def _xlsx_items(path: Path) -> Iterator[RawRecord | Row]:
    import openpyxl

    name = path.name
    problem = _xlsx_guard(path)
    if problem:
        yield _fail(name, 0, problem, code="intake.workbook")
        return
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on a damaged file
        yield _fail(name, 0, _("the workbook cannot be read ({reason})").format(
            reason=type(exc).__name__), code="intake.workbook")
        return
    try:
        ws = wb["Projets"] if "Projets" in wb.sheetnames else wb.worksheets[0]
        rows = (list(r) for r in ws.iter_rows(values_only=True))
        yield from sheet_items(name, rows)
    finally:
        wb.close()


READERS = {".json": read_json, ".jsonl": read_json, ".csv": read_csv, ".xlsx": read_xlsx}

_ITEM_READERS: dict[str, Callable[[Path], Iterator[RawRecord | Row]]] = {
    ".json": read_json, ".jsonl": read_json, ".csv": _csv_items, ".xlsx": _xlsx_items}


def read_records(path: Path) -> Iterator[RawRecord]:
    """Records of one input file, by its extension."""
    return records(read_items(path))


def read_items(path: Path) -> Iterator[RawRecord | Row]:
    """:func:`read_records`, a sheet's data rows left as :class:`Row` items."""
    reader = _ITEM_READERS.get(path.suffix.lower())
    if reader is None:
        yield _fail(path.name, 0, _("unsupported file type {suffix} (use .json, .csv or "
                                    ".xlsx)").format(suffix=repr(path.suffix)),
                    code="intake.file-type")
        return
    if not path.is_file():
        yield _fail(path.name, 0, _("file not found"), code="intake.not-found")
        return
    yield from reader(path)
