"""The French text of the bundled convention template, clause by clause (DOMAIN.md 0 to 17).

Read by ``build_template.py``. Each item is a paragraph line (``# `` heading, ``## ``
sub-heading, ``- `` bullet, ``> `` centred, ``! `` title, ``**bold**``, ``^^italic^^``),
a :class:`Block` (a table), or ``@signatures`` / ``@pagebreak``. Lines that hold a
``{%p ... %}`` tag hold nothing else. Tags spell ``convention.`` in full so that
staff editing the document read where each value comes from.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Block:
    """A table of the template."""

    header: list[str]
    widths: list[float]
    """Column widths in cm (the text width is 17 cm)."""
    rows: list[list[str]]
    loop: str = ""
    """``x in list`` when ``rows`` repeat for each item."""
    totals: list[list[str]] = field(default_factory=list)
    """Fixed rows after the loop; a row whose middle cells are empty spans them."""
    when: dict[int, str] = field(default_factory=dict)
    """Condition of a fixed row (by index in ``totals``): the row is left out when false."""


def article(title: str) -> str:
    """An article heading, numbered at render time (optional articles shift the rest)."""
    return "# {% set ns.article = ns.article + 1 %}Article {{ ns.article }} – " + title


CC = "convention.commune_commitments"
AM = "convention.amounts"
HC = "convention.holder_commitments"
PL = "convention.public_land"
INS = "convention.insurance"
REP = "convention.commune.representative"

TITLE_PAGE: list[object] = [
    "",
    "! CONVENTION DE PARTENARIAT",
    "> ^^Dispositif « fifty-fifty » : une idée des habitants, le soutien de la commune, "
    "une convention^^",
    "",
    "!! **{{ convention.title }}**",
    "> Convention n° **{{ number }}**{% if version > 1 %} – version {{ version }}{% endif %}",
    "{%p if convention.reference %}",
    "> Dossier {{ convention.reference }}",
    "{%p endif %}",
    "{%p if draft %}",
    "> **PROJET – document de travail établi le {{ today|date_fr }}, sans valeur "
    "contractuelle avant signature**",
    "{%p endif %}",
]

VISAS: list[object] = [
    "## Visas",
    "{%p for visa in convention.legal_basis %}",
    "Vu {{ visa }} ;",
    "{%p endfor %}",
    "{%p if convention.republican_commitment_required %}",
    "Vu la loi n° 2021-1109 du 24 août 2021 confortant le respect des principes de la "
    "République, notamment son article 12 instituant le contrat d'engagement républicain ;",
    "{%p endif %}",
    "Vu la délibération n° {{ convention.council_decision.number }} du conseil municipal "
    "{{ convention.commune.name|de }} en date du {{ convention.council_decision.date|date_fr }} "
    "approuvant la présente convention et autorisant {{ " + REP + ".capacity }} à la signer ;",
]

PARTIES: list[object] = [
    "## Entre les soussignés",
    "**La commune {{ convention.commune.name|de }}**, code INSEE {{ convention.commune.insee }}"
    "{% if convention.commune.siret %}, SIRET {{ convention.commune.siret }}{% endif %}, dont "
    "la mairie est située {{ convention.commune.address.street }}, "
    "{{ convention.commune.address.postcode }} {{ convention.commune.address.city }}, "
    "représentée par {{ " + REP + ".capacity }}{% if " + REP + ".name %}, "
    "{{ " + REP + ".name }}{% endif %}{% if " + REP + ".delegation %}, "
    "{{ " + REP + ".delegation }}{% endif %}, ci-après désignée « la commune », d'une part,",
    "**Et**",
    "{%p for h in convention.holders %}",
    "{%p if h.kind == 'person' %}",
    "**{{ h.name }}**, {% if h.minor %}personne mineure, {% endif %}demeurant "
    "{{ h.address.street }}, {{ h.address.postcode }} {{ h.address.city }}"
    "{% if h.email %}, courriel : {{ h.email }}{% endif %}"
    "{% if h.phone %}, téléphone : {{ h.phone }}{% endif %}"
    "{% if h.minor and h.guardian %}, représentée par son représentant légal, "
    "{{ h.guardian.name }} ({{ h.guardian.relationship }}){% endif %}"
    "{% if not h.minor %}, agissant en son nom propre{% endif %} ;",
    "{%p else %}",
    "**{{ h.name }}**, {{ h.kind|holder_kind }}{% if h.legal_form %} ({{ h.legal_form }})"
    "{% endif %}{% if h.identifier %}, {{ h.identifier }}{% endif %}, "
    "{% if h.kind == 'group' %}domicilié{% else %}dont le siège est situé{% endif %} "
    "{{ h.address.street }}, {{ h.address.postcode }} {{ h.address.city }}"
    "{% if h.email %}, courriel : {{ h.email }}{% endif %}"
    "{% if h.phone %}, téléphone : {{ h.phone }}{% endif %}"
    "{% if h.representative %}, "
    "{% if h.kind in ('association', 'company') %}représentée{% else %}représenté{% endif %} "
    "par {{ h.representative.name }}"
    "{% if h.representative.capacity %}, {{ h.representative.capacity }}{% endif %}"
    "{% if h.representative.minor and h.representative.guardian %}, personne mineure agissant "
    "avec l'accord de son représentant légal, {{ h.representative.guardian.name }} "
    "({{ h.representative.guardian.relationship }}), qui signe la présente convention"
    "{% endif %}{% endif %} ;",
    "{%p endif %}",
    "{%p if h.kind == 'group' %}",
    "- Le collectif n'a pas de personnalité juridique : la personne nommée ci-dessus signe "
    "pour lui. Il ne reçoit aucune somme d'argent de la commune, qui paie elle-même à ses "
    "fournisseurs les achats faits pour le projet.",
    "{%p endif %}",
    "{%p if h.kind == 'association' and h.republican_commitment_signed %}",
    "- L'association déclare avoir souscrit le contrat d'engagement républicain prévu à "
    "l'article 10-1 de la loi n° 2000-321 du 12 avril 2000.",
    "{%p endif %}",
    "{%p if h.members %}",
    "- Participants : {% for m in h.members %}{{ m.name }}{% if m.role or m.minor %} ("
    "{% if m.role %}{{ m.role }}{% endif %}{% if m.role and m.minor %}, {% endif %}"
    "{% if m.minor %}personne mineure{% endif %}){% endif %}{% if not loop.last %} ; {% endif %}"
    "{% endfor %}.",
    "{%p endif %}",
    "{%p endfor %}",
    "ci-après{% if convention.holders|length > 1 %} désignés ensemble{% endif %} "
    "« les porteurs », d'autre part.",
]

PREAMBLE: list[object] = [
    "## Préambule",
    "Le dispositif « fifty-fifty » permet aux habitants de proposer une idée qui améliore "
    "leur cadre de vie. La commune étudie l'idée et, lorsque ses porteurs s'engagent à la "
    "réaliser puis à la faire vivre dans la durée, elle la soutient par des moyens "
    "financiers, techniques et des autorisations. Chacun apporte sa part : la présente "
    "convention fixe qui fait quoi.",
    "{% set ns = namespace(article=0) %}**IL A ÉTÉ CONVENU CE QUI SUIT :**",
]

_MONEY = Block(
    ["Objet de la dépense", "Forme", "Pour le porteur", "Montant"], [6.2, 4.3, 3.7, 2.8],
    [["{{ m.label }}", "{{ m.form|money_form }}",
      "{{ convention.holders[m.holder - 1].name }}", "{{ m.amount|amount }}"]],
    "m in " + CC + ".money",
    [["**Total de l'apport financier**", "", "", "**{{ " + AM + ".commune_money|amount }}**"]],
    when={0: CC + ".money|length > 1"})

_TECHNICAL = Block(
    ["Service", "Nature de l'aide", "Heures", "Coût horaire", "Matériel prêté", "Valeur"],
    [2.6, 4.6, 1.8, 2.3, 3.0, 2.7],
    [["{{ t.service }}", "{{ t.description }}",
      ">>{% if t.staff_hours %}{{ t.staff_hours|number }}{% else %}–{% endif %}",
      ">>{% if t.staff_hours %}{{ t.hourly_rate|amount }}{% else %}–{% endif %}",
      "{% if t.equipment %}{{ t.equipment }} ({{ t.equipment_value|amount }}){% else %}–"
      "{% endif %}", "{{ t.value|amount }}"]],
    "t in " + CC + ".technical",
    [["**Total de l'aide technique valorisée**", "", "", "", "",
      "**{{ " + AM + ".commune_technical|amount }}**"]],
    when={0: CC + ".technical|length > 1"})

_TASKS = Block(["Tâche", "Réalisée par"], [11.0, 6.0],
               [["{{ t.description }}", "{{ t.who or 'les porteurs' }}"]],
               "t in " + HC + ".tasks")

_INKIND = Block(
    ["Nature", "Description", "Heures", "Taux horaire", "Valeur"], [3.2, 7.0, 1.8, 2.2, 2.8],
    [["{{ i.kind|inkind_kind }}", "{{ i.description }}",
      "{% if i.hours is not none %}{{ i.hours|number }}{% else %}–{% endif %}",
      "{% if i.rate is not none %}{{ i.rate|amount }}{% else %}–{% endif %}",
      ">>{% if i.total %}{{ i.total|amount }}{% else %}non valorisé{% endif %}"]],
    "i in " + HC + ".in_kind",
    [["**Total des apports en nature**", "", "", "", "**{{ " + AM + ".holders_inkind|amount }}**"]],
    when={0: HC + ".in_kind|length > 1"})

_BUDGET = Block(
    ["Poste du plan de financement", "Montant"], [12.5, 4.5],
    [["Financement extérieur : {{ f.funder }}", "{{ f.amount|amount }}"]],
    "f in convention.budget.other_funding",
    [["Apport financier de la commune", "{{ " + AM + ".commune_money|amount }}"],
     ["Aide technique de la commune (valorisée)", "{{ " + AM + ".commune_technical|amount }}"],
     ["**Total de l'engagement de la commune**", "**{{ " + AM + ".commune_total|amount }}**"],
     ["Apports en nature des porteurs (valorisés)", "{{ " + AM + ".holders_inkind|amount }}"],
     ["Total des autres financements", "{{ " + AM + ".other_funding|amount }}"],
     ["**Coût total du projet**", "**{{ " + AM + ".project_total|amount }}**"],
     ["Part de la commune dans le coût total", "{{ " + AM + ".commune_share|percent }}"]],
    when={0: AM + ".commune_money", 1: AM + ".commune_technical",
          2: AM + ".commune_money and " + AM + ".commune_technical",
          3: AM + ".holders_inkind", 4: "convention.budget.other_funding|length > 1",
          5: AM + ".project_total", 6: AM + ".project_total"})

_AIDS = Block(
    ["Porteur", "Subventions", "Achats et prestations", "Aide technique", "Total"],
    [5.6, 2.8, 3.0, 2.8, 2.8],
    [["{{ a.name }}", ">>{% if a.grants %}{{ a.grants|amount }}{% else %}–{% endif %}",
      ">>{% if a.purchases %}{{ a.purchases|amount }}{% else %}–{% endif %}",
      ">>{% if a.technical %}{{ a.technical|amount }}{% else %}–{% endif %}",
      "{{ a.total|amount }}"]],
    "a in convention.holder_aids")

_PAYMENT = Block(
    ["Échéance", "Montant", "Condition de versement"], [3.6, 3.2, 10.2],
    [["{% if p.due %}{{ p.due|date_fr }}{% else %}–{% endif %}", "{{ p.amount|amount }}",
      "{{ p.condition }}"]],
    "p in convention.payment.schedule")

_MILESTONES = Block(["Date", "Étape"], [4.0, 13.0],
                    [["{{ s.date|date_fr }}", "{{ s.label }}"]],
                    "s in convention.schedule.milestones")

_UPKEEP = Block(["Tâche d'entretien", "Fréquence", "Assurée par"], [8.0, 4.0, 5.0],
                [["{{ u.task }}", "{{ u.frequency }}", "{{ u.who }}"]],
                "u in convention.upkeep.tasks")

OBJECT: list[object] = [
    article("Objet de la convention"),
    "La présente convention définit les engagements réciproques de la commune et des "
    "porteurs pour la réalisation du projet « {{ convention.title }} ».",
    "**Description du projet.** {{ convention.project.description }}",
    "**Intérêt général.** {{ convention.project.purpose }}",
    "{%p if convention.project.origin %}",
    "**Origine de l'idée.** {{ convention.project.origin }}",
    "{%p endif %}",
    "La demande a été déposée en mairie le {{ convention.project.request_date|date_fr }}.",
    "**Lieu :** {{ convention.project.location.address }}"
    "{% if convention.project.location.cadastral_parcel %}, parcelle cadastrale "
    "{{ convention.project.location.cadastral_parcel }}{% endif %} "
    "({{ convention.project.location.land_status|land_status }}).",
]

COMMUNE: list[object] = [
    article("Engagements de la commune"),
    "## Apport financier",
    "{%p if " + CC + ".money %}",
    "La commune apporte au projet les moyens financiers suivants :",
    _MONEY,
    "Soit un apport financier de {{ " + AM + ".commune_money|amount }} "
    "({{ " + AM + ".commune_money|amount_words }}).",
    "{%p else %}",
    "La commune n'apporte pas de financement en numéraire au projet.",
    "{%p endif %}",
    "{%p if " + AM + ".commune_money > " + AM + ".grants %}",
    "Les achats directs et les prestations sont commandés et payés par la commune à ses "
    "fournisseurs, selon les règles de la commande publique : le porteur pour lequel ils "
    "sont faits ne reçoit aucune somme à ce titre.",
    "{%p endif %}",
    "{%p if " + AM + ".grants %}",
    "Les subventions sont versées à leur bénéficiaire selon les modalités de paiement "
    "prévues ci-après.",
    "{%p endif %}",
    "Les porteurs ne détiennent ni ne manient à aucun moment de deniers de la commune"
    "{% if " + AM + ".grants %} en dehors des subventions prévues par la présente convention"
    "{% endif %}.",
    "## Aide technique",
    "{%p if " + CC + ".technical %}",
    "Les services municipaux apportent l'aide suivante, valorisée au coût horaire chargé :",
    _TECHNICAL,
    "{%p else %}",
    "Aucune aide technique des services municipaux n'est prévue.",
    "{%p endif %}",
    "## Autorisations",
    "{%p if " + CC + ".authorisations %}",
    "La commune accorde les autorisations suivantes :",
    "{%p for a in " + CC + ".authorisations %}",
    "- {{ a.description }}{% if a.reference %} ({{ a.reference }}){% endif %} ;",
    "{%p endfor %}",
    "{%p else %}",
    "Aucune autorisation particulière n'est nécessaire.",
    "{%p endif %}",
]

HOLDERS: list[object] = [
    article("Engagements des porteurs"),
    "Les porteurs s'engagent à réaliser les tâches suivantes :",
    _TASKS,
    "**Sécurité.** {{ " + HC + ".safety }}",
    "**Compte rendu.** {{ " + HC + ".reporting }}",
    "## Apports en nature des porteurs",
    "{%p if " + HC + ".in_kind %}",
    _INKIND,
    "{%p else %}",
    "Les porteurs n'apportent pas de contribution en nature valorisée.",
    "{%p endif %}",
    "Les bénévoles ne perçoivent aucune rémunération et ne sont soumis à aucun horaire.",
]

BUDGET: list[object] = [
    article("Budget et plan de financement"),
    _BUDGET,
    "{%p if " + AM + ".commune_total %}",
    "L'engagement total de la commune s'élève à {{ " + AM + ".commune_total|amount }} "
    "({{ " + AM + ".commune_total|amount_words }}), soit {{ " + AM + ".commune_share|percent }} "
    "du coût total du projet, qui s'élève à {{ " + AM + ".project_total|amount }} "
    "({{ " + AM + ".project_total|amount_words }}).",
    "{%p if convention.holders|length > 1 %}",
    "L'aide de la commune se répartit ainsi entre les porteurs. Chaque achat, prestation ou "
    "subvention est compté pour le porteur auquel il est destiné ; l'aide technique des "
    "services municipaux, qui sert le projet entier, est répartie à parts égales entre les "
    "{{ convention.holders|length }} porteurs.",
    _AIDS,
    "{%p endif %}",
    "{%p else %}",
    "La commune n'apporte ni financement ni aide valorisée : son soutien consiste dans les "
    "autorisations prévues à l'article 2.",
    "{%p endif %}",
]

PAYMENT: list[object] = [
    article("Modalités de paiement"),
    "{%p if " + AM + ".grants %}",
    "{%p if convention.payment.schedule %}",
    "Les subventions, d'un montant total de {{ " + AM + ".grants|amount }}, sont versées aux "
    "porteurs selon l'échéancier suivant :",
    _PAYMENT,
    "{%p else %}",
    "Les subventions, d'un montant total de {{ " + AM + ".grants|amount }}, sont versées en "
    "une fois après la signature de la présente convention.",
    "{%p endif %}",
    "Elles sont versées par mandat administratif sur le compte bancaire de leur bénéficiaire, "
    "dans la limite des dépenses réellement engagées pour le projet.",
    "{%p else %}",
    "Aucune somme n'est versée aux porteurs{% if " + CC + ".money %} : les achats et les "
    "prestations sont payés directement par la commune à ses fournisseurs{% endif %}.",
    "{%p endif %}",
    "{%p if convention.payment.supporting_documents %}",
    "Les porteurs fournissent les pièces justificatives suivantes :",
    "{%p for d in convention.payment.supporting_documents %}",
    "- {{ d }} ;",
    "{%p endfor %}",
    "{%p endif %}",
]

TIMETABLE: list[object] = [
    article("Calendrier de réalisation"),
    "Les travaux débutent le {{ convention.schedule.start|date_fr }} et s'achèvent au plus "
    "tard le {{ convention.schedule.end|date_fr }}.",
    "{%p if convention.schedule.milestones %}",
    _MILESTONES,
    "{%p endif %}",
    "**Achèvement :** {{ convention.schedule.completion_check }}.",
]

UPKEEP: list[object] = [
    article("Durée de la convention et pérennité"),
    "La présente convention prend effet à sa signature par la dernière des parties. Elle "
    "s'achève le {{ convention.commitment_end|date_fr }}, au terme de l'engagement "
    "d'entretien de {{ convention.upkeep.years }} an{% if convention.upkeep.years > 1 %}s"
    "{% endif %} qui suit la fin des travaux.",
    "Les porteurs s'engagent à faire vivre la réalisation et à l'entretenir selon le "
    "programme suivant :",
    _UPKEEP,
    "**Si les porteurs cessent l'entretien :** {{ convention.upkeep.if_stopped }}.",
]

PUBLIC_LAND: list[object] = [
    "{%p if " + PL + " %}",
    article("Occupation du domaine public"),
    "La commune autorise les porteurs à occuper, à titre précaire et révocable, la "
    "dépendance suivante de son domaine public : {{ " + PL + ".description }}"
    "{% if " + PL + ".area_m2 %}, d'une surface de {{ " + PL + ".area_m2|number }} m²"
    "{% endif %}.",
    "L'autorisation est accordée pour {{ " + PL + ".duration_years }} an"
    "{% if " + PL + ".duration_years > 1 %}s{% endif %} à compter de la signature de la "
    "présente convention. Elle est personnelle et ne peut être ni cédée ni louée.",
    "{%p if " + PL + ".fee %}",
    "Elle donne lieu au paiement d'une redevance annuelle de {{ " + PL + ".fee|amount }} "
    "({{ " + PL + ".fee|amount_words }}).",
    "{%p else %}",
    "Elle est accordée à titre gratuit{% if " + PL + ".free_reason %} : "
    "{{ " + PL + ".free_reason }}{% endif %}.",
    "{%p endif %}",
    "{%p if " + PL + ".economic_use %}",
    "L'occupation permettant une exploitation économique, l'autorisation est délivrée à "
    "l'issue d'une procédure de sélection préalable avec publicité (article L. 2122-1-1 du "
    "code général de la propriété des personnes publiques) : "
    "{{ " + PL + ".selection_procedure }}.",
    "{%p endif %}",
    "À l'expiration de l'autorisation, les lieux sont libérés et remis en état dans les "
    "conditions de l'article relatif à la propriété des ouvrages.",
    "{%p endif %}",
]

MANDATORY: list[object] = [
    "{%p if convention.mandatory_clauses %}",
    article("Stipulations applicables aux aides de plus de 23 000 euros"),
    "En application de l'article 10 de la loi n° 2000-321 du 12 avril 2000 et du décret "
    "n° 2001-495 du 6 juin 2001, l'aide attribuée à chaque porteur désigné ci-dessous, qui "
    "dépasse 23 000 euros en comptant l'aide en nature, fait l'objet des stipulations "
    "suivantes. Chaque achat, prestation ou subvention est compté pour le porteur auquel il "
    "est destiné ; l'aide technique des services municipaux, qui sert le projet entier, est "
    "{% if convention.holders|length > 1 %}répartie à parts égales entre les "
    "{{ convention.holders|length }} porteurs{% else %}comptée en entier pour le porteur"
    "{% endif %}.",
    "**Objet.** L'aide est affectée exclusivement à la réalisation du projet décrit à "
    "l'article 1.",
    "{%p for a in convention.large_aids %}",
    "**Montant.** L'aide attribuée à {{ a.name }} s'élève à {{ a.total|amount }} "
    "({{ a.total|amount_words }}), soit :",
    "{%p if a.grants %}",
    "- {{ a.grants|amount }} de subvention versée en numéraire ;",
    "{%p endif %}",
    "{%p if a.purchases %}",
    "- {{ a.purchases|amount }} d'achats et de prestations payés par la commune pour son "
    "compte ;",
    "{%p endif %}",
    "{%p if a.technical %}",
    "- {{ a.technical|amount }} d'aide technique valorisée"
    "{% if convention.holders|length > 1 %} (sa part de l'aide des services municipaux)"
    "{% endif %}.",
    "{%p endif %}",
    "{%p endfor %}",
    "**Modalités de versement.** Celles de l'article 5.",
    "**Conditions d'utilisation.** L'aide ne peut être employée à un autre objet. Le "
    "bénéficiaire tient une comptabilité des dépenses du projet, produit dans les six mois "
    "suivant la fin de l'exercice au cours duquel l'aide a été employée un compte rendu "
    "financier attestant leur conformité à l'objet de l'aide, et se prête à tout contrôle "
    "de la commune sur pièces et sur place. Toute somme non employée conformément à son "
    "objet est reversée à la commune.",
    "{%p endif %}",
]

MINORS: list[object] = [
    "{%p if convention.has_minors %}",
    article("Participation de personnes mineures"),
    "Des personnes mineures participent au projet. Elles ne signent pas la présente "
    "convention : leur représentant légal la signe et autorise leur participation.",
    "{%p for h in convention.holders %}",
    "{%p if h.minor and h.guardian %}",
    "- {{ h.name }} : représentant légal {{ h.guardian.name }} ({{ h.guardian.relationship }}) ;",
    "{%p endif %}",
    "{%p if h.representative and h.representative.minor and h.representative.guardian %}",
    "- {{ h.representative.name }} : représentant légal {{ h.representative.guardian.name }} "
    "({{ h.representative.guardian.relationship }}) ;",
    "{%p endif %}",
    "{%p for m in h.members if m.minor and m.guardian %}",
    "- {{ m.name }} : représentant légal {{ m.guardian.name }} ({{ m.guardian.relationship }}) ;",
    "{%p endfor %}",
    "{%p endfor %}",
    "{%p if " + INS + ".minors_supervision %}",
    "**Encadrement.** {{ " + INS + ".minors_supervision }}",
    "{%p endif %}",
    "Chaque représentant légal remet avant le début des travaux une autorisation parentale "
    "écrite ; ces autorisations sont annexées à la présente convention. Les personnes "
    "mineures sont encadrées en permanence par des adultes et ne réalisent ni les travaux "
    "exclus à l'article relatif aux assurances ni aucune tâche dangereuse.",
    "{%p endif %}",
]

OWNERSHIP: list[object] = [
    article("Propriété des ouvrages"),
    "Propriétaire des ouvrages à l'achèvement des travaux : "
    "{{ convention.ownership.owner|owner }}.",
    "{%p if convention.ownership.owner == 'commune' %}",
    "Les ouvrages sont intégrés au patrimoine communal ; les porteurs ne peuvent prétendre à "
    "aucune indemnité à ce titre.",
    "{%p endif %}",
    "**Remise en état du site :** {{ convention.ownership.site_restoration }}.",
]

INSURANCE: list[object] = [
    article("Assurances et responsabilités"),
    "{%p if " + INS + ".volunteer_status == 'occasional_collaborators' %}",
    "Les participants bénévoles interviennent en qualité de "
    "{{ " + INS + ".volunteer_status|volunteer_status }}. Ils ne sont pas rémunérés, ne sont "
    "soumis à aucun horaire et bénéficient de la protection de la commune, qui répond des "
    "dommages qu'ils subissent ou causent aux tiers dans l'exercice de leur mission.",
    "{%p else %}",
    "Les participants interviennent en qualité de "
    "{{ " + INS + ".volunteer_status|volunteer_status }} porteuse, qui les assure pour les "
    "dommages qu'ils subissent ou causent pendant les travaux. Ils ne sont pas rémunérés et "
    "ne sont soumis à aucun horaire.",
    "{%p endif %}",
    "La commune est assurée en responsabilité civile{% if convention.commune.insurer %} "
    "auprès de {{ convention.commune.insurer }}{% endif %}"
    "{% if convention.commune.insurance_policy %} (contrat n° "
    "{{ convention.commune.insurance_policy }}){% endif %}. "
    "{% if " + INS + ".insurer_notified %}Elle a déclaré à son assureur l'extension de sa "
    "garantie aux participants du projet.{% else %}Elle déclare à son assureur, avant le "
    "début des travaux, l'extension de sa garantie aux participants du projet.{% endif %}",
    "{%p for h in convention.holders %}",
    "{% if h.kind == 'person' and h.minor and h.guardian %}Le représentant légal "
    "{{ h.name|de }}{% else %}{{ h.name }}{% endif %} "
    "{% if h.liability_certificate %}a remis{% else %}remet avant le début des "
    "travaux{% endif %} une attestation d'assurance de responsabilité civile couvrant ses "
    "activités dans le cadre du projet.",
    "{%p endfor %}",
    "Nombre de participants prévus : {{ " + INS + ".participants }}.",
    "{%p if " + INS + ".excluded_works %}",
    "Sont exclus des tâches confiées aux bénévoles et réservés à des professionnels : "
    "{% for w in " + INS + ".excluded_works %}{{ w }}{% if not loop.last %} ; {% endif %}"
    "{% endfor %}.",
    "{%p endif %}",
    "Chaque partie demeure responsable des dommages résultant de ses propres fautes.",
]

COMMUNICATION: list[object] = [
    article("Communication"),
    "{%p if convention.communication.scheme_mention %}",
    "Toute communication relative au projet, quel qu'en soit le support, mentionne qu'il a "
    "été réalisé dans le cadre du dispositif « fifty-fifty » de la commune "
    "{{ convention.commune.name|de }}.",
    "{%p endif %}",
    "{%p if convention.communication.image_consent %}",
    "Les participants acceptent d'être photographiés ou filmés pendant les travaux et "
    "autorisent la commune à utiliser ces images, sans contrepartie, pour sa communication "
    "non commerciale sur le projet{% if convention.has_minors %}, avec l'accord écrit du "
    "représentant légal pour chaque personne mineure{% endif %}.",
    "{%p else %}",
    "Aucune image des participants n'est diffusée sans leur accord écrit préalable"
    "{% if convention.has_minors %} ou celui de leur représentant légal{% endif %}.",
    "{%p endif %}",
    "Les données personnelles recueillies ne servent qu'à l'exécution de la présente "
    "convention.",
]

EVALUATION: list[object] = [
    article("Évaluation"),
    "{%p if convention.evaluation.indicators %}",
    "Le projet est évalué au regard des indicateurs suivants :",
    "{%p for x in convention.evaluation.indicators %}",
    "- {{ x }} ;",
    "{%p endfor %}",
    "{%p endif %}",
    "Un bilan est dressé {% if convention.evaluation.review_date %}le "
    "{{ convention.evaluation.review_date|date_fr }}{% else %}à l'achèvement des travaux"
    "{% endif %} par la commune et les porteurs. Il indique notamment le nombre de "
    "participants et le nombre d'heures de bénévolat effectivement réalisées.",
]

ENDING: list[object] = [
    article("Modification et résiliation"),
    "Toute modification de la présente convention fait l'objet d'un avenant signé par "
    "toutes les parties.",
    "La convention peut être résiliée par l'une des parties, par lettre recommandée avec "
    "accusé de réception et moyennant un préavis de {{ convention.termination.notice_days }} "
    "jours, pour le motif suivant : {{ convention.termination.grounds }}.",
    "{%p if convention.termination.pro_rata_repayment %}",
    "En cas de résiliation, les sommes versées et non employées conformément à leur objet "
    "sont remboursées à la commune au prorata des réalisations.",
    "{%p else %}",
    "En cas de résiliation, les sommes déjà versées restent acquises aux porteurs, sauf "
    "emploi non conforme à leur objet.",
    "{%p endif %}",
    article("Règlement des litiges"),
    "En cas de différend sur l'interprétation ou l'exécution de la présente convention, les "
    "parties recherchent d'abord une solution amiable. À défaut d'accord dans un délai de "
    "deux mois à compter de la demande écrite de l'une d'elles, le litige est porté devant "
    "le {{ convention.commune.court }}.",
    article("Annexes"),
    "{%p if convention.annex_titles %}",
    "Sont annexées à la présente convention, dont elles font partie intégrante :",
    "{%p for a in convention.annex_titles %}",
    "- Annexe {{ loop.index }} : {{ a }}{% if loop.last %}.{% else %} ;{% endif %}",
    "{%p endfor %}",
    "{%p else %}",
    "La présente convention ne comporte pas d'annexe.",
    "{%p endif %}",
]

SIGNATURES: list[object] = [
    article("Signatures"),
    "{%p if convention.signing.mode == 'electronic' %}",
    "Fait à {{ convention.signing.place }}, en un original électronique signé par chacune "
    "des parties dans l'ordre ci-dessous. La date de chaque signature figure dans son "
    "cadre ; la convention prend date à la dernière signature.",
    "{%p else %}",
    "Fait à {{ convention.signing.place }}, en autant d'exemplaires originaux que de "
    "parties, signés dans l'ordre ci-dessous.",
    "{%p endif %}",
    "@signatures",
]

CLAUSES: list[object] = [
    *OBJECT, *COMMUNE, *HOLDERS, *BUDGET, *PAYMENT, *TIMETABLE, *UPKEEP, *PUBLIC_LAND,
    *MANDATORY, *MINORS, *OWNERSHIP, *INSURANCE, *COMMUNICATION, *EVALUATION, *ENDING,
    *SIGNATURES,
]
