"""Migration 4: the tables of online signing (invitations and the steps of each).

An invitation keeps only the SHA-256 of its link's token and of its one-time code (with
a salt): a copy of the database gives no usable link or code. The steps table is the raw
material of the evidence file (time, step, IP address, user agent).
"""

from __future__ import annotations

import sqlite3

__all__ = ["INVITATION_STATES", "migrate_web_signing"]

INVITATION_STATES = ("active", "signed", "declined", "revoked", "replaced")
"""``active`` until the signer signs or declines, the clerk revokes it, or a resend
replaces it."""

_STATES_SQL = ",".join(f"'{s}'" for s in INVITATION_STATES)

_STATEMENTS = (
    f"""CREATE TABLE IF NOT EXISTS web_invitations (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    convention_id   TEXT NOT NULL REFERENCES conventions (id),
    signatory       TEXT NOT NULL,
    name            TEXT NOT NULL,
    email           TEXT NOT NULL,
    token_hash      TEXT NOT NULL UNIQUE,
    created_at      TEXT NOT NULL,
    expires_at      TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ({_STATES_SQL})),
    closed_at       TEXT,
    code_hash       TEXT,
    code_expires_at TEXT,
    code_attempts   INTEGER NOT NULL DEFAULT 0,
    locked          INTEGER NOT NULL DEFAULT 0,
    verified_at     TEXT
    )""",
    """CREATE INDEX IF NOT EXISTS web_invitations_conv
    ON web_invitations (convention_id, signatory)""",
    """CREATE TABLE IF NOT EXISTS web_signing_steps (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    invitation_id   INTEGER NOT NULL REFERENCES web_invitations (id),
    at              TEXT NOT NULL,
    step            TEXT NOT NULL,
    ip              TEXT,
    user_agent      TEXT,
    details         TEXT NOT NULL
    )""",
    """CREATE INDEX IF NOT EXISTS web_signing_steps_inv ON web_signing_steps (invitation_id)""",
)


def migrate_web_signing(conn: sqlite3.Connection) -> None:
    """Create the online-signing tables."""
    for statement in _STATEMENTS:
        conn.execute(statement)
