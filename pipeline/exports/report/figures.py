"""The figures of the scheme's yearly report, computed from the registry and the intakes.

Plain data: a :class:`YearFigures` holds one :class:`ProjectFigures` per convention of
the year (numbered that year, not cancelled), the totals, and the rows of the tables.
Charts and documents are drawn from it elsewhere (:mod:`.charts`, :mod:`.document`).

Themes: a convention has no theme field, so each project is classed by words of its
title and description (:data:`THEMES`, first match wins, else "Cadre de vie").
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from pipeline.exports.sources import SIGNED_STATUSES, Source
from pipeline.records.registry import EVENT_STATUS, Registry
from schemas.clauses import LAND_STATUS_LABELS
from schemas.parties import HOLDER_KIND_LABELS

_ZERO = Decimal(0)
THEMES: tuple[tuple[str, str], ...] = (
    ("Énergie", r"solaire|photovolta|énergie|chauffage"),
    ("Jeunesse et sport", r"skate|sport|jeunes|jeu|aire de"),
    ("Nature et biodiversité", r"jardin|potager|arbre|haie|nichoir|insecte|verger|compost"),
    ("Voirie et chemins", r"chemin|voirie|trottoir|piste|sentier"),
    ("Culture et patrimoine", r"fresque|patrimoine|église|musée|culture|art"),
)
DEFAULT_THEME = "Cadre de vie"
EVENT_CHECK = "check"
"""An upkeep check recorded by the lifecycle stage; details: ``task`` (1-based), ``on``
(ISO date), ``outcome`` (``ok`` or ``issue``)."""
EXCLUDED = frozenset({"cancelled", "declined"})


def theme_of(text: str) -> str:
    """The first theme whose words appear in ``text`` (case-insensitive)."""
    low = text.lower()
    for name, pattern in THEMES:
        if re.search(pattern, low):
            return name
    return DEFAULT_THEME


@dataclass(frozen=True)
class ProjectFigures:
    """One convention's figures."""

    id: str
    title: str
    holder_kinds: tuple[str, ...]
    theme: str
    status: str
    commune_money: Decimal
    commune_technical: Decimal
    volunteer_value: Decimal
    equipment_value: Decimal
    materials_value: Decimal
    """Materials and services brought by the holders."""
    other_funding: Decimal
    volunteer_hours: Decimal
    participants: int
    signature_days: int | None
    """Days from the documents' production to the last signature (``None``: not signed)."""
    place: str
    land_status: str
    upkeep_tasks: tuple[str, ...]
    upkeep_until: date
    upkeep_state: tuple[str, ...] = ()
    """Per task: ``met`` (an ok check this year), ``overdue`` (works over, commitment in
    force, no ok check this year), ``upcoming`` (works not over), ``ended``, ``unsigned``."""

    @property
    def commune_total(self) -> Decimal:
        return self.commune_money + self.commune_technical

    @property
    def inhabitants_total(self) -> Decimal:
        return self.volunteer_value + self.equipment_value + self.materials_value

    @property
    def full_cost(self) -> Decimal:
        return self.commune_total + self.inhabitants_total + self.other_funding


@dataclass(frozen=True)
class YearFigures:
    """Everything the report shows for one year."""

    year: int
    commune: str
    today: date
    projects: tuple[ProjectFigures, ...] = field(default_factory=tuple)

    def total(self, name: str) -> Decimal:
        return sum((getattr(p, name) for p in self.projects), _ZERO)

    @property
    def saving_percent(self) -> Decimal:
        """How much less than the full cost the commune paid, in percent."""
        full = self.total("full_cost")
        if not full:
            return _ZERO
        return ((full - self.total("commune_total")) * 100 / full).quantize(Decimal("0.1"))

    def count_by(self, attr: str) -> dict[str, int]:
        out: dict[str, int] = {}
        for p in self.projects:
            values = getattr(p, attr)
            for v in values if isinstance(values, tuple) else (values,):
                out[v] = out.get(v, 0) + 1
        return dict(sorted(out.items(), key=lambda kv: (-kv[1], kv[0])))

    @property
    def signature_delays(self) -> list[int]:
        return [p.signature_days for p in self.projects if p.signature_days is not None]

    @property
    def median_delay(self) -> float | None:
        delays = self.signature_delays
        return statistics.median(delays) if delays else None

    def upkeep_count(self, state: str) -> int:
        """How many upkeep tasks are in ``state`` (see :attr:`ProjectFigures.upkeep_state`)."""
        return sum(p.upkeep_state.count(state) for p in self.projects)


