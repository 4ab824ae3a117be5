"""JSON Schema export matches the committed copy; every command's help shows an example."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from pipeline.catalogue.schema_export import SCHEMA_FILES, render, schemas
from pipeline.cli import main


def test_export_equals_the_committed_schemas(tmp_path: Path, project_root: Path) -> None:
    out = tmp_path / "json"
    result = CliRunner().invoke(main, ["schema", "export", "-o", str(out)])
    assert result.exit_code == 0, result.output
    committed = project_root / "schemas" / "json"
    written = sorted(p.name for p in out.iterdir())
    assert written == sorted(SCHEMA_FILES) == sorted(p.name for p in committed.glob("*.json"))
    for name in written:
        assert (out / name).read_text(encoding="utf-8") == (committed / name).read_text(
            encoding="utf-8"), f"schemas/json/{name} is stale: run `fiftyfifty schema export " \
                               "-o schemas/json`"


def test_committed_copy_matches_the_models(project_root: Path) -> None:
    for name, schema in schemas().items():
        committed = (project_root / "schemas" / "json" / name).read_text(encoding="utf-8")
        assert json.loads(committed) == json.loads(render(schema))


def test_intake_schema_content() -> None:
    schema = schemas()["convention.schema.json"]
    assert "commune" not in schema["required"]
    assert {"title", "holders", "project", "schedule", "upkeep"} <= set(schema["required"])
    assert schema["additionalProperties"] is False
    props = schema["properties"]
    assert props["title"]["title"] == "Intitulé"
    assert "amounts" not in props and "signatories" not in props   # derived, never typed
    holder = schema["$defs"]["Holder"]
    assert holder["properties"]["kind"]["enum"] == [
        "person", "group", "association", "school", "company"]
    assert holder["additionalProperties"] is False
    for name, definition in schema["$defs"].items():
        for field, prop in definition.get("properties", {}).items():
            assert prop.get("title") and prop.get("description"), f"{name}.{field}"


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = []
    for name, cmd in sorted(group.commands.items()):
        out.append((*prefix, name))
        if isinstance(cmd, click.Group):
            out.extend(_commands(cmd, (*prefix, name)))
    return out


INTAKE_COMMANDS = [("validate",), ("intake-template",), ("schema",), ("schema", "export")]


def test_intake_commands_are_registered() -> None:
    assert set(INTAKE_COMMANDS) <= set(_commands(main))


@pytest.mark.parametrize("path", [(), *_commands(main)], ids=lambda p: " ".join(p) or "main")
def test_help_shows_an_example(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(main, ["--lang", "en", *path, "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.output
    example = result.output.split("Example:", 1)[1]
    assert "fiftyfifty " in example
