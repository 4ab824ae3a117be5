"""What every export reads: a registered convention with its validated data and files.

The registry row carries the summary; the full convention is the normalised intake
(``intake.json``, document kind ``intake``) archived beside the documents. It holds the
derived fields too (amounts, signatories…), which are dropped before it is validated
again, so that an edited or corrupt intake file is refused, never trusted.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from pipeline.core.errors import ArchiveError, StateError
from pipeline.core.files import sha256_file
from pipeline.core.i18n import _
from pipeline.core.workspace import Workspace
from pipeline.records.archive import workspace_path
from pipeline.records.registry import ConventionRow, DocumentRow, Registry
from schemas.convention import Convention

log = logging.getLogger(__name__)

SIGNED_STATUSES = frozenset({"signed", "works_started", "works_done", "terminated"})
"""Statuses of a convention that every party signed."""

_MAX_INTAKE = 5 * 1024 * 1024


@dataclass(frozen=True)
class Source:
    """One convention as the exports see it."""

    row: ConventionRow
    convention: Convention
    documents: tuple[DocumentRow, ...]
    """The registered files of the current version (and evidence of any version)."""

    @property
    def id(self) -> str:
        return self.row.id


def _strip_computed(data: dict[str, Any]) -> dict[str, Any]:
    computed = set(Convention.model_computed_fields)
    return {k: v for k, v in data.items() if k not in computed}


def load_convention(ws: Workspace, doc: DocumentRow) -> Convention:
    """Read and validate an archived ``intake.json`` after checking its SHA-256."""
    path = workspace_path(ws, doc.relpath)
    if not path.is_file():
        raise ArchiveError(_("{path}: the normalised intake is missing.").format(
            path=doc.relpath), hint=_("Run `fiftyfifty archive verify` to see what is wrong."))
    digest, size = sha256_file(path)
    if (digest, size) != (doc.sha256, doc.size) or size > _MAX_INTAKE:
        raise ArchiveError(_("{path}: the normalised intake no longer matches the registry.")
                           .format(path=doc.relpath),
                           hint=_("Run `fiftyfifty archive verify` to see what is wrong."))
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        return Convention.model_validate(_strip_computed(data))
    except (ValueError, ValidationError) as exc:
        raise ArchiveError(_("{path}: the normalised intake is unreadable ({error}).").format(
            path=doc.relpath, error=exc)) from exc


def current_documents(reg: Registry, row: ConventionRow) -> tuple[DocumentRow, ...]:
    """The files of the convention's current version, plus evidence of any version."""
    return tuple(d for d in reg.documents(row.id)
                 if d.version == row.version or d.kind in ("evidence", "evidence_json"))


def load_source(ws: Workspace, reg: Registry, row: ConventionRow) -> Source:
    """The convention ``row`` with its validated data and files."""
    docs = current_documents(reg, row)
    intake = next((d for d in reversed(docs) if d.kind == "intake"), None)
    if intake is None:
        raise StateError(_("{id} has no archived intake (status {status}).").format(
            id=row.id, status=row.status))
    return Source(row, load_convention(ws, intake), docs)


def select_rows(reg: Registry, *, ids: Sequence[str] = (), year: int | None = None,
                status: str | None = None) -> list[ConventionRow]:
    """Conventions chosen by number, by year of number, or by status (combined: all must
    hold). An unknown number is an error that names it."""
    if ids:
        rows: list[ConventionRow] = []
        for cid in dict.fromkeys(ids):
            row = reg.get(cid)
            if row is None:
                raise StateError(_("No convention {id} in the registry.").format(id=cid))
            rows.append(row)
    else:
        rows = reg.list(year=year)
    return [r for r in rows
            if (year is None or r.year == year) and (status is None or r.status == status)]


def load_sources(ws: Workspace, reg: Registry, rows: Iterable[ConventionRow]) -> list[Source]:
    """:func:`load_source` for each row."""
    return [load_source(ws, reg, row) for row in rows]


__all__ = ["SIGNED_STATUSES", "Source", "current_documents", "load_convention", "load_source",
           "load_sources", "select_rows"]
