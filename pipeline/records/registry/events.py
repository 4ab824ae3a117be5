"""The append-only event log and its hash chain.

Each event stores the hash of the one before it (``prev_hash``; the first one points to
:data:`GENESIS`) and its own ``hash``: the SHA-256 of its sequence number, time,
convention, action, actor, details (canonical JSON, exactly as stored) and ``prev_hash``.
Editing any stored field of a past event changes its hash; deleting or inserting one
breaks the next event's ``prev_hash``. Triggers refuse UPDATE and DELETE on the table, so
only someone who drops them on purpose can tamper, and :func:`verify_chain` shows it.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from pipeline.records.registry.models import EventRow

GENESIS = "0" * 64
"""``prev_hash`` of the very first event."""


def canonical_json(value: Any) -> str:
    """Deterministic JSON (sorted keys, no spaces, UTF-8 kept, non-JSON values as text)."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      default=str)


def event_hash(seq: int, at: str, convention_id: str | None, action: str, actor: str,
               details_json: str, prev_hash: str) -> str:
    """The hash an event must carry, computed from its stored fields."""
    payload = json.dumps(
        [seq, at, convention_id, action, actor, details_json, prev_hash],
        ensure_ascii=False, separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def append_event(conn: sqlite3.Connection, *, at: str, convention_id: str | None,
                 action: str, actor: str, details: dict[str, Any]) -> EventRow:
    """Append one event. The caller must hold a write transaction (``BEGIN IMMEDIATE``)."""
    last = conn.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
    prev = last[1] if last else GENESIS
    seq_row = conn.execute(
        "SELECT seq FROM sqlite_sequence WHERE name = 'events'"
    ).fetchone()
    # AUTOINCREMENT never reuses a number, so the next one is the counter plus one.
    seq = (seq_row[0] if seq_row else 0) + 1
    details_json = canonical_json(details)
    digest = event_hash(seq, at, convention_id, action, actor, details_json, prev)
    conn.execute(
        "INSERT INTO events (seq, at, convention_id, action, actor, details, prev_hash, hash)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (seq, at, convention_id, action, actor, details_json, prev, digest),
    )
    return EventRow(seq, at, convention_id, action, actor, json.loads(details_json), prev,
                    digest)


def row_to_event(row: sqlite3.Row | tuple[Any, ...]) -> EventRow:
    """Build an :class:`EventRow` from ``SELECT seq, at, convention_id, action, actor,
    details, prev_hash, hash``."""
    seq, at, conv, action, actor, details, prev, digest = tuple(row)
    try:
        parsed = json.loads(details)
    except (TypeError, ValueError):
        parsed = {"unreadable": str(details)}
    if not isinstance(parsed, dict):
        parsed = {"value": parsed}
    return EventRow(int(seq), str(at), conv, str(action), str(actor), parsed, str(prev),
                    str(digest))


EVENT_COLUMNS = "seq, at, convention_id, action, actor, details, prev_hash, hash"


@dataclass(frozen=True)
class ChainBreak:
    """One place where the stored events disagree with their hash chain."""

    seq: int
    """Sequence number of the event found wrong."""
    reason: str
    """``altered`` (its own hash is wrong), ``link`` (it does not follow the one before) or
    ``gap`` (sequence numbers are missing before it: events were deleted)."""
    expected: str
    found: str


@dataclass(frozen=True)
class ChainCheck:
    """The result of walking the whole chain."""

    events: int
    head: str
    """Hash of the last event (:data:`GENESIS` when there is none): note it to detect a
    later truncation of the log."""
    breaks: tuple[ChainBreak, ...]


def verify_chain(conn: sqlite3.Connection) -> ChainCheck:
    """Recompute every hash and link, in order, and list each disagreement."""
    breaks: list[ChainBreak] = []
    prev = GENESIS
    prev_seq = 0
    count = 0
    for row in conn.execute(f"SELECT {EVENT_COLUMNS} FROM events ORDER BY seq"):  # noqa: S608
        seq, at, conv, action, actor, details, prev_hash, digest = tuple(row)
        count += 1
        if int(seq) != prev_seq + 1:
            breaks.append(ChainBreak(int(seq), "gap", str(prev_seq + 1), str(seq)))
        prev_seq = int(seq)
        if prev_hash != prev:
            breaks.append(ChainBreak(int(seq), "link", prev, str(prev_hash)))
        recomputed = event_hash(int(seq), str(at), conv, str(action), str(actor),
                                str(details), str(prev_hash))
        if recomputed != digest:
            breaks.append(ChainBreak(int(seq), "altered", recomputed, str(digest)))
        prev = str(digest)
    return ChainCheck(count, prev, tuple(breaks))
