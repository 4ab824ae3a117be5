"""A spool of record outcomes: kept in a temporary file rather than in memory."""

from __future__ import annotations

import io
import pickle
import tempfile
import weakref
from collections.abc import Callable, Iterator, Sequence
from typing import IO, TYPE_CHECKING, Any, overload

if TYPE_CHECKING:
    from pipeline.validation.outcome import RecordOutcome


class OutcomeSpool(Sequence["RecordOutcome"]):
    """Record outcomes kept in a temporary file rather than in memory, in blocks: a batch
    of 100,000 records takes the memory of a few hundred. What is read back may be a copy
    (change an outcome before adding it); the counts the report needs are kept as the
    outcomes come."""

    BLOCK = 500

    def __init__(self) -> None:
        self._file: IO[bytes] | None = None
        self._reset()

    def _reset(self) -> None:
        self.close()
        self._file = None
        self._offsets: list[int] = []  # where each full block starts in the file
        self._tail: list[RecordOutcome] = []  # the block being filled
        self._read: tuple[int, list[RecordOutcome]] = (-1, [])  # the last block read
        self._len = 0
        self.accepted = self.errors = self.warnings = 0

    def append(self, outcome: RecordOutcome) -> None:
        self._len += 1
        self.accepted += bool(outcome.accepted)
        for i in outcome.issues:
            if i.severity == "error":
                self.errors += 1
            elif i.severity == "warning":
                self.warnings += 1
        self._tail.append(outcome)
        if len(self._tail) == self.BLOCK:
            if self._file is None:
                self._file = tempfile.TemporaryFile()
                weakref.finalize(self, self._file.close)  # closed with the spool
            self._file.seek(0, io.SEEK_END)
            self._offsets.append(self._file.tell())
            pickle.dump(self._tail, self._file, pickle.HIGHEST_PROTOCOL)
            self._tail = []

    def _block(self, n: int) -> list[RecordOutcome]:
        if n == len(self._offsets):
            return self._tail
        if self._read[0] != n:
            assert self._file is not None
            self._file.seek(self._offsets[n])
            self._read = (n, pickle.load(self._file))  # noqa: S301 (our own file)
        return self._read[1]

    def __len__(self) -> int:
        return self._len

    @overload
    def __getitem__(self, index: int) -> RecordOutcome: ...

    @overload
    def __getitem__(self, index: slice) -> list[RecordOutcome]: ...

    def __getitem__(self, index: int | slice) -> RecordOutcome | list[RecordOutcome]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._len))]
        if index < 0:
            index += self._len
        if not 0 <= index < self._len:
            raise IndexError("outcome index out of range")
        return self._block(index // self.BLOCK)[index % self.BLOCK]

    def __iter__(self) -> Iterator[RecordOutcome]:
        n = 0
        while n <= len(self._offsets):
            yield from list(self._block(n))
            n += 1

    def sort(self, *, key: Callable[[RecordOutcome], Any], reverse: bool = False) -> None:
        """Sort in place, as ``list.sort`` does (this reads every outcome into memory)."""
        everything = sorted(self, key=key, reverse=reverse)
        self._reset()
        for o in everything:
            self.append(o)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


__all__ = ["OutcomeSpool"]
