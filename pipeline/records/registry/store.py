"""What the stages need of a registry, as an interface a second backend can implement.

SQLite (:class:`~pipeline.records.registry.conventions.Registry`) is the embedded default
and stays so. A service running many communes' conventions can add a PostgreSQL backend by
implementing :class:`RegistryStore` (same transactions, numbering under a lock, an
append-only hash-chained event log) and returning it from :func:`open_store`; the stages
only ever see this interface, and no module outside this package touches SQL.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from contextlib import AbstractContextManager
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, runtime_checkable

from pipeline.core.errors import ConfigError
from pipeline.records.registry.events import ChainCheck
from pipeline.records.registry.models import (
    Claim,
    ConventionRow,
    DocumentRow,
    EventRow,
    NewConvention,
    Status,
)

__all__ = ["RegistryStore", "open_store"]


@runtime_checkable
class RegistryStore(Protocol):
    """The registry as the stages use it; every write happens inside :meth:`transaction`."""

    def close(self) -> None: ...
    def __enter__(self) -> RegistryStore: ...
    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None: ...
    def now(self) -> str: ...
    def transaction(self) -> AbstractContextManager[None]: ...
    def claim(self, new: NewConvention, *, actor: str = ...) -> Claim: ...
    def set_status(self, convention_id: str, new_status: Status, *, actor: str,
                   details: dict[str, Any] | None = None) -> ConventionRow: ...
    def add_document(self, convention_id: str, kind: str, version: int, relpath: str,
                     sha256: str, size: int, *, actor: str = ...) -> DocumentRow: ...
    def record_event(self, convention_id: str | None, action: str, actor: str,
                     details: dict[str, Any] | None = None) -> EventRow: ...
    def get(self, convention_id: str) -> ConventionRow | None: ...
    def find(self, type_id: str, reference: str) -> ConventionRow | None: ...
    def list(self, *, status: str | None = None, type_id: str | None = None,
             year: int | None = None) -> builtins.list[ConventionRow]: ...
    def documents(self, convention_id: str | None = None) -> builtins.list[DocumentRow]: ...
    def latest_document(self, convention_id: str,
                        kinds: Iterable[str]) -> DocumentRow | None: ...
    def events(self, convention_id: str | None = None) -> builtins.list[EventRow]: ...
    def signatures(self, convention_id: str) -> dict[str, EventRow]: ...
    def integrity_check(self) -> str: ...
    def verify_chain(self) -> ChainCheck: ...


def open_store(location: str | Path, *, create: bool = True,
               timeout: float = 30.0) -> RegistryStore:
    """The registry at ``location``: a SQLite file path (or ``sqlite:///path``). Other
    schemes (``postgresql://…``) are for a backend this version does not include."""
    from pipeline.records.registry.conventions import Registry

    text = str(location)
    if "://" in text:
        scheme, _, rest = text.partition("://")
        if scheme != "sqlite":
            raise ConfigError(f"No registry backend for {scheme}:// in this version.",
                              hint="Use the embedded SQLite registry (a file path).")
        text = rest
    return Registry.open(Path(text), create=create, timeout=timeout)
