"""Plain data of the registry: statuses, document kinds and the rows handed to callers.

Everything here is a frozen dataclass or a constant; nothing touches the database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Literal

Status = Literal["pending", "draft", "generated", "signing", "signed", "declined",
                 "works_started", "works_done", "terminated", "cancelled"]
STATUSES: tuple[Status, ...] = ("pending", "draft", "generated", "signing", "signed", "declined",
                                "works_started", "works_done", "terminated", "cancelled")
"""Every status the database accepts (migration 2); :data:`TRANSITIONS` says which moves
are allowed."""

DocumentKind = Literal["intake", "docx", "pdf", "signed", "scan", "report", "evidence",
                       "evidence_json", "works_report", "attachment"]
DOCUMENT_KINDS: tuple[DocumentKind, ...] = ("intake", "docx", "pdf", "signed", "scan", "report",
                                            "evidence", "evidence_json", "works_report",
                                            "attachment")

ClaimAction = Literal["new", "resume", "unchanged", "new_version", "refused", "older"]

# The one table of allowed status moves: ``Registry.set_status`` refuses anything else.
# ``pending -> pending`` is what a new version does to a convention whose documents were
# never produced. ``draft`` is the status drafts (``run --draft``) are listed under: they
# live outside the numbered series and never become a registered convention themselves.
TRANSITIONS: dict[str, frozenset[str]] = {
    "pending": frozenset({"generated", "pending", "cancelled"}),
    "draft": frozenset(),
    "generated": frozenset({"signing", "declined", "cancelled"}),
    "signing": frozenset({"signed", "declined", "cancelled"}),
    "declined": frozenset({"cancelled"}),
    "signed": frozenset({"works_started", "terminated"}),
    "works_started": frozenset({"works_done", "terminated"}),
    "works_done": frozenset({"terminated"}),
    "terminated": frozenset(),
    "cancelled": frozenset(),
}
"""Status -> the statuses it may move to. Before signature a convention may be
cancelled; after it, only the works and an early end (termination) move it on."""

SIGNED_STATUSES: frozenset[str] = frozenset({"signed", "works_started", "works_done",
                                             "terminated"})
"""Statuses of a convention whose terms are signed: a change needs an amendment."""

# Event actions written by the registry itself.
EVENT_ALLOCATED = "allocated"
"""A number was allocated; details: type, year, seq, reference, fingerprint, version."""
EVENT_NEW_VERSION = "new_version"
"""Same reference, new content; details: from/to version, old/new fingerprint."""
EVENT_STATUS = "status"
"""A status transition; details: ``from``, ``to`` and the caller's details."""
EVENT_DOCUMENT = "document"
"""A file was registered; details: kind, version, path, sha256, size."""
EVENT_SIGNED = "signed"
"""One signatory signed; details must hold ``{"signatory": key}`` (recorded by signing)."""
EVENT_CHECK = "check"
"""An upkeep check; details: task, on, outcome (ok | issue), note."""
EVENT_AMENDMENT = "amendment"
"""An amendment was produced or signed; details: amendment, step, changes."""

CONVENTION_ID_RE = re.compile(r"[0-9A-Z_]{1,15}")
"""The form the prefecture's transmission system accepts for act numbers."""


SUMMARY_FIELDS = ("title", "holders", "commune_amount", "inkind_value", "start", "end",
                  "commitment_end", "signatories")
"""Columns of a convention that no document carries: the allocation and new-version
events record them, so that ``archive verify`` notices an edit of the row."""


def summary_of(c: NewConvention | ConventionRow) -> dict[str, Any]:
    """The :data:`SUMMARY_FIELDS` of a convention, JSON-ready."""
    return {
        "title": c.title, "holders": c.holders, "commune_amount": str(c.commune_amount),
        "inkind_value": str(c.inkind_value), "start": c.start.isoformat(),
        "end": c.end.isoformat(),
        "commitment_end": c.commitment_end.isoformat() if c.commitment_end else None,
        "signatories": c.signatories,
    }


