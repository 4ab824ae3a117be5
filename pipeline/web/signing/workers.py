"""The processes that make online signatures, apart from the web server's own.

A signature (the signed convention, then the sealed evidence file) is about 80 ms of
CPU in Python. Made in the server's process, it holds the interpreter lock, and every
other page (opening a link, checking a code) waits behind it. ``fiftyfifty serve``
therefore starts a small pool of worker processes (:class:`SignWorkers`) before it
listens; the page that signs waits for its worker's answer, so it still answers only
once the signature is made and recorded.

- A worker that dies (killed, out of memory) loses nothing that was not recorded
  (see :mod:`pipeline.signatures.online.journey`): :meth:`SignWorkers.sign` raises
  :class:`WorkerLost`, the page says so, and a fresh pool serves the next signature.
- A second click on "sign" while the first one is being made waits for the first one's
  outcome instead of starting a second signature; two signatories of one convention
  signing at the same instant sign one after the other.
- Without a pool (Flask's test client, :class:`~pipeline.web.server.BackgroundServer`),
  the signature is made in the server's process, as before.
"""

from __future__ import annotations

import multiprocessing
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from flask import Flask

from pipeline.core.errors import PipelineError
from pipeline.core.i18n import chosen_language, set_language
from pipeline.core.settings import Settings
from pipeline.core.workspace import Workspace
from pipeline.records.registry import HeldOpen, hold_open
from pipeline.signatures.online import journey

__all__ = ["EXTENSION", "SignWorkers", "WorkerLost", "sign", "workers_of"]

EXTENSION = "sign_workers"
"""The key of ``app.extensions`` holding the application's :class:`SignWorkers`."""
START_TIMEOUT = 120.0
"""Seconds a worker may take to start (imports included)."""

Setup = Callable[[], None]


class WorkerLost(PipelineError):
    """The process making the signature stopped before it answered."""


_held: list[HeldOpen] = []
"""The registry held open by this worker process (see :func:`hold_open`)."""


def _start_worker(language: str | None, registry: Path | None, setup: Setup | None) -> None:
    """In each new worker: the server's language, the registry held open for the
    process's life, then the optional ``setup``."""
    set_language(language)
    if registry is not None:
        _held.append(hold_open(registry))
    if setup is not None:
        setup()


def _ready() -> bool:
    return True


def _sign(ws: Workspace, settings: Settings, invitation_id: int,
          request: journey.SignRequest, visitor: journey.Visitor) -> journey.SignedOnline:
    return journey.sign(ws, settings, invitation_id, request, visitor)


