"""The main job: validate, number, render, convert, stamp, add fields, archive, register.

Records stream in; accepted ones are numbered (registry claim) and rendered to DOCX in a
scratch folder; chunks of DOCX are converted by LibreOffice in a background thread while
the next chunk renders; each converted PDF is stamped, receives its empty signature fields
and is archived with its intake and DOCX. A LibreOffice is started as the run begins (its
start-up overlaps the reading and rendering of the first records), one per further worker
once the batch is more than a few records, and each serves every round.
A crash at any point leaves the record ``pending``; the next run resumes it (same number)
and nothing is produced twice."""

from __future__ import annotations

import fcntl
import io
import json
import logging
import math
import os
import queue
import shutil
import time
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from pipeline.catalogue.loader import Catalogue
from pipeline.core.clock import today as clock_today
from pipeline.core.errors import InputError, StateError
from pipeline.core.issues import Issue
from pipeline.core.workspace import Workspace
from pipeline.documents.convert import (
    ConvertResult,
    WarmStarts,
    convert_batch,
    find_soffice,
    stop_all_conversions,
    stop_orphans,
)
from pipeline.lifecycle.drafts import (
    draft_is_current,
    draft_label,
    get_draft,
    mark_numbered,
    store_draft,
)
from pipeline.records.archive import store_documents
from pipeline.records.registry import Claim, NewConvention, Registry
from pipeline.validation.outcome import RecordOutcome
from pipeline.validation.reports import Report
from pipeline.validation.validator import Validated, Validator, canonical_json, iter_validated
from schemas import Convention

log = logging.getLogger(__name__)

ACTOR = "fiftyfifty run"


@dataclass(frozen=True)
class RunOptions:
    """How a batch runs."""

    workspace: Workspace
    catalogue: Catalogue
    draft: bool = False
    """Produce review drafts: "PROJET" watermark, label ``PROJET-<reference>``, no number
    taken from the series, no signature field, files under ``<workspace>/drafts``."""
    as_new_version: bool = False
    """Accept content identical to an older version as a deliberate new version."""
    workers: int | None = None
    """LibreOffice processes (default: number of cores)."""
    chunk_size: int | None = None
    """Documents per conversion round (default: whatever is rendered when LibreOffice is
    free, at least one and at most 150 per worker)."""
    timeout: float = 60.0
    """Seconds a LibreOffice chunk may go without producing a PDF."""
    soffice: str | None = None
    actor: str = ACTOR
    """Who the registry's history names for the numbers and documents of this run."""


@dataclass(frozen=True)
class ConventionResult:
    """What became of one accepted record."""

    id: str
    reference: str
    version: int
    action: str
    """new, resume, new_version (documents produced), unchanged (already archived),
    older (identical to an older version: nothing done) or draft."""
    status: str
    pdf: str | None
    """The final PDF, relative to the workspace."""
    source: str
    row: int
    message: str = ""
    """Why nothing was done, for ``older`` (names the current version)."""


