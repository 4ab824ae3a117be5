"""Who may fill a signatory slot: the certificate must name the person of the slot.

A certificate fits a slot when its common name equals the signatory's name, ignoring
case, accents, punctuation and extra spaces, or when its e-mail equals the signatory's
e-mail. The commune's slot is filled by the mayor named in the commune profile
(``commune.representative.name``) or by a deputy whose delegation in the profile is valid
on the signing day for the convention's type. One certificate never fills two slots of
one convention.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from schemas.catalogue import CommuneProfile

COMMUNE_KEY = "commune"


def normalise_name(text: str) -> str:
    """Lower case, no accents, words separated by one space (``Jean-François  MAËLLE``
    → ``jean francois maelle``)."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.split(r"[\W_]+", plain.casefold())).strip()


@dataclass(frozen=True)
class Person:
    """Someone allowed in a slot: name, e-mail, and the capacity to show."""

    name: str
    email: str = ""
    capacity: str = ""

    def matches(self, common_name: str, email: str) -> bool:
        by_name = bool(self.name) and normalise_name(self.name) == normalise_name(common_name)
        by_mail = bool(self.email) and bool(email) and self.email.casefold() == email.casefold()
        return by_name or by_mail


def allowed_people(entry: Mapping[str, Any], *, profile: CommuneProfile | None, day: date,
                   type_id: str) -> list[Person]:
    """Who may sign the slot ``entry`` (a stored signatory) on ``day``."""
    people = [Person(str(entry.get("name") or ""), str(entry.get("email") or ""),
                     str(entry.get("capacity") or ""))]
    if entry.get("key") != COMMUNE_KEY or profile is None:
        return people
    rep = profile.commune.representative
    if rep.name:
        people.append(Person(rep.name, profile.representative_email or "",
                             f"{rep.capacity} de {profile.commune.name}"))
    for deleg in profile.delegations:
        if deleg.covers(day, type_id):
            people.append(Person(deleg.name, deleg.email or "",
                                 f"{deleg.capacity}, par délégation du maire"))
    return people


def slot_holder(entry: Mapping[str, Any], common_name: str, email: str, *,
                profile: CommuneProfile | None, day: date, type_id: str) -> Person | None:
    """The allowed person the certificate names, or ``None`` when it fits nobody."""
    for person in allowed_people(entry, profile=profile, day=day, type_id=type_id):
        if person.matches(common_name, email):
            return person
    return None


def describe_allowed(entry: Mapping[str, Any], *, profile: CommuneProfile | None, day: date,
                     type_id: str) -> str:
    """``Camille Dupré`` or ``Le Maire, Marie Durand`` for messages."""
    names = [p.name for p in allowed_people(entry, profile=profile, day=day, type_id=type_id)]
    return ", ".join(dict.fromkeys(n for n in names if n)) or "nobody"


def already_used(fingerprint: str, used: Iterable[tuple[str, str]]) -> str | None:
    """The slot key already filled by the certificate ``fingerprint``, if any."""
    for key, other in used:
        if other == fingerprint:
            return key
    return None


__all__ = ["COMMUNE_KEY", "Person", "allowed_people", "already_used", "describe_allowed",
           "normalise_name", "slot_holder"]
