"""DOCX to PDF(/A-2b) conversion with a pool of headless LibreOffice processes.

One ``soffice --convert-to`` call converts a whole chunk of documents, which amortises
LibreOffice's start-up; one call runs per worker, each with its own user profile so that
the calls do not hand their work to one another. ``soffice`` exits 0 even when a document
failed, so every PDF is checked (present, complete, ``%PDF-`` header, at least one page).

A chunk that stops making progress for ``timeout`` seconds, or that crashes, is killed as
a whole process group; its documents without a valid PDF are retried in smaller chunks
(the suspect alone, the rest halved) until a bad document stands alone and is reported
failed, while every other document converts. No ``soffice`` outlives a batch: every
process is tracked and its group killed in a ``finally`` block, at exit and on SIGTERM;
after a SIGKILL, the next run finds the orphans by their output folder and stops them.

Modules: ``_checks`` (finding LibreOffice, checking inputs and PDFs), ``_process`` (one
``soffice`` call under a watchdog, process-group bookkeeping), ``_batch`` (the pool), ``_warm``
(LibreOffice started ahead of its first call).
"""

from pipeline.documents.convert._batch import (
    DEFAULT_TIMEOUT,
    MAX_DEFAULT_CHUNK,
    ConvertResult,
    convert_batch,
    default_chunk_size,
    pdf_filter,
)
from pipeline.documents.convert._checks import (
    ENV_SOFFICE,
    find_soffice,
    pdf_page_count,
    pdfa_conformance,
)
from pipeline.documents.convert._process import (
    stop_all_conversions,
    stop_orphans,
    terminate_on_sigterm,
)
from pipeline.documents.convert._warm import WarmStarts

__all__ = [
    "DEFAULT_TIMEOUT",
    "ENV_SOFFICE",
    "MAX_DEFAULT_CHUNK",
    "ConvertResult",
    "WarmStarts",
    "convert_batch",
    "default_chunk_size",
    "find_soffice",
    "pdf_filter",
    "pdf_page_count",
    "pdfa_conformance",
    "stop_all_conversions",
    "stop_orphans",
    "terminate_on_sigterm",
]