def _day(stamp: str) -> date:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).date()


def _signature_days(reg: Registry, cid: str) -> int | None:
    produced = signed = None
    for ev in reg.events(cid):
        if ev.action == EVENT_STATUS and ev.details.get("to") == "generated" and not produced:
            produced = _day(ev.at)
        if ev.action == EVENT_STATUS and ev.details.get("to") == "signed":
            signed = _day(ev.at)
    if produced is None or signed is None:
        return None
    return (signed - produced).days


def _ok_checks(reg: Registry, cid: str, year: int) -> set[int]:
    """Upkeep tasks (1-based) with an ``ok`` check recorded during ``year``."""
    out: set[int] = set()
    for ev in reg.events(cid):
        if ev.action != EVENT_CHECK or ev.details.get("outcome", "ok") != "ok":
            continue
        try:
            if date.fromisoformat(str(ev.details["on"])).year == year:
                out.add(int(ev.details["task"]))
        except (KeyError, TypeError, ValueError):
            continue
    return out


def _upkeep_state(reg: Registry, src: Source, today: date, year: int) -> tuple[str, ...]:
    conv, status = src.convention, src.row.status
    checked = _ok_checks(reg, src.id, year)
    states = []
    for n in range(1, len(conv.upkeep.tasks) + 1):
        if status not in SIGNED_STATUSES:
            states.append("unsigned")
        elif conv.commitment_end < today:
            states.append("ended")
        elif n in checked:
            states.append("met")
        elif status == "works_done" or conv.schedule.end < today:
            states.append("overdue")
        else:
            states.append("upcoming")
    return tuple(states)


def project_figures(reg: Registry, src: Source, today: date, year: int) -> ProjectFigures:
    """The figures of one convention on ``today``, upkeep checks counted in ``year``."""
    conv = src.convention
    inkind = conv.holder_commitments.in_kind

    def value(*kinds: str) -> Decimal:
        return sum((i.total for i in inkind if i.kind in kinds), _ZERO)

    hours = sum((i.hours or _ZERO for i in inkind if i.kind == "volunteer_hours"), _ZERO)
    members = sum(len(h.members) for h in conv.holders)
    a = conv.amounts
    return ProjectFigures(
        id=src.id, title=conv.title,
        holder_kinds=tuple(sorted({HOLDER_KIND_LABELS[h.kind] for h in conv.holders})),
        theme=theme_of(f"{conv.title} {conv.project.description}"),
        status=src.row.status, commune_money=a.commune_money,
        commune_technical=a.commune_technical, volunteer_value=value("volunteer_hours"),
        equipment_value=value("equipment"), materials_value=value("materials", "services"),
        other_funding=a.other_funding, volunteer_hours=hours,
        participants=max(conv.insurance.participants, members),
        signature_days=_signature_days(reg, src.id),
        place=conv.project.location.address,
        land_status=LAND_STATUS_LABELS[conv.project.location.land_status],
        upkeep_tasks=tuple(f"{t.task} ({t.frequency})" for t in conv.upkeep.tasks),
        upkeep_until=conv.commitment_end,
        upkeep_state=_upkeep_state(reg, src, today, year),
    )


def year_figures(reg: Registry, sources: list[Source], year: int, today: date) -> YearFigures:
    """The report's figures for ``year`` (cancelled and declined conventions left out)."""
    kept = [s for s in sources if s.row.year == year and s.row.status not in EXCLUDED]
    commune = kept[0].convention.commune.name if kept else ""
    projects = tuple(project_figures(reg, s, today, year)
                     for s in sorted(kept, key=lambda s: s.id))
    return YearFigures(year, commune, today, projects)


__all__ = ["DEFAULT_THEME", "EVENT_CHECK", "THEMES", "ProjectFigures", "YearFigures",
           "project_figures", "theme_of", "year_figures"]
