"""The convention: one validated intake record, with its derived figures."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import computed_field

from schemas.base import CENT, Amount, Strict, Text, fr, in_cents
from schemas.clauses import (
    Annex,
    Communication,
    CouncilDecision,
    Evaluation,
    Insurance,
    Ownership,
    Project,
    PublicLand,
    Schedule,
    Signatory,
    Signing,
    Termination,
    Upkeep,
)
from schemas.commitments import (
    Amounts,
    Budget,
    CommuneCommitments,
    HolderCommitments,
    Payment,
)
from schemas.parties import Commune, Holder
from schemas.wording import de

LEGAL_ENTITY_KINDS = frozenset({"association", "company"})
"""Holders with a legal personality of their own that can receive a grant."""

TRANSPARENCY_THRESHOLD = Decimal("23000")
"""Law of 12 April 2000, art. 10 and decree 2001-495: above this, a written convention must
state object, amount, payment terms and conditions of use."""


PARENTAL_AUTHORISATIONS = "Autorisations parentales des personnes mineures"
"""The annex the article on minors refers to, added to the list when missing."""

_ZERO = Decimal("0")
_TENTH = Decimal("0.1")


class HolderAid(Strict):
    """The commune's aid to one holder, by nature (derived, never typed)."""

    number: int = fr("Porteur", "Numéro du porteur (1 pour le premier).")
    name: str = fr("Nom", "Nom du porteur.")
    kind: str = fr("Type de porteur", "Type du porteur.")
    grants: Amount = fr("Subventions", "Sommes versées au porteur.")
    purchases: Amount = fr("Achats et prestations", "Dépenses payées par la commune pour lui.")
    technical: Amount = fr("Aide technique", "Sa part de l'aide des services municipaux.")
    total: Amount = fr("Aide totale", "Subventions, achats, prestations et aide technique.")


