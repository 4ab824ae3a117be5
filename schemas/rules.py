"""Cross-field rules of a convention, as data: each finding names its field path.

Pure functions over a validated :class:`~schemas.convention.Convention`; the pipeline turns
findings into report issues. Errors reject the record; warnings do not."""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date
from typing import Literal

from pipeline.core.i18n import _, ngettext
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
    code: str = "rule"
    """The stable code of the rule (``rule.group-money``…), listed in the README."""


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
    with one_pass():
        return [f for rule in RULES for f in rule(conv, ctype)]


_PASS: ContextVar[dict[int, Amounts] | None] = ContextVar("rules_pass", default=None)
"""During :func:`one_pass`: the figures computed so far, by convention."""


@contextmanager
def one_pass() -> Iterator[None]:
    """Run the rules on conventions that do not change meanwhile: the rules needing a
    convention's figures (:attr:`Convention.amounts`) then share one computation."""
    token = _PASS.set({})
    try:
        yield
    finally:
        _PASS.reset(token)


def _amounts(conv: Convention) -> Amounts:
    memo = _PASS.get()
    if memo is None:
        return conv.amounts
    found = memo.get(id(conv))
    if found is None:  # (a convention lacking fields raises here, each time, as before)
        found = memo[id(conv)] = conv.amounts
    return found


def _money_rule(conv: Convention, ctype: ConventionType) -> Iterator[Finding]:
    return _money(conv, ctype, _amounts(conv))


def _payment_rule(conv: Convention, ctype: ConventionType) -> Iterator[Finding]:
    del ctype
    return _payment(conv, _amounts(conv))


def _parties_rule(conv: Convention, ctype: ConventionType) -> Iterator[Finding]:
    del ctype
    return _parties(conv)


def _land_rule(conv: Convention, ctype: ConventionType) -> Iterator[Finding]:
    del ctype
    return _land(conv)


def _fmt(amount: object) -> str:
    return f"{amount:,.2f} €".replace(",", " ").replace(".", ",")


def _pct(value: object) -> str:
    return f"{value} %".replace(".", ",")


def _schedule(conv: Convention, ctype: ConventionType) -> Iterator[Finding]:
    s = conv.schedule
    if s.end <= s.start:
        yield Finding("schedule.end", _("the end of the works ({end}) must come after their "
                                        "start ({start})").format(end=f"{s.end:%d/%m/%Y}",
                                                                  start=f"{s.start:%d/%m/%Y}"),
                      code="rule.schedule-order")
        return
    months = months_between(s.start, s.end)
    b = ctype.bounds
    # Calendar months: 1 March to 1 September is six months exactly, not 6.04.
    if s.end < add_months(s.start, b.min_months) or s.end > add_months(s.start, b.max_months):
        length = f"{months:.1f}".replace(".", ",")
        yield Finding("schedule.end", _("the works last {length} months; a convention "
                                        "« {type} » allows {low} to {high} months").format(
            length=length, type=ctype.title, low=b.min_months, high=b.max_months),
            code="rule.schedule-length")
    for i, m in enumerate(s.milestones):
        if not s.start <= m.date <= s.end:
            yield Finding(f"schedule.milestones.{i}.date",
                          _("the milestone must fall between the start and the end of the "
                            "works"), code="rule.milestone-date")
    if conv.project.request_date > s.start:
        yield Finding("project.request_date", _("the request is dated after the works start"),
                      code="rule.request-date")


def _guardian_check(person: Strict, path: str, minor: bool, guardian: Guardian | None,
                    start: object) -> Iterator[Finding]:
    birth = getattr(person, "birth_date", None)
    if minor and guardian is None:
        yield Finding(f"{path}.guardian", _("a minor signs nothing alone: give their legal "
                                            "guardian (parent or tutor)"),
                      code="rule.minor-guardian")
    if birth is not None:
        assert isinstance(start, date)
        adult = age_on(birth, start) >= 18
        if adult and minor:
            yield Finding(f"{path}.birth_date", _("the birth date is that of an adult"),
                          code="rule.minor-adult")
        if adult and not minor:
            yield Finding(f"{path}.birth_date", _("the birth date is only asked for a minor "
                                                  "(GDPR): it will not be printed"),
                          "warning", "rule.birth-date-unneeded")
        if not adult and not minor:
            yield Finding(f"{path}.minor", _("the birth date is that of a minor: tick "
                                             "« Mineur » and give their legal guardian"),
                          code="rule.minor-unmarked")


def _parties(conv: Convention) -> Iterator[Finding]:
    start = conv.schedule.start
    for n, h in enumerate(conv.holders):
        p = f"holders.{n}"
        if h.kind == "association" and not h.rna:
            yield Finding(f"{p}.rna", _("an association must give its RNA number"),
                          code="rule.association-rna")
        if h.kind == "company" and not h.siret:
            yield Finding(f"{p}.siret", _("a company must give its SIRET"),
                          code="rule.company-siret")
        if h.kind == "school" and not h.uai:
            yield Finding(f"{p}.uai", _("a school must give its UAI code"),
                          code="rule.school-uai")
        if h.kind != "person" and h.representative is None:
            what = (_("a named person must sign for the group, which is not a legal person")
                    if h.kind == "group" else
                    _("give who represents the holder and signs for it"))
            yield Finding(f"{p}.representative", what, code="rule.representative-missing")
        if h.kind == "person":
            if h.representative is not None:
                yield Finding(f"{p}.representative", _(
                    "an inhabitant acts in their own name: no representative (for a minor, "
                    "give their legal guardian)"), code="rule.representative-person")
            yield from _guardian_check(h, p, h.minor, h.guardian, start)
        elif h.minor or h.guardian is not None:
            yield Finding(f"{p}.minor", _(
                "only an inhabitant can be a minor; for a minor who represents a group, tick "
                "« Mineur » on the representative"), code="rule.minor-kind")
        if h.representative is not None:
            r = h.representative
            yield from _guardian_check(r, f"{p}.representative", r.minor, r.guardian, start)
        for m, member in enumerate(h.members):
            yield from _guardian_check(member, f"{p}.members.{m}", member.minor, member.guardian,
                                       start)
    if conv.has_minors and not conv.insurance.minors_supervision:
        yield Finding("insurance.minors_supervision", _(
            "minors take part: say who supervises them during the works"),
            code="rule.minors-supervision")
    if not conv.insurance.insurer_notified:
        yield Finding("insurance.insurer_notified", _(
            "the commune's insurer must be told that volunteers take part (extended cover) "
            "before the works"), "warning", "rule.insurer-notified")
    for n, h in enumerate(conv.holders):
        if h.kind in ("association", "company") and not h.liability_certificate:
            yield Finding(f"holders.{n}.liability_certificate", _(
                "« {name} » must provide its civil liability insurance certificate "
                "(annex)").format(name=h.name), "warning", "rule.liability-certificate")


