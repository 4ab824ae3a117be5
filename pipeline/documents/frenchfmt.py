"""French formatting for the generated documents: dates, amounts, words, percentages, labels.

Every function is also a Jinja filter of the convention templates (see :data:`FILTERS`).
They accept ``None`` and give an empty string, so that a template can print an optional
value without a guard; the template still decides whether a sentence makes sense.

Amounts follow Babel's ``fr_FR`` rules: the thousands separator is the narrow no-break
space (U+202F) and a no-break space (U+00A0) stands before the euro sign and the percent
sign, so a figure never breaks across two lines.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Any

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal
from num2words import num2words

from schemas.clauses import LAND_STATUS_LABELS, OWNER_LABELS, VOLUNTEER_LABELS
from schemas.commitments import INKIND_LABELS, MONEY_FORM_LABELS
from schemas.parties import HOLDER_KIND_LABELS
from schemas.wording import de

__all__ = [
    "FILTERS",
    "LABELS",
    "amount_fr",
    "amount_words",
    "date_fr",
    "date_short",
    "de_fr",
    "number_fr",
    "percent_fr",
]

LOCALE = "fr_FR"
NBSP = "\u00a0"
NNBSP = "\u202f"

LABELS: dict[str, Mapping[str, str]] = {
    "holder_kind": HOLDER_KIND_LABELS,
    "money_form": MONEY_FORM_LABELS,
    "inkind_kind": INKIND_LABELS,
    "land_status": LAND_STATUS_LABELS,
    "owner": OWNER_LABELS,
    "volunteer_status": VOLUNTEER_LABELS,
}
"""The label filters: filter name -> the schema's dictionary of French labels."""


def _decimal(value: Any) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise TypeError(f"a number is expected, not {type(value).__name__}")
    return Decimal(str(value))


def date_fr(value: date | datetime | None) -> str:
    """``25 novembre 2026``; the first of the month is written ``1er mars 2027``."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.date()
    month_year = format_date(value, "MMMM y", locale=LOCALE)
    day = "1er" if value.day == 1 else str(value.day)
    return f"{day} {month_year}"


def date_short(value: date | datetime | None) -> str:
    """``25/11/2026``, for dense tables."""
    if value is None:
        return ""
    return f"{value.day:02d}/{value.month:02d}/{value.year}"


def amount_fr(value: Decimal | int | float | None) -> str:
    """``30 000,00 €`` (U+202F between thousands, U+00A0 before the euro sign)."""
    if value is None:
        return ""
    return _currency(_decimal(value))


@lru_cache(maxsize=4096)
def _currency(value: Decimal) -> str:
    return str(format_currency(value, "EUR", locale=LOCALE))


def number_fr(value: Decimal | int | float | None) -> str:
    """A quantity without useless decimals: ``60``, ``12,5``, ``1 800``."""
    if value is None:
        return ""
    return str(format_decimal(_decimal(value), format="#,##0.##", locale=LOCALE))


def percent_fr(value: Decimal | int | float | None) -> str:
    """A share already in percent: ``31.2`` gives ``31,2 %`` (U+00A0 before the sign)."""
    if value is None:
        return ""
    return str(format_decimal(_decimal(value), format="#,##0.#", locale=LOCALE)) + NBSP + "%"


def _words(number: int) -> str:
    return str(num2words(number, lang="fr"))


def amount_words(value: Decimal | int | float | None) -> str:
    """An amount in words: ``trente mille euros``, ``mille deux cent cinquante euros et
    cinquante centimes``, ``un euro``, ``deux millions d'euros``, ``zéro euro``."""
    if value is None:
        return ""
    amount = _decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if amount < 0:
        return "moins " + amount_words(-amount)
    euros = int(amount)
    cents = int((amount - euros) * 100)
    if euros == 0 and cents:
        head = ""
    elif euros <= 1:
        head = f"{_words(euros)} euro"
    else:
        words = _words(euros)
        # "un million d'euros", but "un million deux cents euros".
        elided = words.endswith(("million", "millions", "milliard", "milliards"))
        head = f"{words} d'euros" if elided else f"{words} euros"
    if not cents:
        return head
    tail = f"{_words(cents)} centime" + ("s" if cents > 1 else "")
    return f"{head} et {tail}" if head else tail


def de_fr(value: str | None) -> str:
    """« de » before a name, elided or contracted: ``d'Inès``, ``du Touquet``."""
    if value is None:
        return ""
    return de(str(value))


def _label_filter(name: str, labels: Mapping[str, str]) -> Callable[[str | None], str]:
    def label(value: str | None) -> str:
        if value is None:
            return ""
        try:
            return labels[value]
        except KeyError:
            raise ValueError(f"« {value} » has no French label for {name}") from None

    label.__name__ = name
    label.__doc__ = f"French label of a {name} value: " + ", ".join(
        f"{key} -> {text}" for key, text in labels.items())
    return label


FILTERS: dict[str, Callable[..., str]] = {
    "date_fr": date_fr,
    "date_short": date_short,
    "amount": amount_fr,
    "amount_words": amount_words,
    "number": number_fr,
    "percent": percent_fr,
    "de": de_fr,
    **{name: _label_filter(name, labels) for name, labels in LABELS.items()},
}
"""The filters every convention template may use, by name."""
