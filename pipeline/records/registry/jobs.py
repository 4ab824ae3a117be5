"""The queue of batch imports a server runs one after the other (table ``background_jobs``).

A job is created ``validated`` when a clerk uploads a file (the validation report is
ready), becomes ``queued`` when the clerk starts it, ``running`` when the worker takes it,
then ``done`` or ``failed``. A job still ``running`` when a server starts belonged to a
server that died: it becomes ``interrupted``, its conventions are left ``pending`` exactly
as after a killed ``fiftyfifty run``, and queuing it again finishes the work.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal, cast

from pipeline.core.errors import StateError
from pipeline.records.registry import Registry

__all__ = ["JOB_STATES", "Job", "JobCounts", "JobState", "claim_next", "create_job",
           "finish_job", "get_job", "list_jobs", "mark_interrupted", "queue_job",
           "queue_position", "save_progress"]

JobState = Literal["validated", "queued", "running", "done", "failed", "interrupted"]
JOB_STATES: tuple[JobState, ...] = ("validated", "queued", "running", "done", "failed",
                                    "interrupted")
STARTABLE: frozenset[str] = frozenset({"validated", "interrupted", "failed"})
"""States from which a clerk may (re)start a job."""

_COLUMNS = ("id, kind, state, login, source_name, folder, records, accepted, rejected,"
            " errors, warnings, progress, summary, error, created_at, queued_at, started_at,"
            " finished_at")


@dataclass(frozen=True)
class JobCounts:
    """What the validation of the uploaded file found."""

    records: int
    accepted: int
    rejected: int
    errors: int
    warnings: int


@dataclass(frozen=True)
class Job:
    """One uploaded batch and what became of it."""

    id: int
    kind: str
    state: JobState
    login: str
    """Who uploaded it."""
    source_name: str
    """The uploaded file's name."""
    folder: str
    """Its folder, relative to the workspace (upload, reports)."""
    counts: JobCounts
    progress: dict[str, int]
    """validated / converted / archived, as last saved."""
    summary: dict[str, Any] | None
    """``RunSummary.to_dict()`` once done."""
    error: str | None
    created_at: str
    queued_at: str | None
    started_at: str | None
    finished_at: str | None

    @property
    def startable(self) -> bool:
        return self.state in STARTABLE and self.counts.accepted > 0

    @property
    def active(self) -> bool:
        return self.state in ("queued", "running")


def _job(r: tuple[Any, ...]) -> Job:
    return Job(int(r[0]), str(r[1]), cast(JobState, r[2]), str(r[3]), str(r[4]), str(r[5]),
               JobCounts(int(r[6]), int(r[7]), int(r[8]), int(r[9]), int(r[10])),
               json.loads(r[11] or "{}"), json.loads(r[12]) if r[12] else None, r[13],
               str(r[14]), r[15], r[16], r[17])


def create_job(reg: Registry, *, login: str, source_name: str, folder: str,
               counts: JobCounts) -> Job:
    """Record an uploaded and validated batch."""
    with reg.transaction():
        cur = reg.connection.execute(
            "INSERT INTO background_jobs (kind, state, login, source_name, folder, records,"
            " accepted, rejected, errors, warnings, created_at) VALUES"
            " ('import', 'validated', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (login, source_name, folder, counts.records, counts.accepted, counts.rejected,
             counts.errors, counts.warnings, reg.now()))
        job_id = int(cur.lastrowid or 0)
    return _require(reg, job_id)


def get_job(reg: Registry, job_id: int) -> Job | None:
    """The job with this number, or None."""
    r = reg.connection.execute(
        f"SELECT {_COLUMNS} FROM background_jobs WHERE id = ?", (job_id,)).fetchone()  # noqa: S608
    return _job(tuple(r)) if r else None


def _require(reg: Registry, job_id: int) -> Job:
    job = get_job(reg, job_id)
    if job is None:
        raise StateError(f"No import number {job_id}.")
    return job


def list_jobs(reg: Registry, limit: int = 20) -> list[Job]:
    """The latest jobs, newest first."""
    return [_job(tuple(r)) for r in reg.connection.execute(
        f"SELECT {_COLUMNS} FROM background_jobs ORDER BY id DESC LIMIT ?",  # noqa: S608
        (limit,))]


def queue_job(reg: Registry, job_id: int) -> Job:
    """Put a validated (or interrupted, or failed) job in the queue."""
    with reg.transaction():
        job = _require(reg, job_id)
        if not job.startable:
            raise StateError(f"Import {job_id} is {job.state}: it cannot be started now.")
        reg.connection.execute(
            "UPDATE background_jobs SET state = 'queued', queued_at = ?, error = NULL"
            " WHERE id = ?", (reg.now(), job_id))
    return _require(reg, job_id)


def queue_position(reg: Registry, job: Job) -> int:
    """How many jobs run or wait before this queued one (0 when it is next)."""
    if job.state != "queued":
        return 0
    (n,) = reg.connection.execute(
        "SELECT COUNT(*) FROM background_jobs WHERE state = 'running'"
        " OR (state = 'queued' AND id < ?)", (job.id,)).fetchone()
    return int(n)


def claim_next(reg: Registry) -> Job | None:
    """Take the oldest queued job and mark it running (None when the queue is empty)."""
    with reg.transaction():
        r = reg.connection.execute(
            "SELECT id FROM background_jobs WHERE state = 'queued' ORDER BY id LIMIT 1"
        ).fetchone()
        if r is None:
            return None
        reg.connection.execute(
            "UPDATE background_jobs SET state = 'running', started_at = ?, finished_at = NULL,"
            " progress = '{}', summary = NULL WHERE id = ?", (reg.now(), r[0]))
    return _require(reg, int(r[0]))


def save_progress(reg: Registry, job_id: int, progress: dict[str, int]) -> None:
    """Store the counters of a running job."""
    with reg.transaction():
        reg.connection.execute("UPDATE background_jobs SET progress = ? WHERE id = ?",
                               (json.dumps(progress, sort_keys=True), job_id))


def finish_job(reg: Registry, job_id: int, *, progress: dict[str, int],
               summary: dict[str, Any] | None = None, error: str | None = None) -> Job:
    """Mark a job done (with its summary) or failed (with the error a clerk reads)."""
    with reg.transaction():
        reg.connection.execute(
            "UPDATE background_jobs SET state = ?, progress = ?, summary = ?, error = ?,"
            " finished_at = ? WHERE id = ?",
            ("failed" if error else "done", json.dumps(progress, sort_keys=True),
             json.dumps(summary, ensure_ascii=False, default=str) if summary else None,
             error, reg.now(), job_id))
    return _require(reg, job_id)


def mark_interrupted(reg: Registry) -> list[int]:
    """Jobs left ``running`` by a server that died become ``interrupted``; their numbers."""
    with reg.transaction():
        ids = [int(r[0]) for r in reg.connection.execute(
            "SELECT id FROM background_jobs WHERE state = 'running'")]
        reg.connection.execute(
            "UPDATE background_jobs SET state = 'interrupted', finished_at = ?"
            " WHERE state = 'running'", (reg.now(),))
    return ids
