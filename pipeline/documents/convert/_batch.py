"""The conversion pool: chunks of documents, one ``soffice`` per worker, retries."""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from queue import Empty, SimpleQueue

from pipeline.core.errors import ConfigError, ConverterError
from pipeline.documents.convert._checks import docx_problem, find_soffice, pdf_page_count
from pipeline.documents.convert._process import ProcessTracker, run_soffice, terminate_on_sigterm
from pipeline.documents.convert._warm import WarmStarts

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 60.0
"""Seconds a chunk may go without producing a PDF before it is killed."""
MAX_DEFAULT_CHUNK = 50
"""Upper bound of the default chunk size."""



def pdf_filter(pdfa: bool = True) -> str:
    """The ``--convert-to`` argument: PDF/A-2b (or plain PDF), Word bookmarks exported as
    named destinations (the signature anchors, see :mod:`pipeline.documents.pdf.anchors`)."""
    options: dict[str, dict[str, str]] = {
        "ExportBookmarksToPDFDestination": {"type": "boolean", "value": "true"}}
    if pdfa:
        options["SelectPdfVersion"] = {"type": "long", "value": "2"}
    return "pdf:writer_pdf_Export:" + json.dumps(options, separators=(",", ":"))


@dataclass(frozen=True)
class ConvertResult:
    """What became of one input document."""

    source: Path
    """The DOCX given to :func:`convert_batch` (made absolute)."""
    pdf: Path | None
    """The PDF written in the output folder, or ``None`` when the conversion failed."""
    ok: bool
    """``True`` when a valid PDF was written."""
    pages: int
    """Number of pages of the PDF (0 on failure)."""
    error: str | None
    """Why the conversion failed, in plain words; ``None`` on success."""


def default_chunk_size(count: int, workers: int) -> int:
    """Equal chunks, a whole number of them per worker, none above ``MAX_DEFAULT_CHUNK``.

    A small batch gets one chunk per worker (LibreOffice starts once per worker); a large
    one gets rounds of chunks of at most ``MAX_DEFAULT_CHUNK`` documents.
    """
    lanes = max(1, workers)
    rounds = max(1, math.ceil(count / (lanes * MAX_DEFAULT_CHUNK)))
    return max(1, math.ceil(count / (lanes * rounds)))


def _split(pending: list[int]) -> list[list[int]]:
    """Retry plan after a hang or crash: the first unconverted document alone, the rest halved.

    LibreOffice converts in command-line order, so the first document without a PDF is the
    likely culprit; halving the rest still isolates it if that guess is wrong.
    """
    first, rest = pending[:1], pending[1:]
    half = (len(rest) + 1) // 2
    return [part for part in (first, rest[:half], rest[half:]) if part]


@dataclass(frozen=True)
class _Outcome:
    """What one chunk attempt settled, and what it leaves to retry."""

    done: dict[int, ConvertResult]
    retry: list[list[int]]


