"""Clauses 0, 2 and 7 to 17: identification, object, timetable, upkeep, land, insurance,
communication, evaluation, termination, disputes, annexes and signatures."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, SerializerFunctionWrapHandler, model_serializer

from schemas.base import FrBool, FrDate, PositiveAmount, Quantity, Strict, Text, fr
from schemas.choices import to_code
from schemas.recurrence import Recurrence, parse_frequency

LandStatus = Annotated[Literal["public", "commune_private", "third_party"],
                       BeforeValidator(to_code("land_status"))]
LAND_STATUS_LABELS = {
    "public": "domaine public communal",
    "commune_private": "domaine privé de la commune",
    "third_party": "terrain appartenant à un tiers",
}
Owner = Annotated[Literal["commune", "holders", "third_party"],
                  BeforeValidator(to_code("owner"))]
OWNER_LABELS = {"commune": "la commune", "holders": "les porteurs", "third_party": "un tiers"}
VolunteerStatus = Annotated[Literal["occasional_collaborators", "association_volunteers"],
                            BeforeValidator(to_code("volunteer_status"))]
VOLUNTEER_LABELS = {
    "occasional_collaborators": "collaborateurs occasionnels du service public",
    "association_volunteers": "bénévoles de l'association",
}
SigningMode = Annotated[Literal["electronic", "handwritten"],
                        BeforeValidator(to_code("signing_mode"))]


class CouncilDecision(Strict):
    """The council decision that authorises the convention."""

    date: FrDate = fr("Date de la délibération", "Date du conseil municipal qui autorise.")
    number: Text = fr("Numéro de la délibération", "Numéro de l'acte (ex. 2026-045).",
                      max_length=40)


class Location(Strict):
    """Where the project takes place."""

    address: Text = fr("Lieu", "Adresse ou description du lieu.", max_length=300)
    cadastral_parcel: Text | None = fr("Parcelle cadastrale", "Référence cadastrale (ex. AB 123).",
                                       None, max_length=60)
    land_status: LandStatus = fr(
        "Statut du terrain", "domaine public (public), domaine privé communal (commune_private) "
        "ou terrain d'un tiers (third_party).")


class Project(Strict):
    """Clause 2, the object."""

    description: Text = fr("Description du projet", "Ce qui sera réalisé.", max_length=5000)
    purpose: Text = fr("Intérêt général", "En quoi le projet améliore le cadre de vie.",
                       max_length=3000)
    origin: Text | None = fr("Origine de l'idée", "D'où vient l'idée.", None, max_length=2000)
    request_date: FrDate = fr("Date de la demande", "Date du dépôt de l'idée en mairie.")
    location: Location = fr("Localisation", "Lieu du projet.")


class Milestone(Strict):
    """A step of the timetable."""

    date: FrDate = fr("Date", "Date de l'étape.")
    label: Text = fr("Étape", "Ce qui doit être fait à cette date.", max_length=300)


class Schedule(Strict):
    """Clause 7."""

    start: FrDate = fr("Début des travaux", "Date de démarrage.")
    milestones: list[Milestone] = fr("Étapes", "Étapes intermédiaires.", default_factory=list,
                                     max_length=50)
    end: FrDate = fr("Fin des travaux", "Date d'achèvement prévue.")
    completion_check: Text = fr(
        "Constat d'achèvement", "Comment l'achèvement est constaté.",
        "un constat contradictoire d'achèvement est dressé par la commune et les porteurs",
        max_length=1000)


class UpkeepTask(Strict):
    """A task of the upkeep commitment."""

    task: Text = fr("Tâche d'entretien", "Ce qui doit être entretenu.", max_length=500)
    frequency: Text = fr("Fréquence", "À quel rythme (chaque mois, deux fois par an…).",
                         max_length=120)
    who: Text = fr("Qui", "Qui s'en charge.", max_length=200)
    recurrence: Recurrence | None = fr(
        "Fréquence structurée", "Laisser vide : lue dans la fréquence écrite (chaque semaine "
        "d'avril à octobre, une fois par an en automne…).", None)

    @model_serializer(mode="wrap")
    def _drop_empty_recurrence(self, handler: SerializerFunctionWrapHandler) -> Any:
        # Records written before the structured frequency keep the same canonical JSON,
        # hence the same fingerprint: an absent recurrence is not serialised.
        data = handler(self)
        if isinstance(data, dict) and data.get("recurrence") is None:
            data.pop("recurrence", None)
        return data

    def schedule(self) -> Recurrence | None:
        """The structured frequency: given, else read from the text (None if unclear)."""
        return self.recurrence or parse_frequency(self.frequency)


class Upkeep(Strict):
    """Clause 8, durability ("pérennité")."""

    tasks: list[UpkeepTask] = fr("Entretien", "Tâches d'entretien.", min_length=1, max_length=50)
    years: int = fr("Durée de l'engagement (ans)", "Nombre d'années d'engagement d'entretien.",
                    ge=1, le=30)
    if_stopped: Text = fr(
        "Si les porteurs arrêtent", "Ce qui se passe si les porteurs cessent l'entretien.",
        "la commune reprend l'entretien ou décide du démontage, après un échange avec les porteurs",
        max_length=2000)


class Ownership(Strict):
    """Clause 10."""

    owner: Owner = fr("Propriétaire final", "Qui possède l'ouvrage à la fin : commune, porteurs "
                      "ou tiers.", "commune")
    site_restoration: Text = fr(
        "Remise en état", "Remise en état du site en fin de convention.",
        "à défaut d'entretien, le site est remis en état aux frais de la commune", max_length=2000)


class PublicLand(Strict):
    """Clause 9, occupation of public land (only when it applies)."""

    description: Text = fr("Emprise", "Partie du domaine occupée.", max_length=1000)
    area_m2: Quantity | None = fr("Surface (m²)", "Surface occupée.", None, ge=0, le=10_000_000)
    duration_years: int = fr("Durée (ans)", "Durée de l'occupation.", ge=1, le=70)
    fee: PositiveAmount = fr("Redevance annuelle (€)", "0 si gratuite.", Decimal("0"))
    free_reason: Text | None = fr("Motif de gratuité", "Pourquoi l'occupation est gratuite.", None,
                                  max_length=1000)
    economic_use: FrBool = fr("Exploitation économique", "L'occupation sert une activité "
                              "économique (ex. panneaux solaires vendant l'électricité).", False)
    selection_procedure: Text | None = fr(
        "Procédure de sélection", "Publicité et sélection préalables (obligatoires pour un usage "
        "économique depuis 2017) : référence de l'avis.", None, max_length=1000)


class Insurance(Strict):
    """Clause 11."""

    volunteer_status: VolunteerStatus = fr(
        "Statut des bénévoles", "collaborateurs occasionnels du service public "
        "(occasional_collaborators) ou bénévoles d'association (association_volunteers).",
        "occasional_collaborators")
    insurer_notified: FrBool = fr("Assureur informé", "L'assureur de la commune a été informé de "
                                "l'extension de garantie.", False)
    participants: int = fr("Nombre de participants", "Participants prévus.", 1, ge=1, le=10_000)
    minors_supervision: Text | None = fr(
        "Encadrement des mineurs", "Qui encadre les mineurs pendant les travaux.", None,
        max_length=1000)
    excluded_works: list[Text] = fr(
        "Travaux exclus", "Travaux réservés à des professionnels.", default_factory=list,
        max_length=50)


class Communication(Strict):
    """Clause 12."""

    scheme_mention: FrBool = fr("Mention du dispositif", "Toute communication mentionne le "
                              "dispositif fifty-fifty.", True)
    image_consent: FrBool = fr("Droit à l'image", "Les participants acceptent d'être photographiés "
                             "pour la communication de la commune.", False)


class Evaluation(Strict):
    """Clause 13."""

    indicators: list[Text] = fr("Indicateurs", "Ce qui sera mesuré.", default_factory=list,
                                max_length=50)
    review_date: FrDate | None = fr("Date du bilan", "Date du bilan du projet.", None)


class Termination(Strict):
    """Clause 14."""

    notice_days: int = fr("Préavis (jours)", "Préavis de résiliation.", 30, ge=0, le=365)
    grounds: Text = fr(
        "Motifs", "Motifs de résiliation.",
        "inexécution de ses engagements par l'une des parties, ou motif d'intérêt général",
        max_length=2000)
    pro_rata_repayment: FrBool = fr("Remboursement au prorata", "Les sommes versées et non "
                                  "employées sont remboursées au prorata.", True)


class Annex(Strict):
    """Clause 16."""

    title: Text = fr("Annexe", "Intitulé de la pièce annexée.", max_length=300)


class Signatory(Strict):
    """Clause 17: someone who signs (derived from the parties unless given)."""

    key: str = fr("Clé", "holder-1, guardian-1, commune…", pattern=r"^[a-z0-9-]{1,40}$")
    name: Text = fr("Nom", "Nom du signataire.", max_length=200)
    capacity: Text = fr("Qualité", "Au titre de quoi il signe.", max_length=300)
    party: Text = fr("Partie", "Partie pour laquelle il signe.", max_length=300)


class Signing(Strict):
    """Where and how the convention is signed."""

    place: Text = fr("Lieu de signature", "Fait à…", "Loos-en-Gohelle", max_length=120)
    mode: SigningMode = fr("Mode de signature", "électronique (electronic) ou manuscrite "
                           "(handwritten).", "electronic")


__all__ = [
    "LAND_STATUS_LABELS",
    "OWNER_LABELS",
    "VOLUNTEER_LABELS",
    "Annex",
    "Communication",
    "CouncilDecision",
    "Evaluation",
    "Insurance",
    "LandStatus",
    "Location",
    "Milestone",
    "Owner",
    "Ownership",
    "Project",
    "PublicLand",
    "Schedule",
    "Signatory",
    "Signing",
    "SigningMode",
    "Termination",
    "Upkeep",
    "UpkeepTask",
    "VolunteerStatus",
]
