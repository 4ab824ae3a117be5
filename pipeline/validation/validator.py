"""Validation: a raw record becomes a :class:`~schemas.Convention`, or a list of issues.

Defaults are layered: the convention type's defaults, then the commune profile, then the
intake (which always wins). Pydantic checks each field; :mod:`schemas.rules` checks the
rules across fields. Errors reject the record; warnings travel with it."""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from pipeline.catalogue.loader import DEFAULT_TYPE, Catalogue
from pipeline.core.errors import InputError
from pipeline.core.issues import Issue, shorten
from pipeline.intake import RawRecord, read_records
from pipeline.intake.readers import read_items
from pipeline.intake.rows import Row
from pipeline.validation.outcome import RecordOutcome
from pipeline.validation.pool import cpu_count, outcomes
from pipeline.validation.reports import Report
from pipeline.validation.spool import OutcomeSpool
from schemas import Convention, check

# Pydantic's error types in words a French clerk reads.
_MESSAGES = {
    "missing": "champ obligatoire non renseigné",
    "extra_forbidden": "champ inconnu (vérifiez l'intitulé de la colonne)",
    "int_parsing": "un nombre entier est attendu",
    "int_from_float": "un nombre entier est attendu",
    "decimal_parsing": "un nombre est attendu",
    "bool_parsing": "répondez oui ou non",
    "date_from_datetime_parsing": "une date est attendue (ex. 25/11/2026)",
    "date_parsing": "une date est attendue (ex. 25/11/2026)",
    "literal_error": "valeur non prévue",
    "string_too_long": "texte trop long",
    "string_too_short": "texte trop court",
    "too_short": "au moins un élément est attendu",
    "too_long": "trop d'éléments",
    "string_pattern_mismatch": "caractères non autorisés",
    "greater_than_equal": "valeur trop petite",
    "less_than_equal": "valeur trop grande",
    "model_type": "un groupe de champs est attendu",
    "dict_type": "un groupe de champs est attendu",
    "list_type": "une liste est attendue",
    "string_type": "un texte est attendu",
}


@dataclass
class Validated:
    """A record's validation result."""

    raw: RawRecord
    convention: Convention | None
    issues: list[Issue] = field(default_factory=list)
    fingerprint: str = ""
    reference: str = ""

    @property
    def accepted(self) -> bool:
        return self.convention is not None

    def outcome(self) -> RecordOutcome:
        return RecordOutcome(self.raw.source, self.raw.row, self.reference or None,
                             self.accepted, self.issues, self.raw.flat or (self.raw.data or {}))


def deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``over`` on top of ``base``, recursing into mappings (lists are replaced); ``base``
    is left as it was."""
    return _overlay(copy.deepcopy(base), over)


def _overlay(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``over`` on top of ``base``, recursing into mappings (lists are replaced), without
    copying ``base``: the parts that ``over`` does not touch are shared. Same keys in the
    same order. Alone, only for a mapping that is read once and dropped (pydantic builds
    its own objects from it)."""
    out = dict(base)
    for key, value in over.items():
        below = out.get(key)
        if isinstance(value, dict) and isinstance(below, dict):
            out[key] = _overlay(below, value)
        else:
            out[key] = value
    return out


def _validated_parts(layer: dict[str, Any]) -> dict[str, BaseModel]:
    """The groups of fields of ``layer`` (the commune…) validated on their own, those that
    are valid: a record that leaves one alone gets the same object."""
    out: dict[str, BaseModel] = {}
    for key, value in layer.items():
        info = Convention.model_fields.get(key)
        model = info.annotation if info is not None else None
        if isinstance(value, dict) and isinstance(model, type) and issubclass(model, BaseModel):
            try:
                out[key] = model.model_validate(value)
            except ValidationError:
                continue  # each record will be told
    return out


def canonical_json(conv: Convention) -> str:
    """The record's canonical JSON: sorted keys, no spaces, derived fields included."""
    return json.dumps(conv.model_dump(mode="json"), sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False)


def fingerprint(conv: Convention) -> str:
    return hashlib.sha256(canonical_json(conv).encode("utf-8")).hexdigest()


def derive_reference(conv: Convention) -> str:
    """A stable reference when the intake gives none: the same project gets the same one."""
    key = "|".join([conv.convention_type, conv.holders[0].name.casefold(),
                    conv.title.casefold(), conv.project.request_date.isoformat()])
    return "REF-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:12].upper()


def _field_title(loc: tuple[int | str, ...]) -> str:
    model: Any = Convention
    title = ""
    for part in loc:
        if isinstance(part, int) or model is None:
            continue
        info = getattr(model, "model_fields", {}).get(part)
        if info is None:
            return title
        title = info.title or title
        model = _inner_model(info.annotation)
    return title


def _inner_model(annotation: Any) -> Any:
    from typing import get_args

    if isinstance(annotation, type) and hasattr(annotation, "model_fields"):
        return annotation
    for arg in get_args(annotation):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def _pydantic_issues(raw: RawRecord, exc: ValidationError) -> list[Issue]:
    out = []
    for err in exc.errors(include_url=False):
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and "[" in p))
        path = ".".join(str(p) for p in loc)
        msg = err["msg"]
        if err["type"] == "value_error":
            msg = msg.removeprefix("Value error, ")
        else:
            msg = _MESSAGES.get(err["type"], msg)
            if err["type"] == "literal_error":
                msg += f" ({err.get('ctx', {}).get('expected', '')})"
        title = _field_title(loc)
        value = "" if err["type"] == "missing" else shorten(err.get("input"))
        if raw.flat and path in raw.flat:
            value = shorten(raw.flat[path])
        out.append(Issue(raw.source, raw.row, path, f"{title} : {msg}" if title else msg, value))
    return out


