"""The document-driven catalogue: convention types and the commune profile."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from pipeline.catalogue.loader import Catalogue, load_type
from pipeline.core.errors import ConfigError


@pytest.fixture
def cat_dir(tmp_path: Path, project_root: Path) -> Path:
    """A private copy of the bundled conventions/ folder to break."""
    root = tmp_path / "conventions"
    shutil.copytree(project_root / "conventions", root)
    return root


def edit(path: Path, **changes: object) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data.update(changes)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def test_bundled_type_and_profile(catalogue: Catalogue) -> None:
    assert "fifty-fifty" in catalogue.type_ids()
    assert "commune" not in catalogue.type_ids()
    ff = catalogue.get("fifty-fifty")
    assert (ff.bounds.min_months, ff.bounds.max_months) == (1, 6)
    assert ff.bounds.commune_share_warning == Decimal(50)
    assert ff.format_number(2026, 7) == "FF_2026_007"
    assert ff.signing_order == ["holders", "commune"]
    assert ff.retention.years_after_end >= 1
    assert catalogue.template_path(ff) == (catalogue.root.parent / "templates" /
                                           "fifty-fifty.docx").resolve()
    commune = catalogue.profile.commune
    assert commune.name == "Loos-en-Gohelle"
    assert commune.insee == "62528"
    assert (commune.address.street, commune.address.postcode) == (
        "1 place de la République", "62750")
    assert commune.representative.capacity == "le Maire"
    assert commune.representative.name is None


def test_catalogue_from_environment(cat_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FIFTYFIFTY_CATALOGUE", str(cat_dir))
    assert Catalogue.load().root == cat_dir


def test_unknown_type_names_the_known_ones(catalogue: Catalogue) -> None:
    with pytest.raises(ConfigError) as info:
        catalogue.get("nope")
    assert "nope.yaml" in info.value.msg and "fifty-fifty" in info.value.msg


@pytest.mark.usefixtures("english")
@pytest.mark.parametrize("changes, key", [
    ({"bounds": {"min_months": 7, "max_months": 6}}, "key bounds"),
    ({"bounds": {"max_months": "six"}}, "key bounds.max_months"),
    ({"number_format": "FF-{year}-{seq:03d}"}, "key number_format"),
    ({"number_format": "CONVENTION_{year}_{seq:05d}"}, "key number_format"),
    ({"number_format": "FF_{year}"}, "key number_format"),
    ({"number_format": "FF_{seq:03d}_{user}"}, "key number_format"),
    ({"signing_order": ["commune", "commune"]}, "key signing_order"),
    ({"retention": {"years_after_end": 0}}, "key retention.years_after_end"),
    ({"colour": "blue"}, "key colour"),
    ({"id": "autre"}, "key id"),
])
def test_bad_type_file_names_file_and_key(cat_dir: Path, changes: dict[str, object],
                                          key: str) -> None:
    path = cat_dir / "fifty-fifty.yaml"
    edit(path, **changes)
    with pytest.raises(ConfigError) as info:
        Catalogue.load(cat_dir).get("fifty-fifty")
    assert str(path) in info.value.msg
    assert key in info.value.msg
    assert info.value.exit_code == 3


@pytest.mark.usefixtures("english")
@pytest.mark.parametrize("content, words", [
    ("id: [unclosed\n", "not valid YAML"),
    ("- a\n- b\n", "mapping"),
    ("", "mapping"),
])
def test_unreadable_type_file(cat_dir: Path, content: str, words: str) -> None:
    path = cat_dir / "fifty-fifty.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_type(path)
    assert str(path) in info.value.msg and words in info.value.msg


def test_bad_profile_fails_at_load(cat_dir: Path) -> None:
    path = cat_dir / "commune.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["commune"]["insee"] = "625"  # too short even once a lost zero is put back
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        Catalogue.load(cat_dir)
    assert "commune.yaml" in info.value.msg and "key commune.insee" in info.value.msg


@pytest.mark.usefixtures("english")
def test_missing_profile_or_folder(cat_dir: Path, tmp_path: Path) -> None:
    (cat_dir / "commune.yaml").unlink()
    with pytest.raises(ConfigError, match=r"commune\.yaml: file not found"):
        Catalogue.load(cat_dir)
    with pytest.raises(ConfigError, match="catalogue folder not found"):
        Catalogue.load(tmp_path / "absent")


def test_a_second_type_with_other_bounds(cat_dir: Path) -> None:
    (cat_dir / "chantier-jeunes.yaml").write_text(
        "title: Chantier jeunes\ntemplate: templates/fifty-fifty.docx\n"
        "number_format: CJ{year}{seq:04d}\nbounds: {min_months: 0, max_months: 2}\n",
        encoding="utf-8")
    cat = Catalogue.load(cat_dir)
    assert cat.type_ids() == ["chantier-jeunes", "fifty-fifty"]
    cj = cat.get("chantier-jeunes")
    assert cj.id == "chantier-jeunes" and cj.format_number(2027, 12) == "CJ20270012"
    assert cj.bounds.commune_share_warning == Decimal(50)
