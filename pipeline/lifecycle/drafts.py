"""Drafts: documents produced for review, outside the numbered series.

``run --draft`` renders a record under the label ``PROJET-<reference>`` with the
"PROJET" watermark and **no signature field**; the files go to
``<workspace>/drafts/PROJET-<reference>/`` (never to the archive) and the ``drafts``
table (registry migration 3) remembers them. No number is consumed: the normal run later
allocates the next number of the series and records which draft it replaced.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from typing import Any

from pipeline.core.errors import ArchiveError
from pipeline.core.files import write_atomic
from pipeline.core.workspace import Workspace
from pipeline.records.registry import Registry
from pipeline.records.registry import lifecycle_store as store

log = logging.getLogger(__name__)

DRAFT_PREFIX = "PROJET-"
DRAFTS_FOLDER = "drafts"
_LABEL_RE = re.compile(r"PROJET-[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


@dataclass(frozen=True)
class DraftRow:
    """One draft as recorded."""

    label: str
    type_id: str
    reference: str
    fingerprint: str
    title: str
    holders: list[dict[str, Any]]
    relpath: str
    """The draft PDF, relative to the workspace."""
    sha256: str
    revision: int
    """How many times the draft was produced with a different content."""
    numbered_as: str | None
    """The convention number given by the normal run, once it happened."""
    created_at: str
    updated_at: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, shaped like a convention of ``registry list``."""
        return {
            "id": self.label, "type": self.type_id, "reference": self.reference,
            "fingerprint": self.fingerprint, "title": self.title, "holders": self.holders,
            "status": "draft", "revision": self.revision, "pdf": self.relpath,
            "sha256": self.sha256, "numbered_as": self.numbered_as,
            "created_at": self.created_at, "updated_at": self.updated_at,
        }


def draft_label(reference: str) -> str:
    """``PROJET-<reference>``; refuses a reference that could not name a file."""
    label = DRAFT_PREFIX + reference
    if not _LABEL_RE.fullmatch(label):
        raise ArchiveError(f"Refused draft reference {reference!r}.")
    return label


def is_draft_label(value: str) -> bool:
    """True when ``value`` looks like a draft label (``PROJET-…``)."""
    return value.startswith(DRAFT_PREFIX)


def _row(v: store.Row) -> DraftRow:
    return DraftRow(v[0], v[1], v[2], v[3], v[4], json.loads(v[5]), v[6], v[7], int(v[8]),
                    v[9], v[10], v[11])


def get_draft(reg: Registry, type_id: str, reference: str) -> DraftRow | None:
    """The draft of (type, reference), or None."""
    r = store.draft_by_reference(reg, type_id, reference)
    return _row(r) if r else None


def find_draft(reg: Registry, label: str) -> DraftRow | None:
    """The draft with this label, or None."""
    r = store.draft_by_label(reg, label)
    return _row(r) if r else None


def list_drafts(reg: Registry, *, pending_only: bool = True) -> list[DraftRow]:
    """Drafts by label; by default only those not numbered yet."""
    return [_row(r) for r in store.draft_rows(reg, pending_only=pending_only)]


def draft_is_current(ws: Workspace, draft: DraftRow | None, fingerprint: str) -> bool:
    """True when ``draft`` already holds this content and its PDF is still there."""
    return (draft is not None and draft.fingerprint == fingerprint
            and (ws.root / draft.relpath).is_file())


def store_draft(ws: Workspace, reg: Registry, *, type_id: str, reference: str,
                fingerprint: str, title: str, holders: list[dict[str, Any]],
                pdf: bytes, docx: bytes) -> DraftRow:
    """Write the draft's PDF and DOCX (replacing an earlier draft) and record it."""
    label = draft_label(reference)
    folder = ws.root / DRAFTS_FOLDER / label
    folder.mkdir(parents=True, exist_ok=True)
    written = write_atomic(folder / f"{label}.pdf", pdf)
    write_atomic(folder / f"{label}.docx", docx)
    relpath = written.path.relative_to(ws.root).as_posix()
    now = reg.now()
    with reg.transaction():
        old = get_draft(reg, type_id, reference)
        if old is None:
            store.insert_draft(
                reg, label=label, type_id=type_id, reference=reference,
                fingerprint=fingerprint, title=title,
                holders=json.dumps(holders, ensure_ascii=False), relpath=relpath,
                sha256=written.sha256, now=now)
        else:
            revision = old.revision + (old.fingerprint != fingerprint)
            store.update_draft(
                reg, old.label, fingerprint=fingerprint, title=title,
                holders=json.dumps(holders, ensure_ascii=False), relpath=relpath,
                sha256=written.sha256, revision=revision, now=now)
        row = get_draft(reg, type_id, reference)
    assert row is not None
    log.info("draft %s written", label)
    return row


def mark_numbered(reg: Registry, type_id: str, reference: str, convention_id: str) -> None:
    """Record that the normal run numbered the record a draft was made of."""
    with reg.transaction():
        store.mark_draft_numbered(reg, type_id, reference, convention_id, reg.now())
