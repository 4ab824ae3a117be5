"""The schemas: each value type, the model's strictness and metadata, the derived figures."""

from __future__ import annotations

import copy
import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError

from pipeline.catalogue.loader import Catalogue
from pipeline.validation.validator import deep_merge
from schemas import Convention
from schemas.base import (
    Amount,
    Email,
    FrBool,
    FrDate,
    Insee,
    Phone,
    PositiveAmount,
    Postcode,
    Rna,
    Siret,
    Text,
    Uai,
)
from schemas.catalogue import CommuneProfile, ConventionType

MINIMAL = Path(__file__).parent / "data" / "intake" / "minimal.json"


def accepts(tp: Any, value: Any) -> Any:
    return TypeAdapter(tp).validate_python(value)


def refuses(tp: Any, value: Any) -> str:
    with pytest.raises(ValidationError) as info:
        TypeAdapter(tp).validate_python(value)
    return str(info.value)


def build(catalogue: Catalogue, changes: dict[str, Any] | None = None) -> Convention:
    """The minimal fixture record, with the commune profile merged in and ``changes`` on top."""
    data = json.loads(MINIMAL.read_text(encoding="utf-8"))
    layer = {"commune": catalogue.profile.commune.model_dump(mode="json", exclude_none=True)}
    return Convention.model_validate(deep_merge(deep_merge(layer, data), changes or {}))


# ------------------------------------------------------------------ identifiers


@pytest.mark.parametrize("value, expected", [
    ("732 829 320 00074", "73282932000074"),
    ("73282932000074", "73282932000074"),
    ("35600000000048", "35600000000048"),   # La Poste's head office: ordinary Luhn key
    ("35600000000001", "35600000000001"),   # La Poste: digits add up to 15, not Luhn
])
def test_siret_valid(value: str, expected: str) -> None:
    assert accepts(Siret, value) == expected


@pytest.mark.parametrize("value, reason", [
    ("73282932000075", "clé de contrôle"),   # Luhn key off by one
    ("35600000000002", "clé de contrôle"),   # La Poste, digit sum 16
    ("7328293200007", "14 chiffres"),
    ("7328293200007A", "14 chiffres"),
])
def test_siret_refused(value: str, reason: str) -> None:
    assert reason in refuses(Siret, value)


def test_rna() -> None:
    assert accepts(Rna, "w623001234") == "W623001234"
    assert accepts(Rna, "W 623 001 234") == "W623001234"
    for bad in ("W62300123", "623001234", "X623001234", "W6230012345"):
        assert "RNA" in refuses(Rna, bad)


def test_uai_check_letter() -> None:
    assert accepts(Uai, "0620555s") == "0620555S"  # 620555 mod 23 = 16 -> S
    assert "lettre clé" in refuses(Uai, "0620555A")
    assert "7 chiffres" in refuses(Uai, "062055S")


def test_insee_including_corsica() -> None:
    assert accepts(Insee, "62528") == "62528"
    assert accepts(Insee, "2a004") == "2A004"
    assert accepts(Insee, "2B033") == "2B033"
    assert accepts(Insee, "6252") == "06252"  # a zero Excel dropped, put back
    assert accepts(Insee, 6252) == "06252"
    for bad in ("2C004", "625", "625280", "A2528"):
        assert "INSEE" in refuses(Insee, bad)


def test_postcode() -> None:
    assert accepts(Postcode, "62 750") == "62750"
    assert accepts(Postcode, 62750) == "62750"
    assert accepts(Postcode, "6200") == "06200"  # a zero Excel dropped, put back
    assert accepts(Postcode, 6200.0) == "06200"
    for bad in ("627", "627500", "62A50"):
        assert "code postal" in refuses(Postcode, bad)


@pytest.mark.parametrize("value", [
    "03 21 69 86 86", "03.21.69.86.86", "0321698686", "+33 3 21 69 86 86",
    "+33 (0)3 21 69 86 86", "0033 3 21 69 86 86", "03-21-69-86-86",
])
def test_phone_normalised(value: str) -> None:
    assert accepts(Phone, value) == "03 21 69 86 86"


