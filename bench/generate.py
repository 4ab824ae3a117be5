"""Synthetic but realistic intake records for the benchmark, from a fixed seed.

Every record is valid (the benchmark measures production, not rejection) and varies the
way real batches do: the five holder kinds, one or two holders, small and large amounts
(some above the 23,000 euro threshold), minors with their guardians, public-land
occupation (free or paid, economic or not), payment schedules, milestones, annexes.

Usage: ``python bench/generate.py N out.json`` or ``out.csv`` (``--seed`` to change it).
The same seed and N always give the same file.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from pipeline.intake import flatten

DEFAULT_SEED = 20261125

_FIRST = ["Léa", "Hugo", "Chloé", "Lucas", "Inès", "Nathan", "Manon", "Théo", "Camille",
          "Jules", "Zoé", "Louis", "Sarah", "Malik", "Émilie", "Kévin", "Françoise", "Gérard"]
_LAST = ["Dufresne", "Benali", "Lefebvre", "Vasseur", "Caron", "Wattez", "Delattre",
         "Lemaire", "Dupont", "Martin", "Kowalski", "Nowak", "Hennebelle", "Dubois"]
_STREETS = ["rue Jean Jaurès", "rue des Mineurs", "rue Léon Blum", "chemin de Hulluch",
            "rue Basly", "allée des Tilleuls", "place de la République", "rue de Lens"]
_PROJECTS = [
    ("Jardin partagé", "Création de carrés potagers et d'un composteur collectif",
     "Recréer du lien entre voisins et produire des légumes."),
    ("Fresque murale", "Réalisation d'une fresque sur un pignon municipal",
     "Embellir le quartier avec les habitants."),
    ("Nichoirs et hôtel à insectes", "Fabrication et pose de nichoirs dans le parc",
     "Sensibiliser à la biodiversité et accueillir les oiseaux."),
    ("Skate-park", "Construction de modules en béton sur la plaine de jeux",
     "Offrir aux jeunes un lieu de pratique sûr qu'ils ont imaginé."),
    ("Centrale solaire citoyenne", "Pose de panneaux photovoltaïques sur une toiture",
     "Produire localement une électricité renouvelable."),
    ("Chemins ruraux", "Rechargement et reprofilage de chemins par les exploitants",
     "Rendre les chemins praticables aux promeneurs et aux engins."),
    ("Boîte à livres", "Construction et installation d'une boîte à livres en bois",
     "Favoriser la lecture et l'échange entre habitants."),
    ("Verger conservatoire", "Plantation d'arbres fruitiers de variétés locales",
     "Préserver les variétés anciennes et partager les récoltes."),
]
_UAI_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"


def _siret(rng: random.Random) -> str:
    """Fourteen digits with a valid Luhn key (never La Poste's prefix)."""
    body = [rng.randint(1, 9)] + [rng.randint(0, 9) for _ in range(12)]
    for check in range(10):
        digits = [*body, check]
        total = 0
        for i, d in enumerate(reversed(digits)):
            total += (d * 2 - 9 if d > 4 else d * 2) if i % 2 else d
        if total % 10 == 0:
            return "".join(map(str, digits))
    raise AssertionError("unreachable: one check digit always fits")


def _uai(rng: random.Random) -> str:
    digits = f"0620{rng.randint(0, 999):03d}"
    return digits + _UAI_LETTERS[int(digits) % 23]


def _person(rng: random.Random) -> str:
    return f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"


def _phone(rng: random.Random) -> str:
    return "0" + str(rng.choice([3, 6, 7])) + " " + " ".join(
        f"{rng.randint(0, 99):02d}" for _ in range(4))


def _email(name: str, i: int) -> str:
    local = "".join(c for c in name.lower() if c.isascii() and c.isalnum())[:20] or "contact"
    return f"{local}.{i}@example.org"


def _address(rng: random.Random) -> dict[str, str]:
    return {"street": f"{rng.randint(1, 120)} {rng.choice(_STREETS)}",
            "postcode": "62750", "city": "Loos-en-Gohelle"}


def _minor(rng: random.Random, start: date) -> dict[str, Any]:
    birth = start - timedelta(days=365 * rng.randint(11, 16) + rng.randint(0, 300))
    return {"minor": True, "birth_date": birth.isoformat(),
            "guardian": {"name": _person(rng), "relationship": rng.choice(["mère", "père"]),
                         "phone": _phone(rng)}}


def _holder(rng: random.Random, kind: str, i: int, start: date, minors: bool,
            big: bool) -> dict[str, Any]:
    """One holder of ``kind``; ``minors`` puts minors in it where the kind allows."""
    name = {"person": _person(rng), "group": f"Collectif {rng.choice(_STREETS)}",
            "association": f"Association {rng.choice(_LAST)} et voisins",
            "school": f"École {rng.choice(['Jules Ferry', 'Pasteur', 'Louise Michel'])}",
            "company": f"{rng.choice(['Loos', 'Gohelle', 'Bassin'])} Énergie Citoyenne"}[kind]
    holder: dict[str, Any] = {"kind": kind, "name": name, "address": _address(rng),
                              "email": _email(name, i)}
    if rng.random() < 0.6:
        holder["phone"] = _phone(rng)
    if kind == "person":
        if minors:
            holder.update(_minor(rng, start))
        return holder
    rep: dict[str, Any] = {"name": _person(rng), "capacity": {
        "group": "porte-parole du collectif", "association": "président de l'association",
        "school": "directrice de l'école", "company": "président de la SAS"}[kind]}
    if kind == "group" and minors:
        rep.update(_minor(rng, start))
        holder["members"] = [{"name": _person(rng), "role": "chantier", **_minor(rng, start)}
                             for _ in range(rng.randint(1, 3))]
    holder["representative"] = rep
    if kind == "association":
        holder["rna"] = f"W62{rng.randint(0, 9_999_999):07d}"
        holder["republican_commitment_signed"] = True
        holder["liability_certificate"] = rng.random() < 0.8
    elif kind == "school":
        holder["uai"] = _uai(rng)
    elif kind == "company":
        holder["siret"] = _siret(rng)
        holder["legal_form"] = "SAS coopérative"
    if big and kind != "group" and rng.random() < 0.5:
        holder["members"] = [{"name": _person(rng), "role": "bénévole"}
                             for _ in range(rng.randint(2, 6))]
    return holder


def make_record(rng: random.Random, index: int) -> dict[str, Any]:
    """One valid intake record (nested, as in conventions/examples/*.json)."""
    kind = rng.choice(["person", "group", "association", "school", "company"])
    big = kind in ("association", "company") and rng.random() < 0.35  # > 23,000 euros
    minors = kind in ("person", "group") and rng.random() < 0.5
    start = date(2027, 1, 4) + timedelta(days=rng.randint(0, 300))
    end = start + timedelta(days=rng.randint(35, 175))
    holders = [_holder(rng, kind, index, start, minors, big)]
    if kind in ("association", "school") and rng.random() < 0.3:
        holders.append(_holder(rng, "group", index + 1, start, False, False))
    title, description, purpose = rng.choice(_PROJECTS)
    can_receive = kind in ("association", "company", "school")
    money: list[dict[str, Any]] = []
    for _ in range(rng.randint(0 if not big else 1, 3)):
        amount = rng.randint(200, 6_000) if not big else rng.randint(9_000, 16_000)
        form = "grant" if can_receive and rng.random() < 0.5 else rng.choice(
            ["direct_purchase", "service"])
        money.append({"label": f"Matériaux et fournitures, lot {len(money) + 1}",
                      "amount": f"{amount} {rng.randint(0, 99):02d}".replace(" ", ",", 1)
                      if rng.random() < 0.3 else str(amount), "form": form})
    technical = [{"service": rng.choice(["Services techniques", "Espaces verts",
                                         "Service jeunesse"]),
                  "description": "Préparation du site et appui aux chantiers",
                  "staff_hours": rng.randint(4, 90), "hourly_rate": "32,50"}
                 for _ in range(rng.randint(1, 2))]
    record: dict[str, Any] = {
        "reference": f"BENCH-{index:06d}",
        "title": f"{title} n° {index}",
        "council_decision": {"date": "2026-11-20", "number": f"2026-{100 + index % 900}"},
        "holders": holders,
        "project": {"description": f"{description} ({rng.choice(_STREETS)}).",
                    "purpose": purpose, "origin": "Réunion publique fifty-fifty.",
                    "request_date": (start - timedelta(days=rng.randint(20, 120))).isoformat(),
                    "location": {"address": f"Site {rng.randint(1, 40)}, {rng.choice(_STREETS)}",
                                 "land_status": rng.choice(["public", "commune_private"])}},
        "commune_commitments": {"money": money, "technical": technical, "authorisations": [
            {"description": "Occupation du site pendant les travaux"}]},
        "holder_commitments": {
            "tasks": [{"description": "Réaliser les travaux décrits à l'article 2",
                       "who": holders[0]["name"]}
                      for _ in range(rng.randint(1, 4))],
            "in_kind": [{"kind": "volunteer_hours", "description": "Chantiers bénévoles",
                         "hours": rng.randint(10, 400), "rate": "12"},
                        *([{"kind": "equipment", "description": "Matériel prêté",
                            "value": str(rng.randint(100, 40_000))}]
                          if rng.random() < 0.5 else [])]},
        "schedule": {"start": start.isoformat(), "end": end.isoformat()},
        "upkeep": {"tasks": [{"task": "Entretien courant", "frequency": "chaque mois",
                              "who": holders[0]["name"]}], "years": rng.randint(1, 10)},
        "insurance": {"insurer_notified": True, "participants": rng.randint(2, 60)},
        "evaluation": {"indicators": ["fréquentation", "heures de bénévolat"]},
        "annexes": [{"title": "Plan du site"}] * rng.randint(0, 3),
    }
    if minors:
        record["insurance"]["minors_supervision"] = "Deux animateurs encadrent chaque séance."
    if rng.random() < 0.3:
        record["schedule"]["milestones"] = [
            {"date": (start + timedelta(days=20)).isoformat(), "label": "Point d'étape"}]
    if money and rng.random() < 0.4:
        # The schedule covers the grants only: purchases and services are paid by the commune.
        grants = [m for m in money if m["form"] == "grant"]
        if grants:
            record["payment"] = {"schedule": [
                {"due": start.isoformat(), "amount": m["amount"], "condition": "à la commande"}
                for m in grants]}
    if rng.random() < 0.25:
        economic = kind == "company"
        land: dict[str, Any] = {"description": "Emprise sur le domaine public",
                                "area_m2": rng.randint(5, 400),
                                "duration_years": rng.randint(1, 20), "economic_use": economic}
        if economic or rng.random() < 0.5:
            land["fee"] = str(rng.randint(50, 900))
        else:
            land["free_reason"] = "projet d'intérêt général sans but lucratif"
        if economic:
            land["selection_procedure"] = "Appel à manifestation d'intérêt publié en mairie"
        record["public_land"] = land
    return record


def iter_records(n: int, seed: int = DEFAULT_SEED) -> Iterator[dict[str, Any]]:
    """``n`` records from ``seed``; the same arguments always give the same records."""
    rng = random.Random(seed)  # noqa: S311 (reproducible test data, not secrets)
    for index in range(1, n + 1):
        yield make_record(rng, index)


def write_json(path: Path, n: int, seed: int = DEFAULT_SEED) -> Path:
    """A JSON list of ``n`` records."""
    with path.open("w", encoding="utf-8") as out:
        out.write("[\n")
        for i, record in enumerate(iter_records(n, seed)):
            out.write((",\n" if i else "") + json.dumps(record, ensure_ascii=False))
        out.write("\n]\n")
    return path


def write_csv(path: Path, n: int, seed: int = DEFAULT_SEED) -> Path:
    """A ``;`` CSV in the flat intake layout (dotted column names), streamed in two passes:
    the first collects the columns, the second writes the rows."""
    columns: dict[str, None] = {}
    for record in iter_records(n, seed):
        columns.update(dict.fromkeys(flatten(record)))
    header = list(columns)
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, delimiter=";")
        writer.writerow(header)
        for record in iter_records(n, seed):
            flat = flatten(record)
            writer.writerow(["" if flat.get(c) is None else _cell(flat[c]) for c in header])
    return path


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "oui" if value else "non"
    return str(value)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("n", type=int)
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    writer = write_csv if args.out.suffix.lower() == ".csv" else write_json
    writer(args.out, args.n, args.seed)


if __name__ == "__main__":
    main()
