"""The report's charts as PNG images, drawn with matplotlib's Agg backend (no display).

Every chart has a title, labelled axes with their unit, French number formats (thousands
separated by a narrow no-break space, decimal comma, "€" after the figure) and reads in
black and white: greys of clearly different lightness plus hatching tell the series
apart, and each bar carries its value. matplotlib is imported inside the functions so
that the command line starts fast.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from pipeline.documents.frenchfmt import number_fr
from pipeline.exports.report.figures import YearFigures

log = logging.getLogger(__name__)

GREYS = ("#1a1a1a", "#6e6e6e", "#a8a8a8", "#d9d9d9", "#ffffff", "#4d4d4d")
HATCHES = ("", "//", "..", "xx", "\\\\", "--")
DPI = 200


@dataclass(frozen=True)
class Chart:
    """One chart written to disk."""

    key: str
    title: str
    path: Path


def euros(value: float | Decimal) -> str:
    """``30 000 €``: whole euros, French grouping."""
    return f"{number_fr(Decimal(str(round(float(value)))))}\u00a0€"


def _figure(height: float) -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.family": "DejaVu Sans", "font.size": 9,
                         "axes.titlesize": 11, "axes.titleweight": "bold",
                         "hatch.linewidth": 0.6, "svg.fonttype": "none"})
    fig, ax = plt.subplots(figsize=(7.0, height), dpi=DPI)
    ax.spines[["top", "right"]].set_visible(False)
    return fig, ax


def _save(fig: Any, path: Path) -> Path:
    import matplotlib.pyplot as plt
    from PIL import Image

    fig.tight_layout()
    fig.savefig(path, format="png", dpi=DPI, facecolor="white", metadata={"Software": None})
    plt.close(fig)
    with Image.open(path) as img:  # opaque RGB: no soft mask in the PDF/A
        img.convert("RGB").save(path, format="PNG", optimize=True)
    return path


def _formatter(fmt: Callable[[float], str]) -> Any:
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda x, _pos: fmt(x))


def _count_chart(counts: dict[str, int], title: str, xlabel: str, path: Path) -> Path:
    labels = list(counts)[::-1]
    values = [counts[k] for k in labels]
    fig, ax = _figure(1.2 + 0.45 * max(1, len(labels)))
    bars = ax.barh(labels, values, color=GREYS[1], edgecolor="black", hatch=HATCHES[1])
    ax.bar_label(bars, labels=[number_fr(v) for v in values], padding=3)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.xaxis.set_major_formatter(_formatter(lambda x: number_fr(int(x))))
    ax.set_xlim(0, max(values or [1]) * 1.2 + 0.5)
    ax.xaxis.get_major_locator().set_params(integer=True)
    return _save(fig, path)


def _stacked(labels: Sequence[str], series: Sequence[tuple[str, Sequence[float]]], title: str,
             xlabel: str, path: Path, totals: Sequence[str] | None = None) -> Path:
    fig, ax = _figure(2.4 + 0.55 * max(1, len(labels)))
    left = [0.0] * len(labels)
    for n, (name, values) in enumerate(series):
        ax.barh(labels, values, left=left, label=name, color=GREYS[n % len(GREYS)],
                edgecolor="black", hatch=HATCHES[n % len(HATCHES)], linewidth=0.6)
        left = [a + b for a, b in zip(left, values, strict=True)]
    if totals:
        for y, (x, text) in enumerate(zip(left, totals, strict=True)):
            ax.text(x, y, f"  {text}", va="center", fontsize=8)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(4))
    ax.xaxis.set_major_formatter(_formatter(euros))
    ax.set_xlim(0, max(left or [1]) * 1.3 + 1)
    ax.invert_yaxis()
    ax.legend(loc="upper center", bbox_to_anchor=(0.45, -0.14 - 0.25 / max(1, len(labels))),
              ncol=2, fontsize=8, frameon=False)
    return _save(fig, path)


def _share(part: Decimal, whole: Decimal) -> int:
    return int(part * 100 / whole) if whole else 0


def _short(title: str, limit: int = 34) -> str:
    return title if len(title) <= limit else title[:limit - 1].rstrip() + "…"


def draw_charts(fig: YearFigures, folder: Path) -> list[Chart]:
    """Write every chart of the report into ``folder``; return them in report order."""
    folder.mkdir(parents=True, exist_ok=True)
    p = fig.projects
    names = [f"{x.id}\n{_short(x.title)}" for x in p]
    charts = [
        Chart("holders", "Projets par type de porteur", _count_chart(
            fig.count_by("holder_kinds"), "Projets par type de porteur",
            "Nombre de projets", folder / "porteurs.png")),
        Chart("themes", "Projets par thème", _count_chart(
            fig.count_by("theme"), "Projets par thème", "Nombre de projets",
            folder / "themes.png")),
        Chart("contributions", "Apport de la commune et valeur apportée par les habitants",
              _stacked(names, [
                  ("Commune : argent", [float(x.commune_money) for x in p]),
                  ("Commune : aide technique", [float(x.commune_technical) for x in p]),
                  ("Habitants : bénévolat (heures × taux)", [float(x.volunteer_value) for x in p]),
                  ("Habitants : engins et matériel", [float(x.equipment_value) for x in p]),
                  ("Habitants : fournitures et services", [float(x.materials_value) for x in p]),
                  ("Autres financeurs", [float(x.other_funding) for x in p]),
              ], "Qui apporte quoi, projet par projet", "Montant (euros)",
                  folder / "apports.png",
                  totals=[f"commune {_share(x.commune_total, x.full_cost)}\u00a0%" for x in p])),
        Chart("total", "Coût total de l'année : part de la commune", _stacked(
            [f"Année {fig.year}"], [
                ("Commune", [float(fig.total("commune_total"))]),
                ("Habitants", [float(fig.total("inhabitants_total"))]),
                ("Autres financeurs", [float(fig.total("other_funding"))]),
            ], f"Coût complet des projets {fig.year} : {euros(fig.total('full_cost'))}",
            "Montant (euros)", folder / "total.png",
            totals=[f"commune : {euros(fig.total('commune_total'))} "
                    f"({100 - fig.saving_percent:.0f}\u00a0%)"])),
        Chart("hours", "Heures de bénévolat par projet", _count_chart(
            {f"{x.id} {_short(x.title, 28)}": int(x.volunteer_hours) for x in p},
            "Heures de bénévolat par projet", "Heures", folder / "heures.png")),
        Chart("delays", "Délai de signature", _count_chart(
            {f"{x.id} {_short(x.title, 28)}": int(x.signature_days) for x in p
             if x.signature_days is not None} or {"aucune convention signée": 0},
            "Délai entre l'édition et la dernière signature", "Jours",
            folder / "delais.png")),
    ]
    log.info("%d charts drawn in %s", len(charts), folder)
    return charts


__all__ = ["Chart", "draw_charts", "euros"]