class _Turn:
    """One convention's turn to be signed, held while one of its signatures is made
    (kept only as long as someone holds or waits for it)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()


class SignWorkers:
    """A pool of ``processes`` worker processes (started fresh with ``spawn``, so that
    no lock held by a server thread is copied into them), each holding ``registry`` open
    and running ``setup`` once when it starts (tests use it for fault points)."""

    def __init__(self, processes: int, setup: Setup | None = None, *,
                 registry: Path | None = None) -> None:
        if processes < 1:
            raise ValueError("a pool needs at least one process")
        self.processes = processes
        self._setup = setup
        self._registry = registry
        self._lock = threading.Lock()
        self._pool = self._new_pool()
        self._running: dict[int, tuple[Future[journey.SignedOnline], ProcessPoolExecutor]] = {}
        self._turns: weakref.WeakValueDictionary[str, _Turn] = weakref.WeakValueDictionary()

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(self.processes, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_start_worker,
                                   initargs=(chosen_language(), self._registry, self._setup))

    def start(self) -> None:
        """Start every worker now and wait until each has loaded the signing code, so
        that the first signatures do not wait for it (raises if a worker cannot start)."""
        pool = self._pool
        waiting = [pool.submit(_ready) for _ in range(self.processes)]
        for future in waiting:
            future.result(timeout=START_TIMEOUT)

    def _restart(self, broken: ProcessPoolExecutor) -> None:
        """A fresh pool instead of ``broken`` (once, whoever notices first)."""
        with self._lock:
            if self._pool is broken:
                self._pool = self._new_pool()
        broken.shutdown(wait=False, cancel_futures=True)

    def _submit(self, ws: Workspace, settings: Settings, invitation_id: int,
                request: journey.SignRequest, visitor: journey.Visitor
                ) -> tuple[Future[journey.SignedOnline], ProcessPoolExecutor]:
        """The signature of ``invitation_id`` being made, started now unless it already is."""
        for _attempt in range(2):
            with self._lock:
                found = self._running.get(invitation_id)
                if found is not None and not found[0].done():
                    return found
                pool = self._pool
                try:
                    future = pool.submit(_sign, ws, settings, invitation_id, request, visitor)
                    self._running[invitation_id] = (future, pool)
                    future.add_done_callback(lambda done: self._forget(invitation_id, done))
                    return future, pool
                except BrokenProcessPool:  # broken by another signature: nothing ran
                    pass
            self._restart(pool)
        raise WorkerLost("The signing processes cannot be started again.")

    def signing(self, invitation_id: int) -> bool:
        """Whether the signature of ``invitation_id`` is being made now."""
        with self._lock:
            found = self._running.get(invitation_id)
            return found is not None and not found[0].done()

    def _forget(self, invitation_id: int, done: Future[journey.SignedOnline]) -> None:
        with self._lock:
            found = self._running.get(invitation_id)
            if found is not None and found[0] is done:
                del self._running[invitation_id]

    def submit(self, ws: Workspace, settings: Settings, invitation_id: int,
               request: journey.SignRequest, visitor: journey.Visitor
               ) -> Future[journey.SignedOnline]:
        """The signature of ``invitation_id`` being made: started now, unless it is
        already being made (a second click), whose future is then returned."""
        return self._submit(ws, settings, invitation_id, request, visitor)[0]

    def _turn(self, convention_id: str) -> _Turn:
        with self._lock:
            turn = self._turns.get(convention_id)
            if turn is None:
                turn = _Turn()
                self._turns[convention_id] = turn
            return turn

    def sign(self, ws: Workspace, settings: Settings, invitation_id: int,
             request: journey.SignRequest, visitor: journey.Visitor) -> journey.SignedOnline:
        """:func:`journey.sign` in a worker (see :meth:`submit`): its result or its error,
        once it is done. Raises :class:`WorkerLost` when the worker died meanwhile.

        One signature of a convention at a time: two of its signatories signing at the
        same instant would both sign the same version, and the second be refused; here
        the second waits, then signs on top of the first."""
        with self._lock:
            found = self._running.get(invitation_id)
        if found is not None and not found[0].done():
            return self._outcome(*found)
        inv, _row = journey.status_of(ws, invitation_id)
        turn = self._turn(inv.convention_id)  # held here, so that it stays in self._turns
        with turn.lock:
            return self._outcome(*self._submit(ws, settings, invitation_id, request, visitor))

    def _outcome(self, future: Future[journey.SignedOnline], pool: ProcessPoolExecutor
                 ) -> journey.SignedOnline:
        try:
            return future.result()
        except BrokenProcessPool as exc:
            self._restart(pool)
            raise WorkerLost("The process making the signature stopped before it "
                             "answered.") from exc

    def close(self) -> None:
        """Stop the workers once the signatures being made are finished."""
        with self._lock:
            pool = self._pool
        pool.shutdown(wait=True, cancel_futures=True)


def workers_of(app: Flask) -> SignWorkers | None:
    """The application's signing workers, ``None`` when it signs in its own process."""
    found = app.extensions.get(EXTENSION)
    return found if isinstance(found, SignWorkers) else None


def sign(app: Flask, ws: Workspace, settings: Settings, invitation_id: int,
         request: journey.SignRequest, visitor: journey.Visitor) -> journey.SignedOnline:
    """Sign in the application's workers when it has some, else in this process."""
    workers = workers_of(app)
    if workers is None:
        return journey.sign(ws, settings, invitation_id, request, visitor)
    return workers.sign(ws, settings, invitation_id, request, visitor)
