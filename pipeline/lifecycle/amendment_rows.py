"""The amendments of a convention as recorded (table ``amendments``, migration 3).

Read by :mod:`.amendments` (which produces and signs them) and by :mod:`.terms` (the
latest signed one holds the terms in force); it imports neither.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pipeline.core.errors import StateError
from pipeline.core.i18n import _
from pipeline.records.registry import Registry
from pipeline.records.registry.lifecycle_store import amendment_rows

__all__ = ["AmendmentRow", "amendments", "get_amendment"]


@dataclass(frozen=True)
class AmendmentRow:
    """One amendment as recorded."""

    id: str
    convention_id: str
    n: int
    fingerprint: str
    changes: list[dict[str, Any]]
    signatories: list[dict[str, Any]]
    status: str
    created_at: str
    updated_at: str

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "convention": self.convention_id, "n": self.n,
                "status": self.status, "changes": self.changes,
                "signatories": self.signatories, "created_at": self.created_at}


def amendments(reg: Registry, convention_id: str) -> list[AmendmentRow]:
    """The amendments of a convention, in order."""
    return [AmendmentRow(r[0], r[1], int(r[2]), r[3], json.loads(r[4]), json.loads(r[5]),
                         r[6], r[7], r[8]) for r in amendment_rows(reg, convention_id)]


def get_amendment(reg: Registry, amendment_id: str) -> AmendmentRow:
    """The amendment with this ID, else :class:`StateError`."""
    cid = amendment_id.rpartition("_A")[0]
    found = [a for a in amendments(reg, cid) if a.id == amendment_id] if cid else []
    if not found:
        raise StateError(_("No amendment {id} in the registry.").format(id=amendment_id))
    return found[0]
