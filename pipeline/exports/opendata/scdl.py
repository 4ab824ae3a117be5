"""``opendata subventions``: the commune's grants as SCDL "subventions" 2.1 open data.

One row per beneficiary of a signed convention of the year (the year of its number).
Only legal entities are published, identified by SIRET or RNA: an association, a
company, or a school with a SIRET. Inhabitants and informal groups are never named
(publication rules for grants and the GDPR): their help is counted in the summary as
withheld, never written. A subsidy counts money *and* help in kind (law of 12 April
2000, art. 9-1): the amount is the money paid to the holder (``grant`` lines, "aide en
numéraire") plus what the commune buys or pays for it and its valued technical help
("aide en nature"), as :meth:`Convention.aid_to_holder` counts it.

The columns and their rules are those of the Table Schema shipped beside this module
(:func:`table_schema`), written from the published SCDL column definitions.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from importlib import resources
from typing import Any

from pipeline.core.errors import ConfigError
from pipeline.core.files import neutralise_cell
from pipeline.core.i18n import _
from pipeline.exports.sources import SIGNED_STATUSES, Source
from pipeline.records.registry import Registry
from schemas.convention import Convention
from schemas.parties import Holder

SCHEMA_FILE = "scdl-subventions-2.1.schema.json"
OBJECT_MAX = 256
_CENT = Decimal("0.01")
_ZERO = Decimal(0)


def table_schema() -> dict[str, Any]:
    """The project's Table Schema of SCDL subventions 2.1 (a dict, frictionless-ready)."""
    text = (resources.files("pipeline.exports.opendata") / SCHEMA_FILE).read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def columns() -> list[str]:
    """The column names, in order."""
    return [f["name"] for f in table_schema()["fields"]]


@dataclass(frozen=True)
class Withheld:
    """Help to a beneficiary who is not published (a person or an informal group)."""

    convention_id: str
    kind: str
    amount: Decimal


@dataclass
class OpenDataResult:
    """The rows to publish and what was left out."""

    rows: list[dict[str, str]] = field(default_factory=list)
    withheld: list[Withheld] = field(default_factory=list)

    def to_csv(self) -> str:
        """UTF-8 CSV text, comma-separated, header first (no BOM: open data portals
        expect plain UTF-8)."""
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=columns(), lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(self.rows)
        return out.getvalue()

    def summary(self) -> dict[str, Any]:
        return {"rows": len(self.rows), "withheld": len(self.withheld),
                "withheld_amount": str(sum((w.amount for w in self.withheld), _ZERO))}


def publishable(holder: Holder) -> bool:
    """True for a legal entity with an identifier SCDL accepts."""
    if holder.kind == "association":
        return bool(holder.rna or holder.siret)
    if holder.kind in ("company", "school"):
        return bool(holder.siret)
    return False


def _object(conv: Convention) -> str:
    text = " ".join(f"{conv.title} : {conv.project.purpose}".split())
    if len(text) <= OBJECT_MAX:
        return text
    cut = text[:OBJECT_MAX - 1].rsplit(" ", 1)[0].rstrip(" ,;:.")
    return cut + "…"


def _amount(value: Decimal) -> str:
    return str(value.quantize(_CENT, ROUND_HALF_UP))


def _payment(conv: Convention, signed_on: date) -> tuple[str, str]:
    steps = conv.payment.schedule
    dues = sorted(s.due for s in steps if s.due is not None)
    condition = "unique" if len(steps) <= 1 else "échelonné"
    if not dues:
        return condition, signed_on.isoformat()
    if dues[0] == dues[-1]:
        return condition, dues[0].isoformat()
    return condition, f"{dues[0].isoformat()}/{dues[-1].isoformat()}"


def _signed_on(reg: Registry, src: Source) -> date:
    sigs = reg.signatures(src.id)
    if not sigs:
        return src.convention.council_decision.date
    last = max(ev.at for ev in sigs.values())
    return datetime.fromisoformat(last.replace("Z", "+00:00")).date()


def _rows_of(reg: Registry, src: Source, attribuant: tuple[str, str],
             result: OpenDataResult) -> None:
    conv = src.convention
    signed_on = _signed_on(reg, src)
    condition, period = _payment(conv, signed_on)
    total = conv.amounts.project_total
    cc = conv.commune_commitments
    for index, holder in enumerate(conv.holders):
        aid = conv.aid_to_holder(index)
        if aid <= _ZERO:
            continue
        if not publishable(holder):
            result.withheld.append(Withheld(src.id, holder.kind, aid))
            continue
        cash = sum((m.amount for m in cc.money if m.holder == index + 1 and m.form == "grant"),
                   _ZERO)
        natures = [n for n, v in (("aide en numéraire", cash), ("aide en nature", aid - cash))
                   if v > _ZERO]
        share = min(Decimal(1), max(_CENT, (aid / total) if total else Decimal(1)))
        result.rows.append({
            "nomAttribuant": attribuant[0], "idAttribuant": attribuant[1],
            "dateConvention": signed_on.isoformat(),
            "referenceDecision": conv.council_decision.number,
            "nomBeneficiaire": neutralise_cell(holder.name),
            "idBeneficiaire": holder.siret or "",
            "rnaBeneficiaire": "" if holder.siret else (holder.rna or ""),
            "objet": neutralise_cell(_object(conv)),
            "montant": _amount(aid), "nature": ";".join(natures),
            "conditionsVersement": condition, "datesPeriodeVersement": period,
            "idRAE": "", "notificationUE": "non",
            "pourcentageSubvention": str(share.quantize(_CENT, ROUND_HALF_UP)),
            "dispositifAide": "Fifty-fifty",
        })


def subventions(reg: Registry, sources: list[Source], *,
                siret: str | None = None) -> OpenDataResult:
    """The SCDL rows of these conventions (signed ones only); ``siret`` overrides the
    commune's SIRET (the commune profile's ``commune.siret``)."""
    result = OpenDataResult()
    signed = [s for s in sources if s.row.status in SIGNED_STATUSES]
    for src in sorted(signed, key=lambda s: s.id):
        commune = src.convention.commune
        ident = siret or commune.siret
        if not ident or not (len(ident) == 14 and ident.isdigit()):
            raise ConfigError(
                _("The commune's SIRET is missing or invalid ({value}): SCDL needs it as "
                  "idAttribuant.").format(value=ident or "-"),
                hint=_("Give --siret, or set opendata: siret: in the workspace's settings.yaml, "
                       "or commune: siret: in the commune profile."))
        _rows_of(reg, src, (f"Commune de {commune.name}", ident), result)
    return result


__all__ = ["OBJECT_MAX", "SCHEMA_FILE", "OpenDataResult", "Withheld", "columns", "publishable",
           "subventions", "table_schema"]
