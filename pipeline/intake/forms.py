"""Empty intake forms (CSV, XLSX, JSON) generated from the schema, so they never drift.

Columns follow the flat layout (``holders.0.name``); list fields get a few numbered
repetitions (:class:`Repeats`: how many holders, members, money lines… the clerk asks
for, at most :data:`MAX_REPEAT` each); the XLSX adds French labels, help comments,
drop-down lists of French labels (the codes are accepted too) and keeps the columns of
fixed-length codes (postcode, INSEE, SIRET, UAI) as text so Excel keeps their zeros."""

from __future__ import annotations

import csv
import json
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from schemas import Convention
from schemas.choices import labels_of

SKIPPED = {"commune", "legal_basis", "signatories_override"}
"""Filled from the commune profile or derived: not in the form (JSON may still give them)."""
REPEAT = {
    "holders": 2, "members": 3, "money": 3, "technical": 2, "authorisations": 2, "tasks": 3,
    "in_kind": 3, "milestones": 2, "schedule": 2, "other_funding": 2, "annexes": 3,
}
DEFAULT_REPEAT = 2
MAX_REPEAT = 20
"""The most repetitions of one list a form can be asked for (a workbook of 20 holders, each
with 20 members, already has thousands of columns)."""
TEXT_CODES = ("postcode", "insee", "siret", "siren", "uai", "rna", "phone")
"""Columns (by last part of their name) kept as text in the workbook, zeros and all."""


@dataclass(frozen=True)
class Repeats:
    """How many numbered repetitions each list field gets in a form."""

    counts: tuple[tuple[str, int], ...] = ()
    """Overrides of :data:`REPEAT`, by list field name (``holders``, ``members``, ``money``…)."""

    @classmethod
    def of(cls, **counts: int | None) -> Repeats:
        for name, n in counts.items():
            if n is not None and not 1 <= n <= MAX_REPEAT:
                raise ValueError(f"{name}: between 1 and {MAX_REPEAT}")
        return cls(tuple((k, v) for k, v in counts.items() if v is not None))

    def get(self, name: str) -> int:
        return dict(self.counts).get(name, REPEAT.get(name, DEFAULT_REPEAT))


@dataclass(frozen=True)
class Column:
    """One column of the flat intake form."""

    key: str
    label: str
    help: str
    choices: tuple[str, ...] = ()
    """The codes of a drop-down."""
    required: bool = False
    labels: tuple[str, ...] = ()
    """The French labels of :attr:`choices`, in the same order."""

    @property
    def shown(self) -> tuple[str, ...]:
        """What the drop-down offers: the labels (the codes when there are none)."""
        return self.labels or self.choices

    @property
    def is_code(self) -> bool:
        return self.key.rsplit(".", 1)[-1] in TEXT_CODES


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """The annotation without ``| None`` and Annotated; whether it was optional."""
    optional = False
    while True:
        origin = get_origin(annotation)
        if origin is typing.Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in get_args(annotation) if a is not type(None)]
            optional = optional or len(args) < len(get_args(annotation))
            annotation = args[0]
        else:
            return annotation, optional


def columns(model: type[BaseModel] = Convention, prefix: str = "",
            label_prefix: str = "", parent_required: bool = True,
            repeats: Repeats = Repeats()) -> list[Column]:
    """Every leaf column of ``model`` in declaration order."""
    out: list[Column] = []
    for name, info in model.model_fields.items():
        if not prefix and name in SKIPPED:
            continue
        out.extend(_field_columns(name, info, prefix, label_prefix, parent_required, repeats))
    return out


def _field_columns(name: str, info: FieldInfo, prefix: str, label_prefix: str,
                   parent_required: bool, repeats: Repeats) -> list[Column]:
    ann, optional = _unwrap(info.annotation)
    title = info.title or name
    required = parent_required and info.is_required() and not optional
    key = f"{prefix}{name}"
    label = f"{label_prefix}{title}"
    if get_origin(ann) is list:
        (item,) = get_args(ann)
        item, _ = _unwrap(item)
        out: list[Column] = []
        for i in range(repeats.get(name)):
            item_label = f"{label} {i + 1}"
            if isinstance(item, type) and issubclass(item, BaseModel):
                out.extend(columns(item, f"{key}.{i}.", f"{item_label} – ",
                                   required and i == 0, repeats))
            else:
                out.append(Column(f"{key}.{i}", item_label, info.description or "",
                                  required=required and i == 0))
        return out
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return columns(ann, f"{key}.", f"{label} – ", required, repeats)
    choices: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    if get_origin(ann) is Literal:
        choices = tuple(str(a) for a in get_args(ann))
        labels = labels_of(choices)
        labels = () if labels == choices else labels
    elif ann is bool:
        choices = ("oui", "non")
    return [Column(key, label, info.description or "", choices, required, labels)]


