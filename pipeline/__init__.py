"""fiftyfifty as a library: the same calls the ``fiftyfifty`` command line makes.

The names below are the public surface (see ``docs/python-api.md``); each is imported
only when first used, so importing :mod:`pipeline` costs nothing. Results are plain
objects with a ``to_dict()`` for JSON; row problems are data (:class:`Report`), and
what stops a whole command raises a :class:`PipelineError` with a message for a clerk.

Example::

    from pathlib import Path
    import pipeline

    catalogue = pipeline.load_catalogue()
    report = pipeline.validate_files([Path("conventions/examples/skatepark.json")], catalogue)
    print(report.accepted, report.rejected)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = [
    "AuditReport",
    "Catalogue",
    "PipelineError",
    "Registry",
    "Report",
    "RunOptions",
    "RunSummary",
    "Workspace",
    "__version__",
    "init_project",
    "load_catalogue",
    "open_registry",
    "run_batch",
    "sign_convention",
    "validate_files",
    "verify_archive",
    "verify_convention",
    "verify_pdf",
]

_WHERE = {
    "AuditReport": "pipeline.records.audit",
    "Catalogue": "pipeline.catalogue.loader",
    "PipelineError": "pipeline.core.errors",
    "Registry": "pipeline.records.registry",
    "Report": "pipeline.validation.reports",
    "RunOptions": "pipeline.runner",
    "RunSummary": "pipeline.runner",
    "Workspace": "pipeline.core.workspace",
    "init_project": "pipeline.catalogue.project",
    "load_catalogue": "pipeline.api",
    "open_registry": "pipeline.api",
    "run_batch": "pipeline.runner",
    "sign_convention": "pipeline.signatures.workflow",
    "validate_files": "pipeline.api",
    "verify_archive": "pipeline.api",
    "verify_convention": "pipeline.signatures.convention_check",
    "verify_pdf": "pipeline.signatures.verify",
}

if TYPE_CHECKING:
    from pipeline.api import load_catalogue, open_registry, validate_files, verify_archive
    from pipeline.catalogue.loader import Catalogue
    from pipeline.catalogue.project import init_project
    from pipeline.core.errors import PipelineError
    from pipeline.core.workspace import Workspace
    from pipeline.records.audit import AuditReport
    from pipeline.records.registry import Registry
    from pipeline.runner import RunOptions, RunSummary, run_batch
    from pipeline.signatures.convention_check import verify_convention
    from pipeline.signatures.verify import verify_pdf
    from pipeline.signatures.workflow import sign_convention
    from pipeline.validation.reports import Report


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from importlib.metadata import version

        return version("fiftyfifty")
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'pipeline' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
