"""Clauses 3 to 6: what the commune gives, what the holders do, the budget and payment."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BeforeValidator

from schemas.base import CENT, Amount, FrDate, PositiveAmount, Quantity, Strict, Text, fr
from schemas.choices import to_code

MoneyForm = Annotated[Literal["direct_purchase", "grant", "service"],
                      BeforeValidator(to_code("money_form"))]
MONEY_FORM_LABELS = {
    "direct_purchase": "achat direct par la commune",
    "grant": "subvention versée au porteur",
    "service": "prestation payée par la commune",
}
InKindKind = Annotated[Literal["volunteer_hours", "equipment", "materials", "services"],
                       BeforeValidator(to_code("inkind_kind"))]
INKIND_LABELS = {
    "volunteer_hours": "heures de bénévolat",
    "equipment": "matériel prêté",
    "materials": "fournitures",
    "services": "prestations",
}


class MoneyLine(Strict):
    """Money the commune commits, line by line."""

    label: Text = fr("Objet de la dépense", "Ce que la commune finance.", max_length=300)
    amount: PositiveAmount = fr("Montant (€)", "Montant TTC en euros (ex. 1 250,50).")
    form: MoneyForm = fr(
        "Forme", "achat direct par la commune (direct_purchase), subvention versée au porteur "
        "(grant) ou prestation payée par la commune (service).")
    holder: int = fr("Porteur bénéficiaire", "Numéro du porteur concerné (1 pour le premier).", 1,
                     ge=1, le=50)


class TechnicalHelp(Strict):
    """Help in kind from the commune's services."""

    service: Text = fr("Service", "Service municipal qui intervient.", max_length=120)
    description: Text = fr("Description", "Nature de l'aide technique.", max_length=1000)
    staff_hours: Quantity = fr("Heures d'agents", "Nombre d'heures de travail des agents.",
                              Decimal(0), ge=0, le=100_000)
    hourly_rate: PositiveAmount = fr("Coût horaire (€)", "Coût horaire chargé d'un agent.",
                                     Decimal("0"))
    equipment: Text | None = fr("Matériel prêté", "Matériel ou engins prêtés par la commune.",
                                None, max_length=500)
    equipment_value: PositiveAmount = fr("Valeur du matériel (€)", "Valorisation du prêt.",
                                         Decimal("0"))

    @property
    def value(self) -> Decimal:
        return (self.staff_hours * self.hourly_rate + self.equipment_value).quantize(CENT)


class Authorisation(Strict):
    """An authorisation the commune grants (works, occupation, access)."""

    description: Text = fr("Autorisation", "Ce que la commune autorise.", max_length=500)
    reference: Text | None = fr("Référence", "Arrêté ou décision qui la délivre.", None,
                                max_length=200)


class CommuneCommitments(Strict):
    """Clause 3."""

    money: list[MoneyLine] = fr("Apport financier", "Lignes de financement de la commune.",
                                default_factory=list, max_length=100)
    technical: list[TechnicalHelp] = fr("Aide technique", "Aide des services municipaux.",
                                        default_factory=list, max_length=100)
    authorisations: list[Authorisation] = fr("Autorisations", "Autorisations accordées.",
                                             default_factory=list, max_length=50)


class Task(Strict):
    """A task the holders carry out."""

    description: Text = fr("Tâche", "Ce que les porteurs réalisent.", max_length=1000)
    who: Text | None = fr("Qui", "Qui s'en charge.", None, max_length=200)


class InKind(Strict):
    """A contribution in kind from the holders, valued."""

    kind: InKindKind = fr(
        "Nature", "heures de bénévolat (volunteer_hours), matériel prêté (equipment), "
        "fournitures (materials) ou prestations (services).")
    description: Text = fr("Description", "Ce qui est apporté.", max_length=500)
    hours: Quantity | None = fr("Heures", "Pour du bénévolat : nombre d'heures.", None, ge=0,
                               le=1_000_000)
    rate: PositiveAmount | None = fr("Taux horaire (€)", "Valorisation d'une heure.", None)
    value: PositiveAmount | None = fr(
        "Valeur (€)", "Valeur de l'apport (calculée heures × taux si non renseignée).", None)

    @property
    def total(self) -> Decimal:
        if self.value is not None:
            return self.value
        if self.hours is not None and self.rate is not None:
            return (self.hours * self.rate).quantize(CENT)
        return _NO_VALUE


_NO_VALUE = Decimal("0.00")


class HolderCommitments(Strict):
    """Clause 4."""

    tasks: list[Task] = fr("Tâches", "Ce que les porteurs s'engagent à réaliser.", min_length=1,
                           max_length=100)
    safety: Text = fr("Consignes de sécurité", "Consignes que les porteurs respectent.",
                      "Les porteurs respectent les consignes de sécurité données par les services "
                      "municipaux et utilisent les équipements de protection fournis.",
                      max_length=3000)
    reporting: Text = fr("Compte rendu", "Comment les porteurs rendent compte de l'avancement.",
                         "Les porteurs informent la commune de l'avancement du projet et lui "
                         "signalent sans délai toute difficulté.", max_length=3000)
    in_kind: list[InKind] = fr("Apports en nature", "Contributions valorisées des porteurs.",
                               default_factory=list, max_length=100)


class FundingLine(Strict):
    """Another source of financing in the plan."""

    funder: Text = fr("Financeur", "Autre partenaire financier.", max_length=200)
    amount: PositiveAmount = fr("Montant (€)", "Montant apporté.")


class Budget(Strict):
    """Clause 5, the parts not derived from the commitments."""

    other_funding: list[FundingLine] = fr("Autres financements", "Autres lignes du plan.",
                                          default_factory=list, max_length=50)


class PaymentStep(Strict):
    """One instalment."""

    due: FrDate | None = fr("Date", "Date prévue du versement ou de l'achat.", None)
    amount: PositiveAmount = fr("Montant (€)", "Montant de l'échéance.")
    condition: Text = fr("Condition", "Ce qui déclenche l'échéance.", "à la signature",
                         max_length=500)


class Payment(Strict):
    """Clause 6."""

    schedule: list[PaymentStep] = fr("Échéancier", "Échéances de paiement.",
                                     default_factory=list, max_length=50)
    supporting_documents: list[Text] = fr(
        "Justificatifs", "Pièces à fournir (factures, photos…).", default_factory=list,
        max_length=50)


class Amounts(Strict):
    """Derived budget figures (never typed: computed from the commitments)."""

    commune_money: Amount = fr("Apport financier de la commune", "Somme des lignes financières.")
    commune_technical: Amount = fr("Aide technique valorisée", "Heures × coût + matériel.")
    commune_total: Amount = fr("Total commune", "Apport financier + aide technique.")
    holders_inkind: Amount = fr("Apports des porteurs", "Somme des apports en nature.")
    other_funding: Amount = fr("Autres financements", "Somme des autres financements.")
    project_total: Amount = fr("Coût total du projet", "Total de toutes les contributions.")
    commune_share: Decimal = fr("Part de la commune (%)", "Total commune / coût total.")
    grants: Amount = fr("Subventions", "Part versée en subvention aux porteurs.")


__all__ = [
    "INKIND_LABELS", "MONEY_FORM_LABELS", "Amounts", "Authorisation", "Budget",
    "CommuneCommitments", "FundingLine", "HolderCommitments", "InKind", "InKindKind", "MoneyForm",
    "MoneyLine", "Payment", "PaymentStep", "Task", "TechnicalHelp",
]