@pytest.mark.parametrize("value", ["03 21 69 86 8", "+44 20 7946 0958", "00 21 69 86 86",
                                   "telephone", "03 21 69 86 86 86"])
def test_phone_refused(value: str) -> None:
    assert "téléphone" in refuses(Phone, value)


def test_email() -> None:
    assert accepts(Email, "Anne.Leroy@Example.FR") == "anne.leroy@example.fr"
    for bad in ("a@b", "anne leroy@example.fr", "x@localhost", "@example.fr", "a@@example.fr"):
        assert "adresse électronique" in refuses(Email, bad)


# ------------------------------------------------------------------ amounts, dates, booleans


@pytest.mark.parametrize("value, expected", [
    ("30 000,50", "30000.50"),
    ("30.000,50 €", "30000.50"),
    ("1,234.5", "1234.50"),
    ("30\u202f000", "30000.00"),   # narrow no-break space, as LibreOffice writes it
    ("1 250,5 EUR", "1250.50"),
    (30000, "30000.00"),
    (12.5, "12.50"),
    ("-300", "-300.00"),           # a plain Amount may be negative
])
def test_amounts(value: Any, expected: str) -> None:
    assert accepts(Amount, value) == Decimal(expected)


@pytest.mark.parametrize("value", ["abc", "NaN", "Infinity", "1e20", True, "€"])
def test_amount_refused(value: Any) -> None:
    refuses(Amount, value)


def test_positive_amount_refuses_negative() -> None:
    assert accepts(PositiveAmount, "0") == Decimal("0.00")
    assert "négatif" in refuses(PositiveAmount, "-300")
    assert "négatif" in refuses(PositiveAmount, -1)


@pytest.mark.parametrize("value", ["25/11/2026", "25-11-2026", "25.11.2026", "2026-11-25",
                                   "2026-11-25T10:30", "2026-11-25 00:00:00"])
def test_dates(value: str) -> None:
    assert accepts(FrDate, value) == date(2026, 11, 25)


@pytest.mark.parametrize("value, reason", [
    ("31/02/2026", "n'est pas une date qui existe"),
    ("2026-02-31", "n'est pas une date qui existe"),
    ("25/11/26", "format attendu"),
    ("2026-11-25 plus tard", "format attendu"),
    ("demain", "format attendu"),
])
def test_dates_refused(value: str, reason: str) -> None:
    assert reason in refuses(FrDate, value)


@pytest.mark.parametrize("value, expected", [
    ("oui", True), ("Oui ", True), ("x", True), ("X", True), ("vrai", True),
    ("non", False), ("NON", False), ("faux", False), (True, True),
])
def test_booleans(value: Any, expected: bool) -> None:
    assert accepts(FrBool, value) is expected


def test_boolean_refused() -> None:
    assert "oui ou non" in refuses(FrBool, "peut-être")


def test_text_keeps_template_syntax_but_refuses_controls() -> None:
    hostile = "{{ commune.name }} {% for x in y %} <w:t>injection</w:t>"
    assert accepts(Text, hostile) == hostile
    assert "contrôle" in refuses(Text, "bonjour\x00")
    assert "contrôle" in refuses(Text, "abc\u202edef")  # right-to-left override
    assert accepts(Text, "ligne 1\nligne 2\tfin") == "ligne 1\nligne 2\tfin"


# ------------------------------------------------------------------ models


def test_minimal_fixture_is_valid(catalogue: Catalogue) -> None:
    conv = build(catalogue)
    assert conv.commune.name == "Loos-en-Gohelle"
    assert conv.commune.insee == "62528"
    assert conv.commune.representative.capacity == "le Maire"
    assert conv.commune.representative.name is None


