"""The registry facade: numbering, versions, statuses, documents and events.

One :class:`Registry` wraps one SQLite connection. Every method that writes runs inside
one ``BEGIN IMMEDIATE`` transaction (joined when the caller already opened one with
:meth:`Registry.transaction`), so a number is allocated in the same transaction that
records the convention and two batches can never get the same one.
"""

from __future__ import annotations

import builtins
import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import Any, cast

from pipeline.core.errors import ArchiveError, ConfigError, RegistryError, StateError
from pipeline.records.registry import db
from pipeline.records.registry.events import (
    EVENT_COLUMNS,
    ChainCheck,
    append_event,
    canonical_json,
    row_to_event,
)
from pipeline.records.registry.events import verify_chain as _verify_chain
from pipeline.records.registry.models import (
    DOCUMENT_KINDS,
    EVENT_ALLOCATED,
    EVENT_DOCUMENT,
    EVENT_NEW_VERSION,
    EVENT_SIGNED,
    EVENT_STATUS,
    SIGNED_STATUSES,
    TRANSITIONS,
    Claim,
    ClaimAction,
    ConventionRow,
    DocumentRow,
    EventRow,
    NewConvention,
    Status,
    is_valid_convention_id,
)

Clock = Callable[[], datetime]

_CONV_COLUMNS = (
    "id, type_id, year, seq, number_format, reference, fingerprint, title, holders,"
    " commune_amount, inkind_value, start_date, end_date, commitment_end, signatories,"
    " status, version, created_at, updated_at"
)
_DOC_COLUMNS = "id, convention_id, kind, version, relpath, sha256, size, created_at"


def _utc_now() -> datetime:
    return datetime.now(UTC)


def format_number(number_format: str, year: int, seq: int) -> str:
    """Apply a type's number format; refuse one that cannot give a valid ID."""
    if "{seq" not in number_format:
        raise ConfigError(f"Number format {number_format!r} has no {{seq}} field.")
    try:
        value = number_format.format(year=year, seq=seq)
    except (KeyError, IndexError, ValueError) as exc:
        raise ConfigError(f"Number format {number_format!r} is invalid: {exc}") from exc
    if not is_valid_convention_id(value):
        raise ConfigError(
            f"Number format {number_format!r} gives {value!r}: a convention number must be"
            " 1 to 15 characters among A-Z, 0-9 and _."
        )
    return value


def _to_row(r: sqlite3.Row | tuple[Any, ...]) -> ConventionRow:
    v = tuple(r)
    return ConventionRow(
        id=v[0], type_id=v[1], year=int(v[2]), seq=int(v[3]), number_format=v[4],
        reference=v[5], fingerprint=v[6], title=v[7], holders=json.loads(v[8]),
        commune_amount=Decimal(v[9]), inkind_value=Decimal(v[10]),
        start=date.fromisoformat(v[11]), end=date.fromisoformat(v[12]),
        commitment_end=date.fromisoformat(v[13]) if v[13] else None,
        signatories=json.loads(v[14]), status=cast(Status, v[15]), version=int(v[16]),
        created_at=v[17], updated_at=v[18],
    )


def _to_doc(r: sqlite3.Row | tuple[Any, ...]) -> DocumentRow:
    v = tuple(r)
    return DocumentRow(int(v[0]), v[1], v[2], int(v[3]), v[4], v[5], int(v[6]), v[7])


