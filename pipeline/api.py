"""Conveniences of the public API that take plain paths and defaults (see :mod:`pipeline`)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from pipeline.catalogue.loader import Catalogue
from pipeline.core.workspace import Workspace
from pipeline.records.audit import AuditReport
from pipeline.records.audit import verify_archive as _verify_archive
from pipeline.records.registry import Registry
from pipeline.validation.reports import Report
from pipeline.validation.validator import validate_files as _validate_files

__all__ = ["load_catalogue", "open_registry", "validate_files", "verify_archive"]


def load_catalogue(folder: str | os.PathLike[str] | None = None) -> Catalogue:
    """The convention types and commune profile of ``folder`` (a ``conventions/`` folder),
    else of the project folder in use, else the packaged defaults."""
    return Catalogue.load(folder)


def validate_files(paths: Iterable[str | os.PathLike[str]],
                   catalogue: Catalogue | None = None, *, workers: int | None = None) -> Report:
    """Check intake files (JSON, CSV, XLSX) without producing anything; the report lists
    every record's outcome and issues (``report.valid``, ``report.to_dict()``)."""
    return _validate_files([Path(p) for p in paths], catalogue or Catalogue.load(),
                           workers=workers)


def open_registry(workspace: Workspace | str | os.PathLike[str] | None = None, *,
                  create: bool = False) -> Registry:
    """The registry of a workspace (a context manager: ``with open_registry(ws) as reg``)."""
    ws = workspace if isinstance(workspace, Workspace) else Workspace.resolve(workspace)
    return Registry.open(ws.registry_path, create=create)


def verify_archive(workspace: Workspace | str | os.PathLike[str] | None = None) -> AuditReport:
    """Recompute every hash, check every file and the event chain (``archive verify``)."""
    ws = workspace if isinstance(workspace, Workspace) else Workspace.resolve(workspace)
    return _verify_archive(ws)