def test_unknown_field_is_refused(catalogue: Catalogue) -> None:
    with pytest.raises(ValidationError) as info:
        build(catalogue, {"holders": [{"kind": "person", "name": "A", "nickname": "B",
                                       "address": {"street": "x", "postcode": "62750",
                                                   "city": "Loos"}}]})
    assert any(e["type"] == "extra_forbidden" and e["loc"] == ("holders", 0, "nickname")
               for e in info.value.errors())


def test_intake_may_override_the_commune(catalogue: Catalogue) -> None:
    conv = build(catalogue, {"commune": {"representative": {"capacity": "l'adjoint délégué",
                                                            "name": "Jean Martin"}}})
    assert conv.commune.name == "Loos-en-Gohelle"
    assert conv.signatories[-1].name == "Jean Martin"


def _models(model: type[BaseModel], seen: set[type[BaseModel]]) -> None:
    if model in seen:
        return
    seen.add(model)
    for info in model.model_fields.values():
        stack = [info.annotation]
        while stack:
            ann = stack.pop()
            if isinstance(ann, type) and issubclass(ann, BaseModel):
                _models(ann, seen)
            stack.extend(getattr(ann, "__args__", ()))


@pytest.mark.parametrize("root", [Convention, ConventionType, CommuneProfile])
def test_every_field_has_a_french_title_and_description(root: type[BaseModel]) -> None:
    seen: set[type[BaseModel]] = set()
    _models(root, seen)
    assert len(seen) > (20 if root is Convention else 1)
    missing = [f"{m.__name__}.{name}" for m in seen for name, info in m.model_fields.items()
               if not info.title or not info.description]
    assert missing == []
    forbidding = [m.__name__ for m in seen if m.model_config.get("extra") != "forbid"]
    assert forbidding == []


# ------------------------------------------------------------------ derived figures


def test_amounts_are_derived(catalogue: Catalogue) -> None:
    conv = build(catalogue, {
        "commune_commitments": {
            "money": [{"label": "Bois", "amount": "2 000", "form": "grant"},
                      {"label": "Location", "amount": "500,50", "form": "service"}],
            "technical": [{"service": "Services techniques", "description": "Terrassement",
                           "staff_hours": "10", "hourly_rate": "30", "equipment_value": "200"}],
        },
        "holder_commitments": {"tasks": [{"description": "Planter"}], "in_kind": [
            {"kind": "volunteer_hours", "description": "Chantiers", "hours": "250", "rate": "12"},
            {"kind": "materials", "description": "Graines", "value": "99,50"},
            {"kind": "equipment", "description": "Valeur donnée l'emporte", "hours": "10",
             "rate": "10", "value": "5"},
        ]},
        "budget": {"other_funding": [{"funder": "Département", "amount": "1 000"}]},
    })
    a = conv.amounts
    assert a.commune_money == Decimal("2500.50")
    assert a.commune_technical == Decimal("500.00")
    assert a.commune_total == Decimal("3000.50")
    assert a.holders_inkind == Decimal("3104.50")
    assert a.other_funding == Decimal("1000.00")
    assert a.project_total == Decimal("7105.00")
    assert a.commune_share == Decimal("42.2")   # 3000.50 / 7105 = 42.23 %
    assert a.grants == Decimal("2000.00")
    dumped = conv.model_dump(mode="json")
    assert dumped["amounts"]["commune_share"] == "42.2"


def test_share_is_zero_when_nothing_is_valued(catalogue: Catalogue) -> None:
    conv = build(catalogue, {"commune_commitments": {"money": [], "authorisations": [
        {"description": "Occupation du square"}]}, "holder_commitments": {
        "tasks": [{"description": "Planter"}], "in_kind": []}})
    assert conv.amounts.project_total == 0
    assert conv.amounts.commune_share == 0


def test_commitment_end(catalogue: Catalogue) -> None:
    assert build(catalogue).commitment_end == date(2030, 5, 31)
    leap = build(catalogue, {"schedule": {"start": "2027-12-01", "end": "2028-02-29"},
                             "upkeep": {"years": 1}})
    assert leap.commitment_end == date(2029, 2, 28)


