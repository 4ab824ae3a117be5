"""French filters: exact characters (Babel fr_FR), words, labels."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from pipeline.documents.frenchfmt import (
    FILTERS,
    amount_fr,
    amount_words,
    date_fr,
    date_short,
    number_fr,
    percent_fr,
)

NNBSP, NBSP = "\u202f", "\u00a0"


@pytest.mark.parametrize(("day", "text"), [
    (date(2026, 11, 25), "25 novembre 2026"),
    (date(2027, 3, 1), "1er mars 2027"),
    (date(2027, 8, 2), "2 août 2027"),
    (date(2026, 12, 31), "31 décembre 2026"),
    (datetime(2027, 2, 1, 10, 30), "1er février 2027"),
])
def test_date_fr(day: date, text: str) -> None:
    assert date_fr(day) == text


def test_date_short_and_none() -> None:
    assert date_short(date(2027, 3, 1)) == "01/03/2027"
    assert date_fr(None) == "" and date_short(None) == ""


@pytest.mark.parametrize(("value", "text"), [
    (Decimal("30000"), f"30{NNBSP}000,00{NBSP}€"),
    (Decimal("1250.5"), f"1{NNBSP}250,50{NBSP}€"),
    (Decimal("0"), f"0,00{NBSP}€"),
    (Decimal("999.99"), f"999,99{NBSP}€"),
    (Decimal("1234567.89"), f"1{NNBSP}234{NNBSP}567,89{NBSP}€"),
    (600, f"600,00{NBSP}€"),
])
def test_amount_exact_characters(value: Decimal, text: str) -> None:
    assert amount_fr(value) == text


def test_amount_has_no_breakable_space() -> None:
    assert " " not in amount_fr(Decimal("1234567.89"))


@pytest.mark.parametrize(("value", "text"), [
    (Decimal("30000"), "trente mille euros"),
    (Decimal("1250.50"), "mille deux cent cinquante euros et cinquante centimes"),
    (Decimal("1"), "un euro"),
    (Decimal("0"), "zéro euro"),
    (Decimal("0.01"), "un centime"),
    (Decimal("2.01"), "deux euros et un centime"),
    (Decimal("80"), "quatre-vingts euros"),
    (Decimal("1000000"), "un million d'euros"),
    (Decimal("2000000"), "deux millions d'euros"),
    (Decimal("1000200"), "un million deux cents euros"),
    (Decimal("12640"), "douze mille six cent quarante euros"),
])
def test_amount_words(value: Decimal, text: str) -> None:
    assert amount_words(value) == text


def test_percent_and_number() -> None:
    assert percent_fr(Decimal("31.2")) == f"31,2{NBSP}%"
    assert percent_fr(Decimal("50.0")) == f"50{NBSP}%"
    assert percent_fr(Decimal("0")) == f"0{NBSP}%"
    assert number_fr(Decimal("12.50")) == "12,5"
    assert number_fr(Decimal("1800")) == f"1{NNBSP}800"
    assert percent_fr(None) == number_fr(None) == amount_fr(None) == amount_words(None) == ""


def test_label_filters_use_the_schema_labels() -> None:
    assert FILTERS["holder_kind"]("group") == "collectif d'habitants"
    assert FILTERS["money_form"]("direct_purchase") == "achat direct par la commune"
    assert FILTERS["inkind_kind"]("volunteer_hours") == "heures de bénévolat"
    assert FILTERS["land_status"]("public") == "domaine public communal"
    assert FILTERS["owner"]("commune") == "la commune"
    assert FILTERS["volunteer_status"]("occasional_collaborators") == (
        "collaborateurs occasionnels du service public")
    with pytest.raises(ValueError, match="no French label"):
        FILTERS["owner"]("nobody")


def test_amount_rejects_non_numbers() -> None:
    with pytest.raises(TypeError):
        amount_fr(True)
