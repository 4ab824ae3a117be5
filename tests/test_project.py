"""The commune's own folder (init, --project, $FIFTYFIFTY_HOME) and the lazy command list."""

from __future__ import annotations

import importlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from paths import PROJECT_ROOT

from pipeline.catalogue import project
from pipeline.catalogue.loader import Catalogue, catalogue_dir
from pipeline.cli import COMMANDS, main
from pipeline.core.errors import ConfigError


@pytest.fixture(autouse=True)
def _no_chosen_project(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv(project.ENV_HOME, raising=False)
    monkeypatch.delenv("FIFTYFIFTY_CATALOGUE", raising=False)
    project.use_project(None)
    yield
    project.use_project(None)


def test_init_creates_an_editable_folder_and_never_overwrites(tmp_path: Path) -> None:
    result = project.init_project(tmp_path / "mairie")
    root = tmp_path / "mairie"
    assert (root / "conventions" / "commune.yaml").is_file()
    assert (root / "conventions" / "fifty-fifty.yaml").is_file()
    assert (root / "templates" / "fifty-fifty.docx").is_file()
    assert sorted(p.name for p in (root / "conventions" / "examples").iterdir()) == sorted(
        p.name for p in (PROJECT_ROOT / "conventions" / "examples").iterdir())
    assert result.workspace == root / "workspace" and result.workspace.is_dir()
    assert Catalogue.load(root / "conventions").type_ids() == ["fifty-fifty"]
    edited = root / "conventions" / "commune.yaml"
    edited.write_text(edited.read_text(encoding="utf-8") + "# edited\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"nothing was changed|rien n’a été modifié"):
        project.init_project(root)
    assert edited.read_text(encoding="utf-8").endswith("# edited\n")


def test_project_folder_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    project.init_project(a)
    project.init_project(b)
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.chdir(empty)
    assert project.project_dir() == project.defaults_root()  # nothing chosen: the defaults
    monkeypatch.chdir(a)
    assert catalogue_dir() == a / "conventions"  # the current folder has one
    monkeypatch.setenv(project.ENV_HOME, str(b))
    assert catalogue_dir() == b / "conventions"  # $FIFTYFIFTY_HOME wins over it
    project.use_project(a)
    assert catalogue_dir() == a / "conventions"  # --project wins over everything
    monkeypatch.setenv("FIFTYFIFTY_CATALOGUE", str(b / "conventions"))
    assert catalogue_dir() == b / "conventions"  # the explicit catalogue is still honoured


def test_init_and_project_from_the_command_line(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    res = runner.invoke(main, ["init", str(tmp_path / "m"), "--json"])
    assert res.exit_code == 0, res.output
    assert "conventions/commune.yaml" in res.output
    res = runner.invoke(main, ["init", str(tmp_path / "m")])
    assert res.exit_code == 3 and "rien n’a été modifié" in res.output
    profile = tmp_path / "m" / "conventions" / "commune.yaml"
    profile.write_text("not: [valid", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    example = str(tmp_path / "m" / "conventions" / "examples" / "skatepark.json")
    res = runner.invoke(main, ["--project", str(tmp_path / "m"), "validate", example])
    assert res.exit_code == 3 and "commune.yaml" in res.output  # it read that folder


def test_the_command_table_lists_exactly_the_registered_commands() -> None:
    group = click.Group("probe")
    for module in sorted({m for entry in COMMANDS.values() for m in entry.modules}):
        importlib.import_module(f"pipeline.cli.{module}").register(group)
    assert sorted(group.commands) == sorted(COMMANDS)


def test_help_lists_every_command_without_importing_any_stage() -> None:
    code = ("import sys; from click.testing import CliRunner; from pipeline.cli import main; "
            "out = CliRunner().invoke(main, ['--help']).output; "
            "print(out); print(sorted(m for m in sys.modules if m.startswith(("
            "'pipeline.documents', 'pipeline.signatures', 'pipeline.records', 'pyhanko', "
            "'pydantic', 'pipeline.runner'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60).stdout
    assert out.rstrip().endswith("[]")
    for name in COMMANDS:
        assert f"\n  {name} " in out
