"""The language of what a clerk or an inhabitant reads: French by default, English on request.

Messages are written in English in the code and wrapped in :func:`_` (or :func:`ngettext`
for counts); their French forms live in gettext catalogs, one domain per part of the
application, under ``pipeline/locale/fr/LC_MESSAGES/<domain>.po`` with the compiled
``.mo`` beside it (``make i18n`` compiles them; a test checks both agree and that every
wrapped message has a French form).

The language is, in order: :func:`set_language` (the CLI's ``--lang``), the environment
variable ``FIFTYFIFTY_LANG``, then ``LANGUAGE``/``LC_ALL``/``LC_MESSAGES``/``LANG`` when
one of them asks for English (``en*``); otherwise French.
"""

from __future__ import annotations

import gettext
import os
from functools import cache
from pathlib import Path

__all__ = ["LANGUAGES", "N_", "_", "chosen_language", "current_language", "language_from_argv",
           "ngettext", "set_language"]

LANGUAGES = ("fr", "en")
"""The languages the application speaks; the first is the default."""
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
ENV_LANG = "FIFTYFIFTY_LANG"

_chosen: str | None = None


def set_language(lang: str | None) -> None:
    """Choose the language for the rest of the process and the processes it starts
    (``None``: back to what the environment asks)."""
    global _chosen
    if lang is not None and lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; expected one of {', '.join(LANGUAGES)}")
    _chosen = lang


def chosen_language() -> str | None:
    """What :func:`set_language` chose, ``None`` when the environment decides."""
    return _chosen


def language_from_argv(argv: list[str]) -> str | None:
    """The value of ``--lang fr|en`` (or ``--lang=en``) among the arguments, if any: read
    before the commands build their help, which is already in the chosen language."""
    for n, arg in enumerate(argv):
        if arg == "--":
            break
        if arg == "--lang" and n + 1 < len(argv):
            value = argv[n + 1]
        elif arg.startswith("--lang="):
            value = arg.removeprefix("--lang=")
        else:
            continue
        value = value.strip().lower()
        return value if value in LANGUAGES else None
    return None


def N_(message: str) -> str:
    """Mark ``message`` for translation without translating it now (it is passed to
    :func:`_` later, when the language is known)."""
    return message


def current_language() -> str:
    """``"fr"`` or ``"en"``, as chosen, asked by the environment, or the default."""
    if _chosen is not None:
        return _chosen
    own = os.environ.get(ENV_LANG, "").strip().lower()[:2]
    if own in LANGUAGES:
        return own
    for var in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var, "")
        if value:
            return "en" if value.lower().startswith("en") else "fr"
    return "fr"


@cache
def _catalog(lang: str) -> gettext.NullTranslations:
    """Every domain's catalog for ``lang``, chained in name order."""
    folder = LOCALE_DIR / lang / "LC_MESSAGES"
    chain: gettext.NullTranslations = gettext.NullTranslations()
    if folder.is_dir():
        for mo in sorted(folder.glob("*.mo")):
            with open(mo, "rb") as fp:
                chain.add_fallback(gettext.GNUTranslations(fp))
    return chain


def _(message: str) -> str:
    """``message`` in the current language (its English source text when in English)."""
    lang = current_language()
    if lang == "en":
        return message
    return _catalog(lang).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form for ``n``, in the current language (French: 0 and 1
    take the singular)."""
    lang = current_language()
    if lang == "en":
        return singular if n == 1 else plural
    return _catalog(lang).ngettext(singular, plural, n)
