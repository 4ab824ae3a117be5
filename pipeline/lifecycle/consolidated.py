"""The consolidated view of a convention for ``registry show``: the amendments chain and,
once one is signed, the figures of the terms in force."""

from __future__ import annotations

from typing import Any

from pipeline.core.workspace import Workspace
from pipeline.lifecycle.amendment_rows import amendments
from pipeline.lifecycle.terms import current_terms
from pipeline.records.registry import ConventionRow, Registry


def consolidated(ws: Workspace, reg: Registry, row: ConventionRow) -> dict[str, Any]:
    """``amendments`` (the chain) and ``terms_in_force`` (None until one is signed)."""
    chain = amendments(reg, row.id)
    signed = [a for a in chain if a.status == "signed"]
    terms: dict[str, Any] | None = None
    if signed:
        conv = current_terms(ws, reg, row)
        a = conv.amounts
        terms = {
            "after": signed[-1].id, "title": conv.title,
            "holders": [h.name for h in conv.holders],
            "commune_amount": str(a.commune_total), "inkind_value": str(a.holders_inkind),
            "start": conv.schedule.start.isoformat(), "end": conv.schedule.end.isoformat(),
            "commitment_end": conv.commitment_end.isoformat(),
        }
    return {"amendments": [c.to_dict() for c in chain], "terms_in_force": terms}
