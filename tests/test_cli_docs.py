"""Every command has help with an example, and the README's reference matches --help."""

from __future__ import annotations

import click
import pytest
from paths import PROJECT_ROOT

from pipeline.cli import main
from pipeline.cli.docs import END, START, reference, walk

COMMANDS = list(walk(main))


def test_there_are_commands() -> None:
    names = {full for full, _ in COMMANDS}
    assert {"fiftyfifty run", "fiftyfifty validate", "fiftyfifty intake-template"} <= names


@pytest.mark.parametrize(("full", "cmd"), COMMANDS, ids=[f for f, _ in COMMANDS])
def test_every_command_has_help_with_example(full: str, cmd: click.Command) -> None:
    assert cmd.help and len(cmd.help.strip()) > 40, f"{full} lacks a help text"
    assert "Example:" in cmd.help, f"{full}'s help has no example"


def test_readme_reference_is_generated_from_help() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    assert START in readme and END in readme
    block = readme[readme.index(START): readme.index(END) + len(END)]
    assert block == reference(main), "README CLI reference is stale: run `make docs`"


@pytest.mark.parametrize(("full", "cmd"), COMMANDS, ids=[f for f, _ in COMMANDS])
def test_readme_mentions_every_command(full: str, cmd: click.Command) -> None:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    walkthrough = readme[: readme.index(START)]
    assert full in walkthrough, f"{full} is not explained in the README walkthrough"
