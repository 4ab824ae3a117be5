"""The cross-field rules of schemas/rules.py: one failing and one passing case per rule."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from pipeline.catalogue.loader import Catalogue
from pipeline.intake import RawRecord
from pipeline.validation.validator import Validator, deep_merge
from schemas import Convention, check
from schemas.rules import Finding, add_months

MINIMAL = Path(__file__).parent / "data" / "intake" / "minimal.json"
ADDRESS = {"street": "1 rue X", "postcode": "62750", "city": "Loos-en-Gohelle"}


def record(changes: dict[str, Any] | None = None) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(MINIMAL.read_text(encoding="utf-8"))
    return deep_merge(data, changes or {})


def findings(catalogue: Catalogue, changes: dict[str, Any] | None = None) -> list[Finding]:
    layer = {"commune": catalogue.profile.commune.model_dump(mode="json", exclude_none=True)}
    conv = Convention.model_validate(deep_merge(layer, record(changes)))
    return check(conv, catalogue.get("fifty-fifty"))


def at(found: list[Finding], field: str) -> list[Finding]:
    return [f for f in found if f.field == field]


def holder(kind: str, **extra: Any) -> dict[str, Any]:
    return {"kind": kind, "name": f"Porteur {kind}", "address": ADDRESS,
            "liability_certificate": True, **extra}


REP = {"name": "Anne Leroy", "capacity": "présidente"}


def test_the_fixture_breaks_no_rule(catalogue: Catalogue) -> None:
    assert findings(catalogue) == []


# ------------------------------------------------------------------ schedule


def test_end_after_start(catalogue: Catalogue) -> None:
    bad = at(findings(catalogue, {"schedule": {"start": "2027-03-01", "end": "2027-03-01"}}),
             "schedule.end")
    assert len(bad) == 1 and "doit être après" in bad[0].message
    assert bad[0].severity == "error"
    assert at(findings(catalogue, {"schedule": {"start": "2027-03-01", "end": "2027-04-01"}}),
              "schedule.end") == []


@pytest.mark.parametrize("end, ok", [
    ("2027-03-31", False),   # under one month
    ("2027-04-01", True),    # one calendar month exactly
    ("2027-09-01", True),    # six calendar months exactly (184 days)
    ("2027-09-02", False),   # one day too long
])
def test_realisation_length_within_type_bounds(catalogue: Catalogue, end: str, ok: bool) -> None:
    found = at(findings(catalogue, {"schedule": {"start": "2027-03-01", "end": end}}),
               "schedule.end")
    assert (found == []) is ok
    if not ok:
        assert "de 1 à 6 mois" in found[0].message


def test_add_months_clamps_to_month_end() -> None:
    assert add_months(date(2027, 1, 31), 1) == date(2027, 2, 28)
    assert add_months(date(2027, 8, 31), 6) == date(2028, 2, 29)
    assert add_months(date(2027, 11, 15), 3) == date(2028, 2, 15)


def test_milestone_inside_the_works(catalogue: Catalogue) -> None:
    sched = {"start": "2027-03-01", "end": "2027-05-31"}
    bad = findings(catalogue, {"schedule": {**sched, "milestones": [
        {"date": "2027-04-01", "label": "dans"}, {"date": "2027-06-15", "label": "après"}]}})
    assert [f.field for f in bad] == ["schedule.milestones.1.date"]
    assert findings(catalogue, {"schedule": {**sched, "milestones": [
        {"date": "2027-05-31", "label": "à la fin"}]}}) == []


def test_request_before_start(catalogue: Catalogue) -> None:
    bad = at(findings(catalogue, {"project": {"request_date": "2027-03-02"}}),
             "project.request_date")
    assert len(bad) == 1
    assert findings(catalogue, {"project": {"request_date": "2027-03-01"}}) == []


# ------------------------------------------------------------------ parties


@pytest.mark.parametrize("kind, field, ident", [
    ("association", "rna", {"rna": "W623001234", "republican_commitment_signed": True}),
    ("company", "siret", {"siret": "73282932000074"}),
    ("school", "uai", {"uai": "0620555S"}),
])
def test_identifier_required_by_kind(catalogue: Catalogue, kind: str, field: str,
                                     ident: dict[str, str]) -> None:
    buy = _money("direct_purchase")
    cer = {"republican_commitment_signed": True} if kind == "association" else {}
    without = findings(catalogue, {"holders": [holder(kind, representative=REP, **cer)], **buy})
    assert [f.field for f in without] == [f"holders.0.{field}"]
    assert findings(catalogue, {"holders": [holder(kind, representative=REP, **ident)],
                                **buy}) == []


@pytest.mark.parametrize("kind, words", [
    ("group", "une personne nommée doit signer pour le collectif"),
    ("association", "indiquez qui représente le porteur"),
])
def test_representative_required(catalogue: Catalogue, kind: str, words: str) -> None:
    extra: dict[str, Any] = ({"rna": "W623001234", "republican_commitment_signed": True}
                             if kind == "association" else {})
    money = {"commune_commitments": {"money": [
        {"label": "Bois", "amount": "2 000", "form": "direct_purchase"}]}}
    bad = at(findings(catalogue, {"holders": [holder(kind, **extra)], **money}),
             "holders.0.representative")
    assert len(bad) == 1 and words in bad[0].message
    assert findings(catalogue, {"holders": [holder(kind, representative=REP, **extra)],
                                **money}) == []


def _person_money() -> dict[str, Any]:
    return {"commune_commitments": {"money": [
        {"label": "Bois", "amount": "2 000", "form": "direct_purchase"}]}}


def test_person_has_no_representative(catalogue: Catalogue) -> None:
    bad = findings(catalogue, {"holders": [holder("person", representative=REP)],
                               **_person_money()})
    assert [f.field for f in bad] == ["holders.0.representative"]
    assert findings(catalogue, {"holders": [holder("person")], **_person_money()}) == []


SUPERVISION = {"insurance": {"minors_supervision": "deux animateurs du service jeunesse"}}
GUARDIAN = {"name": "Lise Petit", "relationship": "mère"}


@pytest.mark.parametrize("where", ["holder", "representative", "member"])
def test_minor_needs_a_guardian(catalogue: Catalogue, where: str) -> None:
    def holders(guardian: dict[str, str] | None) -> list[dict[str, Any]]:
        minor: dict[str, Any] = {"minor": True, "birth_date": "2013-05-01"}
        if guardian:
            minor["guardian"] = guardian
        if where == "holder":
            return [holder("person", **minor)]
        if where == "representative":
            return [holder("group", representative={"name": "Léo", **minor})]
        return [holder("group", representative=REP, members=[{"name": "Inès", **minor}])]

    path = {"holder": "holders.0.guardian", "representative": "holders.0.representative.guardian",
            "member": "holders.0.members.0.guardian"}[where]
    bad = findings(catalogue, {"holders": holders(None), **SUPERVISION, **_person_money()})
    assert [f.field for f in bad] == [path]
    assert "mineur ne signe rien seul" in bad[0].message
    assert findings(catalogue, {"holders": holders(GUARDIAN), **SUPERVISION,
                                **_person_money()}) == []


def test_birth_date_consistency(catalogue: Catalogue) -> None:
    def one(**person: Any) -> list[Finding]:
        return findings(catalogue, {"holders": [holder("person", **person)], **SUPERVISION,
                                    **_person_money()})

    # Ticked minor but born 30 years before the works.
    adult_ticked = one(minor=True, birth_date="1997-01-01", guardian=GUARDIAN)
    assert [(f.field, f.severity) for f in adult_ticked] == [("holders.0.birth_date", "error")]
    # Born 14 years before the works, but "minor" left unticked.
    child_unticked = one(birth_date="2013-01-01")
    assert [(f.field, f.severity) for f in child_unticked] == [("holders.0.minor", "error")]
    # An adult's birth date is not needed (GDPR): a warning only.
    adult = one(birth_date="1980-01-01")
    assert [(f.field, f.severity) for f in adult] == [("holders.0.birth_date", "warning")]
    # 18th birthday on the day the works start: an adult.
    assert [f.field for f in one(minor=True, birth_date="2009-03-01", guardian=GUARDIAN)] == [
        "holders.0.birth_date"]
    assert one(minor=True, birth_date="2009-03-02", guardian=GUARDIAN) == []


def test_only_a_person_can_be_a_minor_holder(catalogue: Catalogue) -> None:
    bad = findings(catalogue, {"holders": [holder("group", representative=REP, minor=True)],
                               **SUPERVISION, **_person_money()})
    assert "holders.0.minor" in [f.field for f in bad]


def test_minors_need_supervision(catalogue: Catalogue) -> None:
    minor_holder = [holder("person", minor=True, birth_date="2013-05-01", guardian=GUARDIAN)]
    bad = findings(catalogue, {"holders": minor_holder, **_person_money()})
    assert [f.field for f in bad] == ["insurance.minors_supervision"]
    assert findings(catalogue, {"holders": minor_holder, **SUPERVISION,
                                **_person_money()}) == []


# ------------------------------------------------------------------ money


def _money(form: str, amount: str = "2 000") -> dict[str, Any]:
    return {"commune_commitments": {"money": [{"label": "Bois", "amount": amount,
                                               "form": form}]}}


@pytest.mark.parametrize("kind, extra, words", [
    ("group", {"representative": REP}, "pas de personnalité juridique"),
    ("person", {}, "une subvention à un particulier"),
])
def test_no_grant_without_legal_personality(catalogue: Catalogue, kind: str,
                                            extra: dict[str, Any], words: str) -> None:
    bad = findings(catalogue, {"holders": [holder(kind, **extra)], **_money("grant")})
    assert [f.field for f in bad] == ["commune_commitments.money.0.form"]
    assert words in bad[0].message
    assert findings(catalogue, {"holders": [holder(kind, **extra)],
                                **_money("direct_purchase")}) == []


def test_association_grant_needs_republican_commitment(catalogue: Catalogue) -> None:
    unsigned = {"holders": [holder("association", rna="W623001234", representative=REP)]}
    bad = findings(catalogue, {**unsigned, **_money("grant")})
    assert [f.field for f in bad] == ["holders.0.republican_commitment_signed"]
    assert "contrat d'engagement républicain" in bad[0].message
    assert "une subvention" in bad[0].message


@pytest.mark.parametrize("commitments", [
    {"money": [{"label": "Bois", "amount": "2 000", "form": "direct_purchase"}]},
    {"money": [{"label": "Pose", "amount": "800", "form": "service"}]},
    {"money": [], "technical": [{"service": "ST", "description": "Terrassement",
                                 "staff_hours": "10", "hourly_rate": "30"}]},
])
def test_association_help_in_kind_needs_republican_commitment(
        catalogue: Catalogue, commitments: dict[str, Any]) -> None:
    """Help in kind is a subsidy too (law of 12 April 2000, art. 9-1): the CER applies."""
    unsigned = {"holders": [holder("association", rna="W623001234", representative=REP)]}
    bad = findings(catalogue, {**unsigned, "commune_commitments": commitments})
    assert [f.field for f in bad] == ["holders.0.republican_commitment_signed"]
    assert "aide en nature" in bad[0].message and "9-1" in bad[0].message
    signed = {"holders": [holder("association", rna="W623001234", representative=REP,
                                 republican_commitment_signed=True)]}
    assert findings(catalogue, {**signed, "commune_commitments": commitments}) == []


def test_association_with_only_authorisations_needs_no_contract(catalogue: Catalogue) -> None:
    unsigned = {"holders": [holder("association", rna="W623001234", representative=REP)],
                "commune_commitments": {"money": [], "authorisations": [
                    {"description": "Occupation du square"}]}}
    assert findings(catalogue, unsigned) == []


def test_republican_commitment_required_drives_the_visa(catalogue: Catalogue) -> None:
    layer = {"commune": catalogue.profile.commune.model_dump(mode="json", exclude_none=True)}
    assoc = Convention.model_validate(deep_merge(layer, record()))
    assert assoc.republican_commitment_required is True
    group = Convention.model_validate(deep_merge(layer, record({
        "holders": [holder("group", representative=REP)], **_money("direct_purchase")})))
    assert group.republican_commitment_required is False


def test_money_line_names_an_existing_holder(catalogue: Catalogue) -> None:
    bad = findings(catalogue, {"commune_commitments": {"money": [
        {"label": "Bois", "amount": "2 000", "form": "grant", "holder": 2}]}})
    assert [f.field for f in bad] == ["commune_commitments.money.0.holder"]
    assert bad[0].message == "il n'y a qu'un porteur"


def _inkind(value: str) -> dict[str, Any]:
    return {"holder_commitments": {"tasks": [{"description": "Planter"}], "in_kind": [
        {"kind": "services", "description": "Travaux des adhérents", "value": value}]}}


@pytest.mark.parametrize("amount, technical_hours, expected", [
    ("23 000,01", "0", True),
    ("23 000", "0", False),        # not above the threshold
    ("20 000", "100", True),       # 20 000 + 100 h × 35 = 23 500: help in kind counts
    ("20 000", "50", False),       # 21 750
])
def test_mandatory_clauses_above_23000_for_a_legal_entity(
        catalogue: Catalogue, amount: str, technical_hours: str, expected: bool) -> None:
    changes = {**_inkind("60 000"), "commune_commitments": {
        "money": [{"label": "Bois", "amount": amount, "form": "grant"}],
        "technical": [{"service": "ST", "description": "Aide", "staff_hours": technical_hours,
                       "hourly_rate": "35"}]}}
    layer = {"commune": catalogue.profile.commune.model_dump(mode="json", exclude_none=True)}
    conv = Convention.model_validate(deep_merge(layer, record(changes)))
    assert conv.mandatory_clauses is expected
    found = check(conv, catalogue.get("fifty-fifty"))
    warned = [f for f in found if f.field == "holders.0"]
    assert bool(warned) is expected
    assert all(f.severity == "warning" for f in found)
    if expected:
        assert "23 000" in warned[0].message


def test_mandatory_clauses_not_for_a_group(catalogue: Catalogue) -> None:
    changes = {"holders": [holder("group", representative=REP)],
               **_money("direct_purchase", "40 000"), **_inkind("60 000")}
    layer = {"commune": catalogue.profile.commune.model_dump(mode="json", exclude_none=True)}
    conv = Convention.model_validate(deep_merge(layer, record(changes)))
    assert conv.mandatory_clauses is False


THREE = [
    holder("association", rna="W623001234", representative=REP,
           republican_commitment_signed=True),
    holder("group", representative=REP),
    holder("person", minor=True, birth_date="2012-05-12",
           guardian={"name": "Claire Moreau", "relationship": "mère"}),
]


def _three(money: list[dict[str, Any]], hours: str = "300") -> Convention:
    changes = {"holders": THREE, **_inkind("90 000"), "insurance": {
        "minors_supervision": "en présence de sa mère"},
        "commune_commitments": {"money": money, "technical": [
            {"service": "ST", "description": "Terrassement", "staff_hours": hours,
             "hourly_rate": "30"}]}}
    layer = {"commune": catalogue_commune()}
    return Convention.model_validate(deep_merge(layer, record(changes)))


def catalogue_commune() -> dict[str, Any]:
    return Catalogue.load(Path(__file__).resolve().parent.parent / "conventions").profile \
        .commune.model_dump(mode="json", exclude_none=True)


def test_aid_per_beneficiary_is_the_one_figure_of_rule_and_document(
        catalogue: Catalogue) -> None:
    """With three holders, the association's aid is its own lines plus a third of the
    technical help, not the commune's whole commitment."""
    conv = _three([
        {"label": "Bacs", "amount": "18 000", "form": "grant", "holder": 1},
        {"label": "Clôture", "amount": "4 000", "form": "service", "holder": 1},
        {"label": "Bois", "amount": "850,50", "form": "direct_purchase", "holder": 2},
    ])
    aid = conv.holder_aid(0)
    assert (aid.grants, aid.purchases, aid.technical) == (
        Decimal("18000.00"), Decimal("4000.00"), Decimal("3000.00"))
    assert aid.total == Decimal("25000.00") == conv.aid_to_holder(0)
    assert conv.amounts.commune_total == Decimal("31850.50")   # not the figure of the rule
    assert [a.number for a in conv.large_aids] == [1]
    assert conv.mandatory_clauses is True
    warned = at(check(conv, catalogue.get("fifty-fifty")), "holders.0")
    assert len(warned) == 1 and "25 000,00 €" in warned[0].message
    assert conv.holder_aid(1).purchases == Decimal("850.50")
    assert conv.holder_aid(2).total == Decimal("3000.00")