@dataclass
class RunSummary:
    """The outcome of a batch."""

    report: Report = field(default_factory=Report)
    conventions: list[ConventionResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.report.valid

    def to_dict(self) -> dict[str, Any]:
        data = self.report.to_dict()
        return {
            "ok": self.ok,
            "accepted": self.report.accepted,
            "rejected": self.report.rejected,
            "conventions": [c.__dict__ for c in self.conventions],
            "issues": data["issues"],
        }


@dataclass
class _Job:
    validated: Validated
    conv: Convention
    claim: Claim
    year: int
    docx: Path
    intake: bytes


Progress = Callable[[str, int], None]
"""Called with a stage name ("validated", "converted", "archived") and a count to add."""


def _new_convention(v: Validated, conv: Convention, year: int, number_format: str
                    ) -> NewConvention:
    a = conv.amounts
    return NewConvention(
        type_id=conv.convention_type, year=year, number_format=number_format,
        reference=v.reference, fingerprint=v.fingerprint, title=conv.title,
        holders=[{"kind": h.kind, "name": h.name} for h in conv.holders],
        commune_amount=a.commune_total, inkind_value=a.holders_inkind,
        start=conv.schedule.start, end=conv.schedule.end, commitment_end=conv.commitment_end,
        signatories=[s.model_dump() for s in conv.signatories],
    )


def _scratch(ws: Workspace) -> tuple[Path, int]:
    """A private scratch folder, held by an advisory lock for as long as this run lives.

    Scratch folders whose lock can be taken belong to runs that died (a killed process
    releases its locks at once, even before it is reaped): the converters they left
    running are stopped, then the folders are removed. A new folder takes its lock under
    a hidden name and only then appears as ``run-*``, so no other run sees it unlocked."""
    base = ws.root / "tmp"
    base.mkdir(mode=0o755, parents=True, exist_ok=True)
    for old in [*base.glob("run-*"), *base.glob(".new-run-*")]:
        try:
            fd = os.open(old / ".lock", os.O_RDWR)
        except FileNotFoundError:
            if old.name.startswith("run-") or _age(old) > 600:
                _discard_scratch(old)  # died before taking its lock
            continue
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            continue  # a live run
        finally:
            os.close(fd)
        _discard_scratch(old)
    name = f"run-{uuid.uuid4().hex[:12]}"
    hidden = base / f".new-{name}"
    hidden.mkdir()
    fd = os.open(hidden / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    path = hidden.rename(base / name)
    return path, fd


def _age(path: Path) -> float:
    try:
        return time.time() - path.stat().st_mtime
    except OSError:
        return 0.0


def _discard_scratch(folder: Path) -> None:
    if stopped := stop_orphans(folder):
        log.warning("stopped %d LibreOffice process group(s) left by an interrupted run",
                    stopped)
    shutil.rmtree(folder, ignore_errors=True)


def _low_space(folder: Path) -> str:
    """A hint when the disk holding ``folder`` is (nearly) full, else an empty string."""
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return ""
    if free >= 32 * 1024 * 1024:
        return ""
    return f"; the disk is full or nearly full (only {free // 1024} kB free): free some space"


SPREAD_FROM = 8
"""Records read before a second LibreOffice is started: a smaller batch is converted by
one, while the other core does the Python work (a LibreOffice's start costs more than it
would save on a few documents)."""


class BatchRunner:
    """Runs one batch; see :func:`run_batch`."""

    def __init__(self, options: RunOptions, progress: Progress | None = None) -> None:
        self.o = options
        self.progress = progress or (lambda _stage, _n: None)
        self.summary = RunSummary()
        self.today: date = clock_today()
        self.validator = Validator(options.catalogue)
        self.workers = max(1, options.workers or os.cpu_count() or 1)
        # LibreOffice, started ahead and kept running, costs no start-up per call: a round
        # goes as soon as LibreOffice is free and a document per worker is rendered (the
        # first one, two per worker, waits for LibreOffice to be up); at most 150 per worker.
        size = options.chunk_size
        self.first_round = size or 2 * self.workers
        self.next_round = size or self.workers
        self.max_round = size or 150 * self.workers
        self.started = 0
        """LibreOffice processes started so far (the first at once, the others from
        :data:`SPREAD_FROM` documents on)."""
        self._ready: queue.SimpleQueue[tuple[_Job, ConvertResult]] = queue.SimpleQueue()

    def run(self, inputs: Iterable[Path]) -> RunSummary:
        soffice = find_soffice(self.o.soffice)  # fail before numbering anything
        ws = self.o.workspace
        ws.root.mkdir(mode=0o755, parents=True, exist_ok=True)
        scratch, lock = _scratch(ws)
        warm = WarmStarts(soffice)
        order: dict[tuple[str, int], int] = {}
        try:
            self._start_workers(1, scratch, warm)
            with Registry.open(ws.registry_path) as reg, \
                    ThreadPoolExecutor(1, thread_name_prefix="convert") as pool:
                self.reg = reg
                try:
                    self._produce(inputs, pool, scratch, warm, order)
                except BaseException:
                    # Ctrl-C or a fatal error: stop LibreOffice now rather than wait for it.
                    stop_all_conversions()
                    raise
        finally:
            warm.close()
            shutil.rmtree(scratch, ignore_errors=True)
            os.close(lock)
        # Documents are finished as their conversion ends; report them in input order.
        def place(source: str, row: int) -> int:
            return order.get((source, row), len(order))

        self.summary.report.outcomes.sort(key=lambda o: place(o.source, o.row))
        self.summary.conventions.sort(key=lambda c: place(c.source, c.row))
        return self.summary

    def _produce(self, inputs: Iterable[Path], pool: ThreadPoolExecutor, scratch: Path,
                 warm: WarmStarts, order: dict[tuple[str, int], int]) -> None:
        """Validate, number and render the records, converting rounds of them meanwhile
        (one round at a time; rendering stays at most a round ahead)."""
        batch: Future[list[ConvertResult]] | None = None
        pending: list[_Job] = []
        threshold = self.first_round
        submitted = False
        for v in iter_validated(inputs, self.validator):
            order.setdefault((v.raw.source, v.raw.row), len(order))
            self.progress("validated", 1)
            job = self._accept(v, scratch)
            self._finish_ready(scratch)
            if job is not None:
                pending.append(job)
                if len(order) >= SPREAD_FROM:
                    self._start_workers(self.workers, scratch, warm)
            if batch is not None and (batch.done() or len(pending) >= self.max_round):
                self._await(batch, scratch)  # rendering stays at most a round ahead
                batch = None
            if batch is None and len(pending) >= threshold and (
                    submitted or self._first_round_due(pending, warm)):
                batch = self._submit(pool, pending, scratch, warm)
                threshold = self.next_round
                submitted = True
                pending = []
        while batch is not None or pending:
            if batch is not None:
                self._await(batch, scratch)
            batch = self._submit(pool, pending, scratch, warm) if pending else None
            pending = []
        self._finish_ready(scratch)

    def _start_workers(self, count: int, scratch: Path, warm: WarmStarts) -> None:
        """Start LibreOffice on the profiles of the workers up to ``count``."""
        while self.started < min(count, self.workers):
            warm.start(scratch / "profiles" / f"worker-{self.started}")
            self.started += 1

    def _first_round_due(self, pending: list[_Job], warm: WarmStarts) -> bool:
        """The first round waits for LibreOffice to be up (a call made sooner would only
        wait for it) and takes every document rendered meanwhile: a small batch goes in one
        round instead of two. A given chunk size sends rounds of that size at once."""
        return bool(self.o.chunk_size) or len(pending) >= self.max_round or warm.settled()

    def _submit(self, pool: ThreadPoolExecutor, jobs: list[_Job], scratch: Path,
                warm: WarmStarts) -> Future[list[ConvertResult]]:
        """Queue ``jobs`` for conversion, one ``soffice`` call per worker; each result
        comes back through the ready queue as soon as LibreOffice has moved on to the next
        document, for the main thread to finish while the call goes on."""
        by_source = {j.docx.absolute(): j for j in jobs}
        ready = self._ready

        def arrived(result: ConvertResult) -> None:
            ready.put((by_source[result.source], result))

        chunk = self.o.chunk_size or math.ceil(len(jobs) / self.started)
        future = pool.submit(
            convert_batch, [j.docx for j in jobs], scratch / "pdf",
            workers=self.started, chunk_size=chunk, timeout=self.o.timeout,
            soffice=self.o.soffice, on_progress=arrived, profiles=scratch / "profiles",
            warm=warm)
        # While LibreOffice works, load what stamping needs (half a second of imports,
        # else spent once the first document is back).
        import pipeline.documents.pdf.stamp  # noqa: F401
        return future

    # ---------------------------------------------------------------- per record

    def _reject(self, v: Validated, issues: list[Issue]) -> None:
        self.summary.report.add(RecordOutcome(v.raw.source, v.raw.row, v.reference or None,
                                              False, issues, v.raw.flat or (v.raw.data or {})))

    def _accept(self, v: Validated, scratch: Path) -> _Job | None:
        conv = v.convention
        if conv is None:
            self.summary.report.add(v.outcome())
            return None
        ctype = self.o.catalogue.get(conv.convention_type)
        year = self.today.year
        if self.o.draft:
            return self._accept_draft(v, conv, scratch)
        claim = self.reg.claim(_new_convention(v, conv, year, ctype.number_format),
                               actor=self.o.actor, as_new_version=self.o.as_new_version)
        if claim.action == "refused":
            self._reject(v, [*v.issues, Issue(v.raw.source, v.raw.row, "reference",
                                              claim.message, v.reference,
                                              code="run.reference-conflict")])
            return None
        if claim.action == "new":
            mark_numbered(self.reg, conv.convention_type, v.reference, claim.convention_id)
        if not claim.must_produce:
            row = self.reg.get(claim.convention_id)
            pdf = self.reg.latest_document(claim.convention_id, ["signed", "pdf"])
            self.summary.report.add(RecordOutcome(v.raw.source, v.raw.row, v.reference, True,
                                                  v.issues))
            self.summary.conventions.append(ConventionResult(
                claim.convention_id, v.reference, claim.version, claim.action,
                row.status if row else claim.status, pdf.relpath if pdf else None,
                v.raw.source, v.raw.row, claim.message if claim.action == "older" else ""))
            return None
        return self._render(v, conv, claim, year, scratch)

    def _accept_draft(self, v: Validated, conv: Convention, scratch: Path) -> _Job | None:
        """A review draft: labelled, outside the series, produced again only if changed."""
        label = draft_label(v.reference)
        old = get_draft(self.reg, conv.convention_type, v.reference)
        if old is not None and draft_is_current(self.o.workspace, old, v.fingerprint):
            self.summary.report.add(RecordOutcome(v.raw.source, v.raw.row, v.reference, True,
                                                  v.issues))
            self.summary.conventions.append(ConventionResult(
                label, v.reference, old.revision, "unchanged", "draft", old.relpath,
                v.raw.source, v.raw.row))
            return None
        claim = Claim("new", label, 1, "draft", f"Draft {label}.")
        return self._render(v, conv, claim, self.today.year, scratch)

    def _render(self, v: Validated, conv: Convention, claim: Claim, year: int,
                scratch: Path) -> _Job:
        from pipeline.documents.render import render_docx  # after LibreOffice is started

        ctype = self.o.catalogue.get(conv.convention_type)
        stem = f"{claim.convention_id}_v{claim.version}"
        docx = scratch / "docx" / f"{stem}.docx"
        docx.parent.mkdir(exist_ok=True)
        render_docx(conv, self.o.catalogue.template_path(ctype), docx,
                    number=claim.convention_id, fingerprint=v.fingerprint,
                    version=claim.version, today=self.today, draft=self.o.draft)
        intake = (json.dumps(json.loads(canonical_json(conv)), ensure_ascii=False, indent=2)
                  + "\n").encode("utf-8")
        return _Job(v, conv, claim, year, docx, intake)

    # ---------------------------------------------------------------- chunks

    def _await(self, batch: Future[list[ConvertResult]], scratch: Path) -> None:
        """Finish documents as they arrive until ``batch`` is converted and finished."""
        while not batch.done():
            try:
                job, result = self._ready.get(timeout=0.1)
            except queue.Empty:
                continue
            self._finish(job, result, scratch)
        batch.result()  # a fatal conversion error surfaces here
        self._finish_ready(scratch)

    def _finish_ready(self, scratch: Path) -> None:
        """Finish the documents already converted, without waiting."""
        while True:
            try:
                job, result = self._ready.get_nowait()
            except queue.Empty:
                return
            self._finish(job, result, scratch)

    def _stamp(self, job: _Job, pdf: Path) -> bytes:
        """The converted PDF stamped, with its empty signature fields.

        LibreOffice's output is well formed, so pypdf first reads it strictly (it then
        skips checking every object's offset, a third of its reading time); a quirk it
        refuses sends it back to its tolerant reading."""
        from pypdf import PdfReader
        from pypdf.errors import PyPdfError

        from pipeline.documents.pdf.sigfields import fields_from_anchors, find_anchors
        from pipeline.documents.pdf.stamp import stamp_bytes

        converted = pdf.read_bytes()
        keys = [s.key for s in job.conv.signatories]
        for strict in (True, False):
            try:
                reader = PdfReader(io.BytesIO(converted), strict=strict)
                # A draft gets no signature field: it cannot be signed.
                specs = [] if self.o.draft else fields_from_anchors(
                    find_anchors(reader, keys), keys)
                return stamp_bytes(converted, number=job.claim.convention_id,
                                   fingerprint=job.validated.fingerprint, draft=self.o.draft,
                                   name=pdf.name, reader=reader, fields=specs)
            except (PyPdfError, InputError) as exc:
                if not strict:
                    raise
                log.info("%s: strict PDF reading refused it (%s); reading it tolerantly",
                         pdf.name, exc)
        raise AssertionError("unreachable")

    def _finish(self, job: _Job, result: ConvertResult, scratch: Path) -> None:
        from pypdf.errors import PyPdfError

        v, claim = job.validated, job.claim
        self.progress("converted", 1)
        if not result.ok or result.pdf is None:
            self._reject(v, [*v.issues, Issue(
                v.raw.source, v.raw.row, "", f"PDF conversion failed for {claim.convention_id}"
                f": {result.error or 'unknown error'}{_low_space(scratch)} (run again to retry)",
                code="run.failed")])
            return
        try:
            # In memory, one read of the converted PDF: the anchors sit where LibreOffice
            # put them (the stamp does not move them), then the stamp and the empty
            # signature fields are one incremental update; only the final bytes reach
            # the disk.
            final = self._stamp(job, result.pdf)
        except (InputError, StateError, PyPdfError, ValueError) as exc:
            # This document only: the record stays pending and a rerun retries it.
            self._reject(v, [*v.issues, Issue(
                v.raw.source, v.raw.row, "", f"stamping {claim.convention_id} failed: "
                f"{getattr(exc, 'msg', exc)} (run again to retry)", code="run.failed")])
            return
        if self.o.draft:
            self._finish_draft(job, final, result.pdf)
            return
        stored = store_documents(
            self.o.workspace, self.reg, claim.convention_id, job.year, claim.version,
            [("intake.json", "intake", job.intake),
             (f"{claim.convention_id}.docx", "docx", job.docx),
             (f"{claim.convention_id}.pdf", "pdf", final)],
            actor=self.o.actor)
        for p in (result.pdf, job.docx):
            p.unlink(missing_ok=True)
        pdf = next((s.relpath for s in stored if s.kind == "pdf"), None)
        self.summary.report.add(RecordOutcome(v.raw.source, v.raw.row, v.reference, True,
                                              v.issues))
        self.summary.conventions.append(ConventionResult(
            claim.convention_id, v.reference, claim.version, claim.action, "generated", pdf,
            v.raw.source, v.raw.row))
        self.progress("archived", 1)


    def _finish_draft(self, job: _Job, final: bytes, converted: Path) -> None:
        v, conv = job.validated, job.conv
        draft = store_draft(
            self.o.workspace, self.reg, type_id=conv.convention_type, reference=v.reference,
            fingerprint=v.fingerprint, title=conv.title,
            holders=[{"kind": h.kind, "name": h.name} for h in conv.holders],
            pdf=final, docx=job.docx.read_bytes())
        for p in (converted, job.docx):
            p.unlink(missing_ok=True)
        self.summary.report.add(RecordOutcome(v.raw.source, v.raw.row, v.reference, True,
                                              v.issues))
        self.summary.conventions.append(ConventionResult(
            draft.label, v.reference, draft.revision, "draft", "draft", draft.relpath,
            v.raw.source, v.raw.row))
        self.progress("archived", 1)


def run_batch(inputs: Iterable[Path], options: RunOptions,
              progress: Progress | None = None) -> RunSummary:
    """Run the whole job on ``inputs``; row problems are in the summary's report."""
    return BatchRunner(options, progress).run(inputs)
