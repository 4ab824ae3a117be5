"""Amendments (avenants): numbered ``<ID>_A1``, ``_A2``… (see :func:`signed_amendment_record`)."""

from __future__ import annotations

from pipeline.core.workspace import Workspace
from pipeline.records.registry import Registry
from schemas import Convention


def signed_amendment_record(ws: Workspace, reg: Registry, convention_id: str
                            ) -> Convention | None:
    """The record of the latest signed amendment of a convention, or None."""
    return None
