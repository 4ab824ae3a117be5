"""The command line in the clerk's language: help texts translated as the command starts.

Click keeps each command's help as the English text written in the code (its docstring,
each option's ``help=``). :class:`LocalisedGroup` reads ``--lang`` from the arguments
before click parses them, chooses the language, then gives every command, option and
argument of the tree its help in that language through the gettext catalogs (the
English text is the message id; :func:`help_texts` lists them for ``make i18n``). The
English originals are kept, so a second run in another language (tests) starts afresh.
"""

from __future__ import annotations

import gettext
import inspect
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import click

from pipeline.core.i18n import (
    LOCALE_DIR,
    _,
    chosen_language,
    current_language,
    language_from_argv,
    set_language,
)

__all__ = ["LocalisedGroup", "click_speaks", "help_texts", "localise", "restore"]

_ORIGINAL = "_fiftyfifty_english_help"


def _walk(cmd: click.Command) -> Iterator[click.Command]:
    yield cmd
    if isinstance(cmd, click.Group):
        for sub in cmd.commands.values():
            yield from _walk(sub)


def _texts(cmd: click.Command) -> Iterator[tuple[Any, str]]:
    """Each object of ``cmd`` that carries help, and the attribute that holds it."""
    yield cmd, "help"
    yield cmd, "short_help"
    for param in cmd.params:
        if isinstance(param, click.Option):
            yield param, "help"


def help_texts(root: click.Command) -> list[str]:
    """Every English help text of the tree (the message ids of the ``cli`` catalog)."""
    out: dict[str, None] = {}
    for cmd in _walk(root):
        for obj, attr in _texts(cmd):
            originals = getattr(obj, _ORIGINAL, {})
            text = originals.get(attr, getattr(obj, attr, None))
            if text:
                out[inspect.cleandoc(text)] = None
    return list(out)


def localise(root: click.Command) -> None:
    """Give every help text of the tree in the current language."""
    for cmd in _walk(root):
        for obj, attr in _texts(cmd):
            originals: dict[str, str | None] = obj.__dict__.setdefault(_ORIGINAL, {})
            english = originals.setdefault(attr, getattr(obj, attr, None))
            setattr(obj, attr, _(inspect.cleandoc(english)) if english else english)


def restore(root: click.Command) -> None:
    """Give every help text of the tree back its English original."""
    for cmd in _walk(root):
        for obj, attr in _texts(cmd):
            originals = obj.__dict__.get(_ORIGINAL, {})
            if attr in originals:
                setattr(obj, attr, originals[attr])


class LocalisedGroup(click.Group):
    """The root group: chooses the language from ``--lang`` before parsing anything."""

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True,
             **extra: Any) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        before = chosen_language()
        set_language(language_from_argv(argv))  # None: as the environment asks
        localise(self)
        try:
            with click_speaks(current_language()):
                return super().main(argv, prog_name, complete_var, standalone_mode, **extra)
        finally:  # the tree and the language as they were, for whoever comes next
            restore(self)
            set_language(before)


@contextmanager
def click_speaks(lang: str) -> Iterator[None]:
    """Click's own words ("Usage:", "Show this message and exit."…) in ``lang`` while the
    command runs: click asks the standard gettext domain, pointed here to our ``click``
    catalog (``pipeline/locale/fr/LC_MESSAGES/click.po``) and back afterwards."""
    before_domain = gettext.textdomain()
    before_env = {var: os.environ.get(var) for var in ("LANGUAGE",)}
    gettext.bindtextdomain("click", str(LOCALE_DIR))
    gettext.textdomain("click")
    os.environ["LANGUAGE"] = lang
    try:
        yield
    finally:
        gettext.textdomain(before_domain)
        for var, value in before_env.items():
            if value is None:
                os.environ.pop(var, None)
            else:
                os.environ[var] = value


def add_help_texts(pot: str) -> int:
    """Add the help texts of the whole command tree to the template ``pot`` (written by
    ``pybabel extract``): they are docstrings and ``help=`` texts, which no ``_()`` marks.
    Returns how many were added."""
    from babel.messages.pofile import read_po, write_po

    from pipeline.cli import main

    with open(pot, "rb") as fp:
        catalog = read_po(fp)
    before = len(catalog)
    for text in help_texts(main):
        if text not in catalog:
            catalog.add(text, auto_comments=["help text of the command line"])
    with open(pot, "wb") as fp:
        write_po(fp, catalog, width=100, omit_header=True)
    return len(catalog) - before


if __name__ == "__main__":
    print(f"{add_help_texts(sys.argv[1])} help texts added to {sys.argv[1]}")
