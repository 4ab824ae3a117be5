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
from pipeline.core.i18n import N_, _
from pipeline.core.issues import Issue, shorten
from pipeline.intake import RawRecord, read_records
from pipeline.intake.readers import read_items
from pipeline.intake.rows import Row
from pipeline.validation.outcome import RecordOutcome
from pipeline.validation.pool import cpu_count, outcomes
from pipeline.validation.reports import Report
from pipeline.validation.spool import OutcomeSpool
from schemas import Convention
from schemas.catalogue import ConventionType
from schemas.rules import RULES, Finding, one_pass

# Pydantic's error types in words a clerk reads, with their issue code.
_MESSAGES: dict[str, tuple[str, str]] = {
    "missing": ("schema.missing", N_("required field left empty")),
    "extra_forbidden": ("schema.unknown-field",
                        N_("unknown field (check the column's name)")),
    "int_parsing": ("schema.type", N_("a whole number is expected")),
    "int_type": ("schema.type", N_("a whole number is expected")),
    "int_from_float": ("schema.type", N_("a whole number is expected")),
    "float_parsing": ("schema.type", N_("a number is expected")),
    "float_type": ("schema.type", N_("a number is expected")),
    "decimal_parsing": ("schema.type", N_("a number is expected")),
    "decimal_type": ("schema.type", N_("a number is expected")),
    "decimal_max_digits": ("schema.range", N_("too many digits")),
    "decimal_max_places": ("schema.format", N_("too many decimal places")),
    "bool_parsing": ("schema.type", N_("answer yes or no")),
    "bool_type": ("schema.type", N_("answer yes or no")),
    "date_from_datetime_parsing": ("schema.type", N_("a date is expected (e.g. 25/11/2026)")),
    "date_from_datetime_inexact": ("schema.type", N_("a date is expected (e.g. 25/11/2026)")),
    "date_parsing": ("schema.type", N_("a date is expected (e.g. 25/11/2026)")),
    "date_type": ("schema.type", N_("a date is expected (e.g. 25/11/2026)")),
    "literal_error": ("schema.choice", N_("value not in the list")),
    "string_too_long": ("schema.length", N_("text too long")),
    "string_too_short": ("schema.length", N_("text too short")),
    "too_short": ("schema.length", N_("at least one item is expected")),
    "too_long": ("schema.length", N_("too many items")),
    "string_pattern_mismatch": ("schema.format", N_("characters not allowed")),
    "greater_than_equal": ("schema.range", N_("value too small")),
    "greater_than": ("schema.range", N_("value too small")),
    "less_than_equal": ("schema.range", N_("value too large")),
    "less_than": ("schema.range", N_("value too large")),
    "model_type": ("schema.type", N_("a group of fields is expected")),
    "model_attributes_type": ("schema.type", N_("a group of fields is expected")),
    "dict_type": ("schema.type", N_("a group of fields is expected")),
    "list_type": ("schema.type", N_("a list is expected")),
    "string_type": ("schema.type", N_("a text is expected")),
    "string_unicode": ("schema.type", N_("a text is expected")),
}
_OTHER = ("schema.format", N_("value not valid"))
"""Any other kind of pydantic error (never shown in pydantic's English)."""


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
        if err["type"] == "value_error":  # our own checks: already in the clerk's words
            code, msg = "schema.format", err["msg"].removeprefix("Value error, ")
        else:
            code, msgid = _MESSAGES.get(err["type"], _OTHER)
            msg = _(msgid)
            if err["type"] == "literal_error":
                msg += f" ({err.get('ctx', {}).get('expected', '')})"
        title = _field_title(loc)
        value = "" if err["type"] == "missing" else shorten(err.get("input"))
        if raw.flat and path in raw.flat:
            value = shorten(raw.flat[path])
        text = _("{title}: {message}").format(title=title, message=msg) if title else msg
        out.append(Issue(raw.source, raw.row, path, text, value, code=code))
    return out


def _partial(data: dict[str, Any], exc: ValidationError) -> Convention:
    """The record with only its valid parts: every top-level field without an error,
    validated alone (the others left unset), for the rules that need no more."""
    bad = {err["loc"][0] for err in exc.errors(include_url=False) if err["loc"]}
    conv = Convention.model_construct()
    for key, value in data.items():
        if key in bad or key not in Convention.model_fields:
            continue
        try:
            Convention.__pydantic_validator__.validate_assignment(conv, key, value)
        except ValidationError:
            continue
    return conv


