"""`templates check`: the bundled template passes; each bad template fails where it should."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from render_fixtures import TEMPLATE, TEMPLATES_DATA

from pipeline.cli import template_cmds
from pipeline.documents.template_check import check_template


@pytest.fixture(scope="module")
def cli() -> click.Group:
    @click.group()
    def group() -> None:
        """Throwaway group."""

    template_cmds.register(group)
    return group


def test_bundled_template_passes() -> None:
    report = check_template(TEMPLATE)
    assert report.ok, [p.to_dict() for p in report.problems]


@pytest.mark.parametrize(("name", "location", "excerpt", "message"), [
    ("unknown-variable", "paragraph 2", "{{ convntion.title }}",
     "unknown name 'convntion': did you mean 'convention'?"),
    ("unknown-nested", "table 1, row 3, cell 2", "{{ h.nme }}",
     "'nme' does not exist in h (Holder): did you mean 'name'?"),
    ("unclosed-tag", "paragraph 2", "{% if convention.public_land %}",
     "never closed"),
    ("unfinished-tag", "paragraph 2", "Titre : {{ convention.title", "is not closed"),
    ("unknown-filter", "paragraph 3", "{{ convention.schedule.end|date_french }}",
     "unknown filter '|date_french': did you mean 'date_fr'?"),
    ("sandbox-globals", "paragraph 1", "{{ cycler.__init__.__globals__ }}",
     "'__init__' is forbidden"),
])
def test_bad_template_is_reported_where_the_tag_stands(
        name: str, location: str, excerpt: str, message: str) -> None:
    report = check_template(TEMPLATES_DATA / f"{name}.docx")
    assert not report.ok
    first = report.problems[0]
    assert (first.location, first.excerpt) == (location, excerpt)
    assert message in first.message
    assert len(report.problems) <= 2


def test_nested_path_inside_a_loop_and_by_index(tmp_path: Path) -> None:
    from docx import Document

    doc = Document()
    doc.add_paragraph("{{ convention.holders[0].representative.nme }}")
    doc.add_paragraph("{% for t in convention.commune_commitments.technical %}"
                      "{{ t.value|amount }} {{ t.staff_hour }}{% endfor %}")
    doc.add_paragraph("{% for x in convention.title %}{% endfor %}SIG::{{ number }}::")
    doc.add_paragraph("{{ convention.amounts.commune_share|percent }} {{ today.year }}")
    path = tmp_path / "t.docx"
    doc.save(str(path))
    problems = check_template(path).problems
    assert [(p.location, p.message.split(" (")[0]) for p in problems] == [
        ("paragraph 1", "'nme' does not exist in convention.holders[].representative"),
        ("paragraph 2", "'staff_hour' does not exist in t"),
        ("paragraph 3", "convention.title is not a list: it cannot be looped over"),
    ]


def test_text_next_to_a_paragraph_tag_is_reported(tmp_path: Path) -> None:
    from docx import Document

    doc = Document()
    doc.add_paragraph("Intro {%p if draft %}")
    doc.add_paragraph("{%p endif %}")
    doc.add_paragraph("SIG::x::")
    path = tmp_path / "p.docx"
    doc.save(str(path))
    problems = check_template(path).problems
    assert [p.location for p in problems] == ["paragraph 1"]
    assert "alone in its paragraph" in problems[0].message


def test_not_a_docx_and_missing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.docx"
    bad.write_bytes(b"PK\x03\x04 nope")
    assert "not a Word document" in check_template(bad).problems[0].message
    assert "not found" in check_template(tmp_path / "missing.docx").problems[0].message


def test_cli_checks_the_catalogue_templates_by_default(cli: click.Group) -> None:
    result = CliRunner().invoke(cli, ["templates", "check"])
    assert result.exit_code == 0, result.output
    assert "fifty-fifty.docx" in result.output and "1 modèle correct, 0 avec des problèmes." \
        in result.output


def test_cli_exit_1_and_json_on_bad_templates(cli: click.Group) -> None:
    bad = TEMPLATES_DATA / "unknown-nested.docx"
    result = CliRunner().invoke(cli, ["templates", "check", str(TEMPLATE), str(bad), "--json"])
    assert result.exit_code == 1
    payload = json.loads(result.stdout)
    assert payload["ok"] is False
    good, wrong = payload["templates"]
    assert good["ok"] is True and wrong["ok"] is False
    assert wrong["problems"][0]["location"] == "table 1, row 3, cell 2"
    text = CliRunner().invoke(cli, ["templates", "check", str(bad)])
    assert text.exit_code == 1 and "table 1, row 3, cell 2" in text.output
    assert "did you mean 'name'" in text.output


def test_cli_help_has_an_example(cli: click.Group) -> None:
    result = CliRunner().invoke(cli, ["templates", "check", "--help"])
    assert result.exit_code == 0 and "Example:" in result.output
