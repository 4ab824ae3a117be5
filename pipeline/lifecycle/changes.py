"""What an amendment changes, article by article of the convention, computed from the
terms in force and the changed record (amounts, dates, holders, payments, upkeep).

The wording is French: it goes into the amendment itself (documents stay French)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pipeline.documents.frenchfmt import amount_fr, date_fr, percent_fr
from schemas import Convention


@dataclass(frozen=True)
class Change:
    """One value that changes."""

    heading: str
    """The article of the convention, e.g. ``Article 5 de la convention — Modalités de
    paiement``."""
    label: str
    before: str
    after: str

    def to_dict(self) -> dict[str, Any]:
        return {"heading": self.heading, "label": self.label, "before": self.before,
                "after": self.after}


def _article_numbers(conv: Convention) -> dict[str, int]:
    """The numbers the template gives its articles (some articles are conditional)."""
    extra = int(conv.public_land is not None) + int(conv.mandatory_clauses) \
        + int(conv.has_minors)
    return {"commune": 2, "holders": 3, "budget": 4, "payment": 5, "schedule": 6,
            "upkeep": 7, "evaluation": 11 + extra}


_TITLES = {"commune": "Engagements de la commune", "holders": "Engagements des porteurs",
           "budget": "Budget et plan de financement", "payment": "Modalités de paiement",
           "schedule": "Calendrier de réalisation",
           "upkeep": "Durée de la convention et pérennité", "evaluation": "Évaluation"}


def _holders(c: Convention) -> str:
    return " ; ".join(f"{h.name} ({h.kind_label})" for h in c.holders)


def _payments(c: Convention) -> str:
    steps = [f"{date_fr(s.due) if s.due else 'sans date'} : {amount_fr(s.amount)} "
             f"({s.condition})" for s in c.payment.schedule]
    return " ; ".join(steps) or "aucun échéancier"


def _upkeep(c: Convention) -> str:
    return " ; ".join(f"{t.task}, {t.frequency}, par {t.who}" for t in c.upkeep.tasks)


def _values(c: Convention) -> list[tuple[str, str, str]]:
    """(article key, label, value as printed) for everything an amendment may change."""
    a = c.amounts
    review = c.evaluation.review_date
    return [
        ("parties", "Porteurs du projet", _holders(c)),
        ("commune", "Apport financier de la commune", amount_fr(a.commune_money)),
        ("commune", "Aide technique valorisée", amount_fr(a.commune_technical)),
        ("commune", "Total de l'aide de la commune", amount_fr(a.commune_total)),
        ("holders", "Tâches des porteurs",
         " ; ".join(t.description for t in c.holder_commitments.tasks)),
        ("holders", "Apports en nature des porteurs", amount_fr(a.holders_inkind)),
        ("budget", "Coût total du projet", amount_fr(a.project_total)),
        ("budget", "Part de la commune", percent_fr(a.commune_share)),
        ("payment", "Échéancier", _payments(c)),
        ("schedule", "Début des travaux", date_fr(c.schedule.start)),
        ("schedule", "Fin des travaux", date_fr(c.schedule.end)),
        ("upkeep", "Tâches d'entretien", _upkeep(c)),
        ("upkeep", "Durée de l'engagement d'entretien", f"{c.upkeep.years} ans"),
        ("upkeep", "Fin de l'engagement", date_fr(c.commitment_end)),
        ("evaluation", "Date du bilan", date_fr(review) if review else "non fixée"),
    ]


def compute_changes(old: Convention, new: Convention) -> list[Change]:
    """Every printed value that differs, in the order of the convention's articles."""
    numbers = _article_numbers(new)
    out = []
    for (key, label, before), (_, _, after) in zip(_values(old), _values(new), strict=True):
        if before == after:
            continue
        heading = ("Parties à la convention" if key == "parties"
                   else f"Article {numbers[key]} de la convention — {_TITLES[key]}")
        out.append(Change(heading, label, before, after))
    return out


def by_article(changes: list[Change]) -> list[dict[str, Any]]:
    """The changes grouped by article, for the template (``heading``, ``changes``)."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for ch in changes:
        groups.setdefault(ch.heading, []).append(ch.to_dict())
    return [{"heading": h, "changes": items} for h, items in groups.items()]