def _holder(kind: str, name: str, **extra: Any) -> dict[str, Any]:
    base = {"kind": kind, "name": name,
            "address": {"street": "1 rue X", "postcode": "62750", "city": "Loos-en-Gohelle"}}
    return {**base, **extra}


def test_signatories_order_and_keys(catalogue: Catalogue) -> None:
    holders = [
        _holder("association", "Les Amis du Jardin", rna="W623001234",
                representative={"name": "Anne Leroy", "capacity": "présidente"}),
        _holder("person", "Tom Petit", minor=True, birth_date="2013-05-01",
                guardian={"name": "Lise Petit", "relationship": "mère"}),
        _holder("group", "Collectif du Square",
                representative={"name": "Léo Roux", "minor": True, "birth_date": "2012-01-01",
                                "guardian": {"name": "Marc Roux", "relationship": "père"}},
                members=[{"name": "Adulte"},
                         {"name": "Inès", "minor": True, "birth_date": "2014-02-02",
                          "guardian": {"name": "Karim B.", "relationship": "père"}}]),
        _holder("person", "Paul Adulte"),
    ]
    conv = build(catalogue, {"holders": holders})
    keys = [(s.key, s.name) for s in conv.signatories]
    assert keys == [
        ("holder-1", "Anne Leroy"),
        ("guardian-2", "Lise Petit"),
        ("guardian-3", "Marc Roux"),
        ("guardian-3-2", "Karim B."),
        ("holder-4", "Paul Adulte"),
        ("commune", "Le Maire"),
    ]
    sig = {s.key: s for s in conv.signatories}
    assert sig["holder-1"].capacity == "présidente"
    assert sig["guardian-2"].capacity == "mère de Tom Petit, personne mineure"
    assert sig["guardian-3-2"].capacity == "père d'Inès, personne mineure"
    assert sig["holder-4"].party == "Paul Adulte"   # no "(habitant)" that fits only men
    assert sig["holder-4"].capacity == "en son nom propre"
    assert sig["commune"].capacity == "le Maire de Loos-en-Gohelle"
    assert sig["commune"].party == "Commune de Loos-en-Gohelle"
    assert conv.has_minors


def test_signatories_override_wins(catalogue: Catalogue) -> None:
    given = [{"key": "holder-1", "name": "X", "capacity": "y", "party": "z"},
             {"key": "commune", "name": "Le Maire", "capacity": "c", "party": "p"}]
    conv = build(catalogue, {"signatories_override": given})
    assert [s.key for s in conv.signatories] == ["holder-1", "commune"]
    with pytest.raises(ValidationError):
        build(catalogue, {"signatories_override": [{"key": "Holder 1", "name": "X",
                                                    "capacity": "y", "party": "z"}]})


def test_bundled_examples_are_models(catalogue: Catalogue, examples_dir: Path) -> None:
    skate = build(catalogue, json.loads((examples_dir / "skatepark.json").read_text("utf-8")))
    assert skate.has_minors
    assert [s.key for s in skate.signatories][-1] == "commune"
    assert all(s.key.startswith("guardian-") for s in skate.signatories[:-1])
    paths = build(catalogue, json.loads((examples_dir / "rural-paths.json").read_text("utf-8")))
    assert paths.amounts.commune_money == Decimal("30000.00")
    assert paths.mandatory_clauses is True


def test_model_round_trip_is_stable(catalogue: Catalogue) -> None:
    conv = build(catalogue)
    again = Convention.model_validate(
        {k: v for k, v in copy.deepcopy(conv.model_dump(mode="json")).items()
         if k not in {"amounts", "mandatory_clauses", "commitment_end", "has_minors",
                      "signatories"}})
    assert again.model_dump(mode="json") == conv.model_dump(mode="json")