class _Converter:
    """One batch: its inputs, staging folder, worker profiles and live processes."""

    def __init__(self, sources: list[Path], out_dir: Path, soffice: str, pdfa: bool,
                 timeout: float, profiles: Path | None = None,
                 warm: WarmStarts | None = None) -> None:
        self.sources = sources
        self.warm = warm
        self.out_dir = out_dir
        self.soffice = soffice
        self.filter = pdf_filter(pdfa)
        self.timeout = timeout
        self.tracker = ProcessTracker()
        # Staging next to the outputs, so that a checked PDF is moved in by a rename.
        self.staging = Path(tempfile.mkdtemp(prefix=".fiftyfifty-convert-", dir=out_dir))
        # Profiles given by the caller outlive the batch: the next batch skips the first
        # start of LibreOffice (a few seconds per profile spent creating it).
        self.own_profiles = profiles is None
        self.profiles = (Path(tempfile.mkdtemp(prefix="fiftyfifty-lo-profiles-"))
                         if profiles is None else profiles)
        self._attempts = 0
        self._lock = threading.Lock()
        self.stream: Callable[[int, ConvertResult], None] = lambda _index, _result: None
        """Told of each document converted before its chunk ends (from a worker thread)."""

    def close(self) -> None:
        """Kill what still runs and remove the staging folder and the profiles."""
        self.tracker.stop_all()
        shutil.rmtree(self.staging, ignore_errors=True)
        if self.own_profiles:
            shutil.rmtree(self.profiles, ignore_errors=True)

    def run_chunk(self, chunk: list[int], slot: int) -> _Outcome:
        """Convert ``chunk`` (indices into ``sources``) with the profile of worker ``slot``."""
        with self._lock:
            self._attempts += 1
            outdir = self.staging / f"attempt-{self._attempts}"
        outdir.mkdir()
        profile = self.profiles / f"worker-{slot}"
        if self.warm is not None:
            self.warm.before_call(profile)
        argv = [
            self.soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless",
            "--norestore", "--nologo", "--infilter=MS Word 2007 XML",
            "--convert-to", self.filter, "--outdir", str(outdir),
            *(str(self.sources[i]) for i in chunk),
        ]
        by_name = {f"{self.sources[i].stem}.pdf": i for i in chunk}
        done: dict[int, ConvertResult] = {}

        def early(produced: Path) -> None:
            # A document LibreOffice is done with, while it converts the next ones: kept
            # and handed on now, so the caller's work on it overlaps the conversion.
            index = by_name.get(produced.name)
            if index is None or index in done:
                return
            pages, problem = pdf_page_count(produced)
            if problem is None:
                done[index] = self._keep(self.sources[index], produced, pages)
                self.stream(index, done[index])

        run = run_soffice(self.tracker, argv, outdir, len(chunk), self.timeout, early)
        pending: list[int] = []
        for index in chunk:
            if index in done:
                continue
            source = self.sources[index]
            produced = outdir / f"{source.stem}.pdf"
            pages, problem = pdf_page_count(produced)
            if problem is None:
                done[index] = self._keep(source, produced, pages)
            elif run.normal_exit or len(chunk) == 1:
                reason = problem if run.normal_exit else run.failure
                if len(chunk) == 1 and run.errors:
                    reason += f" ({run.errors[-1]})"
                done[index] = ConvertResult(source, None, False, 0,
                                            f"LibreOffice could not convert it: {reason}")
            else:
                pending.append(index)
        if pending:
            log.info("LibreOffice stopped early (%s); %d document(s) to retry in smaller calls",
                     run.failure, len(pending))
        if not run.normal_exit:
            # A killed profile may be left locked or half-written: the next call starts afresh.
            shutil.rmtree(profile, ignore_errors=True)
            if self.warm is not None:
                self.warm.restart(profile)  # it may be the one stuck on the document
        shutil.rmtree(outdir, ignore_errors=True)
        outdir.with_suffix(".log").unlink(missing_ok=True)
        return _Outcome(done, _split(pending) if pending else [])

    def _keep(self, source: Path, produced: Path, pages: int) -> ConvertResult:
        target = self.out_dir / produced.name
        try:
            os.replace(produced, target)
        except OSError as exc:
            return ConvertResult(source, None, False, 0, f"the PDF cannot be saved: {exc}")
        return ConvertResult(source, target, True, pages, None)


def _check_names(sources: list[Path]) -> None:
    seen: dict[str, Path] = {}
    for source in sources:
        other = seen.setdefault(source.stem, source)
        if other != source:
            raise ConverterError(f"Two documents would produce the same PDF name "
                                 f"{source.stem}.pdf: {other} and {source}")


