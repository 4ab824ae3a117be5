"""Clause 1, the parties: the commune and the project holders (with members and guardians)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BeforeValidator

from schemas.base import (
    Email,
    FrBool,
    FrDate,
    Insee,
    Phone,
    Postcode,
    Rna,
    Siret,
    Strict,
    Text,
    Uai,
    fr,
)
from schemas.choices import to_code

HolderKind = Annotated[Literal["person", "group", "association", "school", "company"],
                       BeforeValidator(to_code("holder_kind"))]

HOLDER_KIND_LABELS: dict[str, str] = {
    "person": "habitant",
    "group": "collectif d'habitants",
    "association": "association",
    "school": "établissement scolaire",
    "company": "entreprise",
}


class Address(Strict):
    """A postal address."""

    street: Text = fr("Voie", "Numéro et nom de la voie.", max_length=200)
    postcode: Postcode = fr("Code postal", "Code postal à 5 chiffres.")
    city: Text = fr("Commune", "Nom de la commune.", max_length=100)

    def one_line(self) -> str:
        return f"{self.street}, {self.postcode} {self.city}"


class Guardian(Strict):
    """The legal guardian of a minor: signs in the minor's place."""

    name: Text = fr("Nom du représentant légal", "Prénom et nom du parent ou tuteur.",
                    max_length=120)
    relationship: Text = fr("Lien", "Lien avec le mineur (mère, père, tuteur…).",
                            "représentant légal", max_length=60)
    email: Email | None = fr("Courriel", "Adresse électronique du représentant légal.", None)
    phone: Phone | None = fr("Téléphone", "Téléphone du représentant légal.", None)


class Person(Strict):
    """A natural person: a representative, a member, or a holder in their own name."""

    name: Text = fr("Nom", "Prénom et nom.", max_length=120)
    capacity: Text | None = fr(
        "Qualité", "Fonction au titre de laquelle la personne agit (président, directrice…).",
        None, max_length=120)
    email: Email | None = fr("Courriel", "Adresse électronique.", None)
    phone: Phone | None = fr("Téléphone", "Numéro de téléphone français.", None)
    minor: FrBool = fr("Mineur", "La personne a moins de 18 ans.", False)
    birth_date: FrDate | None = fr(
        "Date de naissance", "Seulement pour un mineur (RGPD : ne pas la demander aux majeurs).",
        None)
    guardian: Guardian | None = fr(
        "Représentant légal", "Obligatoire pour un mineur : il signe à sa place.", None)


class Member(Strict):
    """A member of a holder who takes part in the works."""

    name: Text = fr("Nom", "Prénom et nom du participant.", max_length=120)
    role: Text | None = fr("Rôle", "Rôle dans le projet.", None, max_length=120)
    minor: FrBool = fr("Mineur", "Le participant a moins de 18 ans.", False)
    birth_date: FrDate | None = fr("Date de naissance", "Seulement pour un mineur.", None)
    guardian: Guardian | None = fr(
        "Représentant légal", "Obligatoire pour un mineur : il signe la convention.", None)


class Holder(Strict):
    """A project holder ("porteur de projet") of one of five kinds."""

    kind: HolderKind = fr(
        "Type de porteur",
        "habitant (person), collectif informel (group), association, école (school) "
        "ou entreprise (company).")
    name: Text = fr("Nom", "Nom du porteur : personne, collectif, association, école, entreprise.",
                    max_length=200)
    rna: Rna | None = fr("Numéro RNA", "Répertoire national des associations : W + 9 chiffres.",
                         None)
    siret: Siret | None = fr("SIRET", "14 chiffres ; obligatoire pour une entreprise.", None)
    uai: Uai | None = fr("Code UAI", "Code de l'établissement scolaire : 7 chiffres et une lettre.",
                         None)
    legal_form: Text | None = fr("Forme juridique", "Pour une entreprise : SAS, SCIC, SARL…", None,
                                 max_length=80)
    address: Address = fr("Adresse", "Adresse du porteur ou de son siège.")
    email: Email | None = fr("Courriel", "Adresse électronique de contact.", None)
    phone: Phone | None = fr("Téléphone", "Téléphone de contact.", None)
    representative: Person | None = fr(
        "Représentant", "Personne qui signe pour le porteur (obligatoire sauf pour un habitant "
        "agissant en son nom ; pour un collectif, la personne nommée qui signe pour lui).", None)
    minor: FrBool = fr("Mineur", "Pour un habitant : il a moins de 18 ans.", False)
    birth_date: FrDate | None = fr("Date de naissance", "Pour un habitant mineur seulement.", None)
    guardian: Guardian | None = fr(
        "Représentant légal", "Pour un habitant mineur : il signe à sa place.", None)
    republican_commitment_signed: FrBool = fr(
        "Contrat d'engagement républicain",
        "Pour une association : elle a souscrit le contrat d'engagement républicain "
        "(obligatoire avant toute subvention).", False)
    liability_certificate: FrBool = fr(
        "Attestation de responsabilité civile", "Le porteur a fourni son attestation d'assurance.",
        False)
    members: list[Member] = fr("Participants", "Membres qui participent aux travaux.",
                               default_factory=list, max_length=500)

    @property
    def kind_label(self) -> str:
        return HOLDER_KIND_LABELS[self.kind]

    @property
    def identifier(self) -> str:
        """The identifier a convention prints for this kind of holder."""
        if self.kind == "association" and self.rna:
            return f"RNA {self.rna}"
        if self.kind == "school" and self.uai:
            return f"UAI {self.uai}"
        if self.siret:
            return f"SIRET {self.siret}"
        return ""


class CommuneRepresentative(Strict):
    """Who signs for the commune, and by what authority."""

    capacity: Text = fr("Qualité", "Le Maire, ou l'adjoint délégué.", "le Maire", max_length=120)
    name: Text | None = fr("Nom", "Nom de l'élu (facultatif : la qualité suffit).", None,
                           max_length=120)
    delegation: Text | None = fr(
        "Délégation", "Acte qui habilite le signataire (délibération ou arrêté de délégation).",
        None, max_length=500)


class Commune(Strict):
    """The commune as a party: comes from the commune profile, the intake may override."""

    name: Text = fr("Commune", "Nom officiel de la commune.", max_length=120)
    insee: Insee = fr("Code INSEE", "Code officiel géographique de la commune.")
    siret: Siret | None = fr("SIRET", "SIRET de la mairie.", None)
    address: Address = fr("Adresse de la mairie", "Adresse postale de la mairie.")
    email: Email | None = fr("Courriel", "Adresse électronique de la mairie.", None)
    phone: Phone | None = fr("Téléphone", "Téléphone de la mairie.", None)
    representative: CommuneRepresentative = fr(
        "Représentant", "Qui signe pour la commune.", default_factory=CommuneRepresentative)
    insurer: Text | None = fr("Assureur", "Assureur de la commune (responsabilité civile).", None,
                              max_length=200)
    insurance_policy: Text | None = fr("Contrat d'assurance", "Numéro de police de la commune.",
                                       None, max_length=80)
    court: Text = fr("Tribunal administratif", "Juridiction compétente en cas de litige.",
                     "tribunal administratif de Lille", max_length=120)


def age_on(birth: date, day: date) -> int:
    """Age in whole years on ``day``."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


__all__ = [
    "HOLDER_KIND_LABELS", "Address", "Commune", "CommuneRepresentative", "Guardian",
    "Holder", "HolderKind", "Member", "Person", "age_on",
]
