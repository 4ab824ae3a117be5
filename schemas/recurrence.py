"""A structured upkeep frequency, and the reading of the usual French phrasings into it.

The convention keeps the clerk's free text ("chaque semaine d'avril à octobre", "une fois
par an, en automne"); :class:`Recurrence` is its structured form, typed in the intake or
read from the text by :func:`parse_frequency`. It maps onto an iCalendar recurrence rule
(RFC 5545 ``RRULE``) with :meth:`Recurrence.rrule`. Pure functions, no I/O.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

from pydantic import field_validator

from schemas.base import Strict, fr

Unit = Literal["week", "month", "year"]
_RRULE_FREQ = {"week": "WEEKLY", "month": "MONTHLY", "year": "YEARLY"}

MONTHS = {
    "janvier": 1, "fevrier": 2, "mars": 3, "avril": 4, "mai": 5, "juin": 6, "juillet": 7,
    "aout": 8, "septembre": 9, "octobre": 10, "novembre": 11, "decembre": 12,
}
SEASONS = {"printemps": (3, 4, 5), "ete": (6, 7, 8), "automne": (9, 10, 11),
           "hiver": (12, 1, 2)}
_NUMBERS = {"un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6,
            "quinze": 2}


class Recurrence(Strict):
    """How often an upkeep task falls due."""

    unit: Unit = fr("Unité", "week (semaine), month (mois) ou year (année).")
    interval: int = fr("Intervalle", "Toutes les N unités (1 : chaque semaine, chaque mois…).",
                       1, ge=1, le=60)
    months: list[int] = fr(
        "Mois", "Mois concernés (1 à 12) ; vide : toute l'année. Pour une tâche annuelle, "
        "le premier mois est celui de l'échéance.", default_factory=list, max_length=12)

    @field_validator("months")
    @classmethod
    def _months_in_range(cls, value: list[int]) -> list[int]:
        bad = [m for m in value if not 1 <= m <= 12]
        if bad:
            raise ValueError(f"mois invalide : {bad[0]} (1 à 12 attendu)")
        return value

    def by_month(self) -> list[int]:
        """The months the rule is limited to (one for a yearly task)."""
        if self.unit == "year":
            return self.months[:1]
        return sorted(set(self.months))

    def rrule(self) -> dict[str, object]:
        """The RRULE parts (``FREQ``, ``INTERVAL``, ``BYMONTH``) without ``UNTIL``."""
        rule: dict[str, object] = {"FREQ": _RRULE_FREQ[self.unit]}
        if self.interval != 1:
            rule["INTERVAL"] = self.interval
        if self.by_month():
            rule["BYMONTH"] = self.by_month()
        return rule


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("'", " ")


def _months_of(text: str) -> list[int]:
    span = re.search(r"\bd(?:e|u)?\s*(\w+)\s+(?:a|au|jusqu a)\s+(\w+)", text)
    if span and span.group(1) in MONTHS and span.group(2) in MONTHS:
        first, last = MONTHS[span.group(1)], MONTHS[span.group(2)]
        count = (last - first) % 12 + 1
        return [(first - 1 + i) % 12 + 1 for i in range(count)]
    for name, months in SEASONS.items():
        if re.search(rf"\b{name}\b", text):
            return list(months)
    found = [MONTHS[w] for w in re.findall(r"\b(?:en|au mois d|au mois de)\s+(\w+)", text)
             if w in MONTHS]
    return found


def _number(word: str) -> int | None:
    if word.isdigit():
        return int(word)
    return _NUMBERS.get(word)


def parse_frequency(text: str) -> Recurrence | None:
    """Read a French frequency ("chaque semaine d'avril à octobre", "deux fois par an",
    "une fois par an, en automne", "tous les 3 ans"); None when not understood."""
    t = _plain(text)
    months = _months_of(t)
    unit: Unit | None = None
    interval = 1
    if re.search(r"quinze jours|quinzaine", t):
        unit, interval = "week", 2
    elif m := re.search(r"(\w+) fois par (an|annee|mois|semaine)", t):
        times = _number(m.group(1))
        if times is None:
            return None
        if m.group(2) in ("an", "annee"):
            if times == 1:
                unit = "year"
            elif 12 % times == 0:
                unit, interval = "month", 12 // times
            else:
                return None
        elif m.group(2) == "mois" and times == 1:
            unit = "month"
        elif m.group(2) == "semaine" and times == 1:
            unit = "week"
        else:
            return None
    elif m := re.search(r"tou(?:te)?s les (\w+) (semaines|mois|ans|annees)", t):
        n = _number(m.group(1))
        if n is None:
            return None
        unit = {"semaines": "week", "mois": "month"}.get(m.group(2), "year")  # type: ignore[assignment]
        interval = n
    elif re.search(r"chaque semaine|toutes les semaines|hebdomadaire", t):
        unit = "week"
    elif re.search(r"chaque mois|tous les mois|mensuel", t):
        unit = "month"
    elif re.search(r"chaque trimestre|trimestriel", t):
        unit, interval = "month", 3
    elif re.search(r"semestriel|chaque semestre", t):
        unit, interval = "month", 6
    elif re.search(r"chaque annee|tous les ans|annuel|par an\b", t):
        unit = "year"
    if unit is None:
        return None
    return Recurrence(unit=unit, interval=interval, months=months)


__all__ = ["MONTHS", "SEASONS", "Recurrence", "Unit", "parse_frequency"]
