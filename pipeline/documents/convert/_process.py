"""One ``soffice`` call under a watchdog, and the bookkeeping that lets no process outlive it.

Each call starts in a new session, so it leads its own process group; killing the group
also kills the ``soffice.bin`` child that the ``soffice`` launcher starts. A process stays
tracked until its leader is reaped, so its group id cannot have been handed to another
process by the time the group is killed.
"""

from __future__ import annotations

import atexit
import logging
import os
import signal
import subprocess
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import IO

from pipeline.core.errors import ConverterError

log = logging.getLogger(__name__)


class ProcessTracker:
    """The live ``soffice`` process groups of one batch; stopping it kills them all."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._procs: set[subprocess.Popen[bytes]] = set()
        self._stopped = False
        _TRACKERS.add(self)

    def launch(self, argv: list[str], log: IO[bytes]) -> subprocess.Popen[bytes] | None:
        """Start ``argv`` in its own process group; ``None`` once the tracker is stopped."""
        with self._lock:
            if self._stopped:
                return None
            try:
                proc = subprocess.Popen(
                    argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            except OSError as exc:
                raise ConverterError(f"LibreOffice cannot be started ({argv[0]}): {exc}") from exc
            self._procs.add(proc)
            return proc

    @property
    def stopped(self) -> bool:
        """Whether :meth:`stop_all` was called."""
        return self._stopped

    def release(self, proc: subprocess.Popen[bytes]) -> int:
        """Kill what is left of ``proc``'s group, wait until it is gone, reap the leader."""
        _kill_group(proc.pid)
        _wait_group_gone(proc.pid)
        with self._lock:
            self._procs.discard(proc)
        return proc.wait()

    def stop_all(self) -> None:
        """Refuse new launches and kill every tracked group.

        Only worker threads hold the lock, and briefly, so the main thread may call this
        from a signal handler.
        """
        with self._lock:
            self._stopped = True
            for proc in list(self._procs):
                _kill_group(proc.pid)


_TRACKERS: weakref.WeakSet[ProcessTracker] = weakref.WeakSet()


@atexit.register
def stop_all_conversions() -> None:
    """Kill every ``soffice`` started by any batch of this process; those batches then stop.

    Runs at interpreter exit. A caller that runs :func:`convert_batch` in a background
    thread calls it when interrupted, so the thread returns at once.
    """
    for tracker in list(_TRACKERS):
        tracker.stop_all()


@contextmanager
def terminate_on_sigterm() -> Iterator[None]:
    """While active (main thread only), SIGTERM first kills every ``soffice``.

    Then the previous handler runs; with the default one, ``SystemExit(143)`` is raised so
    that ``finally`` blocks and exit handlers still run. Elsewhere than in the main thread
    this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGTERM)

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        stop_all_conversions()
        if callable(previous):
            previous(signum, frame)
        elif previous != signal.SIG_IGN:
            raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


def stop_orphans(folder: Path) -> int:
    """Kill the ``soffice`` groups left writing into ``folder`` by a run that died.

    A run killed outright (SIGKILL, power cut of the shell) cannot stop its converters:
    they live on in their own sessions. They are found by their command line, which names
    their output folder, and their whole groups are killed. Returns how many were found.
    """
    folders = {folder.absolute(), folder.resolve()}
    # Their output folder, or (a LibreOffice started ahead of its first call) their profile.
    markers = tuple({os.fsencode(str(f)) + b"/" for f in folders}
                    | {os.fsencode(f"-env:UserInstallation={f.as_uri()}/") for f in folders})
    groups: set[int] = set()
    try:
        entries = os.listdir("/proc")
    except OSError:
        return 0
    for name in entries:
        if not name.isdigit():
            continue
        try:
            argv = Path("/proc", name, "cmdline").read_bytes().split(b"\0")
            # ``oosplash`` alone: a call handing its work to a running LibreOffice.
            joined = b" ".join(argv)
            if any(arg.startswith(markers) for arg in argv) and (
                    b"soffice" in joined or b"oosplash" in joined):
                groups.add(os.getpgid(int(name)))
        except (OSError, ProcessLookupError):
            continue
    for pgid in groups:
        if pgid > 1 and pgid != os.getpgrp():
            log.warning("stopping a LibreOffice left running by an interrupted run (group %d)",
                        pgid)
            _kill_group(pgid)
            _wait_group_gone(pgid)
    return len(groups)


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _wait_group_gone(pgid: int, limit: float = 5.0) -> None:
    """Wait (Linux, bounded) until no running process is left in group ``pgid``."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and _group_alive(pgid):
        _kill_group(pgid)
        time.sleep(0.02)