def _money(conv: Convention, ctype: ConventionType, amounts: Amounts) -> Iterator[Finding]:
    holders = conv.holders
    for i, line in enumerate(conv.commune_commitments.money):
        p = f"commune_commitments.money.{i}"
        if line.holder > len(holders):
            yield Finding(f"{p}.holder", ngettext("there is only {n} holder",
                                                  "there are only {n} holders",
                                                  len(holders)).format(n=len(holders)),
                          code="rule.money-holder")
            continue
        h = holders[line.holder - 1]
        if line.form == "grant" and h.kind in ("group", "person"):
            yield Finding(f"{p}.form", (_(
                "« {name} » cannot receive money directly (not a legal person): the commune "
                "buys itself (direct_purchase)") if h.kind == "group" else _(
                "a subsidy to a private person (« {name} ») is not part of the scheme: the "
                "commune buys itself (direct_purchase)")).format(name=h.name),
                code="rule.group-money")
    aids = conv.holder_aids
    for n, (h, aid) in enumerate(zip(holders, aids, strict=True)):
        if h.kind == "association" and aid.total > 0 and not h.republican_commitment_signed:
            what = (_("a subsidy") if aid.grants else
                    _("help in kind (purchases, services or technical help of the commune)"))
            yield Finding(f"holders.{n}.republican_commitment_signed", _(
                "the association « {name} » receives {what}: help in kind is a subsidy too "
                "(law of 12 April 2000, art. 9-1), so the association must have signed the "
                "contrat d'engagement républicain (art. 10-1)").format(name=h.name, what=what),
                code="rule.republican-commitment")
    for n, (h, aid) in enumerate(zip(holders, aids, strict=True)):
        if h.kind in LEGAL_ENTITY_KINDS and aid.total > TRANSPARENCY_THRESHOLD:
            yield Finding(f"holders.{n}", _(
                "aid of {amount} to « {name} » (more than 23,000 €): the mandatory clauses "
                "(purpose, amount, payment terms, conditions of use) are added").format(
                amount=_fmt(aid.total), name=h.name), "warning", "rule.transparency-threshold")
    share = amounts.commune_share
    if share > ctype.bounds.commune_share_warning:
        yield Finding("commune_commitments", _(
            "the commune funds {share} of the project, more than the {target} the scheme "
            "aims at").format(share=_pct(share), target=_pct(ctype.bounds.commune_share_warning)),
            "warning", "rule.commune-share")
    if amounts.commune_total == 0 and not conv.commune_commitments.authorisations:
        yield Finding("commune_commitments", _(
            "the commune commits to nothing: add money, technical help or an authorisation"),
            code="rule.commune-nothing")


def _land(conv: Convention) -> Iterator[Finding]:
    land = conv.public_land
    if land is None:
        return
    if land.fee == 0 and not land.free_reason:
        yield Finding("public_land.free_reason", _("a free occupation must give its reason"),
                      code="rule.land-free-reason")
    if land.economic_use and not land.selection_procedure:
        yield Finding("public_land.selection_procedure", _(
            "an occupation of public land for an economic activity requires a prior selection "
            "procedure with publicity (since 2017)"), code="rule.land-selection")


def _payment(conv: Convention, amounts: Amounts) -> Iterator[Finding]:
    """The schedule covers the money paid to holders (grants) only: the commune's own
    purchases and services are paid to its suppliers and have no place in it."""
    steps = conv.payment.schedule
    if not steps:
        return
    total = sum(s.amount for s in steps)
    grants = amounts.grants
    if not grants:
        yield Finding("payment.schedule", _(
            "the payment schedule totals {total} while no subsidy is paid to the holders: the "
            "commune's own purchases and services do not belong in it, leave it empty").format(
            total=_fmt(total)), code="rule.payment-schedule")
    elif total != grants:
        yield Finding("payment.schedule", _(
            "the payment schedule totals {total} but the subsidies paid to the holders come "
            "to {grants} (the purchases and services the commune pays itself do not belong "
            "in it)").format(total=_fmt(total), grants=_fmt(grants)),
            code="rule.payment-schedule")


RULES: tuple[Callable[[Convention, ConventionType], Iterable[Finding]], ...] = (
    _schedule, _parties_rule, _money_rule, _land_rule, _payment_rule)
"""The groups of rules, in clause order; each may be run alone on a partly valid record
(a group that reaches a field the record lacks raises ``AttributeError``)."""

__all__ = ["RULES", "Finding", "add_months", "check", "months_between", "one_pass"]
