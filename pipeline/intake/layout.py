"""A sheet's column names worked out once, so that each row becomes its nested record
quickly: every row of a sheet has the same columns.

:func:`layout` gives ``None`` for columns that could clash (a name that is not a field
path or comes twice, a column inside another one, a group used both as a list and as
fields, two names for one place): :func:`~pipeline.intake.flat.unflatten` then takes each
row and tells what clashes. Otherwise nothing can clash, and :meth:`Layout.build` gives
what ``unflatten`` gives, in one pass over the cells."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pipeline.intake.flat import FlatKeyError, check_key

Place = tuple[int, str | int, bool]
"""Where a value or a group goes: the number of the group holding it (0: the record
itself), its field name or list position, and whether that position is a list index."""


@dataclass(frozen=True, slots=True)
class Layout:
    names: list[str]
    """The column names, in order (each once)."""
    places: list[Place]
    """Each column's place."""
    groups: tuple[tuple[Place, bool], ...]
    """Each group's place (the record's own entry unused), and whether it is a list."""

    def build(self, cells: list[str]) -> tuple[dict[str, str], dict[str, Any]]:
        """The flat row of these text cells (the cells not blank, by column name) and
        ``unflatten`` of it, in one pass."""
        flat: dict[str, str] = {}
        root: dict[str, Any] = {}
        groups: list[Any] = [None] * len(self.groups)
        groups[0] = root
        padded: list[list[Any]] = []  # lists lengthened with None for positions not given
        names, places = self.names, self.places
        for i, value in enumerate(cells):
            if not value or value.isspace():
                continue
            flat[names[i]] = value
            group, part, index = places[i]
            node = groups[group]
            if node is None:
                node = self._open(group, groups, padded)
            if index:
                _make_room(node, part, padded)
            node[part] = value.strip()
        for lst in padded:  # the positions still missing become empty objects
            for n, item in enumerate(lst):
                if item is None:
                    lst[n] = {}
        return flat, root

    def _open(self, number: int, groups: list[Any], padded: list[list[Any]]) -> Any:
        (group, part, index), is_list = self.groups[number]
        parent = groups[group]
        if parent is None:
            parent = self._open(group, groups, padded)
        if index:
            _make_room(parent, part, padded)
        child: Any = [] if is_list else {}
        parent[part] = groups[number] = child
        return child


def _make_room(node: list[Any], part: str | int, padded: list[list[Any]]) -> None:
    """Lengthen the list ``node`` so that position ``part`` exists (noting it in
    ``padded``, whose holes become empty objects at the end of the row)."""
    assert isinstance(part, int)
    if len(node) <= part:
        node.extend([None] * (part + 1 - len(node)))
        padded.append(node)


def layout(columns: list[str]) -> Layout | None:
    """The layout of these columns, or ``None`` when they could clash."""
    try:
        paths = {name: tuple(check_key(name)) for name in columns}
    except FlatKeyError:
        return None
    if len(set(paths.values())) != len(columns):
        return None  # a name twice, or two names for one place (holders.0 and holders.00)
    lists: dict[tuple[str | int, ...], bool] = {(): False}
    for path in paths.values():
        for n in range(1, len(path)):
            if lists.setdefault(path[:n], isinstance(path[n], int)) != isinstance(path[n], int):
                return None  # a group used both as a list and as fields
    if any(path in lists for path in paths.values()):
        return None  # a column inside another one
    prefixes = sorted(lists, key=len)  # a group comes after the group holding it
    numbers = {prefix: n for n, prefix in enumerate(prefixes)}
    groups = tuple(((numbers[prefix[:-1]], prefix[-1], isinstance(prefix[-1], int))
                    if prefix else (0, "", False), lists[prefix]) for prefix in prefixes)
    places = [(numbers[path[:-1]], path[-1], isinstance(path[-1], int))
              for path in paths.values()]
    return Layout(list(paths), places, groups)
