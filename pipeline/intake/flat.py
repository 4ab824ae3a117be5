"""The flat layout of CSV and XLSX intake: dotted column names map a row to the nested model.

``holders.0.name`` is the name of the first holder; an empty cell means "not given"."""

from __future__ import annotations

import re
from functools import lru_cache
from itertools import pairwise
from typing import Any

_PART = re.compile(r"^(?:[a-z_][a-z0-9_]*|\d{1,3})$")
_ABSENT = object()


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
    padded: list[list[Any]] = []  # lists lengthened with None for positions not yet given
    parents: dict[str, Any] = {}  # the containers already reached, by path: walked once
    nested_values = False
    for key, value in row.items():
        if value is None:
            continue
        if isinstance(value, str):
            value = value.strip()
            if not value:
                continue
        elif isinstance(value, dict | list):
            nested_values = True
        parent, steps, last = _plan(key)
        node: Any = parents.get(parent, root) if parent else root
        if node is root and parent:  # a place not reached yet: walk there
            for path, part, list_below in steps:
                below = parents.get(path)
                if below is None:
                    below = parents[path] = _step(node, part, list_below, padded)
                node = below
        if type(node) is dict and type(last) is str and last not in node:
            node[last] = value  # the usual case, spelled out
        elif _set(node, last, value, padded):
            parents.clear()  # a position was given twice: the shortcut may point astray
    if nested_values:  # not from a sheet's cells: the slow, thorough way
        compacted: dict[str, Any] = _compact(root)
        return compacted
    for lst in padded:  # the positions still missing become empty objects
        for i, item in enumerate(lst):
            if item is None:
                lst[i] = {}
    return root


Step = tuple[str, str | int, bool]
"""One step of the walk to a column's place: the path reached (``[]`` marks a list, as two
columns may reach the same place expecting different things), the part, and whether a
list lies below it."""


@lru_cache(maxsize=4096)
def _plan(key: str) -> tuple[str, tuple[Step, ...], str | int]:
    """The walk down to a column's place: the path of its container (``""`` for the top),
    the steps, then the last part of its name."""
    parts = _key_parts(key)
    names = key.split(".")
    steps = tuple((".".join(names[: n + 1]) + ("[]" if isinstance(nxt, int) else ""),
                   part, isinstance(nxt, int))
                  for n, (part, nxt) in enumerate(pairwise(parts)))
    return (steps[-1][0] if steps else ""), steps, parts[-1]


def _step(node: Any, part: str | int, list_below: bool, padded: list[list[Any]]) -> Any:
    if isinstance(part, int):
        if not isinstance(node, list):
            raise FlatKeyError("an index follows a field that is not a list")
        if len(node) <= part:
            node.extend([None] * (part + 1 - len(node)))
            padded.append(node)
        child = node[part]
        if child is None:
            child = node[part] = [] if list_below else {}
        return child
    if not isinstance(node, dict):
        raise FlatKeyError(f"{part!r} follows an index of a list of plain values")
    child = node.get(part, _ABSENT)
    if child is _ABSENT:
        child = node[part] = [] if list_below else {}
    elif type(child) is not (list if list_below else dict):
        raise FlatKeyError(f"{part!r} is used both as a value and as a group of columns")
    return child


def _set(node: Any, part: str | int, value: Any, padded: list[list[Any]]) -> bool:
    """Place a value; True when it replaces something already placed."""
    if isinstance(part, int):
        if not isinstance(node, list):
            raise FlatKeyError("an index follows a field that is not a list")
        if len(node) <= part:
            node.extend([None] * (part + 1 - len(node)))
            padded.append(node)
        replaced = node[part] is not None
        node[part] = value
        return replaced
    else:
        if not isinstance(node, dict):
            raise FlatKeyError(f"{part!r} follows an index of a list of plain values")
        if part in node:
            raise FlatKeyError(f"{part!r} is used both as a value and as a group of columns")
        node[part] = value
        return False


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
