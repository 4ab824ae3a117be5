"""The document-driven catalogue: a convention type (one YAML per type) and the commune
profile. Models only: loading the files is :mod:`pipeline.catalogue.loader`'s job."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from pydantic import field_validator, model_validator

from schemas.base import Strict, Text, fr
from schemas.parties import Commune


class Bounds(Strict):
    """Limits a convention of this type must respect."""

    min_months: int = fr("Durée minimale (mois)", "Durée minimale de réalisation.", 1, ge=0)
    max_months: int = fr("Durée maximale (mois)", "Durée maximale de réalisation.", 6, ge=1)
    commune_share_warning: Decimal = fr(
        "Seuil d'alerte de la part communale (%)",
        "Au-delà, un avertissement (pas une erreur) est signalé.", Decimal(50), ge=0, le=100)

    @model_validator(mode="after")
    def _ordered(self) -> Bounds:
        if self.min_months > self.max_months:
            raise ValueError("min_months must not exceed max_months")
        return self


class Retention(Strict):
    """How long the archive keeps the convention before proposing its destruction."""

    years_after_end: int = fr("Durée d'utilité administrative (ans)",
                              "Années après la fin de l'engagement.", 10, ge=1, le=200)
    final_disposition: str = fr("Sort final", "conservation ou destruction proposée.",
                                "conservation", pattern=r"^(conservation|destruction|tri)$")


class ConventionType(Strict):
    """A convention type of the catalogue (``conventions/<id>.yaml``)."""

    id: str = fr("Identifiant", "Nom du fichier sans extension.",
                 pattern=r"^[a-z0-9][a-z0-9-]{0,40}$")
    title: Text = fr("Intitulé", "Nom du type de convention.")
    template: str = fr("Modèle Word", "Chemin du modèle, relatif au dossier du projet.")
    number_format: str = fr("Format du numéro", "Ex. FF_{year}_{seq:03d}.", "FF_{year}_{seq:03d}")
    bounds: Bounds = fr("Bornes", "Durées et seuils.", default_factory=Bounds)
    defaults: dict[str, Any] = fr("Valeurs par défaut", "Appliquées quand l'intake ne dit rien.",
                                  default_factory=dict)
    signing_order: list[str] = fr(
        "Ordre de signature", "Groupes de signataires dans l'ordre : holders (porteurs et "
        "représentants légaux, dans n'importe quel ordre entre eux) puis commune.",
        default_factory=lambda: ["holders", "commune"])
    retention: Retention = fr("Conservation", "Règles d'archivage.", default_factory=Retention)

    @field_validator("number_format")
    @classmethod
    def _number_format(cls, value: str) -> str:
        fields = set(re.findall(r"{(\w+)", value))
        if "seq" not in fields or not fields <= {"year", "seq"}:
            raise ValueError("must use {seq} and may use {year}, nothing else")
        try:
            sample = value.format(year=2026, seq=999)
        except (ValueError, IndexError, KeyError) as exc:
            raise ValueError(f"is not a valid format: {exc}") from None
        if not re.fullmatch(r"[0-9A-Z_]{1,15}", sample):
            raise ValueError(
                f"gives {sample!r}: a number must be at most 15 characters of [0-9A-Z_]")
        return value

    @field_validator("signing_order")
    @classmethod
    def _order(cls, value: list[str]) -> list[str]:
        if sorted(value) != ["commune", "holders"]:
            raise ValueError("must list 'holders' and 'commune' once each")
        return value

    def format_number(self, year: int, seq: int) -> str:
        return self.number_format.format(year=year, seq=seq)


class CommuneProfile(Strict):
    """The commune's identity (``conventions/commune.yaml``): fills every intake."""

    commune: Commune = fr("Commune", "Identité de la commune.")
    legal_basis: list[Text] = fr("Visas", "Visas communs à toutes les conventions.",
                                 default_factory=list)


__all__ = ["Bounds", "CommuneProfile", "ConventionType", "Retention"]