def _rule_issues(raw: RawRecord, conv: Convention, ctype: ConventionType, *,
                 partial: bool) -> list[Issue]:
    """The findings of every rule as issues; on a ``partial`` record, every rule whose
    fields are there (a rule that reaches a missing one stops there, silently)."""
    out = []
    with one_pass():
        for rule in RULES:
            found: list[Finding] = []
            try:
                for f in rule(conv, ctype):
                    found.append(f)
            except (AttributeError, TypeError, KeyError, ZeroDivisionError):
                if not partial:
                    raise
            for f in found:
                value = shorten(raw.flat.get(f.field, "")) if raw.flat else ""
                out.append(Issue(raw.source, raw.row, f.field, f.message, value, f.severity,
                                 f.code))
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
                _("unknown type of convention (known: {types})").format(
                    types=", ".join(self.catalogue.type_ids())),
                shorten(type_id), code="schema.convention-type")])
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
            issues = [*raw.issues, *_pydantic_issues(raw, exc)]
            try:
                issues += _rule_issues(raw, _partial(data, exc), ctype, partial=True)
            except ValidationError:  # a derived total out of bounds: told once valid
                pass
            return Validated(raw, None, issues, reference=ref if isinstance(ref, str) else "")
        except RecursionError:
            return Validated(raw, None, [Issue(raw.source, raw.row, "", _("record nested too "
                                                                         "deeply"),
                                               code="intake.too-deep")])
        issues = list(raw.issues)
        try:
            issues += _rule_issues(raw, conv, ctype, partial=False)
        except ValidationError as exc:  # a derived total out of bounds (e.g. 10^12 euros)
            where = ".".join(str(part) for part in exc.errors()[0]["loc"]) if exc.errors() else ""
            return Validated(raw, None, [*issues, Issue(
                raw.source, raw.row, "",
                _("amounts out of bounds: the computed total {where} exceeds what a convention "
                  "can hold; check the amounts typed").format(where=where),
                code="schema.amounts")],
                reference=conv.reference or "")
        if any(i.severity == "error" for i in issues):
            return Validated(raw, None, issues, reference=conv.reference or "")
        if conv.reference is None:
            conv.reference = derive_reference(conv)
        return Validated(raw, conv, issues, fingerprint(conv) if self.fingerprints else "",
                         conv.reference)


def given_reference(values: dict[str, Any] | None) -> str | None:
    """The reference a record gives itself (not the one computed for it), if any."""
    ref = (values or {}).get("reference")
    return ref.strip() or None if isinstance(ref, str) else None


class BatchReferences:
    """The references given so far in a batch: a later record giving a reference already
    seen is rejected, naming the row that has it first (one reference, one convention).
    A computed reference is not checked: the same record twice is the same convention."""

    def __init__(self) -> None:
        self._seen: dict[str, tuple[str, int]] = {}

    def duplicate(self, source: str, row: int, reference: str | None) -> Issue | None:
        """The issue of a record whose reference came before, else ``None`` (and the
        reference is noted)."""
        if not reference:
            return None
        first = self._seen.setdefault(reference, (source, row))
        if first == (source, row):
            return None
        return Issue(source, row, "reference", _(
            "the reference {reference} is already used in this batch by {source} row {row}: "
            "one reference names one convention (change it, or remove one of the two "
            "rows)").format(reference=reference, source=first[0], row=first[1]),
            reference, code="batch.duplicate-reference")

    def check(self, outcome: RecordOutcome) -> RecordOutcome:
        """``outcome``, rejected when its reference came before in the batch."""
        issue = self.duplicate(outcome.source, outcome.row, given_reference(outcome.raw))
        if issue is not None:
            outcome.accepted = False
            outcome.issues = [*outcome.issues, issue]
        return outcome


def iter_validated(paths: Iterable[Path], validator: Validator) -> Iterator[Validated]:
    """Validate every record of every input, streamed; a reference already seen in the
    batch rejects the later record."""
    references = BatchReferences()
    for path in paths:
        count = 0
        for raw in read_records(path):
            count += 1
            v = validator.validate(raw)
            issue = references.duplicate(raw.source, raw.row, given_reference(raw.data))
            if issue is not None:
                v = Validated(v.raw, None, [*v.issues, issue], reference=v.reference)
            yield v
        if count == 0:
            yield Validated(RawRecord(path.name, 0, None), None, [_no_record(path)])


def _no_record(path: Path) -> Issue:
    return Issue(path.name, 0, "", _("the file holds no record (only a header, or an empty "
                                     "list)"), code="intake.no-record")


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
            raise InputError(_("{path}: no such file").format(path=p))
        else:
            out.append(p)
    if not out:
        raise InputError(_("no input file given"))
    return out


def validate_files(paths: Iterable[Path], catalogue: Catalogue, *,
                   workers: int | None = None) -> Report:
    """Validate inputs into a report. The outcomes are spooled to a temporary file, so the
    memory used does not grow with the number of records; a large batch is validated by
    ``workers`` processes (default: one per CPU), the outcomes kept in input order."""
    report = Report(OutcomeSpool())
    validator = Validator(catalogue, fingerprints=False, shared_defaults=True)
    references = BatchReferences()
    for outcome in outcomes(iter_items(paths), validator,
                            cpu_count() if workers is None else workers):
        report.add(references.check(outcome))
    return report