def test_help_in_kind_shared_evenly_can_stay_below_the_threshold(catalogue: Catalogue) -> None:
    conv = _three([{"label": "Bacs", "amount": "20 000", "form": "grant", "holder": 1}],
                  hours="270")  # 8 100 € of technical help: 2 700 € each
    assert conv.aid_to_holder(0) == Decimal("22700.00")
    assert conv.mandatory_clauses is False
    assert at(check(conv, catalogue.get("fifty-fifty")), "holders.0") == []


def test_commune_share_above_threshold_is_a_warning_that_does_not_reject(
        catalogue: Catalogue) -> None:
    high = findings(catalogue, _inkind("1 000"))          # 2 000 / 3 000 = 66,7 %
    assert [(f.field, f.severity) for f in high] == [("commune_commitments", "warning")]
    assert "66,7 %" in high[0].message
    assert findings(catalogue, _inkind("2 000")) == []   # exactly 50 %: no warning
    raw = RawRecord("t.json", 1, record(_inkind("1 000")))
    validated = Validator(catalogue).validate(raw)
    assert validated.accepted
    assert [i.severity for i in validated.issues] == ["warning"]


def test_commune_commits_something(catalogue: Catalogue) -> None:
    nothing: dict[str, Any] = {"commune_commitments": {"money": []}}
    bad = findings(catalogue, nothing)
    assert [f.field for f in bad] == ["commune_commitments"]
    assert "ne s'engage à rien" in bad[0].message
    authorisation = {"commune_commitments": {"money": [], "authorisations": [
        {"description": "Occupation du square"}]}}
    assert findings(catalogue, authorisation) == []


