"""Batches imported through the back-office: keep the upload, validate it, run it later.

The same steps as ``fiftyfifty validate`` then ``fiftyfifty run``, for a file that arrives
as bytes: :func:`stage_upload` stores it in ``<workspace>/imports/<id>/`` under a safe
name, validates it and writes the report (CSV for Excel, JSON for the page), then records
a job (:mod:`pipeline.records.registry.jobs`); :func:`run_import` runs the batch of that job with
:func:`pipeline.runner.run_batch`. Both write an event with the clerk's login as actor.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeline.catalogue.loader import Catalogue
from pipeline.core.errors import InputError, PipelineError, RegistryError
from pipeline.core.files import write_atomic
from pipeline.core.workspace import Workspace
from pipeline.intake import READERS
from pipeline.records.registry import Registry
from pipeline.records.registry.jobs import Job, JobCounts, create_job, finish_job, save_progress
from pipeline.runner import RunOptions, RunSummary, run_batch
from pipeline.validation.reports import write_report
from pipeline.validation.validator import validate_files

__all__ = ["IMPORTS_DIR", "REPORT_CSV", "REPORT_JSON", "RUN_REPORT_CSV", "ImportFiles",
           "files_of", "run_import", "safe_upload_name", "stage_upload"]

log = logging.getLogger(__name__)

IMPORTS_DIR = "imports"
REPORT_CSV = "validation.csv"
REPORT_JSON = "validation.json"
RUN_REPORT_CSV = "run-report.csv"
EVENT_UPLOADED = "import_uploaded"
EVENT_STARTED = "import_started"
EVENT_FINISHED = "import_finished"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class ImportFiles:
    """Where one import's files are."""

    folder: Path
    source: Path
    report_csv: Path
    report_json: Path
    run_report_csv: Path


def safe_upload_name(filename: str) -> str:
    """A harmless file name keeping the extension (.csv, .xlsx, .json, .jsonl), else
    :class:`InputError`."""
    base = Path((filename or "").replace("\\", "/")).name
    suffix = Path(base).suffix.lower()
    if suffix not in READERS:
        raise InputError(f"{base or 'The file'}: unsupported type; send a .xlsx, .csv or "
                         ".json file (the intake form).")
    stem = _UNSAFE.sub("_", Path(base).stem).strip("._-")[:80] or "import"
    return stem + suffix


def files_of(ws: Workspace, job: Job) -> ImportFiles:
    """The files of a job (its folder is checked to stay inside the workspace)."""
    folder = (ws.root / job.folder).resolve()
    if not folder.is_relative_to((ws.root / IMPORTS_DIR).resolve()):
        raise InputError(f"Import {job.id} points outside the workspace.")
    return ImportFiles(folder, folder / job.source_name, folder / REPORT_CSV,
                       folder / REPORT_JSON, folder / RUN_REPORT_CSV)


def stage_upload(ws: Workspace, reg: Registry, *, filename: str, data: bytes, login: str,
                 catalogue: Catalogue) -> Job:
    """Store an uploaded intake file, validate it, write its reports and record the job."""
    name = safe_upload_name(filename)
    if not data:
        raise InputError(f"{name}: the file is empty.")
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    rel = f"{IMPORTS_DIR}/{stamp}-{secrets.token_hex(4)}"
    folder = ws.root / rel
    folder.mkdir(parents=True, mode=0o750)
    source = folder / name
    write_atomic(source, data)
    report = validate_files([source], catalogue, workers=1)
    write_report(report, folder / REPORT_CSV)
    write_report(report, folder / REPORT_JSON)
    stats = json.loads((folder / REPORT_JSON).read_text(encoding="utf-8"))["stats"]
    counts = JobCounts(int(stats["records"]), int(stats["accepted"]), int(stats["rejected"]),
                       int(stats["errors"]), int(stats["warnings"]))
    job = create_job(reg, login=login, source_name=name, folder=rel, counts=counts)
    reg.record_event(None, EVENT_UPLOADED, login, {
        "import": job.id, "file": name, "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data), "records": counts.records, "accepted": counts.accepted,
        "rejected": counts.rejected})
    log.info("import %d staged: %d records, %d accepted", job.id, counts.records,
             counts.accepted)
    return job


def report_issues(files: ImportFiles, limit: int = 1000) -> tuple[list[dict[str, Any]], int]:
    """The validation report's issues (at most ``limit``) and how many there are."""
    data = json.loads(files.report_json.read_text(encoding="utf-8"))
    issues: list[dict[str, Any]] = data.get("issues", [])
    return issues[:limit], len(issues)


class _Progress:
    """Counts what the runner reports and saves it, at most every ``every`` seconds."""

    def __init__(self, ws: Workspace, job_id: int, every: float = 0.5) -> None:
        self.ws, self.job_id, self.every = ws, job_id, every
        self.counts = {"validated": 0, "converted": 0, "archived": 0}
        self._saved = 0.0

    def __call__(self, stage: str, n: int) -> None:
        self.counts[stage] = self.counts.get(stage, 0) + n
        if time.monotonic() - self._saved >= self.every:
            self.save()

    def save(self) -> None:
        self._saved = time.monotonic()
        try:
            with Registry.open(self.ws.registry_path) as reg:
                save_progress(reg, self.job_id, self.counts)
        except RegistryError as exc:  # progress is a courtesy: never stop the batch for it
            log.warning("progress of import %d not saved: %s", self.job_id, exc)


def run_import(ws: Workspace, job: Job, catalogue: Catalogue, *,
               soffice: str | None = None) -> Job:
    """Run a claimed (``running``) job to its end; a fatal error marks it failed."""
    files = files_of(ws, job)
    progress = _Progress(ws, job.id)
    with Registry.open(ws.registry_path) as reg:
        reg.record_event(None, EVENT_STARTED, job.login, {"import": job.id,
                                                          "file": job.source_name})
    summary: RunSummary | None = None
    error: str | None = None
    try:
        summary = run_batch([files.source], RunOptions(ws, catalogue, soffice=soffice,
                                                       actor=job.login), progress)
        write_report(summary.report, files.run_report_csv)
    except PipelineError as exc:
        error = str(exc)
        log.warning("import %d failed: %s", job.id, exc)
    except Exception as exc:  # the worker must survive anything a batch throws
        log.exception("import %d crashed", job.id)
        error = f"unexpected failure ({type(exc).__name__}: {exc})"
    with Registry.open(ws.registry_path) as reg:
        done = finish_job(reg, job.id, progress=progress.counts,
                          summary=summary.to_dict() if summary else None, error=error)
        reg.record_event(None, EVENT_FINISHED, job.login, {
            "import": job.id, "ok": error is None,
            "accepted": summary.report.accepted if summary else 0,
            "rejected": summary.report.rejected if summary else 0,
            "conventions": [c.id for c in summary.conventions] if summary else []})
    return done
