"""The terms in force of a registered convention, read back from the archive.

The registry keeps a summary; the full terms are the normalised intake archived with each
version (``intake.json``, the validated record with its derived figures). Once an
amendment is signed, its record is the current terms (:func:`signed_amendment_record`; see
:mod:`.amendments`).
"""

from __future__ import annotations

import json
import logging
from datetime import date

from pydantic import ValidationError

from pipeline.core.errors import ArchiveError, StateError
from pipeline.core.i18n import _
from pipeline.core.workspace import Workspace
from pipeline.lifecycle.amendment_rows import amendments
from pipeline.records.archive import workspace_path
from pipeline.records.registry import ConventionRow, Registry
from schemas import Convention

log = logging.getLogger(__name__)

_DERIVED = frozenset(Convention.model_computed_fields)


def convention_from_json(data: bytes, where: str) -> Convention:
    """A :class:`Convention` from its canonical JSON (derived figures are dropped and
    computed again)."""
    try:
        raw = json.loads(data.decode("utf-8"))
        if not isinstance(raw, dict):
            raise ValueError("a JSON object is expected")
        return Convention.model_validate({k: v for k, v in raw.items() if k not in _DERIVED})
    except ValidationError as exc:
        fields = ", ".join(dict.fromkeys(".".join(str(p) for p in e["loc"]) or "-"
                                         for e in exc.errors()))
        raise ArchiveError(_("The archived record {where} does not fit the rules of its "
                             "type; fields at fault: {fields}.").format(
                                 where=where, fields=fields)) from exc
    except ValueError as exc:
        raise ArchiveError(_("The archived record {where} cannot be read: it is not a "
                             "JSON object.").format(where=where)) from exc


def require(reg: Registry, convention_id: str) -> ConventionRow:
    """The registered convention, else :class:`StateError`."""
    row = reg.get(convention_id)
    if row is None:
        raise StateError(f"No convention {convention_id} in the registry.")
    return row


def signed_amendment_record(ws: Workspace, reg: Registry, convention_id: str
                            ) -> Convention | None:
    """The record of the latest signed amendment of a convention, or None."""
    signed = [a for a in amendments(reg, convention_id) if a.status == "signed"]
    if not signed:
        return None
    aid = signed[-1].id
    docs = [d for d in reg.documents(convention_id)
            if d.relpath.rsplit("/", 1)[-1].startswith(f"{aid}-record")]
    if not docs:
        raise StateError(_("The record of amendment {id} is missing.").format(id=aid))
    return convention_from_json(workspace_path(ws, docs[-1].relpath).read_bytes(),
                                docs[-1].relpath)


def current_terms(ws: Workspace, reg: Registry, row: ConventionRow) -> Convention:
    """The terms in force: the latest signed amendment's record, else the archived intake
    of the current version."""
    amended = signed_amendment_record(ws, reg, row.id)
    if amended is not None:
        return amended
    docs = [d for d in reg.documents(row.id) if d.kind == "intake" and d.version == row.version]
    if not docs:
        raise StateError(f"{row.id} has no archived record for version {row.version}.")
    doc = docs[-1]
    return convention_from_json(workspace_path(ws, doc.relpath).read_bytes(), doc.relpath)


def status_date(reg: Registry, convention_id: str, status: str) -> date | None:
    """The ``on`` date of the last move to ``status`` (the event date when none given)."""
    found: date | None = None
    for event in reg.events(convention_id):
        if event.action == "status" and event.details.get("to") == status:
            on = event.details.get("on") or event.at[:10]
            try:
                found = date.fromisoformat(str(on))
            except ValueError:
                log.warning("unreadable date %r in event %s", on, event.seq)
    return found