# ------------------------------------------------------------------ public land, payment


LAND = {"description": "Toiture", "duration_years": 20}


def test_free_public_land_needs_a_reason(catalogue: Catalogue) -> None:
    bad = findings(catalogue, {"public_land": LAND})
    assert [f.field for f in bad] == ["public_land.free_reason"]
    assert findings(catalogue, {"public_land": {**LAND, "free_reason": "intérêt général"}}) == []
    assert findings(catalogue, {"public_land": {**LAND, "fee": "600"}}) == []


def test_economic_use_needs_a_selection_procedure(catalogue: Catalogue) -> None:
    land = {**LAND, "fee": "600", "economic_use": "oui"}
    bad = findings(catalogue, {"public_land": land})
    assert [f.field for f in bad] == ["public_land.selection_procedure"]
    assert findings(catalogue, {"public_land": {
        **land, "selection_procedure": "avis publié le 1er juillet 2026"}}) == []


def test_payment_schedule_total(catalogue: Catalogue) -> None:
    bad = findings(catalogue, {"payment": {"schedule": [
        {"amount": "1 000"}, {"amount": "500"}]}})
    assert [f.field for f in bad] == ["payment.schedule"]
    assert "1 500,00 €" in bad[0].message and "2 000,00 €" in bad[0].message
    assert findings(catalogue, {"payment": {"schedule": [
        {"amount": "1 000", "due": "01/03/2027"},
        {"amount": "1 000", "condition": "à l'achèvement"}]}}) == []


