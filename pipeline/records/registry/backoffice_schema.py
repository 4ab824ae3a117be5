"""Tables of the clerks' back-office (migration 7): accounts, login attempts, batch jobs.

They live in the registry's database so that one file holds everything a workspace knows,
but outside the hash-chained history: what a clerk *does* is still written there as events
(with the clerk's login as actor); these tables only hold the current state of accounts and
of the imports queued in the server.
"""

from __future__ import annotations

import sqlite3

SCHEMA_V7: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS users (
    login           TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    role            TEXT NOT NULL CHECK (role IN ('clerk','admin')),
    password_hash   TEXT NOT NULL,
    active          INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    failed_logins   INTEGER NOT NULL DEFAULT 0,
    locked_until    TEXT,
    last_login      TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS login_attempts (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    login           TEXT NOT NULL,
    at              TEXT NOT NULL,
    ok              INTEGER NOT NULL CHECK (ok IN (0, 1)),
    reason          TEXT NOT NULL,
    address         TEXT NOT NULL
    )""",
    """CREATE INDEX IF NOT EXISTS login_attempts_login ON login_attempts (login, at)""",
    """CREATE TABLE IF NOT EXISTS background_jobs (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    kind            TEXT NOT NULL CHECK (kind IN ('import')),
    state           TEXT NOT NULL CHECK (state IN
    ('validated','queued','running','done','failed','interrupted')),
    login           TEXT NOT NULL,
    source_name     TEXT NOT NULL,
    folder          TEXT NOT NULL,
    records         INTEGER NOT NULL DEFAULT 0,
    accepted        INTEGER NOT NULL DEFAULT 0,
    rejected        INTEGER NOT NULL DEFAULT 0,
    errors          INTEGER NOT NULL DEFAULT 0,
    warnings        INTEGER NOT NULL DEFAULT 0,
    progress        TEXT NOT NULL DEFAULT '{}',
    summary         TEXT,
    error           TEXT,
    created_at      TEXT NOT NULL,
    queued_at       TEXT,
    started_at      TEXT,
    finished_at     TEXT
    )""",
    """CREATE INDEX IF NOT EXISTS background_jobs_state ON background_jobs (state, id)""",
)


def m7_backoffice(conn: sqlite3.Connection) -> None:
    """Create the back-office tables."""
    for statement in SCHEMA_V7:
        conn.execute(statement)
