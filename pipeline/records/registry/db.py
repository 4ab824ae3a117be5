"""The SQLite connection: pragmas, busy handling and schema migrations.

Migrations are plain functions registered in :data:`MIGRATIONS` and recorded in the
``schema_migrations`` table; running them again does nothing. Writers always start with
``BEGIN IMMEDIATE`` so that two processes never both read-then-write the same numbers:
the second one waits (busy timeout) and, should SQLite still answer "locked", the start
of the transaction is retried until the timeout is spent.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from pipeline.core.errors import RegistryError
from pipeline.core.i18n import _
from pipeline.records.registry.backoffice_schema import m7_backoffice
from pipeline.records.registry.web_schema import migrate_web_signing

Migration = Callable[[sqlite3.Connection], None]


_SCHEMA_V1: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS conventions (
    id              TEXT PRIMARY KEY,
    type_id         TEXT NOT NULL,
    year            INTEGER NOT NULL,
    seq             INTEGER NOT NULL,
    number_format   TEXT NOT NULL,
    reference       TEXT NOT NULL,
    fingerprint     TEXT NOT NULL,
    title           TEXT NOT NULL,
    holders         TEXT NOT NULL,
    commune_amount  TEXT NOT NULL,
    inkind_value    TEXT NOT NULL,
    start_date      TEXT NOT NULL,
    end_date        TEXT NOT NULL,
    commitment_end  TEXT,
    signatories     TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN
    ('pending','generated','signing','signed','cancelled')),
    version         INTEGER NOT NULL CHECK (version >= 1),
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    UNIQUE (type_id, reference),
    UNIQUE (number_format, year, seq)
    )""",
    """CREATE INDEX IF NOT EXISTS conventions_status ON conventions (status)""",
    """CREATE TABLE IF NOT EXISTS documents (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    convention_id   TEXT NOT NULL REFERENCES conventions (id),
    kind            TEXT NOT NULL CHECK (kind IN
    ('intake','docx','pdf','signed','scan','report')),
    version         INTEGER NOT NULL,
    relpath         TEXT NOT NULL UNIQUE,
    sha256          TEXT NOT NULL,
    size            INTEGER NOT NULL,
    created_at      TEXT NOT NULL
    )""",
    """CREATE INDEX IF NOT EXISTS documents_convention ON documents (convention_id)""",
    """CREATE TABLE IF NOT EXISTS events (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    at              TEXT NOT NULL,
    convention_id   TEXT,
    action          TEXT NOT NULL,
    actor           TEXT NOT NULL,
    details         TEXT NOT NULL,
    prev_hash       TEXT NOT NULL,
    hash            TEXT NOT NULL
    )""",
    """CREATE INDEX IF NOT EXISTS events_convention ON events (convention_id)""",
    """CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events
    BEGIN SELECT RAISE(ABORT, 'events are append-only'); END""",
    """CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events
    BEGIN SELECT RAISE(ABORT, 'events are append-only'); END""",
)


def _m1_initial(conn: sqlite3.Connection) -> None:
    for statement in _SCHEMA_V1:
        conn.execute(statement)


def _rebuild_with_checks(conn: sqlite3.Connection, table: str,
                         old: tuple[str, ...], new: tuple[str, ...]) -> None:
    """Recreate ``table`` with a CHECK list widened from ``old`` to ``new`` (SQLite's
    documented way: new table, copy, drop, rename; foreign keys are off meanwhile)."""
    (sql,) = conn.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
    ).fetchone()
    before = ",".join(f"'{v}'" for v in old)
    after = ",".join(f"'{v}'" for v in new)
    head = f"CREATE TABLE {table} ("
    if before not in sql or not sql.startswith(head):
        raise RegistryError(f"Unexpected definition of table {table}; cannot migrate it.")
    indexes = [row[0] for row in conn.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ?"
        " AND sql IS NOT NULL", (table,))]
    conn.execute(sql.replace(before, after, 1).replace(head, f"CREATE TABLE {table}_new (", 1))
    conn.execute(f"INSERT INTO {table}_new SELECT * FROM {table}")  # noqa: S608 (fixed names)
    conn.execute(f"DROP TABLE {table}")
    conn.execute(f"ALTER TABLE {table}_new RENAME TO {table}")
    for statement in indexes:
        conn.execute(statement)


def _m2_lifecycle_states(conn: sqlite3.Connection) -> None:
    _rebuild_with_checks(
        conn, "conventions",
        ("pending", "generated", "signing", "signed", "cancelled"),
        ("pending", "draft", "generated", "signing", "signed", "declined",
         "works_started", "works_done", "terminated", "cancelled"))
    _rebuild_with_checks(
        conn, "documents",
        ("intake", "docx", "pdf", "signed", "scan", "report"),
        ("intake", "docx", "pdf", "signed", "scan", "report", "evidence",
         "evidence_json", "works_report", "attachment"))