def test_payment_schedule_covers_grants_not_purchases(catalogue: Catalogue) -> None:
    """A correct record with three holders: 12 500 € of grants scheduled, the commune's
    own purchase and service (10 650,50 €) left out of the schedule."""
    money = [
        {"label": "Bacs", "amount": "12 500", "form": "grant", "holder": 1},
        {"label": "Clôture", "amount": "9 800", "form": "service", "holder": 1},
        {"label": "Bois", "amount": "850,50", "form": "direct_purchase", "holder": 2},
    ]
    changes = {"holders": THREE, "insurance": {"minors_supervision": "en présence de sa mère"},
               **_inkind("30 000"), "commune_commitments": {"money": money}}
    good = {**changes, "payment": {"schedule": [{"amount": "7 500"}, {"amount": "5 000"}]}}
    assert at(findings(catalogue, good), "payment.schedule") == []
    whole = {**changes, "payment": {"schedule": [{"amount": "23 150,50"}]}}
    bad = at(findings(catalogue, whole), "payment.schedule")
    assert len(bad) == 1 and "12 500,00 €" in bad[0].message and "subventions" in bad[0].message


def test_payment_schedule_without_any_grant(catalogue: Catalogue) -> None:
    bad = at(findings(catalogue, {**_money("direct_purchase"), "payment": {"schedule": [
        {"amount": "2 000"}]}}), "payment.schedule")
    assert len(bad) == 1 and "aucune subvention" in bad[0].message


