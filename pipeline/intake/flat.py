"""The flat layout of CSV and XLSX intake: dotted column names map a row to the nested model.

``holders.0.name`` is the name of the first holder; an empty cell means "not given"."""

from __future__ import annotations

import re
from functools import lru_cache
from itertools import pairwise
from typing import Any

_PART = re.compile(r"^(?:[a-z_][a-z0-9_]*|\d{1,3})$")


class FlatKeyError(ValueError):
    """A column name that cannot be a field path."""


def check_key(key: str) -> list[str | int]:
    """Split a dotted column name, refusing anything that is not a field path."""
    return list(_key_parts(key))


@lru_cache(maxsize=4096)
def _key_parts(key: str) -> tuple[str | int, ...]:
    """:func:`check_key`, remembered: every row of a sheet has the same column names."""
    parts = key.split(".")
    if not key or not all(_PART.match(p) for p in parts) or parts[0].isdigit():
        raise FlatKeyError(f"column {key!r} is not a field path (e.g. holders.0.name)")
    return tuple(int(p) if p.isdigit() else p for p in parts)


def is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def unflatten(row: dict[str, Any]) -> dict[str, Any]:
    """Build the nested record from one flat row; list indices become list positions.

    Missing positions (``holders.1`` given without ``holders.0``) are kept as empty objects
    so that error paths still point at the columns the clerk typed."""
    root: dict[str, Any] = {}
    for key, value in row.items():
        if is_empty(value):
            continue
        parts = _key_parts(key)
        node: Any = root
        for part, nxt in pairwise(parts):
            child_empty: Any = [] if isinstance(nxt, int) else {}
            node = _step(node, part, child_empty)
        _set(node, parts[-1], value.strip() if isinstance(value, str) else value)
    compacted: dict[str, Any] = _compact(root)
    return compacted


def _step(node: Any, part: str | int, empty: Any) -> Any:
    if isinstance(part, int):
        if not isinstance(node, list):
            raise FlatKeyError("an index follows a field that is not a list")
        while len(node) <= part:
            node.append(None)
        if node[part] is None:
            node[part] = empty
        return node[part]
    if not isinstance(node, dict):
        raise FlatKeyError(f"{part!r} follows an index of a list of plain values")
    if part not in node:
        node[part] = empty
    elif type(node[part]) is not type(empty):
        raise FlatKeyError(f"{part!r} is used both as a value and as a group of columns")
    return node[part]


def _set(node: Any, part: str | int, value: Any) -> None:
    if isinstance(part, int):
        if not isinstance(node, list):
            raise FlatKeyError("an index follows a field that is not a list")
        while len(node) <= part:
            node.append(None)
        node[part] = value
    else:
        if not isinstance(node, dict):
            raise FlatKeyError(f"{part!r} follows an index of a list of plain values")
        if part in node:
            raise FlatKeyError(f"{part!r} is used both as a value and as a group of columns")
        node[part] = value


def _compact(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _compact(v) for k, v in node.items()}
    if isinstance(node, list):
        return [{} if v is None else _compact(v) for v in node]
    return node


def flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """The inverse of :func:`unflatten`, for writing a record back as a row."""
    out: dict[str, Any] = {}
    if isinstance(data, dict):
        for k, v in data.items():
            out.update(flatten(v, f"{prefix}{k}."))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out.update(flatten(v, f"{prefix}{i}."))
    else:
        out[prefix[:-1]] = data
    return out
