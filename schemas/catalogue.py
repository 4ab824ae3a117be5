"""The document-driven catalogue: a convention type (one YAML per type) and the commune
profile. Models only: loading the files is :mod:`pipeline.catalogue.loader`'s job."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from pydantic import ConfigDict, field_validator, model_validator

from schemas.base import Email, FrDate, Strict, Text, fr
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


SignatureLevel = Literal["B-B", "B-T", "B-LT", "B-LTA"]


class SigningPolicy(Strict):
    """How electronic signatures are made: PAdES level and timestamp authority."""

    level: SignatureLevel | None = fr(
        "Niveau de signature", "B-B, B-T (horodatée), B-LT (avec les preuves de validité) ou "
        "B-LTA (avec un horodatage d'archivage, le défaut).", None)
    timestamp_url: str | None = fr(
        "Autorité d'horodatage", "Adresse http(s) du serveur d'horodatage RFC 3161.", None,
        pattern=r"^https?://[^\s]{1,300}$")


class Delegation(Strict):
    """A deputy allowed to sign for the commune, by a delegation order (arrêté)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, populate_by_name=True)

    name: Text = fr("Nom", "Prénom et nom de l'élu délégué.", max_length=120)
    capacity: Text = fr("Qualité", "Ex. adjointe déléguée à la vie associative.", max_length=200)
    valid_from: FrDate = fr("Du", "Premier jour de la délégation.", alias="from")
    valid_to: FrDate | None = fr("Au", "Dernier jour (vide : sans fin).", None, alias="to")
    scope: list[str] = fr("Types de conventions", "Identifiants des types couverts (vide : "
                          "tous).", default_factory=list)
    email: Email | None = fr("Courriel", "Adresse du certificat de l'élu.", None)

    def covers(self, day: date, type_id: str) -> bool:
        """The delegation is valid on ``day`` for conventions of ``type_id``."""
        ended = self.valid_to is not None and day > self.valid_to
        return self.valid_from <= day and not ended and (not self.scope or type_id in self.scope)


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
    signing: SigningPolicy = fr("Signature électronique", "Niveau et horodatage (sinon ceux "
                                "du profil de la commune).", default_factory=SigningPolicy)

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
    representative_email: Email | None = fr(
        "Courriel du maire", "Adresse figurant dans le certificat du maire.", None)
    delegations: list[Delegation] = fr(
        "Délégations de signature", "Adjoints habilités à signer pour la commune, avec les "
        "dates de leur arrêté de délégation.", default_factory=list)
    signing: SigningPolicy = fr("Signature électronique", "Niveau (défaut B-LTA) et "
                                "autorité d'horodatage.", default_factory=SigningPolicy)


__all__ = ["Bounds", "CommuneProfile", "ConventionType", "Delegation", "Retention",
           "SignatureLevel", "SigningPolicy"]