def test_errors_reject_and_name_the_field_in_the_validator(catalogue: Catalogue) -> None:
    raw = RawRecord("t.json", 7, record({"schedule": {"start": "2027-03-01",
                                                      "end": "2027-02-01"}}))
    validated = Validator(catalogue).validate(raw)
    assert not validated.accepted
    assert [(i.source, i.row, i.field, i.severity) for i in validated.issues] == [
        ("t.json", 7, "schedule.end", "error")]


def test_accepted_record_gets_fingerprint_and_reference(catalogue: Catalogue) -> None:
    data = record()
    del data["reference"]
    first = Validator(catalogue).validate(RawRecord("t.json", 1, data))
    again = Validator(catalogue).validate(RawRecord("u.json", 3, record({"reference": None})))
    assert first.accepted and first.reference.startswith("REF-")
    assert first.reference == again.reference
    assert len(first.fingerprint) == 64 and first.fingerprint == again.fingerprint
    assert first.convention is not None
    assert first.convention.amounts.commune_money == Decimal("2000.00")


# ------------------------------------------------------------------ insurance


def test_insurer_must_be_told(catalogue: Catalogue) -> None:
    bad = at(findings(catalogue, {"insurance": {"insurer_notified": False}}),
             "insurance.insurer_notified")
    assert len(bad) == 1 and bad[0].severity == "warning" and "assureur" in bad[0].message
    assert at(findings(catalogue), "insurance.insurer_notified") == []


def test_legal_entity_gives_its_liability_certificate(catalogue: Catalogue) -> None:
    data = record()
    data["holders"][0]["liability_certificate"] = False
    layer = {"commune": catalogue.profile.commune.model_dump(mode="json", exclude_none=True)}
    found = check(Convention.model_validate(deep_merge(layer, data)),
                  catalogue.get("fifty-fifty"))
    bad = at(found, "holders.0.liability_certificate")
    assert len(bad) == 1 and bad[0].severity == "warning"
    assert at(findings(catalogue), "holders.0.liability_certificate") == []
