"""The conventions registry: SQLite numbering, statuses, documents and a hash-chained log.

Public API (everything else in this package is private)::

    with Registry.open(ws.registry_path) as reg:
        claim = reg.claim(NewConvention(...), actor="fiftyfifty")
        reg.add_document(claim.convention_id, "pdf", claim.version, relpath, sha256, size)
        reg.set_status(claim.convention_id, "generated", actor="fiftyfifty")
"""

from __future__ import annotations

from pipeline.records.registry.conventions import Registry, format_number
from pipeline.records.registry.db import MIGRATIONS, HeldOpen, hold_open
from pipeline.records.registry.events import GENESIS, ChainBreak, ChainCheck, verify_chain
from pipeline.records.registry.export import EXPORT_COLUMNS, export_csv, export_json
from pipeline.records.registry.models import (
    DOCUMENT_KINDS,
    EVENT_ALLOCATED,
    EVENT_AMENDMENT,
    EVENT_CHECK,
    EVENT_DOCUMENT,
    EVENT_NEW_VERSION,
    EVENT_SIGNED,
    EVENT_STATUS,
    SIGNED_STATUSES,
    STATUSES,
    SUMMARY_FIELDS,
    TRANSITIONS,
    Claim,
    ClaimAction,
    ConventionRow,
    DocumentKind,
    DocumentRow,
    EventRow,
    NewConvention,
    Status,
    is_valid_convention_id,
)
from pipeline.records.registry.store import RegistryStore, open_store

__all__ = [
    "DOCUMENT_KINDS",
    "EVENT_ALLOCATED",
    "EVENT_AMENDMENT",
    "EVENT_CHECK",
    "EVENT_DOCUMENT",
    "EVENT_NEW_VERSION",
    "EVENT_SIGNED",
    "EVENT_STATUS",
    "EXPORT_COLUMNS",
    "GENESIS",
    "MIGRATIONS",
    "SIGNED_STATUSES",
    "STATUSES",
    "SUMMARY_FIELDS",
    "TRANSITIONS",
    "ChainBreak",
    "ChainCheck",
    "Claim",
    "ClaimAction",
    "ConventionRow",
    "DocumentKind",
    "DocumentRow",
    "EventRow",
    "HeldOpen",
    "NewConvention",
    "Registry",
    "RegistryStore",
    "Status",
    "export_csv",
    "export_json",
    "format_number",
    "hold_open",
    "is_valid_convention_id",
    "open_store",
    "verify_chain",
]