def add_years(day: date, years: int) -> date:
    """``day`` plus whole years (29 February falls back to 28)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


class Convention(Strict):
    """A citizen-initiative convention between the commune and project holders."""

    convention_type: str = fr("Type de convention", "Type du catalogue (conventions/*.yaml).",
                              "fifty-fifty", pattern=r"^[a-z0-9][a-z0-9-]{0,40}$")
    reference: str | None = fr(
        "Référence", "Identifiant stable du dossier (sinon calculé) : lettres, chiffres, . _ -.",
        None, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
    title: Text = fr("Intitulé", "Titre court du projet.", max_length=200, min_length=3)
    legal_basis: list[Text] = fr("Visas", "Textes sur lesquels la convention se fonde.",
                                 default_factory=list, max_length=30)
    council_decision: CouncilDecision = fr("Délibération", "Décision du conseil municipal.")
    commune: Commune = fr("Commune", "Repris du profil de la commune ; l'intake peut préciser.")
    holders: list[Holder] = fr("Porteurs", "Porteurs du projet.", min_length=1, max_length=50)
    project: Project = fr("Objet", "Le projet.")
    commune_commitments: CommuneCommitments = fr("Engagements de la commune", "Article 3.")
    holder_commitments: HolderCommitments = fr("Engagements des porteurs", "Article 4.")
    budget: Budget = fr("Budget", "Autres financements.", default_factory=Budget)
    payment: Payment = fr("Paiement", "Échéancier et justificatifs.", default_factory=Payment)
    schedule: Schedule = fr("Calendrier", "Début, étapes, fin.")
    upkeep: Upkeep = fr("Pérennité", "Entretien après réalisation.")
    ownership: Ownership = fr("Propriété des ouvrages", "Qui possède l'ouvrage à la fin.",
                              default_factory=Ownership)
    public_land: PublicLand | None = fr("Occupation du domaine public", "Si le projet occupe le "
                                        "domaine public.", None)
    insurance: Insurance = fr("Assurances", "Statut des bénévoles et garanties.",
                              default_factory=Insurance)
    communication: Communication = fr("Communication", "Mention et droit à l'image.",
                                      default_factory=Communication)
    evaluation: Evaluation = fr("Évaluation", "Indicateurs et bilan.", default_factory=Evaluation)
    termination: Termination = fr("Résiliation", "Préavis et motifs.",
                                  default_factory=Termination)
    annexes: list[Annex] = fr("Annexes", "Pièces annexées.", default_factory=list, max_length=50)
    signing: Signing = fr("Signature", "Lieu et mode de signature.", default_factory=Signing)
    signatories_override: list[Signatory] | None = fr(
        "Signataires", "Laisser vide : déduits des porteurs (représentants ou représentants "
        "légaux) puis la commune en dernier.", None, max_length=100)
    notes: Text | None = fr("Observations", "Remarques internes (non imprimées).", None,
                            max_length=5000)

    # ------------------------------------------------------------ derived figures

    @computed_field(title="Montants", description="Chiffres du budget, calculés.")  # type: ignore[prop-decorator]
    @property
    def amounts(self) -> Amounts:
        cc = self.commune_commitments
        money = sum((m.amount for m in cc.money), _ZERO)
        technical = sum((t.value for t in cc.technical), _ZERO)
        inkind = sum((i.total for i in self.holder_commitments.in_kind), _ZERO)
        other = sum((f.amount for f in self.budget.other_funding), _ZERO)
        total = money + technical + inkind + other
        share = (
            ((money + technical) * 100 / total).quantize(_TENTH) if total else _ZERO
        )
        grants = sum((m.amount for m in cc.money if m.form == "grant"), _ZERO)
        values = {"commune_money": money, "commune_technical": technical,
                  "commune_total": money + technical, "holders_inkind": inkind,
                  "other_funding": other, "project_total": total, "grants": grants}
        cents = in_cents(**values)
        if cents is None:  # out of bounds: validation says which
            return Amounts(**values, commune_share=share)
        return Amounts.model_construct(None, **cents, commune_share=share)

    def aid_to_holder(self, index: int) -> Decimal:
        """Money and valued help the commune gives holder ``index`` (0-based): the figure
        of the 23,000 euros rule and of the article that states it (see :meth:`holder_aid`)."""
        return self.holder_aid(index).total

    def holder_aid(self, index: int) -> HolderAid:
        """The commune's aid to holder ``index`` (0-based), split by nature.

        Each money line names the holder it serves: a grant is paid to that holder; a
        direct purchase or a service is paid by the commune to its supplier for that
        holder (help in kind). Technical help is not attributed to a holder, so it counts
        whole for a single holder and in equal shares when there are several, as the law
        counts help in kind too (law of 12 April 2000, art. 9-1)."""
        cc = self.commune_commitments
        mine = [m for m in cc.money if m.holder == index + 1]
        grants = sum((m.amount for m in mine if m.form == "grant"), _ZERO)
        purchases = sum((m.amount for m in mine if m.form != "grant"), _ZERO)
        technical = sum((t.value for t in cc.technical), _ZERO)
        share = (technical / len(self.holders)).quantize(CENT)
        holder = self.holders[index]
        values = {"grants": grants, "purchases": purchases, "technical": share,
                  "total": grants + purchases + share}
        cents = in_cents(**values)
        if cents is None:  # out of bounds: validation says which
            return HolderAid(number=index + 1, name=holder.name, kind=holder.kind, **values)
        return HolderAid.model_construct(None, number=index + 1, name=holder.name,
                                         kind=holder.kind, **cents)

    @property
    def holder_aids(self) -> list[HolderAid]:
        """:meth:`holder_aid` of every holder, in order."""
        return [self.holder_aid(i) for i in range(len(self.holders))]

    @property
    def large_aids(self) -> list[HolderAid]:
        """Aid above 23,000 euros to a legal entity: the beneficiaries of the article that
        states object, amount, payment terms and conditions of use."""
        return [a for a in self.holder_aids
                if a.kind in LEGAL_ENTITY_KINDS and a.total > TRANSPARENCY_THRESHOLD]

    @property
    def republican_commitment_required(self) -> bool:
        """An association receives aid, in money or in kind: the contrat d'engagement
        républicain applies (law of 12 April 2000, art. 10-1, from the law of 24 August
        2021), and the visas cite the law of 24 August 2021."""
        return any(a.kind == "association" and a.total > 0 for a in self.holder_aids)

    @computed_field(title="Clauses obligatoires", description="Aide > 23 000 € à une personne "  # type: ignore[prop-decorator]
                    "morale : objet, montant, modalités et conditions d'utilisation.")
    @property
    def mandatory_clauses(self) -> bool:
        return bool(self.large_aids)

    @computed_field(title="Fin de l'engagement", description="Fin des travaux + durée "  # type: ignore[prop-decorator]
                    "d'entretien.")
    @property
    def commitment_end(self) -> date:
        return add_years(self.schedule.end, self.upkeep.years)

    @computed_field(title="Mineurs", description="Des mineurs participent.")  # type: ignore[prop-decorator]
    @property
    def has_minors(self) -> bool:
        return any(
            h.minor or (h.representative is not None and h.representative.minor)
            or any(m.minor for m in h.members)
            for h in self.holders
        )

    @property
    def annex_titles(self) -> list[str]:
        """The annexes the document lists: those of the intake, and the parental
        authorisations that the article on minors annexes when the intake forgot them."""
        titles = [a.title for a in self.annexes]
        if self.has_minors and not any(
                "autorisation" in t.casefold() and "parent" in t.casefold() for t in titles):
            titles.append(PARENTAL_AUTHORISATIONS)
        return titles

    @computed_field(title="Signataires", description="Dans l'ordre de signature.")  # type: ignore[prop-decorator]
    @property
    def signatories(self) -> list[Signatory]:
        if self.signatories_override:
            return list(self.signatories_override)
        return derive_signatories(self.holders, self.commune)


def derive_signatories(holders: list[Holder], commune: Commune) -> list[Signatory]:
    """Each holder's representative (a guardian for a minor, and each minor member's
    guardian), then the commune's representative last."""
    out: list[Signatory] = []
    for n, h in enumerate(holders, start=1):
        party = h.name if h.kind == "person" else f"{h.name} ({h.kind_label})"
        rep = h.representative
        minor = h.minor if h.kind == "person" else bool(rep and rep.minor)
        guardian = h.guardian if h.kind == "person" else (rep.guardian if rep else None)
        signer = h.name if h.kind == "person" or rep is None else rep.name
        if minor:
            if guardian is not None:
                out.append(Signatory(
                    key=f"guardian-{n}", name=guardian.name, party=party,
                    capacity=f"{guardian.relationship} {de(signer)}, personne mineure"))
        else:
            capacity = (rep.capacity if rep and rep.capacity else
                        "en son nom propre" if h.kind == "person" else f"pour {h.name}")
            out.append(Signatory(key=f"holder-{n}", name=signer, party=party, capacity=capacity))
        for m, member in enumerate(h.members, start=1):
            if member.minor and member.guardian is not None:
                out.append(Signatory(
                    key=f"guardian-{n}-{m}", name=member.guardian.name, party=party,
                    capacity=f"{member.guardian.relationship} {de(member.name)}, "
                             "personne mineure"))
    crep = commune.representative
    out.append(Signatory(
        key="commune", name=crep.name or f"{crep.capacity[0].upper()}{crep.capacity[1:]}",
        party=f"Commune {de(commune.name)}", capacity=f"{crep.capacity} {de(commune.name)}",
    ))
    return out


__all__ = ["LEGAL_ENTITY_KINDS", "TRANSPARENCY_THRESHOLD", "Convention", "HolderAid",
           "add_years",
           "derive_signatories"]
