"""LibreOffice started ahead of its first conversion call.

An ``soffice`` call given the profile of a LibreOffice already running hands its command
line over to that one and waits until it is done. So a headless LibreOffice started on a
worker's profile before any document is ready does its start-up (a second or more of CPU,
the profile's creation included) while the caller still reads, numbers and renders its
records, and the worker's first call is served by it at once. LibreOffice ends by itself
after that conversion: a worker's later calls start their own, as before.

The started LibreOffice runs in its own process group, tracked like every conversion call
(stopped at exit, on SIGTERM, or when a call on its profile stalls or crashes); its command
line names its profile, so after a SIGKILL the next run finds it like any other orphan.
"""

from __future__ import annotations

import logging
import os
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from pipeline.documents.convert._process import ProcessTracker

log = logging.getLogger(__name__)

_SETTLE = 0.5
"""Seconds a started LibreOffice gets before a call is handed to it (to open its pipe)."""
_END_WAIT = 10.0
"""Seconds a served LibreOffice gets to end by itself before it is stopped."""


@dataclass
class _Started:
    proc: subprocess.Popen[bytes]
    since: float
    served: bool = False


class WarmStarts:
    """The LibreOffice processes started ahead of the first call on each profile."""

    def __init__(self, soffice: str) -> None:
        self.soffice = soffice
        self.tracker = ProcessTracker()
        self._lock = threading.Lock()
        self._started: dict[Path, _Started] = {}

    def start(self, profile: Path) -> None:
        """Start a headless LibreOffice on ``profile`` (made if missing), idle for now."""
        profile = profile.absolute()
        profile.parent.mkdir(parents=True, exist_ok=True)
        argv = [self.soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless",
                "--norestore", "--nologo"]
        with profile.with_name(f"{profile.name}.warm.log").open("wb") as out:
            proc = self.tracker.launch(argv, out)
        if proc is not None:
            with self._lock:
                self._started[profile] = _Started(proc, time.monotonic())

    def before_call(self, profile: Path) -> None:
        """Called before each conversion call on ``profile``.

        The first call is left to the LibreOffice started for it (given a moment to open
        its pipe if it is that young); by the next one, that LibreOffice must be gone, so
        it is waited for (it ends after its call) or stopped."""
        profile = profile.absolute()
        with self._lock:
            started = self._started.get(profile)
            first = started is not None and not started.served
            if started is not None:
                started.served = True
        if started is None:
            return
        if first and _running(started.proc):
            time.sleep(max(0.0, started.since + _SETTLE - time.monotonic()))
            return
        deadline = time.monotonic() + (0.0 if first else _END_WAIT)
        while _running(started.proc) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.stop(profile)

    def stop(self, profile: Path) -> None:
        """Stop the LibreOffice started on ``profile``, if any (e.g. its call stalled)."""
        with self._lock:
            started = self._started.pop(profile.absolute(), None)
        if started is not None:
            self.tracker.release(started.proc)

    def close(self) -> None:
        """Stop every LibreOffice started here."""
        self.tracker.stop_all()
        for profile in list(self._started):
            self.stop(profile)


def _running(proc: subprocess.Popen[bytes]) -> bool:
    """Whether ``proc`` has not ended (it is not reaped here, so its group id stays its own)."""
    try:
        return os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None
    except ChildProcessError:
        return False