class Registry:
    """The conventions registry of one workspace (see the module docstring)."""

    def __init__(self, conn: sqlite3.Connection, path: Path, timeout: float,
                 clock: Clock) -> None:
        self._conn = conn
        self.path = path
        self.timeout = timeout
        self._clock = clock
        self._depth = 0

    # -- lifecycle -------------------------------------------------------------------
    @classmethod
    def open(cls, path: Path, *, timeout: float = 30.0, create: bool = True,
             clock: Clock | None = None) -> Registry:
        """Open (and create, unless ``create=False``) the registry, WAL, FK, migrated."""
        conn = db.connect(Path(path), timeout=timeout, create=create)
        return cls(conn, Path(path), timeout, clock or _utc_now)

    def close(self) -> None:
        """Close the connection (idempotent)."""
        self._conn.close()

    def __enter__(self) -> Registry:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    @property
    def connection(self) -> sqlite3.Connection:
        """The raw connection, for read-only audits."""
        return self._conn

    def integrity_check(self) -> str:
        """The storage's own check of its files: ``"ok"`` or what is damaged."""
        (check,) = self._conn.execute("PRAGMA quick_check").fetchone()
        return str(check)

    def verify_chain(self) -> ChainCheck:
        """Recompute every event's hash and link (see :func:`events.verify_chain`)."""
        return _verify_chain(self._conn)

    def now(self) -> str:
        """The registry clock as ISO 8601 UTC text."""
        return self._clock().astimezone(UTC).isoformat()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction (``BEGIN IMMEDIATE``); nested calls join the outer one."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        db.begin_immediate(self._conn, self.timeout)
        self._depth = 1
        try:
            yield
        except BaseException:
            self._depth = 0
            self._rollback()
            raise
        self._depth = 0
        try:
            self._conn.execute("COMMIT")
        except sqlite3.Error as exc:
            self._rollback()
            raise RegistryError(f"The registry could not save the change: {exc}") from exc

    def _rollback(self) -> None:
        if self._conn.in_transaction:
            self._conn.execute("ROLLBACK")

    # -- numbering -------------------------------------------------------------------
    def claim(self, new: NewConvention, *, actor: str = "fiftyfifty",
              as_new_version: bool = False) -> Claim:
        """Number a record, or say what already exists for its (type, reference).

        Content identical to an *older* version is not taken back silently: the answer is
        ``older`` (nothing done, the message names the current version) unless
        ``as_new_version`` asks for a deliberate return, recorded as a new version."""
        with self.transaction():
            row = self.find(new.type_id, new.reference)
            if row is None:
                return self._allocate(new, actor)
            if row.status == "cancelled":
                return Claim("refused", row.id, row.version, row.status,
                             f"{row.id} (reference {new.reference}) was cancelled: submit a"
                             " new reference to create another convention.")
            if row.fingerprint == new.fingerprint:
                action: ClaimAction = "resume" if row.status == "pending" else "unchanged"
                return Claim(action, row.id, row.version, row.status,
                             f"Matches existing convention {row.id} (version {row.version}).")
            if row.status == "signing" or row.status in SIGNED_STATUSES:
                return Claim("refused", row.id, row.version, row.status,
                             f"{row.id} (reference {new.reference}) is already {row.status}:"
                             " a change after signature needs an amendment (avenant).")
            older = self.version_of(row.id, new.fingerprint)
            if older is not None and not as_new_version:
                return Claim("older", row.id, row.version, row.status,
                             f"Identical to version {older} of {row.id}; the current version"
                             f" is {row.version}: nothing done (use --as-new-version to go"
                             " back to it deliberately).")
            return self._new_version(row, new, actor)

    def version_of(self, convention_id: str, fingerprint: str) -> int | None:
        """The latest version of ``convention_id`` whose content had ``fingerprint``
        (from the history), or None."""
        found: int | None = None
        for event in self.events(convention_id):
            d = event.details
            if event.action == EVENT_ALLOCATED and d.get("fingerprint") == fingerprint:
                found = int(d.get("version", 1))
            elif event.action == EVENT_NEW_VERSION and d.get("new_fingerprint") == fingerprint:
                found = int(d.get("to_version", 0))
        return found

    def _allocate(self, new: NewConvention, actor: str) -> Claim:
        (last,) = self._conn.execute(
            "SELECT COALESCE(MAX(seq), 0) FROM conventions WHERE number_format = ? AND year = ?",
            (new.number_format, new.year),
        ).fetchone()
        seq = int(last) + 1
        conv_id = format_number(new.number_format, new.year, seq)
        while self._conn.execute("SELECT 1 FROM conventions WHERE id = ?",
                                 (conv_id,)).fetchone():
            seq += 1  # another format produced this text already: take the next free one
            conv_id = format_number(new.number_format, new.year, seq)
        now = self.now()
        self._conn.execute(
            f"INSERT INTO conventions ({_CONV_COLUMNS}) VALUES"  # noqa: S608
            " (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', 1, ?, ?)",
            (conv_id, new.type_id, new.year, seq, new.number_format, *self._content(new),
             now, now),
        )
        self._event(conv_id, EVENT_ALLOCATED, actor, {
            "type": new.type_id, "year": new.year, "seq": seq, "reference": new.reference,
            "fingerprint": new.fingerprint, "version": 1, "summary": new.summary(),
        })
        return Claim("new", conv_id, 1, "pending", f"New convention {conv_id}.")

    def _new_version(self, row: ConventionRow, new: NewConvention, actor: str) -> Claim:
        version = row.version + 1
        self._conn.execute(
            "UPDATE conventions SET reference = ?, fingerprint = ?, title = ?, holders = ?,"
            " commune_amount = ?, inkind_value = ?, start_date = ?, end_date = ?,"
            " commitment_end = ?, signatories = ?, status = 'pending', version = ?,"
            " updated_at = ? WHERE id = ?",
            (*self._content(new), version, self.now(), row.id),
        )
        self._event(row.id, EVENT_NEW_VERSION, actor, {
            "from_version": row.version, "to_version": version,
            "old_fingerprint": row.fingerprint, "new_fingerprint": new.fingerprint,
            "previous_status": row.status, "summary": new.summary(),
        })
        return Claim("new_version", row.id, version, "pending",
                     f"{row.id} changed: version {version} (version {row.version} kept).")

    @staticmethod
    def _content(new: NewConvention) -> tuple[Any, ...]:
        return (
            new.reference, new.fingerprint, new.title, canonical_json(new.holders),
            str(new.commune_amount), str(new.inkind_value), new.start.isoformat(),
            new.end.isoformat(),
            new.commitment_end.isoformat() if new.commitment_end else None,
            canonical_json(new.signatories),
        )

    # -- statuses, documents, events -------------------------------------------------
    def set_status(self, convention_id: str, new_status: Status, *, actor: str,
                   details: dict[str, Any] | None = None) -> ConventionRow:
        """Move a convention along the allowed transitions (else :class:`StateError`)."""
        with self.transaction():
            row = self._require(convention_id)
            if new_status not in TRANSITIONS[row.status]:
                raise StateError(
                    f"{convention_id} is {row.status}: it cannot become {new_status}."
                )
            self._conn.execute(
                "UPDATE conventions SET status = ?, updated_at = ? WHERE id = ?",
                (new_status, self.now(), convention_id),
            )
            self._event(convention_id, EVENT_STATUS, actor,
                        {**(details or {}), "from": row.status, "to": new_status,
                         "version": row.version})
            return self._require(convention_id)

    def add_document(self, convention_id: str, kind: str, version: int, relpath: str,
                     sha256: str, size: int, *, actor: str = "fiftyfifty") -> DocumentRow:
        """Register one archived file (and record a ``document`` event)."""
        if kind not in DOCUMENT_KINDS:
            raise ArchiveError(f"Unknown document kind {kind!r}.")
        with self.transaction():
            self._require(convention_id)
            if self._conn.execute("SELECT 1 FROM documents WHERE relpath = ?",
                                  (relpath,)).fetchone():
                raise ArchiveError(f"{relpath} is already registered; it is never replaced.")
            cur = self._conn.execute(
                "INSERT INTO documents (convention_id, kind, version, relpath, sha256, size,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (convention_id, kind, version, relpath, sha256, size, self.now()),
            )
            self._event(convention_id, EVENT_DOCUMENT, actor, {
                "kind": kind, "version": version, "path": relpath, "sha256": sha256,
                "size": size,
            })
            row = self._conn.execute(f"SELECT {_DOC_COLUMNS} FROM documents WHERE id = ?",  # noqa: S608
                                     (cur.lastrowid,)).fetchone()
            return _to_doc(row)

    def record_event(self, convention_id: str | None, action: str, actor: str,
                     details: dict[str, Any] | None = None) -> EventRow:
        """Append an event (e.g. ``signed`` with ``{"signatory": key}``)."""
        with self.transaction():
            if convention_id is not None:
                self._require(convention_id)
            return self._event(convention_id, action, actor, details or {})

    def _event(self, convention_id: str | None, action: str, actor: str,
               details: dict[str, Any]) -> EventRow:
        return append_event(self._conn, at=self.now(), convention_id=convention_id,
                            action=action, actor=actor, details=details)

    # -- reading ---------------------------------------------------------------------
    def get(self, convention_id: str) -> ConventionRow | None:
        """The convention with this ID, or None."""
        r = self._conn.execute(f"SELECT {_CONV_COLUMNS} FROM conventions WHERE id = ?",  # noqa: S608
                               (convention_id,)).fetchone()
        return _to_row(r) if r else None

    def find(self, type_id: str, reference: str) -> ConventionRow | None:
        """The convention recorded for (type, reference), or None."""
        r = self._conn.execute(
            f"SELECT {_CONV_COLUMNS} FROM conventions WHERE type_id = ? AND reference = ?",  # noqa: S608
            (type_id, reference),
        ).fetchone()
        return _to_row(r) if r else None

    def _require(self, convention_id: str) -> ConventionRow:
        row = self.get(convention_id)
        if row is None:
            raise StateError(f"No convention {convention_id} in the registry.")
        return row

    def list(self, *, status: str | None = None, type_id: str | None = None,
             year: int | None = None) -> list[ConventionRow]:
        """Conventions matching every filter given, by year then number."""
        where, args = [], []
        for column, value in (("status", status), ("type_id", type_id), ("year", year)):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        sql = f"SELECT {_CONV_COLUMNS} FROM conventions"  # noqa: S608
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY year, id"
        return [_to_row(r) for r in self._conn.execute(sql, args)]

    def documents(self, convention_id: str | None = None) -> builtins.list[DocumentRow]:
        """Registered files of one convention (or all), oldest first."""
        sql = f"SELECT {_DOC_COLUMNS} FROM documents"  # noqa: S608
        args: Sequence[Any] = ()
        if convention_id is not None:
            sql, args = sql + " WHERE convention_id = ?", (convention_id,)
        return [_to_doc(r) for r in self._conn.execute(sql + " ORDER BY id", args)]

    def latest_document(self, convention_id: str, kinds: Iterable[str]) -> DocumentRow | None:
        """The newest registered file of one of ``kinds`` (highest version, then newest)."""
        wanted = set(kinds)
        docs = [d for d in self.documents(convention_id) if d.kind in wanted]
        return max(docs, key=lambda d: (d.version, d.id)) if docs else None

    def events(self, convention_id: str | None = None) -> builtins.list[EventRow]:
        """The event history of one convention (or the whole log), in order."""
        sql = f"SELECT {EVENT_COLUMNS} FROM events"  # noqa: S608
        args: Sequence[Any] = ()
        if convention_id is not None:
            sql, args = sql + " WHERE convention_id = ?", (convention_id,)
        return [row_to_event(r) for r in self._conn.execute(sql + " ORDER BY seq", args)]

    def signatures(self, convention_id: str) -> dict[str, EventRow]:
        """The ``signed`` event of each signatory key that has signed (first one wins)."""
        found: dict[str, EventRow] = {}
        for event in self.events(convention_id):
            key = event.details.get("signatory")
            if event.action == EVENT_SIGNED and isinstance(key, str):
                found.setdefault(key, event)
        return found
