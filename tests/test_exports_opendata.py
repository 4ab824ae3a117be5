"""Open data (SCDL subventions 2.1, checked with frictionless against the project's Table
Schema; no natural person ever named) and the retention review (proposes, never deletes)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from export_fixtures import COMMUNE_SIRET, SignedWorkspace, signed_ws

from pipeline.cli import main
from pipeline.exports.opendata.scdl import table_schema
from pipeline.records.registry import Registry
from pipeline.validation.validator import Validator, iter_validated

__all__ = ["signed_ws"]  # fixtures, imported for pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "conventions" / "examples"


def _run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner(env=env).invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def _validate(path: Path) -> object:
    from frictionless import Resource, Schema

    resource = Resource(path=path.name, basepath=str(path.parent), format="csv",
                        encoding="utf-8", schema=Schema.from_descriptor(table_schema()))
    return resource.validate()


@pytest.fixture(scope="module")
def scdl(signed_ws: SignedWorkspace, tmp_path_factory: pytest.TempPathFactory
         ) -> tuple[Path, dict[str, object]]:
    out = tmp_path_factory.mktemp("opendata") / "subventions.csv"
    code, stdout, err = _run("opendata", "subventions", "--year", "2026", "-o", str(out),
                             "--siret", COMMUNE_SIRET, "--workspace", str(signed_ws.root),
                             "--json")
    assert code == 0, err
    return out, json.loads(stdout)


def test_csv_passes_the_table_schema(scdl: tuple[Path, dict[str, object]]) -> None:
    path, _ = scdl
    report = _validate(path)
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])  # type: ignore[attr-defined]
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert list(rows[0]) == [f["name"] for f in table_schema()["fields"]]
    by_name = {r["nomBeneficiaire"]: r for r in rows}
    paths = by_name["Association des exploitants agricoles de Loos"]
    assert paths["rnaBeneficiaire"] == "W623004512" and paths["idBeneficiaire"] == ""
    assert paths["montant"] == "30000.00"
    assert paths["nature"] == "aide en numéraire;aide en nature"
    assert paths["conditionsVersement"] == "unique"  # one payment in the schedule
    assert paths["datesPeriodeVersement"] == "2027-06-30"
    assert paths["idAttribuant"] == COMMUNE_SIRET
    assert paths["nomAttribuant"] == "Commune de Loos-en-Gohelle"
    assert all(len(r["objet"]) <= 256 for r in rows)


def test_the_table_schema_can_fail(scdl: tuple[Path, dict[str, object]], tmp_path: Path) -> None:
    path, _ = scdl
    bad = tmp_path / "bad.csv"
    bad.write_text(path.read_text(encoding="utf-8").replace(COMMUNE_SIRET, "2162052800"),
                   encoding="utf-8")
    report = _validate(bad)
    assert not report.valid  # type: ignore[attr-defined]
    errors = report.flatten(["fieldName", "type"])  # type: ignore[attr-defined]
    assert ["idAttribuant", "constraint-error"] in errors


def _people(paths: list[Path]) -> set[str]:
    """Every natural person's and informal group's name in the examples."""
    from paths import PROJECT_ROOT

    from pipeline.catalogue.loader import Catalogue

    names: set[str] = set()
    for v in iter_validated(paths, Validator(Catalogue.load(PROJECT_ROOT / "conventions"))):
        if v.convention is None:
            continue
        for h in v.convention.holders:
            if h.kind in ("person", "group"):
                names.add(h.name)
            for person in (h.representative, h.guardian):
                if person is not None:
                    names.add(person.name)
            for m in h.members:
                names.add(m.name)
                if m.guardian is not None:
                    names.add(m.guardian.name)
            if h.representative is not None and h.representative.guardian is not None:
                names.add(h.representative.guardian.name)
    return names


def test_no_natural_person_is_named(scdl: tuple[Path, dict[str, object]]) -> None:
    path, summary = scdl
    text = path.read_text(encoding="utf-8")
    people = _people(sorted(EXAMPLES.glob("*.json")) + sorted(EXAMPLES.glob("*.csv")))
    assert "Martine Vasseur" in people and len(people) > 10
    leaked = sorted(n for n in people if n in text)
    assert leaked == []
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 2  # the association and the company; not the group, not the person
    assert summary["rows"] == 2 and summary["withheld"] == 2


def test_missing_siret_is_a_clear_error(signed_ws: SignedWorkspace, tmp_path: Path) -> None:
    code, _, err = _run("opendata", "subventions", "--year", "2026", "-o",
                        str(tmp_path / "s.csv"), "--workspace", str(signed_ws.root))
    assert code == 3 and "SIRET" in err and "--siret" in err
    assert not (tmp_path / "s.csv").exists()


def test_review_proposes_and_decision_deletes_nothing(signed_ws: SignedWorkspace,
                                                      tmp_path: Path) -> None:
    ws = signed_ws.copy_to(tmp_path / "ws")
    files_before = sorted(p for p in ws.archive_dir.rglob("*") if p.is_file())
    code, out, _ = _run("archive", "review", "--workspace", str(ws.root), "--json")
    assert code == 0 and json.loads(out)["conventions"] == []
    cid = signed_ws.ids["FF-2026-JARDIN-PARTAGE"]
    code, _, err = _run("archive", "record-decision", cid, "--approved-by", "J. Martin, AD62",
                        "--on", "2026-11-20", "--workspace", str(ws.root))
    assert code == 1 and "aucune décision ne peut être enregistrée avant" in err
    later = {"FIFTYFIFTY_TODAY": "2045-06-01"}
    code, out, _ = _run("archive", "review", "--workspace", str(ws.root), "--json", env=later)
    items = {i["id"]: i for i in json.loads(out)["conventions"]}
    assert set(items) == {signed_ws.ids[r] for r in (
        "FF-2026-CHEMINS-RURAUX", "FF-2026-SKATEPARK", "FF-2026-JARDIN-PARTAGE")}
    # the solar plant's 20-year upkeep runs to 2047: its retention has not even started
    assert items[cid]["proposed"] == "conservation" and items[cid]["decision"] is None
    code, out, err = _run("archive", "record-decision", cid, "--approved-by", "J. Martin, AD62",
                          "--on", "2045-05-30", "--action", "destruction", "--reference",
                          "bordereau 2045-12", "--workspace", str(ws.root), env=later)
    assert code == 0, err
    assert "Rien n'a été supprimé" in out
    code, out, _ = _run("archive", "review", "--workspace", str(ws.root), env=later)
    assert "destruction, approuvée par J. Martin, AD62 le 2045-05-30" in out
    assert sorted(p for p in ws.archive_dir.rglob("*") if p.is_file()) == files_before
    with Registry.open(ws.registry_path) as reg:
        assert reg.get(cid) is not None
    code, _, err = _run("archive", "record-decision", cid, "--approved-by", "x\x1b[31m",
                        "--on", "2045-05-30", "--workspace", str(ws.root), env=later)
    assert code == 3 and "--approved-by" in err
    code, _, err = _run("archive", "record-decision", cid, "--approved-by", "A",
                        "--on", "2046-01-01", "--workspace", str(ws.root), env=later)
    assert code == 3 and "futur" in err
    code, out, _ = _run("archive", "verify", "--workspace", str(ws.root))
    assert code == 0, out
