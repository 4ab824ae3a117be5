"""The choices of the intake form: a code for the program, a French label for the clerk.

A drop-down cell may hold either: ``group``, ``Collectif informel`` or ``collectif
INFORMEL`` all mean ``group`` (case, accents and spacing do not matter). The labels are
what the generated workbook and the CSV help show; the codes are what JSON and the program
use. :func:`choice` makes the pydantic type that accepts both."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import Any

__all__ = ["CHOICE_LABELS", "choice_label", "normalise", "to_code"]

CHOICE_LABELS: dict[str, dict[str, str]] = {
    "holder_kind": {
        "person": "Habitant",
        "group": "Collectif informel",
        "association": "Association",
        "school": "Établissement scolaire",
        "company": "Entreprise",
    },
    "money_form": {
        "direct_purchase": "Achat direct par la commune",
        "grant": "Subvention versée au porteur",
        "service": "Prestation payée par la commune",
    },
    "inkind_kind": {
        "volunteer_hours": "Heures de bénévolat",
        "equipment": "Matériel prêté",
        "materials": "Fournitures",
        "services": "Prestations",
    },
    "land_status": {
        "public": "Domaine public",
        "commune_private": "Domaine privé de la commune",
        "third_party": "Terrain d'un tiers",
    },
    "owner": {
        "commune": "La commune",
        "holders": "Les porteurs",
        "third_party": "Un tiers",
    },
    "volunteer_status": {
        "occasional_collaborators": "Collaborateurs occasionnels",
        "association_volunteers": "Bénévoles de l'association",
    },
    "signing_mode": {
        "electronic": "Électronique",
        "handwritten": "Manuscrite",
    },
}
"""Per kind of choice, each code's French label."""


def normalise(text: str) -> str:
    """``text`` without case, accents, apostrophe variants or repeated spaces."""
    decomposed = unicodedata.normalize("NFKD", text.replace("’", "'"))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.replace("_", " ").casefold().split())


_LOOKUP: dict[str, dict[str, str]] = {
    kind: {**{normalise(label): code for code, label in labels.items()},
           **{normalise(code): code for code in labels}}
    for kind, labels in CHOICE_LABELS.items()
}


def to_code(kind: str) -> Callable[[Any], Any]:
    """A before-validator: a label or a code of ``kind`` (any case, accents or not) becomes
    the code; anything else is left for the ``Literal`` to refuse."""
    lookup = _LOOKUP[kind]
    # The codes and labels exactly as written, with what their normal form gives: the
    # usual cell is one of them, found without normalising it.
    exact = {text: lookup[normalise(text)]
             for text in (*CHOICE_LABELS[kind], *CHOICE_LABELS[kind].values())}

    def convert(value: Any) -> Any:
        if isinstance(value, str):
            found = exact.get(value)
            if found is not None:
                return found
            return lookup.get(normalise(value), value)
        return value

    return convert


def choice_label(code: str) -> str:
    """The French label of a code, whatever its kind (the code itself when unknown)."""
    for labels in CHOICE_LABELS.values():
        if code in labels:
            return labels[code]
    return code


def labels_of(codes: tuple[str, ...]) -> tuple[str, ...]:
    """The labels of a ``Literal``'s codes, in order, when they are all known."""
    for labels in CHOICE_LABELS.values():
        if set(codes) == set(labels):
            return tuple(labels[c] for c in codes)
    return codes
