"""Everything known about one convention, as plain data: what ``registry show --json``
prints and what the back-office's convention page reads (one library function for both)."""

from __future__ import annotations

from typing import Any

from pipeline.core.workspace import Workspace
from pipeline.lifecycle.consolidated import consolidated
from pipeline.lifecycle.timeline import timeline
from pipeline.records.registry import ConventionRow, Registry
from pipeline.records.transfers import transfers

__all__ = ["convention_details"]


def convention_details(ws: Workspace, reg: Registry, row: ConventionRow) -> dict[str, Any]:
    """The convention, its documents, signatories with their state, its history and
    timeline, its hand-overs to the archive service, its amendments and terms in force."""
    signed = reg.signatures(row.id)
    signatories = []
    for sig in row.signatories:
        event = signed.get(str(sig.get("key", "")))
        signatories.append({**sig, "signed": event is not None,
                            "signed_at": event.at if event else None})
    events = reg.events(row.id)
    return {
        "convention": row.to_dict(),
        "documents": [d.to_dict() for d in reg.documents(row.id)],
        "signatories": signatories,
        "events": [e.to_dict() for e in events],
        "timeline": [s.to_dict() for s in timeline(events)],
        "transfers": [t.to_dict() for t in transfers(reg, row.id)],
        **consolidated(ws, reg, row),
    }