class Validator:
    """Validates raw records against the catalogue (types and commune profile)."""

    def __init__(self, catalogue: Catalogue, *, fingerprints: bool = True,
                 shared_defaults: bool = False) -> None:
        """``fingerprints=False`` skips the accepted records' fingerprint (a full JSON dump
        of the record): validation alone does not need it. ``shared_defaults=True``
        validates once the parts of the defaults and commune profile a record leaves alone
        (the commune, say) and gives every convention the same objects for them: for
        validation alone, where the conventions are not kept, let alone changed."""
        self.catalogue = catalogue
        self.fingerprints = fingerprints
        self.shared_defaults = shared_defaults
        profile = catalogue.profile
        self._profile_layer = {
            "commune": profile.commune.model_dump(mode="json", exclude_none=True),
            "legal_basis": list(profile.legal_basis),
        }
        self._known_types = frozenset(catalogue.type_ids())
        self._layers: dict[str, dict[str, Any]] = {}
        """Per convention type: its defaults under the commune profile, merged once."""
        self._validated: dict[str, dict[str, BaseModel]] = {}
        """Per convention type: the parts of that layer validated once."""

    def validate(self, raw: RawRecord) -> Validated:
        if raw.data is None:
            return Validated(raw, None, list(raw.issues))
        type_id = raw.data.get("convention_type") or DEFAULT_TYPE
        if not isinstance(type_id, str) or (type_id != DEFAULT_TYPE
                                            and type_id not in self._known_types):
            # Unknown to the catalogue: the record's problem. A known type whose file is
            # broken is the catalogue's problem, fatal (ConfigError names the file and key).
            return Validated(raw, None, [Issue(
                raw.source, raw.row, "convention_type",
                f"type de convention inconnu (connus : {', '.join(self.catalogue.type_ids())})",
                shorten(type_id))])
        ctype = self.catalogue.get(str(type_id))
        layer = self._layers.get(str(type_id))
        if layer is None:
            layer = self._layers[str(type_id)] = deep_merge(ctype.defaults, self._profile_layer)
            self._validated[str(type_id)] = (_validated_parts(layer) if self.shared_defaults
                                             else {})
        data = _overlay(layer, raw.data)
        for key, part in self._validated[str(type_id)].items():
            if key not in raw.data:
                data[key] = part
        try:
            conv = Convention.model_validate(data)
        except ValidationError as exc:
            ref = raw.data.get("reference")
            return Validated(raw, None, [*raw.issues, *_pydantic_issues(raw, exc)],
                             reference=ref if isinstance(ref, str) else "")
        except RecursionError:
            return Validated(raw, None, [Issue(raw.source, raw.row, "", "record nested too "
                                               "deeply")])
        issues = list(raw.issues)
        try:
            findings = check(conv, ctype)
        except ValidationError as exc:  # a derived total out of bounds (e.g. 10^12 euros)
            where = ".".join(str(part) for part in exc.errors()[0]["loc"]) if exc.errors() else ""
            return Validated(raw, None, [*issues, Issue(
                raw.source, raw.row, "",
                f"montants hors limites : le total calculé {where} dépasse ce qu'une "
                "convention peut porter ; vérifiez les montants saisis")],
                reference=conv.reference or "")
        for f in findings:
            value = shorten(raw.flat.get(f.field, "")) if raw.flat else ""
            issues.append(Issue(raw.source, raw.row, f.field, f.message, value, f.severity))
        if any(i.severity == "error" for i in issues):
            return Validated(raw, None, issues, reference=conv.reference or "")
        if conv.reference is None:
            conv.reference = derive_reference(conv)
        return Validated(raw, conv, issues, fingerprint(conv) if self.fingerprints else "",
                         conv.reference)


def iter_validated(paths: Iterable[Path], validator: Validator) -> Iterator[Validated]:
    """Validate every record of every input, streamed."""
    for path in paths:
        count = 0
        for raw in read_records(path):
            count += 1
            yield validator.validate(raw)
        if count == 0:
            yield Validated(RawRecord(path.name, 0, None), None, [_no_record(path)])


def _no_record(path: Path) -> Issue:
    return Issue(path.name, 0, "", "the file holds no record (only a header, or an empty list)")


def iter_items(paths: Iterable[Path]) -> Iterator[RawRecord | Row]:
    """The records of every input as :func:`iter_validated` sees them (an input without
    any gives a record carrying that problem), a sheet's rows not yet made records."""
    for path in paths:
        count = 0
        for item in read_items(path):
            count += 1
            yield item
        if count == 0:
            yield RawRecord(path.name, 0, None, issues=[_no_record(path)])


def check_inputs(paths: Iterable[Path]) -> list[Path]:
    """Expand and check input paths (a folder means every supported file in it)."""
    from pipeline.intake import READERS

    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out.extend(sorted(f for f in p.iterdir() if f.suffix.lower() in READERS))
        elif not p.exists():
            raise InputError(f"{p}: no such file")
        else:
            out.append(p)
    if not out:
        raise InputError("no input file given")
    return out


def validate_files(paths: Iterable[Path], catalogue: Catalogue, *,
                   workers: int | None = None) -> Report:
    """Validate inputs into a report. The outcomes are spooled to a temporary file, so the
    memory used does not grow with the number of records; a large batch is validated by
    ``workers`` processes (default: one per CPU), the outcomes kept in input order."""
    report = Report(OutcomeSpool())
    validator = Validator(catalogue, fingerprints=False, shared_defaults=True)
    for outcome in outcomes(iter_items(paths), validator,
                            cpu_count() if workers is None else workers):
        report.add(outcome)
    return report
