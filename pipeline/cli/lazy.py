"""A command group that imports a command's module only when that command is used.

``fiftyfifty --help`` lists every command from a table of names and one-line helps, so it
imports no stage (LibreOffice, pyHanko, pydantic models…) and answers at once. Running or
asking for the help of one command imports the modules that register it (each module's
``register(group)`` adds its commands, possibly into shared sub-groups such as ``archive``).
"""

from __future__ import annotations

import gettext
import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import click

__all__ = ["LazyEntry", "LazyGroup"]


@dataclass(frozen=True)
class LazyEntry:
    """Where a top-level command comes from, and its line in the command list."""

    modules: tuple[str, ...]
    """Modules under ``pipeline.cli`` whose ``register(group)`` adds this command."""
    summary: str
    """One-line help shown by ``fiftyfifty --help`` (an English msgid, translated)."""


class LazyGroup(click.Group):
    """A :class:`click.Group` filled from a table of :class:`LazyEntry` on demand."""

    def __init__(self, *args: object, entries: Mapping[str, LazyEntry],
                 translate: Callable[[str], str] = str, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._entries = dict(entries)
        self._translate = translate
        self._loaded: set[str] = set()

    def _load(self, modules: Sequence[str]) -> None:
        for name in modules:
            if name not in self._loaded:
                module = importlib.import_module(f"pipeline.cli.{name}")
                module.register(self)
                self._loaded.add(name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(self._entries) | set(self.commands))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = self._entries.get(cmd_name)
        if entry is not None:
            self._load(entry.modules)
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            entry = self._entries.get(name)
            if entry is not None:
                rows.append((name, self._translate(entry.summary)))
            else:
                cmd = self.commands[name]
                if not cmd.hidden:
                    rows.append((name, cmd.get_short_help_str(formatter.width)))
        if rows:
            # Click's own word, through the gettext domain click itself uses.
            with formatter.section(gettext.gettext("Commands")):
                formatter.write_dl(rows)
