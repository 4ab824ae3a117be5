"""The ``drafts`` and ``amendments`` tables (migration 3), as plain SQL over the registry.

:mod:`pipeline.lifecycle.drafts` and :mod:`pipeline.lifecycle.amendments` keep the rules
and the typed rows; this module only reads and writes the tables, over the registry's
connection and inside the caller's transactions. Rows come back as tuples in the order of
:data:`DRAFT_COLUMNS` and :data:`AMENDMENT_COLUMNS`; JSON columns are text, as stored.
"""

from __future__ import annotations

from typing import Any

from pipeline.records.registry.conventions import Registry

__all__ = [
    "AMENDMENT_COLUMNS",
    "DRAFT_COLUMNS",
    "Row",
    "amendment_rows",
    "draft_by_label",
    "draft_by_reference",
    "draft_rows",
    "insert_amendment",
    "insert_draft",
    "mark_draft_numbered",
    "set_amendment_status",
    "update_draft",
]

Row = tuple[Any, ...]
"""One row of a table, its values in the order of the table's columns constant."""

DRAFT_COLUMNS = ("label, type_id, reference, fingerprint, title, holders, relpath, sha256,"
                 " revision, numbered_as, created_at, updated_at")

AMENDMENT_COLUMNS = ("id, convention_id, n, fingerprint, changes, signatories, status,"
                     " created_at, updated_at")


# -- drafts ---------------------------------------------------------------------------
def draft_by_reference(reg: Registry, type_id: str, reference: str) -> Row | None:
    """The draft row of (type, reference), or None."""
    r = reg.connection.execute(
        f"SELECT {DRAFT_COLUMNS} FROM drafts WHERE type_id = ? AND reference = ?",  # noqa: S608
        (type_id, reference)).fetchone()
    return tuple(r) if r else None


def draft_by_label(reg: Registry, label: str) -> Row | None:
    """The draft row with this label, or None."""
    r = reg.connection.execute(
        f"SELECT {DRAFT_COLUMNS} FROM drafts WHERE label = ?",  # noqa: S608
        (label,)).fetchone()
    return tuple(r) if r else None


def draft_rows(reg: Registry, *, pending_only: bool) -> list[Row]:
    """Draft rows by label; only those not numbered yet when ``pending_only``."""
    sql = f"SELECT {DRAFT_COLUMNS} FROM drafts"  # noqa: S608
    if pending_only:
        sql += " WHERE numbered_as IS NULL"
    return [tuple(r) for r in reg.connection.execute(sql + " ORDER BY label")]


def insert_draft(reg: Registry, *, label: str, type_id: str, reference: str,
                 fingerprint: str, title: str, holders: str, relpath: str, sha256: str,
                 now: str) -> None:
    """Record a first draft (revision 1, not numbered); ``holders`` is JSON text."""
    reg.connection.execute(
        f"INSERT INTO drafts ({DRAFT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, NULL,"  # noqa: S608
        " ?, ?)",
        (label, type_id, reference, fingerprint, title, holders, relpath, sha256, now, now))


def update_draft(reg: Registry, label: str, *, fingerprint: str, title: str, holders: str,
                 relpath: str, sha256: str, revision: int, now: str) -> None:
    """Replace a draft's content (and make it pending again); ``holders`` is JSON text."""
    reg.connection.execute(
        "UPDATE drafts SET fingerprint = ?, title = ?, holders = ?, relpath = ?,"
        " sha256 = ?, revision = ?, numbered_as = NULL, updated_at = ?"
        " WHERE label = ?",
        (fingerprint, title, holders, relpath, sha256, revision, now, label))


def mark_draft_numbered(reg: Registry, type_id: str, reference: str, convention_id: str,
                        now: str) -> None:
    """Record the number the normal run gave to the pending draft of (type, reference)."""
    reg.connection.execute(
        "UPDATE drafts SET numbered_as = ?, updated_at = ? WHERE type_id = ?"
        " AND reference = ? AND numbered_as IS NULL",
        (convention_id, now, type_id, reference))


# -- amendments -----------------------------------------------------------------------
def amendment_rows(reg: Registry, convention_id: str) -> list[Row]:
    """The amendment rows of a convention, by number."""
    rows = reg.connection.execute(
        f"SELECT {AMENDMENT_COLUMNS} FROM amendments WHERE convention_id = ?"  # noqa: S608
        " ORDER BY n", (convention_id,))
    return [tuple(r) for r in rows]


def insert_amendment(reg: Registry, *, amendment_id: str, convention_id: str, n: int,
                     fingerprint: str, changes: str, signatories: str, now: str) -> None:
    """Record a new amendment, ``generated``; ``changes`` and ``signatories`` are JSON
    text."""
    reg.connection.execute(
        f"INSERT INTO amendments ({AMENDMENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?,"  # noqa: S608
        " 'generated', ?, ?)",
        (amendment_id, convention_id, n, fingerprint, changes, signatories, now, now))


def set_amendment_status(reg: Registry, amendment_id: str, status: str, now: str) -> None:
    """Move an amendment to ``status``."""
    reg.connection.execute("UPDATE amendments SET status = ?, updated_at = ? WHERE id = ?",
                           (status, now, amendment_id))