def _group_alive(pgid: int) -> bool:
    """Whether a process of group ``pgid`` is still running (zombies do not count)."""
    try:
        entries = os.listdir("/proc")
    except OSError:
        return False
    for name in entries:
        if not name.isdigit():
            continue
        try:
            stat = Path("/proc", name, "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        if len(fields) > 2 and fields[2] == str(pgid) and fields[0] not in ("Z", "X"):
            return True
    return False


@dataclass(frozen=True)
class SofficeRun:
    """How one ``soffice`` call ended."""

    normal_exit: bool
    """Exit status 0 without being killed: a missing PDF is then final."""
    failure: str
    """Why the call ended abnormally (empty on a normal exit)."""
    errors: tuple[str, ...]
    """The ``Error:`` lines LibreOffice printed."""


def _listing(folder: Path) -> tuple[tuple[str, int], ...]:
    """Names and sizes in ``folder``: any change counts as progress."""
    try:
        with os.scandir(folder) as entries:
            return tuple(sorted((e.name, e.stat().st_size) for e in entries))
    except OSError:
        return ()


def _finished_outputs(folder: Path) -> list[Path]:
    """The PDFs of ``folder`` but the newest: LibreOffice converts one document after the
    other, so every output older than the latest one is complete."""
    try:
        found = sorted((e.stat().st_mtime_ns, e.name) for e in os.scandir(folder)
                       if e.name.endswith(".pdf"))
    except OSError:
        return []
    return [folder / name for _, name in found[:-1]]


def run_soffice(tracker: ProcessTracker, argv: list[str], outdir: Path, count: int,
                timeout: float, on_output: Callable[[Path], None] | None = None
                ) -> SofficeRun:
    """Run one conversion call writing into ``outdir``; kill its group if it stalls.

    The call may take ``2 * timeout`` for its first output (start-up included), then
    ``timeout`` between outputs, and ``timeout * (count + 1)`` in all. ``on_output`` is
    given each output as soon as a later one has started (so it is complete), while the
    call goes on; it may move the file away.
    """
    log_path = outdir.with_suffix(".log")
    with log_path.open("wb") as log:
        proc = tracker.launch(argv, log)
    if proc is None:
        return SofficeRun(False, "the conversion was stopped", ())
    start = last = time.monotonic()
    allowance, seen, stalled = 2 * timeout, _listing(outdir), False
    try:
        # WNOWAIT leaves the leader a zombie, which keeps its group id reserved.
        while os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:
            now = time.monotonic()
            current = _listing(outdir)
            if current != seen:
                seen, last, allowance = current, now, timeout
                if on_output is not None:
                    for finished in _finished_outputs(outdir):
                        on_output(finished)
                    seen = _listing(outdir)
            if now - last > allowance or now - start > timeout * (count + 1):
                stalled = True
                break
            time.sleep(0.1)
    finally:
        code = tracker.release(proc)
    text = log_path.read_text("utf-8", "replace")
    errors = tuple(line for line in text.splitlines() if line.startswith("Error:"))
    if tracker.stopped:
        return SofficeRun(False, "the conversion was stopped", errors)
    if stalled:
        return SofficeRun(False, f"LibreOffice stopped responding for {timeout:g} s", errors)
    if code < 0:
        return SofficeRun(False, f"LibreOffice crashed (signal {-code})", errors)
    if code > 0:
        return SofficeRun(False, f"LibreOffice failed (exit status {code})", errors)
    return SofficeRun(True, "", errors)
