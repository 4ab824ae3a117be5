"""Shared building blocks of the schemas: the strict base model, French field metadata,
and the value types (identifiers, amounts, dates) with their checks."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from pipeline.core.i18n import _

__all__ = [
    "CENT", "Amount", "Email", "FrBool", "FrDate", "Insee", "Phone", "PositiveAmount", "Postcode",
    "Quantity", "Rna", "Siren", "Siret",
    "Strict", "Text", "Uai", "fr", "in_cents", "parse_amount", "parse_date",
]


class Strict(BaseModel):
    """Base of every schema model: unknown fields are errors, strings are trimmed."""

    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, validate_default=True, frozen=False,
        coerce_numbers_to_str=True,  # a spreadsheet's number in a text field is its text
    )


def fr(title: str, description: str, default: Any = ..., **kw: Any) -> Any:
    """A pydantic ``Field`` with its French title and description (they feed the spreadsheet
    template's labels and help, and the JSON Schema)."""
    return Field(default, title=title, description=description, **kw)


# ---------------------------------------------------------------- amounts and dates

_SPACES = re.compile(r"[\s\u00a0\u202f']")


def parse_amount(value: Any) -> Any:
    """Accept ``30000``, ``30 000,50``, ``30.000,50 €``, ``1,234.5`` as a Decimal."""
    if isinstance(value, bool):
        raise ValueError(_("an amount is expected"))
    if type(value) is Decimal:
        return value  # what Decimal(str(value)) gives back, the same value and exponent
    if isinstance(value, int | float | Decimal):
        return Decimal(str(value))
    if not isinstance(value, str):
        return value
    if value.isdigit() and value.isascii():
        return Decimal(value)  # the usual cell, a whole number: what the steps below give
    text = _SPACES.sub("", value.replace("€", "").replace("EUR", ""))
    if not text:
        raise ValueError(_("empty amount"))
    if "," in text and "." in text:
        # The last separator is the decimal one.
        if text.rfind(",") > text.rfind("."):
            text = text.replace(".", "").replace(",", ".")
        else:
            text = text.replace(",", "")
    elif "," in text:
        text = text.replace(",", ".")
    elif text.count(".") > 1:
        text = text.replace(".", "")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ValueError(_("« {value} » is not an amount (e.g. 1 250,50)").format(
            value=value)) from None
    if not amount.is_finite():
        raise ValueError(_("invalid amount"))
    return amount


CENT = Decimal("0.01")
_MAX_AMOUNT = Decimal("1e12")


def _two_places(value: Decimal) -> Decimal:
    if abs(value) > _MAX_AMOUNT:
        raise ValueError(_("amount out of all proportion"))
    return value.quantize(CENT)


def in_cents(**amounts: Decimal) -> dict[str, Decimal] | None:
    """Computed amounts (finite ``Decimal``) as an :data:`Amount` field holds them, to the
    cent, for building a model of derived figures without validating them again; ``None``
    when one is out of all proportion (validating then tells which)."""
    if any(abs(value) > _MAX_AMOUNT for value in amounts.values()):
        return None
    return {name: value.quantize(CENT) for name, value in amounts.items()}


def _not_negative(value: Decimal) -> Decimal:
    if value < 0:
        raise ValueError(_("an amount cannot be negative"))
    return value


def _two_places_not_negative(value: Decimal) -> Decimal:
    """:func:`_two_places` then :func:`_not_negative`, spelled out in one function (they
    are checked thousands of times a batch)."""
    if abs(value) > _MAX_AMOUNT:
        raise ValueError(_("amount out of all proportion"))
    value = value.quantize(CENT)
    if value < 0:
        raise ValueError(_("an amount cannot be negative"))
    return value


Amount = Annotated[Decimal, BeforeValidator(parse_amount), AfterValidator(_two_places)]
PositiveAmount = Annotated[
    Decimal, BeforeValidator(parse_amount), AfterValidator(_two_places_not_negative),
]

_FR_DATE = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
# An ISO date, or an ISO date-time as a spreadsheet exports it (the time is dropped).
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")


def parse_date(value: Any) -> Any:
    """Accept ``25/11/2026``, ``25-11-2026``, ``2026-11-25`` and spreadsheet datetimes."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date) or not isinstance(value, str):
        return value
    text = value.strip()
    m = _FR_DATE.match(text)
    try:
        if m:
            day, month, year = m.groups()
            return date(int(year), int(month), int(day))
        if _ISO_DATE.match(text):
            return date.fromisoformat(text[:10])
    except ValueError:
        raise ValueError(_("« {value} » is not a date that exists").format(
            value=value)) from None
    raise ValueError(_("« {value} » is not a date (expected: 25/11/2026)").format(value=value))


FrDate = Annotated[date, BeforeValidator(parse_date)]

_TRUE = {"oui", "o", "vrai", "x", "yes", "y", "true", "1", "on"}
_FALSE = {"non", "n", "faux", "no", "false", "0", "off", ""}


def parse_bool(value: Any) -> Any:
    """Accept ``oui``/``non``, ``vrai``/``faux``, ``x`` (a ticked cell) and the usual."""
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ValueError(_("« {value} »: answer yes or no").format(value=value))
    return value


FrBool = Annotated[bool, BeforeValidator(parse_bool)]
Quantity = Annotated[Decimal, BeforeValidator(parse_amount)]
"""A number of hours or square metres, French decimal comma accepted."""

# ---------------------------------------------------------------- identifiers


_SEPARATORS = re.compile(r"[\s.\-]")
_PHONE_SEPARATORS = re.compile(r"[\s.\-()]")
_SIRET = re.compile(r"\d{14}")
_RNA = re.compile(r"W\d{9}")
_UAI = re.compile(r"\d{7}[A-Z]")
_INSEE = re.compile(r"(\d{5}|2[AB]\d{3})")
_POSTCODE = re.compile(r"\d{5}")
_PHONE = re.compile(r"0[1-9]\d{8}")


def _digits(value: Any) -> Any:
    return _SEPARATORS.sub("", value) if isinstance(value, str) else value


def _number_text(value: Any) -> Any:
    """A spreadsheet's whole number (``62750``, ``62750.0``) as its digits; else unchanged."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return str(value) if value >= 0 else value
    if isinstance(value, float | Decimal) and value == value and value >= 0 \
            and value == int(value) and value < 10**15:
        return str(int(value))
    return value


def fixed_code(length: int, lost: int, letter: bool = False) -> Any:
    """A before-validator for a code of ``length`` digits (then one letter when ``letter``)
    that a spreadsheet may have stored as a number: the number becomes text and up to
    ``lost`` leading zeros that Excel dropped are put back (``6200`` → ``06200``). A code
    missing more digits is left as it is, for the check to refuse."""

    def restore(value: Any) -> Any:
        value = _digits(_number_text(value))
        if not isinstance(value, str):
            return value
        body, tail = (value[:-1], value[-1:]) if letter else (value, "")
        if body.isdigit() and body.isascii() and length - lost <= len(body) < length:
            return body.zfill(length) + tail
        return value

    return restore


def _phone_number(value: Any) -> Any:
    """A phone number stored as a number lost its leading 0 (``321698686``)."""
    text = _number_text(value)
    if text is not value and isinstance(text, str) and len(text) == 9:
        return "0" + text
    return text


def luhn_ok(number: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _check_siret(value: str) -> str:
    if not _SIRET.fullmatch(value):
        raise ValueError(_("a SIRET has 14 digits"))
    # La Poste's establishments follow their own key (sum of digits multiple of 5); its head
    # office (356 000 000 00048) keeps an ordinary Luhn key.
    if value.startswith("356000000"):
        if sum(int(c) for c in value) % 5 and not luhn_ok(value):
            raise ValueError(_("wrong check digit in the SIRET"))
    elif not luhn_ok(value):
        raise ValueError(_("wrong check digit in the SIRET (check the 14 digits)"))
    return value


def _check_siren(value: str) -> str:
    if not (len(value) == 9 and value.isdigit() and value.isascii()):
        raise ValueError(_("a SIREN has 9 digits"))
    if not luhn_ok(value):
        raise ValueError(_("wrong check digit in the SIREN (check the 9 digits)"))
    return value


def _check_rna(value: str) -> str:
    value = value.upper()
    if not _RNA.fullmatch(value):
        raise ValueError(_("an RNA number is W and 9 digits (e.g. W623001234)"))
    return value


_UAI_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"


def _check_uai(value: str) -> str:
    value = value.upper()
    if not _UAI.fullmatch(value):
        raise ValueError(_("a UAI code is 7 digits and a letter (e.g. 0620123A)"))
    if _UAI_LETTERS[int(value[:7]) % 23] != value[7]:
        raise ValueError(_("wrong check letter in the UAI code"))
    return value


def _check_insee(value: str) -> str:
    value = value.upper()
    if not _INSEE.fullmatch(value):
        raise ValueError(_("a commune's INSEE code has 5 characters (e.g. 62528)"))
    return value


def _check_postcode(value: str) -> str:
    if not _POSTCODE.fullmatch(value):
        raise ValueError(_("a postcode has 5 digits"))
    return value


def _check_phone(value: str) -> str:
    raw = _PHONE_SEPARATORS.sub("", value)
    if raw.startswith("+33"):
        raw = "0" + raw[3:].lstrip("0") if raw[3:4] != "0" else "0" + raw[4:]
    elif raw.startswith("0033"):
        raw = "0" + raw[4:]
    if not _PHONE.fullmatch(raw):
        raise ValueError(_("a French phone number is expected (e.g. 03 21 69 86 86)"))
    return " ".join(raw[i : i + 2] for i in range(0, 10, 2))


_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@"
                    r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")


def _check_email(value: str) -> str:
    if len(value) > 254 or not _EMAIL.match(value):
        raise ValueError(_("invalid e-mail address (e.g. prenom.nom@exemple.fr)"))
    return value.lower()


# Control characters other than tab and newline, and the bidirectional overrides and
# isolates that can disguise a text (U+202D, U+202E, U+2066 to U+2068).
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\u202d\u202e\u2066-\u2068]")


def _no_controls(value: str) -> str:
    # A printable text has no character of the "Other" categories, so none of those: the
    # quick test clears most texts, the search settles the others (newlines, tabs, NBSP…).
    if not value.isprintable() and _CONTROLS.search(value):
        raise ValueError(_("the text holds invisible control characters"))
    return value


CODE_LENGTHS = {"postcode": 5, "insee": 5, "siret": 14, "siren": 9, "uai": 8}
"""The fixed-length codes whose leading zeros a spreadsheet loses (UAI: 7 digits, 1 letter)."""

Siret = Annotated[str, BeforeValidator(fixed_code(14, 2)), AfterValidator(_check_siret)]
Siren = Annotated[str, BeforeValidator(fixed_code(9, 2)), AfterValidator(_check_siren)]
Rna = Annotated[str, BeforeValidator(_digits), AfterValidator(_check_rna)]
Uai = Annotated[str, BeforeValidator(fixed_code(7, 0, letter=True)), AfterValidator(_check_uai)]
Insee = Annotated[str, BeforeValidator(fixed_code(5, 1)), AfterValidator(_check_insee)]
Postcode = Annotated[str, BeforeValidator(fixed_code(5, 1)), AfterValidator(_check_postcode)]
Phone = Annotated[str, BeforeValidator(_phone_number), AfterValidator(_check_phone)]
Email = Annotated[str, AfterValidator(_check_email)]
Text = Annotated[str, Field(max_length=10_000), AfterValidator(_no_controls)]
"""Free text: bounded, no control characters or direction overrides."""