def convert_batch(
    docx_paths: Sequence[Path],
    out_dir: Path,
    *,
    workers: int | None = None,
    chunk_size: int | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    soffice: str | None = None,
    pdfa: bool = True,
    on_progress: Callable[[ConvertResult], None] | None = None,
    profiles: Path | None = None,
    warm: WarmStarts | None = None,
) -> list[ConvertResult]:
    """Convert DOCX files to PDF (PDF/A-2b unless ``pdfa`` is false) into ``out_dir``.

    Each PDF is named after its source (``X.docx`` gives ``out_dir/X.pdf``). Returns one
    :class:`ConvertResult` per input, in input order; a document that cannot be converted
    is a failed result, never an exception. ``workers`` defaults to the number of CPUs,
    ``chunk_size`` to :func:`default_chunk_size`. ``timeout`` is the time a chunk may go
    without producing a PDF (twice that for its first one, start-up included).
    ``on_progress`` is called in the caller's thread for each settled document, as soon
    as LibreOffice has moved on to the next one (or its chunk ended); whatever it raises
    stops the batch, after every ``soffice`` is killed.
    ``profiles``, a folder kept by the caller, holds the workers' LibreOffice profiles
    from one batch to the next (by default they are made afresh and removed); ``warm``
    holds the LibreOffice processes the caller started ahead on those profiles
    (:class:`WarmStarts`), which then serve the calls.
    Raises :class:`ConverterError` when LibreOffice is missing or cannot start, or when two
    inputs would give the same PDF name; :class:`ConfigError` for a non-positive setting.
    """
    program = find_soffice(soffice)
    if timeout <= 0 or (chunk_size is not None and chunk_size < 1) or (
            workers is not None and workers < 1):
        raise ConfigError("The conversion timeout, chunk size and workers must be positive.")
    sources = [Path(p).absolute() for p in docx_paths]
    _check_names(sources)
    if not sources:
        return []
    out_dir = Path(out_dir).absolute()
    out_dir.mkdir(parents=True, exist_ok=True)
    results = _Results(on_progress)
    todo: list[int] = []
    for index, source in enumerate(sources):
        problem = docx_problem(source)
        if problem is None:
            todo.append(index)
        else:
            results.record(index, ConvertResult(source, None, False, 0, problem))
    lanes = max(1, workers if workers is not None else os.cpu_count() or 1)
    size = chunk_size or default_chunk_size(len(todo), lanes)
    queue = [todo[i:i + size] for i in range(0, len(todo), size)]
    if profiles is not None:
        profiles.mkdir(parents=True, exist_ok=True)
    converter = _Converter(sources, out_dir, program, pdfa, timeout, profiles, warm)
    _drain(converter, queue, min(lanes, max(1, len(queue))), results)
    return [results.done[i] for i in range(len(sources))]


class _Results:
    """The settled documents, each reported once to ``on_progress`` as it settles."""

    def __init__(self, on_progress: Callable[[ConvertResult], None] | None) -> None:
        self.done: dict[int, ConvertResult] = {}
        self.on_progress = on_progress
        self.early: SimpleQueue[tuple[int, ConvertResult]] = SimpleQueue()

    def record(self, index: int, result: ConvertResult) -> None:
        if index not in self.done:
            self.done[index] = result
            if self.on_progress is not None:
                self.on_progress(result)

    def settle_early(self) -> None:
        """Report what the running chunks streamed before they ended."""
        while True:
            try:
                self.record(*self.early.get_nowait())
            except Empty:
                return


def _drain(converter: _Converter, queue: list[list[int]], lanes: int,
           results: _Results) -> None:
    """Run the chunks of ``queue`` (and the retries they leave) on ``lanes`` workers."""
    converter.stream = lambda index, result: results.early.put((index, result))
    executor = ThreadPoolExecutor(max_workers=lanes, thread_name_prefix="soffice")
    try:
        with terminate_on_sigterm():
            free = list(range(lanes))
            running: dict[Future[_Outcome], int] = {}
            while queue or running:
                while queue and free:
                    slot = free.pop()
                    running[executor.submit(converter.run_chunk, queue.pop(0), slot)] = slot
                finished, _ = wait(running, timeout=0.1, return_when=FIRST_COMPLETED)
                results.settle_early()  # first: a chunk streams its results before it ends
                for future in finished:
                    free.append(running.pop(future))
                    outcome = future.result()
                    queue.extend(outcome.retry)
                    for index in sorted(outcome.done):
                        results.record(index, outcome.done[index])
    finally:
        converter.tracker.stop_all()
        executor.shutdown(wait=True, cancel_futures=True)
        converter.close()