def _choices_help(c: Column) -> str:
    """``Valeurs : Habitant (person), …`` for a help comment or the CSV help row."""
    if c.labels:
        return "Valeurs : " + ", ".join(f"{lab} ({code})"
                                        for lab, code in zip(c.labels, c.choices, strict=True))
    return "Valeurs : " + ", ".join(c.choices)


def write_csv(path: Path, repeats: Repeats = Repeats()) -> None:
    """Two header rows: French labels (with the values of each drop-down), then the field
    keys the reader uses."""
    cols = columns(repeats=repeats)
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f, delimiter=";", lineterminator="\r\n")
        w.writerow([c.label + (" *" if c.required else "")
                    + (f" [{_choices_help(c)}]" if c.choices else "") for c in cols])
        w.writerow([c.key for c in cols])


def write_xlsx(path: Path, repeats: Repeats = Repeats()) -> None:
    """A workbook with labels, help comments, drop-down lists and a help sheet."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    cols = columns(repeats=repeats)
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Projets"
    bold, grey = Font(bold=True), Font(color="808080", size=8)
    fill = PatternFill("solid", fgColor="FFF2CC")
    for i, c in enumerate(cols, start=1):
        head = ws.cell(row=1, column=i, value=c.label + (" *" if c.required else ""))
        head.font = bold
        head.alignment = Alignment(wrap_text=True, vertical="top")
        if c.required:
            head.fill = fill
        text = c.help + (f"\n{_choices_help(c)}" if c.choices else "")
        if text.strip():
            head.comment = Comment(text, "fiftyfifty", width=300, height=120)
        ws.cell(row=2, column=i, value=c.key).font = grey
        ws.column_dimensions[get_column_letter(i)].width = 22
        letter = get_column_letter(i)
        if c.is_code:  # Text format: Excel keeps 06200 as typed
            ws.column_dimensions[letter].number_format = "@"
            for row in range(3, 1001):
                ws.cell(row=row, column=i).number_format = "@"
        if c.choices:
            dv = DataValidation(type="list", formula1='"' + ",".join(c.shown) + '"',
                                allow_blank=True, showErrorMessage=True,
                                errorTitle="Valeur non prévue",
                                error="Choisissez une valeur de la liste.")
            dv.add(f"{letter}3:{letter}1000")
            ws.add_data_validation(dv)
    ws.row_dimensions[1].height = 45
    ws.freeze_panes = "B3"
    help_ws = wb.create_sheet("Aide")
    help_ws.append(["Colonne", "Intitulé", "Obligatoire", "Aide", "Valeurs possibles"])
    for c in cols:
        help_ws.append([c.key, c.label, "oui" if c.required else "", c.help,
                        _choices_help(c).removeprefix("Valeurs : ") if c.choices else ""])
    for cell in help_ws[1]:
        cell.font = bold
    for letter, width in zip("ABCDE", (38, 45, 11, 70, 40), strict=True):
        help_ws.column_dimensions[letter].width = width
    wb.save(path)


def skeleton(model: type[BaseModel] = Convention, top: bool = True) -> dict[str, Any]:
    """An empty JSON record: every field with an empty value of its kind."""
    out: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if top and name in SKIPPED:
            continue
        ann, _ = _unwrap(info.annotation)
        if get_origin(ann) is list:
            (item,) = get_args(ann)
            item, _ = _unwrap(item)
            is_model = isinstance(item, type) and issubclass(item, BaseModel)
            out[name] = [skeleton(item, False) if is_model else None]
        elif isinstance(ann, type) and issubclass(ann, BaseModel):
            out[name] = skeleton(ann, False)
        else:
            out[name] = None  # null means empty: the reader leaves it out
    return out


def write_json(path: Path, repeats: Repeats = Repeats()) -> None:
    """An empty record: every field ``null`` (read as "not given"), one item per list."""
    del repeats  # a JSON list grows as needed
    path.write_text(json.dumps(skeleton(), ensure_ascii=False, indent=2) + "\n",
                    encoding="utf-8")


WRITERS = {"csv": write_csv, "xlsx": write_xlsx, "json": write_json}
