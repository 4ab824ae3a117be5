"""The report's words and tables: a context of French strings for the Word template.

Every figure is formatted here (amounts "30 000,00 €", percentages "31,2 %", dates
"25 novembre 2026"), so the template only places them. Sentences agree with their
counts (one project / two projects) without "(s)".
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pipeline.documents.frenchfmt import amount_fr, date_fr, number_fr, percent_fr
from pipeline.exports.report.figures import ProjectFigures, YearFigures
from pipeline.exports.sources import SIGNED_STATUSES

STATUS_LABELS = {
    "pending": "en préparation", "draft": "brouillon", "generated": "à signer",
    "signing": "en signature", "signed": "signée", "works_started": "travaux commencés",
    "works_done": "travaux terminés", "terminated": "résiliée", "cancelled": "annulée",
    "declined": "refusée",
}

UPKEEP_LABELS = {
    "met": "tenue", "overdue": "en retard", "upcoming": "à venir (travaux en cours)",
    "ended": "échue", "unsigned": "convention non signée",
}


def _plural(n: int | Decimal, one: str, many: str) -> str:
    return f"{number_fr(n)} {one if n < 2 else many}"


def _share(part: Decimal, whole: Decimal) -> str:
    return percent_fr((part * 100 / whole).quantize(Decimal("0.1"))) if whole else "–"


@dataclass(frozen=True)
class Sentences:
    """The report's prose, one field per paragraph of the template."""

    headline: str
    inhabitants: str
    projects: str
    totals: str
    volunteers: str
    delays: str
    upkeep: str
    method: str


def sentences(fig: YearFigures) -> Sentences:
    """Every paragraph of the report, in French."""
    n = len(fig.projects)
    full, commune = fig.total("full_cost"), fig.total("commune_total")
    inhabitants = fig.total("inhabitants_total")
    hours = fig.total("volunteer_hours")
    participants = sum(p.participants for p in fig.projects)
    signed = sum(1 for p in fig.projects if p.status in SIGNED_STATUSES)
    if n == 0:
        headline = f"Aucun projet n'a fait l'objet d'une convention en {fig.year}."
    else:
        headline = (
            f"En {fig.year}, {_plural(n, 'projet a', 'projets ont')} fait l'objet d'une "
            f"convention fifty-fifty, pour un coût complet de {amount_fr(full)}. La commune "
            f"y a consacré {amount_fr(commune)} en argent et en aide technique, soit "
            f"{percent_fr(fig.saving_percent)} de moins que le coût complet des réalisations.")
    median = fig.median_delay
    delays = ("Aucune convention de l'année n'est encore signée par toutes les parties."
              if median is None else
              f"{_plural(len(fig.signature_delays), 'convention signée', 'conventions signées')}"
              f" : il s'est écoulé en médiane {_plural(Decimal(str(median)), 'jour', 'jours')} "
              f"entre l'édition de la convention et la dernière signature (au plus "
              f"{_plural(max(fig.signature_delays), 'jour', 'jours')}).")
    return Sentences(
        headline=headline,
        inhabitants=(f"Les habitants ont apporté {amount_fr(inhabitants)} : "
                     f"{_plural(hours, 'heure', 'heures')} de bénévolat valorisées "
                     f"{amount_fr(fig.total('volunteer_value'))}, des engins et du matériel "
                     f"pour {amount_fr(fig.total('equipment_value'))}, des fournitures et "
                     f"services pour {amount_fr(fig.total('materials_value'))}."),
        projects=(f"{_plural(n, 'projet', 'projets')}, dont "
                  f"{_plural(signed, 'convention signée', 'conventions signées')} par toutes "
                  "les parties."),
        totals=(f"Au total, la commune a apporté {amount_fr(commune)} "
                f"({_share(commune, full)} du coût complet), les habitants "
                f"{amount_fr(inhabitants)} ({_share(inhabitants, full)}) et les autres "
                f"financeurs {amount_fr(fig.total('other_funding'))}."),
        volunteers=(f"{_plural(hours, 'heure', 'heures')} de bénévolat et "
                    f"{_plural(participants, 'participant', 'participants')} prévus dans les "
                    "conventions."),
        delays=delays,
        upkeep=(f"Obligations d'entretien des conventions signées : "
                f"{_plural(fig.upkeep_count('met'), 'tenue', 'tenues')} (contrôle satisfaisant "
                f"enregistré en {fig.year}), "
                f"{_plural(fig.upkeep_count('overdue'), 'en retard', 'en retard')} (travaux "
                f"terminés, aucun contrôle satisfaisant en {fig.year}), "
                f"{_plural(fig.upkeep_count('upcoming'), 'à venir', 'à venir')} (travaux en "
                f"cours), {_plural(fig.upkeep_count('ended'), 'échue', 'échues')}."),
        method=("Méthode : les montants viennent des conventions (apports de la commune, "
                "apports en nature des porteurs valorisés : heures de bénévolat × taux "
                "horaire, engins, matériel, fournitures). Le thème de chaque projet est déduit "
                "des mots de son titre et de sa description. Les conventions annulées ou "
                "refusées ne sont pas comptées."),
    )


def _rows(fig: YearFigures) -> dict[str, list[dict[str, str]]]:
    def money(p: ProjectFigures) -> dict[str, str]:
        return {"id": p.id, "money": amount_fr(p.commune_money),
                "technical": amount_fr(p.commune_technical),
                "inhabitants": amount_fr(p.inhabitants_total), "other": amount_fr(p.other_funding),
                "full": amount_fr(p.full_cost), "share": _share(p.commune_total, p.full_cost)}

    upkeep = [{"id": p.id, "task": task, "until": date_fr(p.upkeep_until),
               "state": UPKEEP_LABELS[state]}
              for p in fig.projects
              for task, state in zip(p.upkeep_tasks, p.upkeep_state, strict=True)]
    return {
        "projects": [{"id": p.id, "title": p.title, "holders": ", ".join(p.holder_kinds),
                      "theme": p.theme, "status": STATUS_LABELS.get(p.status, p.status)}
                     for p in fig.projects],
        "money": [money(p) for p in fig.projects],
        "upkeep": upkeep,
        "places": [{"id": p.id, "title": p.title, "place": p.place, "land": p.land_status}
                   for p in fig.projects],
    }


def report_context(fig: YearFigures, charts: dict[str, Any]) -> dict[str, Any]:
    """The template's context; ``charts`` maps chart keys to images (docxtpl
    ``InlineImage`` objects for Word, file names for the web page)."""
    s = sentences(fig)
    return {
        "year": str(fig.year), "commune": fig.commune, "today": date_fr(fig.today),
        "headline": s.headline, "inhabitants_sentence": s.inhabitants,
        "projects_sentence": s.projects, "totals_sentence": s.totals,
        "volunteers_sentence": s.volunteers, "delays_sentence": s.delays,
        "upkeep_sentence": s.upkeep, "method_note": s.method, "charts": charts,
        **_rows(fig),
    }


__all__ = ["STATUS_LABELS", "UPKEEP_LABELS", "Sentences", "report_context", "sentences"]