def is_valid_convention_id(value: str) -> bool:
    """True when ``value`` is 1 to 15 characters of ``[0-9A-Z_]``."""
    return isinstance(value, str) and CONVENTION_ID_RE.fullmatch(value) is not None


@dataclass(frozen=True)
class NewConvention:
    """What the runner knows about a validated record before it is numbered."""

    type_id: str
    """Convention type (the YAML file's id)."""
    year: int
    """Year the number belongs to."""
    number_format: str
    """Python format with ``{year}`` and ``{seq}``, e.g. ``FF_{year}_{seq:03d}``."""
    reference: str
    """Stable key of the record (given in the intake, or derived)."""
    fingerprint: str
    """SHA-256 of the record's canonical JSON."""
    title: str
    holders: list[dict[str, Any]]
    commune_amount: Decimal
    inkind_value: Decimal
    start: date
    end: date
    commitment_end: date | None
    signatories: list[dict[str, Any]] = field(default_factory=list)
    """Expected signatories, each a dict with at least ``key`` (``holder-1``, ``commune``)."""

    def summary(self) -> dict[str, Any]:
        """The registry's summary columns as text, as the history records them."""
        return summary_of(self)


@dataclass(frozen=True)
class Claim:
    """The outcome of :meth:`Registry.claim` for one record."""

    action: ClaimAction
    """``new``/``resume``/``new_version``: produce the documents; ``unchanged``: nothing
    to do; ``refused``: the change needs an amendment (see ``message``)."""
    convention_id: str
    version: int
    status: Status
    message: str = ""

    @property
    def must_produce(self) -> bool:
        """True when the caller has to (re)produce and store the documents."""
        return self.action in ("new", "resume", "new_version")


@dataclass(frozen=True)
class ConventionRow:
    """One convention as recorded."""

    id: str
    type_id: str
    year: int
    seq: int
    number_format: str
    reference: str
    fingerprint: str
    title: str
    holders: list[dict[str, Any]]
    commune_amount: Decimal
    inkind_value: Decimal
    start: date
    end: date
    commitment_end: date | None
    signatories: list[dict[str, Any]]
    status: Status
    version: int
    created_at: str
    updated_at: str

    def summary(self) -> dict[str, Any]:
        """The summary columns as text, to compare with the history."""
        return summary_of(self)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (amounts and dates as text)."""
        return {
            "id": self.id, "type": self.type_id, "year": self.year, "seq": self.seq,
            "reference": self.reference, "fingerprint": self.fingerprint,
            "title": self.title, "holders": self.holders,
            "commune_amount": str(self.commune_amount),
            "inkind_value": str(self.inkind_value),
            "start": self.start.isoformat(), "end": self.end.isoformat(),
            "commitment_end": self.commitment_end.isoformat() if self.commitment_end else None,
            "signatories": self.signatories, "status": self.status, "version": self.version,
            "created_at": self.created_at, "updated_at": self.updated_at,
        }


@dataclass(frozen=True)
class DocumentRow:
    """One registered file."""

    id: int
    convention_id: str
    kind: DocumentKind
    version: int
    relpath: str
    """Path relative to the workspace, with ``/`` separators."""
    sha256: str
    size: int
    created_at: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "version": self.version, "path": self.relpath,
            "sha256": self.sha256, "size": self.size, "created_at": self.created_at,
        }


@dataclass(frozen=True)
class EventRow:
    """One entry of the append-only, hash-chained event log."""

    seq: int
    at: str
    convention_id: str | None
    action: str
    actor: str
    details: dict[str, Any]
    prev_hash: str
    hash: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq, "at": self.at, "convention": self.convention_id,
            "action": self.action, "actor": self.actor, "details": self.details,
            "prev_hash": self.prev_hash, "hash": self.hash,
        }
