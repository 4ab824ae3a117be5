"""Pydantic v2 models of fiftyfifty: the convention and its parts, the catalogue. No I/O."""

from schemas.catalogue import Bounds, CommuneProfile, ConventionType, Retention
from schemas.convention import Convention, derive_signatories
from schemas.parties import Commune, Guardian, Holder, Member, Person
from schemas.rules import Finding, check

__all__ = [
    "Bounds", "Commune", "CommuneProfile", "Convention", "ConventionType", "Finding", "Guardian",
    "Holder", "Member", "Person", "Retention", "check", "derive_signatories",
]
