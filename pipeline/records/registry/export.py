"""Registry exports: a CSV that opens in a French Excel, and a JSON document.

The CSV is UTF-8 with a byte-order mark, ``;``-separated, amounts with a decimal comma,
dates in ISO form, every cell neutralised against formula injection.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from pipeline.core.files import neutralise_cell
from pipeline.records.registry.models import ConventionRow, DocumentRow

EXPORT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "Numéro"),
    ("type", "Type"),
    ("year", "Année"),
    ("reference", "Référence"),
    ("title", "Intitulé"),
    ("holders", "Porteurs"),
    ("status", "Statut"),
    ("version", "Version"),
    ("commune_amount", "Montant commune (€)"),
    ("inkind_value", "Valorisation porteurs (€)"),
    ("start", "Début"),
    ("end", "Fin"),
    ("commitment_end", "Fin de l'engagement d'entretien"),
    ("created_at", "Créée le"),
    ("updated_at", "Modifiée le"),
)
"""(key, French header) of each CSV column, in order."""


def holder_names(holders: Sequence[dict[str, Any]]) -> str:
    """Names of the holders, joined with `` / `` (a holder without a name is skipped)."""
    names = []
    for holder in holders:
        name = holder.get("name") or holder.get("nom") or ""
        if name:
            names.append(str(name))
    return " / ".join(names)


def _flat(row: ConventionRow) -> dict[str, str]:
    return {
        "id": row.id, "type": row.type_id, "year": str(row.year),
        "reference": row.reference, "title": row.title,
        "holders": holder_names(row.holders), "status": row.status,
        "version": str(row.version),
        "commune_amount": f"{row.commune_amount:.2f}".replace(".", ","),
        "inkind_value": f"{row.inkind_value:.2f}".replace(".", ","),
        "start": row.start.isoformat(), "end": row.end.isoformat(),
        "commitment_end": row.commitment_end.isoformat() if row.commitment_end else "",
        "created_at": row.created_at, "updated_at": row.updated_at,
    }


def export_csv(rows: Sequence[ConventionRow]) -> str:
    """The CSV text, BOM included (write it with ``encoding="utf-8"``)."""
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    writer.writerow([header for _, header in EXPORT_COLUMNS])
    for row in rows:
        flat = _flat(row)
        writer.writerow([neutralise_cell(flat[key]) for key, _ in EXPORT_COLUMNS])
    return "\ufeff" + buf.getvalue()


def export_json(rows: Sequence[ConventionRow],
                documents: dict[str, list[DocumentRow]] | None = None) -> str:
    """A JSON document ``{"conventions": [...]}``, each with its documents when given."""
    items = []
    for row in rows:
        item = row.to_dict()
        if documents is not None:
            item["documents"] = [d.to_dict() for d in documents.get(row.id, [])]
        items.append(item)
    return json.dumps({"conventions": items}, ensure_ascii=False, indent=2)
