"""LibreOffice started ahead of the conversion calls, and kept running between them.

An ``soffice`` call given the profile of a LibreOffice already running hands its command
line over to that one and waits until it is done. So a headless LibreOffice started on a
worker's profile before any document is ready does its start-up (a second or more of CPU,
the profile's creation included) while the caller still reads, numbers and renders its
records, and every call on that profile is then served by it at once: LibreOffice starts
once per worker, however many rounds the batch is sent in. (It keeps a small empty text
open, else it would end after the first conversion it is handed.)

The started LibreOffice runs in its own process group, tracked like every conversion call
(stopped at exit, on SIGTERM, at the end of the batch); when a call on its profile stalls
or crashes it is stopped with it and started afresh. Its command line names its profile,
so after a SIGKILL the next run finds it like any other orphan.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from pipeline.documents.convert._process import ProcessTracker

log = logging.getLogger(__name__)

STOPPED_CPU_S = 0.0
"""CPU seconds the LibreOffice processes stopped here had used (killed, they are never
reaped by this process, so its resource usage misses them): for the benchmark."""
_SETTLE = 0.5
"""Seconds a started LibreOffice gets before a call is handed to it (to open its pipe)."""


@dataclass
class _Started:
    proc: subprocess.Popen[bytes]
    since: float


class WarmStarts:
    """The LibreOffice processes started ahead of the first call on each profile."""

    def __init__(self, soffice: str) -> None:
        self.soffice = soffice
        self.tracker = ProcessTracker()
        self._lock = threading.Lock()
        self._started: dict[Path, _Started] = {}
        self._starts = 0

    def start(self, profile: Path) -> None:
        """Start a headless LibreOffice on ``profile`` (made if missing), idle for now."""
        profile = profile.absolute()
        profile.parent.mkdir(parents=True, exist_ok=True)
        # A new file each time: a killed LibreOffice leaves its lock on the last one, and
        # one that cannot open its document quits at once.
        with self._lock:
            self._starts += 1
            keep = profile.with_name(f"{profile.name}.keep-{self._starts}.txt")
        keep.write_bytes(b"")
        argv = [self.soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless",
                "--norestore", "--nologo", str(keep)]
        with profile.with_name(f"{profile.name}.warm.log").open("ab") as out:
            proc = self.tracker.launch(argv, out)
        if proc is not None:
            with self._lock:
                self._started[profile] = _Started(proc, time.monotonic())

    def before_call(self, profile: Path) -> None:
        """Called before each conversion call on ``profile``: a LibreOffice started on it
        is given a moment to open its pipe if it is that young; one that has ended is
        forgotten (the call then starts its own)."""
        profile = profile.absolute()
        with self._lock:
            started = self._started.get(profile)
        if started is None:
            return
        if _running(started.proc):
            time.sleep(max(0.0, started.since + _SETTLE - time.monotonic()))
        else:
            self.stop(profile)

    def settled(self) -> bool:
        """Whether every LibreOffice started here has had its moment to open its pipe: a
        call made before then would only wait in :meth:`before_call`."""
        now = time.monotonic()
        with self._lock:
            return all(now >= s.since + _SETTLE for s in self._started.values())

    def restart(self, profile: Path) -> None:
        """After a call on ``profile`` stalled or crashed: stop its LibreOffice (it may be
        the one stuck on the document) and, if there was one, start it afresh."""
        with self._lock:
            had = profile.absolute() in self._started
        self.stop(profile)
        if had:
            shutil.rmtree(profile, ignore_errors=True)  # may be left locked or half-written
            self.start(profile)

    def stop(self, profile: Path) -> None:
        """Stop the LibreOffice started on ``profile``, if any."""
        global STOPPED_CPU_S
        with self._lock:
            started = self._started.pop(profile.absolute(), None)
        if started is not None:
            STOPPED_CPU_S += _group_cpu(started.proc.pid)
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


def _group_cpu(pgid: int) -> float:
    """CPU seconds used so far by the running processes of group ``pgid`` (Linux)."""
    total = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        if len(fields) > 12 and fields[2] == str(pgid):
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")
