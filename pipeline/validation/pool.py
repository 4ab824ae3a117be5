"""Validation of a large batch on several processes, the outcomes kept in input order.

The main process reads the inputs and hands batches of records to worker processes
(forked, so they share the validator as it is), a sheet's rows as read (the workers make
them records: see :mod:`pipeline.intake.rows`); it takes their outcomes back in the order
it handed the batches out, a few batches ahead at most, so memory stays flat. A batch the
workers cannot take or give back (a record nested too deeply to send, a worker lost, a
record that breaks validation) is validated in the main process instead, exactly as it
would have been without workers: same outcomes, same messages, same exceptions."""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from itertools import chain, islice
from typing import Any, Protocol

from pipeline.intake import RawRecord
from pipeline.intake.rows import Row
from pipeline.validation.outcome import RecordOutcome


class Checked(Protocol):
    """What checking one record gives: its outcome for the report."""

    def outcome(self) -> RecordOutcome: ...


class Validator(Protocol):
    """What the pool needs of a validator (picklable, sent once to each worker)."""

    def validate(self, raw: RawRecord) -> Checked: ...

BATCH = 100
"""Records per batch handed to a worker."""

POOL_FROM = 1000
"""Fewer records than this are validated in-process: starting the workers and sending them
the records would cost more than it saves (5 records: 0.3 s alone)."""

_DEPTH = 40
"""A record nesting deeper than this is not sent to a worker (pickling it could exhaust
the recursion limit): it is validated in the main process."""


MAX_WORKERS = 8
"""More workers than this would hold more records in flight than they gain time."""


def cpu_count() -> int:
    """CPUs this process may use, as many workers (at most :data:`MAX_WORKERS`)."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return min(cpus, MAX_WORKERS)


def outcome(validator: Validator, item: RawRecord | Row) -> RecordOutcome:
    """A record's outcome for the report (an accepted record's values are not kept, but
    the reference it gives, for the batch's check of duplicates)."""
    raw = item.record() if isinstance(item, Row) else item
    result = validator.validate(raw).outcome()
    if result.accepted:
        given = result.raw.get("reference")
        result.raw = {"reference": given} if isinstance(given, str) and given.strip() else {}
    return result


def outcomes(items: Iterable[RawRecord | Row], validator: Validator, workers: int, *,
             batch: int = BATCH, pool_from: int = POOL_FROM) -> Iterator[RecordOutcome]:
    """The outcome of each record, in order: by ``workers`` processes in batches of
    ``batch`` when there are more than one and at least ``pool_from`` records (and
    ``fork`` exists), else in-process."""
    rest = iter(items)
    enough = max(pool_from, batch, 1)
    first = list(islice(rest, enough))
    if (workers < 2 or len(first) < enough
            or "fork" not in multiprocessing.get_all_start_methods()):
        for item in chain(first, rest):
            yield outcome(validator, item)
        return
    everything = chain(first, rest)
    batches = iter(lambda: list(islice(everything, batch)), [])
    yield from _pooled(batches, validator, workers)


def _pooled(batches: Iterable[list[RawRecord | Row]], validator: Validator,
            workers: int) -> Iterator[RecordOutcome]:
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"),
                               initializer=_start_worker, initargs=(validator,))
    window: deque[tuple[list[RawRecord | Row], Future[list[RecordOutcome]] | None]] = deque()
    try:
        for records in batches:
            window.append((records, _submit(pool, records)))
            if len(window) >= 2 * workers:
                yield from _collect(validator, *window.popleft())
        while window:
            yield from _collect(validator, *window.popleft())
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _submit(pool: ProcessPoolExecutor,
            records: list[RawRecord | Row]) -> Future[list[RecordOutcome]] | None:
    if not all(map(_portable, records)):
        return None
    try:
        return pool.submit(_validate_batch, records)
    except RuntimeError:  # the pool is broken (a worker was lost): go on without it
        return None


def _collect(validator: Validator, records: list[RawRecord | Row],
             job: Future[list[RecordOutcome]] | None) -> list[RecordOutcome]:
    if job is not None:
        try:
            return job.result()
        except Exception:  # noqa: S110 — redone below, in-process, which tells what it was
            pass
    return [outcome(validator, item) for item in records]


def _portable(item: RawRecord | Row) -> bool:
    """Whether a record can go to a worker: it nests at most :data:`_DEPTH` levels."""
    if isinstance(item, Row):  # nests as deep as the longest column name has parts
        return item.header.depth <= _DEPTH
    return _shallow(item.data, _DEPTH) and _shallow(item.flat, _DEPTH)


def _shallow(value: Any, depth: int) -> bool:
    """Whether ``value`` nests at most ``depth`` levels of mappings and lists."""
    if isinstance(value, dict):
        return depth > 0 and all(_shallow(v, depth - 1) for v in value.values())
    if isinstance(value, list):
        return depth > 0 and all(_shallow(v, depth - 1) for v in value)
    return True


_VALIDATOR: list[Validator] = []
"""In a worker: the validator it inherited from the main process."""


def _start_worker(validator: Validator) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's business
    gc.freeze()  # what the worker inherited stays: no collection need look at it again
    _VALIDATOR.append(validator)


def _validate_batch(records: list[RawRecord | Row]) -> list[RecordOutcome]:
    return [outcome(_VALIDATOR[0], item) for item in records]
