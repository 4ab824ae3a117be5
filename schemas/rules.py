"""Cross-field rules of a convention, as data: each finding names its field path.

Pure functions over a validated :class:`~schemas.convention.Convention`; the pipeline turns
findings into report issues. Errors reject the record; warnings do not."""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Literal

from schemas.base import Strict
from schemas.catalogue import ConventionType
from schemas.commitments import Amounts
from schemas.convention import LEGAL_ENTITY_KINDS, TRANSPARENCY_THRESHOLD, Convention
from schemas.parties import Guardian, age_on


@dataclass(frozen=True, slots=True)
class Finding:
    """One broken rule."""

    field: str
    message: str
    severity: Literal["error", "warning"] = "error"


def months_between(start: object, end: object) -> float:
    """Length in months (30.44-day months), for the message about the realisation bounds."""
    assert isinstance(start, date) and isinstance(end, date)
    return (end - start).days / 30.44


def add_months(day: date, months: int) -> date:
    """``day`` plus whole calendar months (31 January + 1 month is 28 or 29 February)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    last = calendar.monthrange(year, month)[1]
    return date(year, month, min(day.day, last))


def check(conv: Convention, ctype: ConventionType) -> list[Finding]:
    """Every rule, in clause order."""
    amounts = conv.amounts  # a computed field: worked out once, not once per rule
    return [*_schedule(conv, ctype), *_parties(conv), *_money(conv, ctype, amounts),
            *_land(conv), *_payment(conv, amounts)]


def _fmt(amount: object) -> str:
    return f"{amount:,.2f} €".replace(",", " ").replace(".", ",")


def _pct(value: object) -> str:
    return f"{value} %".replace(".", ",")


def _schedule(conv: Convention, ctype: ConventionType) -> Iterator[Finding]:
    s = conv.schedule
    if s.end <= s.start:
        yield Finding("schedule.end", f"la fin des travaux ({s.end:%d/%m/%Y}) doit être après "
                      f"leur début ({s.start:%d/%m/%Y})")
        return
    months = months_between(s.start, s.end)
    b = ctype.bounds
    # Calendar months: 1 March to 1 September is six months exactly, not 6.04.
    if s.end < add_months(s.start, b.min_months) or s.end > add_months(s.start, b.max_months):
        length = f"{months:.1f}".replace(".", ",")
        yield Finding("schedule.end", f"la réalisation dure {length} mois ; une convention "
                      f"« {ctype.title} » prévoit de {b.min_months} à {b.max_months} mois")
    for i, m in enumerate(s.milestones):
        if not s.start <= m.date <= s.end:
            yield Finding(f"schedule.milestones.{i}.date",
                          "l'étape doit se situer entre le début et la fin des travaux")
    if conv.project.request_date > s.start:
        yield Finding("project.request_date", "la demande est datée après le début des travaux")


def _guardian_check(person: Strict, path: str, minor: bool, guardian: Guardian | None,
                    start: object) -> Iterator[Finding]:
    birth = getattr(person, "birth_date", None)
    if minor and guardian is None:
        yield Finding(f"{path}.guardian", "un mineur ne signe rien seul : indiquez son "
                      "représentant légal (parent ou tuteur)")
    if birth is not None:
        assert isinstance(start, date)
        adult = age_on(birth, start) >= 18
        if adult and minor:
            yield Finding(f"{path}.birth_date", "la date de naissance indique une personne majeure")
        if adult and not minor:
            yield Finding(f"{path}.birth_date", "la date de naissance n'est demandée que pour un "
                          "mineur (RGPD) : elle ne sera pas imprimée", "warning")
        if not adult and not minor:
            yield Finding(f"{path}.minor", "la date de naissance indique un mineur : cochez "
                          "« Mineur » et indiquez son représentant légal")


def _parties(conv: Convention) -> Iterator[Finding]:
    start = conv.schedule.start
    for n, h in enumerate(conv.holders):
        p = f"holders.{n}"
        if h.kind == "association" and not h.rna:
            yield Finding(f"{p}.rna", "une association doit indiquer son numéro RNA")
        if h.kind == "company" and not h.siret:
            yield Finding(f"{p}.siret", "une entreprise doit indiquer son SIRET")
        if h.kind == "school" and not h.uai:
            yield Finding(f"{p}.uai", "un établissement scolaire doit indiquer son code UAI")
        if h.kind != "person" and h.representative is None:
            what = ("une personne nommée doit signer pour le collectif, qui n'a pas de "
                    "personnalité juridique" if h.kind == "group" else
                    "indiquez qui représente le porteur et signe pour lui")
            yield Finding(f"{p}.representative", what)
        if h.kind == "person":
            if h.representative is not None:
                yield Finding(f"{p}.representative", "un habitant agit en son nom : pas de "
                              "représentant (pour un mineur, indiquez son représentant légal)")
            yield from _guardian_check(h, p, h.minor, h.guardian, start)
        elif h.minor or h.guardian is not None:
            yield Finding(f"{p}.minor", "seul un habitant peut être mineur ; pour un mineur qui "
                          "représente un collectif, cochez « Mineur » sur le représentant")
        if h.representative is not None:
            r = h.representative
            yield from _guardian_check(r, f"{p}.representative", r.minor, r.guardian, start)
        for m, member in enumerate(h.members):
            yield from _guardian_check(member, f"{p}.members.{m}", member.minor, member.guardian,
                                       start)
    if conv.has_minors and not conv.insurance.minors_supervision:
        yield Finding("insurance.minors_supervision", "des mineurs participent : précisez qui "
                      "les encadre pendant les travaux")
    if not conv.insurance.insurer_notified:
        yield Finding("insurance.insurer_notified", "l'assureur de la commune doit être informé "
                      "de la participation de bénévoles (extension de garantie) avant les "
                      "travaux", "warning")
    for n, h in enumerate(conv.holders):
        if h.kind in ("association", "company") and not h.liability_certificate:
            yield Finding(f"holders.{n}.liability_certificate", f"« {h.name} » doit fournir son "
                          "attestation d'assurance responsabilité civile (annexe)", "warning")


def _money(conv: Convention, ctype: ConventionType, amounts: Amounts) -> Iterator[Finding]:
    holders = conv.holders
    for i, line in enumerate(conv.commune_commitments.money):
        p = f"commune_commitments.money.{i}"
        if line.holder > len(holders):
            count = ("qu'un porteur" if len(holders) == 1 else
                     f"que {len(holders)} porteurs")
            yield Finding(f"{p}.holder", f"il n'y a {count}")
            continue
        h = holders[line.holder - 1]
        if line.form == "grant" and h.kind in ("group", "person"):
            yield Finding(f"{p}.form", f"« {h.name} » ne peut pas recevoir d'argent directement "
                          "(pas de personnalité juridique) : la commune achète elle-même "
                          "(direct_purchase)" if h.kind == "group" else
                          f"une subvention à un particulier (« {h.name} ») n'est pas prévue par le "
                          "dispositif : la commune achète elle-même (direct_purchase)")
    aids = conv.holder_aids
    for n, (h, aid) in enumerate(zip(holders, aids, strict=True)):
        if h.kind == "association" and aid.total > 0 and not h.republican_commitment_signed:
            what = ("une subvention" if aid.grants else
                    "une aide en nature (achats, prestations ou aide technique de la commune)")
            yield Finding(f"holders.{n}.republican_commitment_signed",
                          f"l'association « {h.name} » reçoit {what} : une aide en nature est "
                          "aussi une subvention (loi du 12 avril 2000, art. 9-1), l'association "
                          "doit avoir souscrit le contrat d'engagement républicain (art. 10-1)")
    for n, (h, aid) in enumerate(zip(holders, aids, strict=True)):
        if h.kind in LEGAL_ENTITY_KINDS and aid.total > TRANSPARENCY_THRESHOLD:
            yield Finding(f"holders.{n}", f"aide de {_fmt(aid.total)} à « {h.name} » (plus de "
                          "23 000 €) : les clauses obligatoires (objet, montant, modalités de "
                          "versement, conditions d'utilisation) sont ajoutées", "warning")
    share = amounts.commune_share
    if share > ctype.bounds.commune_share_warning:
        yield Finding("commune_commitments", f"la commune finance {_pct(share)} du projet, plus "
                      f"que les {_pct(ctype.bounds.commune_share_warning)} visés par le dispositif",
                      "warning")
    if amounts.commune_total == 0 and not conv.commune_commitments.authorisations:
        yield Finding("commune_commitments", "la commune ne s'engage à rien : ajoutez un apport, "
                      "une aide technique ou une autorisation")


def _land(conv: Convention) -> Iterator[Finding]:
    land = conv.public_land
    if land is None:
        return
    if land.fee == 0 and not land.free_reason:
        yield Finding("public_land.free_reason", "une occupation gratuite doit être motivée")
    if land.economic_use and not land.selection_procedure:
        yield Finding("public_land.selection_procedure", "une occupation du domaine public pour "
                      "une activité économique exige une procédure de sélection préalable avec "
                      "publicité (depuis 2017)")


def _payment(conv: Convention, amounts: Amounts) -> Iterator[Finding]:
    """The schedule covers the money paid to holders (grants) only: the commune's own
    purchases and services are paid to its suppliers and have no place in it."""
    steps = conv.payment.schedule
    if not steps:
        return
    total = sum(s.amount for s in steps)
    grants = amounts.grants
    if not grants:
        yield Finding("payment.schedule", f"l'échéancier totalise {_fmt(total)} alors qu'aucune "
                      "subvention n'est versée aux porteurs : les achats et prestations de la "
                      "commune n'y figurent pas, laissez-le vide")
    elif total != grants:
        yield Finding("payment.schedule", f"l'échéancier totalise {_fmt(total)} mais les "
                      f"subventions versées aux porteurs s'élèvent à {_fmt(grants)} (les achats "
                      "et prestations payés par la commune n'y figurent pas)")


__all__ = ["Finding", "add_months", "check", "months_between"]