_SCHEMA_V3: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS drafts (
    label           TEXT PRIMARY KEY,
    type_id         TEXT NOT NULL,
    reference       TEXT NOT NULL,
    fingerprint     TEXT NOT NULL,
    title           TEXT NOT NULL,
    holders         TEXT NOT NULL,
    relpath         TEXT NOT NULL,
    sha256          TEXT NOT NULL,
    revision        INTEGER NOT NULL CHECK (revision >= 1),
    numbered_as     TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    UNIQUE (type_id, reference)
    )""",
    """CREATE TABLE IF NOT EXISTS amendments (
    id              TEXT PRIMARY KEY,
    convention_id   TEXT NOT NULL REFERENCES conventions (id),
    n               INTEGER NOT NULL CHECK (n >= 1),
    fingerprint     TEXT NOT NULL,
    changes         TEXT NOT NULL,
    signatories     TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('generated','signing','signed','cancelled')),
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    UNIQUE (convention_id, n)
    )""",
)


def _m3_lifecycle_tables(conn: sqlite3.Connection) -> None:
    for statement in _SCHEMA_V3:
        conn.execute(statement)


MIGRATIONS: tuple[tuple[int, str, Migration], ...] = (
    (1, "conventions, documents and hash-chained events", _m1_initial),
    (2, "statuses after signature and more document kinds", _m2_lifecycle_states),
    (3, "drafts outside the numbered series, amendments", _m3_lifecycle_tables),
    (4, "online signing: invitations and their steps", migrate_web_signing),
    (7, "back-office accounts, login attempts and batch jobs", m7_backoffice),
)
"""Every schema change, in order: (version, description, function)."""


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def retry_busy(action: Callable[[], object], timeout: float, what: str) -> None:
    """Run ``action`` again while SQLite says the database is locked, up to ``timeout``."""
    deadline = time.monotonic() + timeout
    pause = 0.01
    while True:
        try:
            action()
            return
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc):
                raise RegistryError(f"Registry error while {what}: {exc}") from exc
            if time.monotonic() >= deadline:
                raise RegistryError(
                    _("The registry stayed locked for more than {seconds} s while {what}.").format(
                        seconds=f"{timeout:g}", what=what),
                    hint=_("Another batch is probably running on this workspace; try again "
                           "when it has finished."),
                ) from exc
            time.sleep(pause)
            pause = min(pause * 2, 0.25)


def connect(path: Path, *, timeout: float = 30.0, create: bool = True) -> sqlite3.Connection:
    """Open the registry with WAL, foreign keys, a busy timeout, and migrate it."""
    if not create and not path.is_file():
        raise RegistryError(
            _("No registry at {path}.").format(path=path),
            hint=_("Nothing has been numbered in this workspace yet, or --workspace is wrong."),
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), timeout=timeout, isolation_level=None)
    except (OSError, sqlite3.Error) as exc:
        raise RegistryError(_("Cannot open the registry {path}: {reason}").format(
            path=path, reason=exc)) from exc
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
        retry_busy(lambda: conn.execute("PRAGMA journal_mode = WAL").fetchone(), timeout,
                   "switching to WAL")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
        migrate(conn, timeout=timeout)
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise RegistryError(_("The registry {path} is unusable: {reason}").format(
            path=path, reason=exc)) from exc
    except RegistryError:
        conn.close()
        raise
    return conn


class HeldOpen:
    """What :func:`hold_open` returns: close it when the process stops."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def close(self) -> None:
        self._conn.close()


def hold_open(path: Path) -> HeldOpen:
    """An idle connection for a long-running process that opens the registry many times
    (``fiftyfifty serve`` and its signing processes), to be closed when it stops.

    Closing the last connection to a WAL database checkpoints it and deletes the WAL,
    which the next opening creates again (and syncs its folder): an online signature
    then syncs the disk 27 times instead of 18. While this connection is open the WAL
    stays; SQLite still checkpoints it every 1,000 pages and every commit is still
    synced (``synchronous = FULL``). It never holds a transaction, so it blocks no one."""
    try:
        conn = sqlite3.connect(str(path), timeout=30.0, isolation_level=None)
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.Error as exc:
        raise RegistryError(_("Cannot open the registry {path}: {reason}").format(
            path=path, reason=exc)) from exc
    return HeldOpen(conn)


def begin_immediate(conn: sqlite3.Connection, timeout: float) -> None:
    """Start a write transaction, waiting for other writers (see :func:`retry_busy`)."""
    retry_busy(lambda: conn.execute("BEGIN IMMEDIATE"), timeout, "starting a transaction")


def migrate(conn: sqlite3.Connection, *, timeout: float = 30.0) -> list[int]:
    """Apply the migrations not yet recorded; return the versions applied now.

    Foreign keys are off while migrating (a table rebuild drops and renames tables) and
    checked as a whole before the commit. A registry already up to date is only read:
    no write lock is taken, so opening it never waits for another process's write."""
    if _up_to_date(conn):
        return []
    conn.execute("PRAGMA foreign_keys = OFF")
    begin_immediate(conn, timeout)
    try:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        done = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
        applied: list[int] = []
        for version, name, func in MIGRATIONS:
            if version in done:
                continue
            func(conn)
            conn.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                (version, name, datetime.now(UTC).isoformat(timespec="seconds")),
            )
            applied.append(version)
        if applied and conn.execute("PRAGMA foreign_key_check").fetchone() is not None:
            raise RegistryError("The registry's documents no longer match its conventions.")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    finally:
        conn.execute("PRAGMA foreign_keys = ON")
    return applied


def _up_to_date(conn: sqlite3.Connection) -> bool:
    """Every migration is recorded (read without a lock; any doubt says no)."""
    try:
        done = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
    except sqlite3.OperationalError:  # no table yet, or locked: the locked path decides
        return False
    return all(version in done for version, _name, _func in MIGRATIONS)


def applied_migrations(conn: sqlite3.Connection) -> list[int]:
    """Versions recorded in ``schema_migrations``, in order."""
    return [row[0] for row in conn.execute("SELECT version FROM schema_migrations ORDER BY 1")]
