"""The server's background worker: runs the queued imports, one at a time, in order.

One daemon thread per application. It sleeps until a job is queued (or every few seconds,
to notice jobs queued by another server process on the same workspace), takes the oldest
with :func:`pipeline.records.registry.jobs.claim_next` and runs it with
:func:`pipeline.imports.run_import`.

A job is claimed and run only while holding an advisory lock on
``<workspace>/imports/.worker.lock``, which the kernel releases the moment its process
dies. So at start-up, when that lock can be taken, every job still marked ``running``
belonged to a server that died: it becomes ``interrupted`` (its conventions stay
``pending``, as after a killed ``fiftyfifty run``; starting the job again finishes them).
When another live server holds the lock, its running job is left alone.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from pipeline.catalogue.loader import Catalogue
from pipeline.core.workspace import Workspace
from pipeline.imports import IMPORTS_DIR, run_import
from pipeline.records.registry import Registry
from pipeline.records.registry.jobs import claim_next, mark_interrupted

__all__ = ["ImportWorker"]

log = logging.getLogger(__name__)


@contextmanager
def worker_lock(ws: Workspace, *, wait: bool) -> Iterator[bool]:
    """Hold the workspace's import lock; yields False when ``wait`` is off and another
    process holds it."""
    folder = ws.root / IMPORTS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / ".worker.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


class ImportWorker:
    """Runs queued imports of one workspace in a background thread."""

    def __init__(self, ws: Workspace, *, catalogue: str | None = None,
                 soffice: str | None = None, poll: float = 5.0) -> None:
        self.ws = ws
        self.catalogue = catalogue
        self.soffice = soffice
        self.poll = poll
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        """Recover jobs left running by a dead server, then start the thread (once)."""
        with self._lock:
            if self._thread is not None:
                return
            lost: list[int] = []
            with worker_lock(self.ws, wait=False) as free:
                if free:
                    with Registry.open(self.ws.registry_path) as reg:
                        lost = mark_interrupted(reg)
            if lost:
                log.warning("imports %s were interrupted by a server stop", lost)
            self._thread = threading.Thread(target=self._loop, name="fiftyfifty-imports",
                                            daemon=True)
            self._thread.start()

    def notify(self) -> None:
        """A job was queued: look now rather than at the next poll."""
        self._wake.set()

    def stop(self, timeout: float | None = None) -> None:
        """Ask the thread to stop after the current job (tests)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                ran = self.run_next()
            except Exception:  # keep the worker alive whatever happens
                log.exception("the import worker failed")
                ran = False
            if not ran:
                self._wake.wait(self.poll)
                self._wake.clear()

    def run_next(self) -> bool:
        """Run the oldest queued job, if any; True when one ran."""
        with worker_lock(self.ws, wait=True):
            with Registry.open(self.ws.registry_path) as reg:
                job = claim_next(reg)
            if job is None:
                return False
            log.info("import %d started (%s)", job.id, job.source_name)
            run_import(self.ws, job, Catalogue.load(self.catalogue), soffice=self.soffice)
            return True
