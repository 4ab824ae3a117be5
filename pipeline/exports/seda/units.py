"""From registered conventions to the units and rules of a SEDA transfer message.

Who is who: the *archival agency* receives (the departmental archives or the electronic
archiving system), the *transferring agency* sends (the town hall's records office), the
*originating agency* produced the records (the commune, by its SIRET or INSEE code), and
the *archival agreement* is the agreement the two signed. They come, in order, from the
command's options, the workspace's ``settings.yaml`` (section ``archives``), then the
commune profile. Rules are identifiers of the archive service's rule reference: the
appraisal rule defaults to ``APP-<years>Y`` from the convention type's
``retention.years_after_end``, counted from the end of the upkeep commitment.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from pipeline.catalogue.loader import Catalogue
from pipeline.core.errors import ConfigError
from pipeline.core.i18n import _
from pipeline.exports.seda.formats import identify
from pipeline.exports.seda.manifest import (
    PackedFile,
    SignatureEvent,
    TransferMessage,
    UnitSpec,
    build_manifest,
)
from pipeline.exports.sources import Source
from pipeline.records.registry import DocumentRow, Registry
from schemas.parties import HOLDER_KIND_LABELS, Commune

FINAL_ACTIONS = {"conservation": "Keep", "destruction": "Destroy", "tri": "Keep"}
"""Final action of the catalogue's ``retention.final_disposition`` (sorting keeps until
the archive service sorts)."""
_TITLES = {
    "signed": "Convention signée",
    "scan": "Convention signée (original papier numérisé)",
    "intake": "Données du dossier (formulaire normalisé, JSON)",
    "evidence": "Preuve de la signature électronique",
    "evidence_json": "Preuve de la signature électronique (données, JSON)",
    "attachment": "Pièce annexe",
}


@dataclass(frozen=True)
class AgencyIds:
    """Identifiers the manifest needs (``None``: taken from settings or the commune)."""

    archival_agency: str | None = None
    transferring_agency: str | None = None
    agreement: str | None = None
    originating_agency: str | None = None
    submission_agency: str | None = None
    appraisal_rule: str = "APP-{years}Y"
    """Format of the appraisal rule identifier, with ``{years}``."""
    access_rule: str = "ACC-00001"
    """Access rule identifier (Vitam's default reference: freely accessible)."""


def resolve_agencies(given: AgencyIds, settings: Mapping[str, Any], commune: Commune) -> AgencyIds:
    """Fill what the options left empty from the ``archives`` settings, then the commune."""
    def pick(name: str) -> str | None:
        value = getattr(given, name)
        if value:
            return str(value)
        found = settings.get(name)
        return str(found) if found not in (None, "") else None

    own = commune.siret or f"INSEE-{commune.insee}"
    out = replace(
        given,
        archival_agency=pick("archival_agency"),
        transferring_agency=pick("transferring_agency") or own,
        agreement=pick("agreement"),
        originating_agency=pick("originating_agency") or own,
        submission_agency=pick("submission_agency") or own,
        appraisal_rule=str(settings.get("appraisal_rule") or given.appraisal_rule),
        access_rule=str(settings.get("access_rule") or given.access_rule),
    )
    if not out.archival_agency:
        raise ConfigError(_("The archive service's identifier is missing."),
                          hint=_("Give --archival-agency ID, or set archives: archival_agency: "
                                 "in the workspace's settings.yaml."))
    try:
        out.appraisal_rule.format(years=10)
    except (KeyError, IndexError, ValueError) as exc:
        raise ConfigError(_("archives.appraisal_rule {rule} is not a valid format ({error}); "
                            "use {{years}} only.").format(rule=out.appraisal_rule,
                                                          error=exc)) from exc
    return out


@dataclass(frozen=True)
class PackFile:
    """An archived file on its way into the package."""

    doc: DocumentRow
    path: Path
    uri: str
    sha512: str
    size: int
    modified: datetime
    amendment: str | None = None
    """The amendment (``<ID>_A<n>``) this file belongs to, when archived as an attachment."""


@dataclass(frozen=True)
class BuiltMessage:
    """The manifest and what it describes."""

    message: TransferMessage
    xml: bytes


Entry = tuple[Source, list[PackFile], list[tuple[Source, list[PackFile]]]]


def _packed(f: PackFile, ids: Iterator[int]) -> PackedFile:
    return PackedFile(f"BDO_{next(ids)}", f.uri, f.path.name, f.sha512, f.size,
                      identify(f.path), f.modified)


def _signatures(reg: Registry, src: Source) -> tuple[SignatureEvent, ...]:
    names = {str(s.get("key")): str(s.get("name", "")) for s in src.row.signatories}
    out = []
    for key, ev in sorted(reg.signatures(src.id).items(), key=lambda kv: kv[1].seq):
        when = datetime.fromisoformat(ev.at.replace("Z", "+00:00"))
        out.append(SignatureEvent(when, f"{names.get(key, key)} ({key})".strip()))
    return tuple(out)


def _convention_unit(reg: Registry, catalogue: Catalogue, src: Source, files: list[PackFile],
                     agencies: AgencyIds, units: Iterator[int], objects: Iterator[int],
                     amendments: Sequence[tuple[Source, list[PackFile]]] = (),
                     level: str = "File") -> UnitSpec:
    conv, row = src.convention, src.row
    retention = catalogue.get(row.type_id).retention
    signatures = _signatures(reg, src)
    signed_on: date = signatures[-1].when.date() if signatures else row.start
    children = []
    attached: dict[str, list[UnitSpec]] = {}
    for f in files:
        if f.amendment:
            title = ("Avenant signé" if f.path.suffix == ".pdf"
                     else "Données de l'avenant (JSON)")
            attached.setdefault(f.amendment, []).append(
                UnitSpec(f"AU_{next(units)}", title, files=(_packed(f, objects),)))
            continue
        title = _TITLES.get(f.doc.kind, f.doc.kind)
        if f.doc.kind == "attachment":
            title = f"{title} : {f.path.name}"
        children.append(UnitSpec(f"AU_{next(units)}", title, files=(_packed(f, objects),)))
    for n, (amd, amd_files) in enumerate(amendments, start=1):
        children.append(_convention_unit(reg, catalogue, amd, amd_files, agencies, units,
                                         objects, level="SubGrp"))
        children[-1] = replace(children[-1], title=f"Avenant n° {n} : {amd.convention.title}")
    for aid, parts in attached.items():
        number = aid.rsplit("_A", 1)[1]
        children.append(UnitSpec(f"AU_{next(units)}", f"Avenant n° {number}", level="SubGrp",
                                 identifier=aid, children=tuple(parts)))
    kinds = sorted({HOLDER_KIND_LABELS[h.kind] for h in conv.holders})
    return UnitSpec(
        unit_id=f"AU_{next(units)}", level=level,
        title=f"Convention {row.id} : {conv.title}", identifier=row.id,
        description=(f"Convention fifty-fifty entre la commune de {conv.commune.name} et "
                     f"{', '.join(h.name for h in conv.holders)}. {conv.project.description}"),
        keywords=("convention", "participation citoyenne", conv.convention_type, *kinds,
                  conv.project.location.address),
        addressees=tuple(h.name for h in conv.holders),
        start=conv.schedule.start, end=conv.commitment_end,
        signatures=signatures, children=tuple(children),
        appraisal_rule=agencies.appraisal_rule.format(years=retention.years_after_end),
        appraisal_start=conv.commitment_end,
        final_action=FINAL_ACTIONS[retention.final_disposition],
        access_rule=agencies.access_rule, access_start=signed_on,
    )


def build_message(reg: Registry, catalogue: Catalogue, entries: Sequence[Entry],
                  agencies: AgencyIds, message_id: str, now: datetime) -> BuiltMessage:
    """The message for these conventions (with their files and amendments); ``agencies``
    already resolved (:func:`resolve_agencies`)."""
    commune = entries[0][0].convention.commune
    units, objects = itertools.count(1), itertools.count(1)
    specs = tuple(_convention_unit(reg, catalogue, src, files, agencies, units, objects, amds)
                  for src, files, amds in entries)
    years = sorted({src.row.year for src, _, _ in entries})
    message = TransferMessage(
        message_id=message_id, date=now,
        comment=(f"Conventions fifty-fifty de la commune de {commune.name} "
                 f"({', '.join(map(str, years))}) : {len(entries)} "
                 f"{'dossier' if len(entries) < 2 else 'dossiers'}"),
        archival_agreement=agencies.agreement,
        archival_agency=str(agencies.archival_agency),
        transferring_agency=str(agencies.transferring_agency),
        originating_agency=str(agencies.originating_agency),
        originating_agency_name=f"Commune de {commune.name}",
        submission_agency=str(agencies.submission_agency), units=specs,
    )
    return BuiltMessage(message, build_manifest(message))


__all__ = ["FINAL_ACTIONS", "AgencyIds", "BuiltMessage", "Entry", "PackFile", "build_message",
           "resolve_agencies"]
