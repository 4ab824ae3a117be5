"""``registry list|show|export`` and ``archive verify`` through click, on real workspaces."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from registry_driver import run_batch

from pipeline.cli.registry_cmds import register
from pipeline.core.workspace import Workspace
from pipeline.records.registry import Registry


@pytest.fixture
def cli() -> click.Group:
    @click.group()
    def group() -> None:
        """Throwaway root."""

    register(group)
    return group


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    workspace = Workspace(tmp_path / "ws")
    with Registry.open(workspace.registry_path) as reg:
        run_batch(workspace, reg, [
            {"reference": "R1", "content": "jardin partagé"},
            {"reference": "R2", "content": "=SUM(A1)"},
        ])
        reg.set_status("FF_2026_001", "signing", actor="test")
        reg.record_event("FF_2026_001", "signed", "signing", {"signatory": "holder-1"})
    return workspace


def run(cli: click.Group, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def test_every_command_has_help_with_an_example(cli: click.Group) -> None:
    seen = []
    for name in ("registry", "archive"):
        group = cli.commands[name]
        assert isinstance(group, click.Group)
        for sub in group.commands.values():
            assert sub.help and "Example:" in sub.help, sub.name
            seen.append(f"{name} {sub.name}")
            code, out = run(cli, name, str(sub.name), "--help")
            assert code == 0 and "Example:" in out
    assert sorted(seen) == ["archive verify", "registry export", "registry list",
                            "registry show"]


def test_register_joins_an_existing_archive_group() -> None:
    @click.group()
    def root() -> None:
        """Root."""

    @root.group("archive")
    def archive() -> None:
        """Already there."""

    register(root)
    assert "verify" in archive.commands


def test_list_text_and_json(cli: click.Group, ws: Workspace) -> None:
    code, out = run(cli, "registry", "list", "-w", str(ws.root))
    assert code == 0
    assert "FF_2026_001" in out and "FF_2026_002" in out
    code, out = run(cli, "registry", "list", "--status", "signing", "--json", "-w", str(ws.root))
    assert code == 0
    assert [c["id"] for c in json.loads(out)["conventions"]] == ["FF_2026_001"]
    code, out = run(cli, "registry", "list", "--year", "2030", "--json", "-w", str(ws.root))
    assert json.loads(out) == {"conventions": []}


@pytest.mark.usefixtures("english")
def test_show_has_signatories_documents_and_history(cli: click.Group, ws: Workspace) -> None:
    code, out = run(cli, "registry", "show", "FF_2026_001", "--json", "-w", str(ws.root))
    assert code == 0
    data = json.loads(out)
    assert data["convention"]["status"] == "signing"
    states = {s["key"]: s["signed"] for s in data["signatories"]}
    assert states == {"holder-1": True, "commune": False}
    assert len(data["documents"]) == 3
    assert [e["action"] for e in data["events"]] == [
        "allocated", "document", "document", "document", "status", "status", "signed"]
    code, text = run(cli, "registry", "show", "FF_2026_001", "-w", str(ws.root))
    assert code == 0
    assert "holder-1" in text and "not signed" in text and "History:" in text


@pytest.mark.usefixtures("english")
def test_show_unknown_and_missing_workspace(cli: click.Group, ws: Workspace,
                                            tmp_path: Path) -> None:
    code, out = run(cli, "registry", "show", "FF_2026_404", "-w", str(ws.root))
    assert code == 2 and "no convention FF_2026_404" in out
    code, out = run(cli, "registry", "list", "-w", str(tmp_path / "typo"))
    assert code == 3 and "No registry" in out
    assert not (tmp_path / "typo").exists()


def test_export_csv_file_opens_in_excel(cli: click.Group, ws: Workspace,
                                        tmp_path: Path) -> None:
    target = tmp_path / "out" / "registre.csv"
    code, _ = run(cli, "registry", "export", "--format", "csv", "-o", str(target),
                  "-w", str(ws.root))
    assert code == 0
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert len(rows) == 3
    assert rows[2][rows[0].index("Intitulé")] == "Projet =SUM(A1)"
    code, out = run(cli, "registry", "export", "--format", "json", "-w", str(ws.root))
    assert code == 0
    first = json.loads(out)["conventions"][0]
    assert first["id"] == "FF_2026_001" and len(first["documents"]) == 3


@pytest.mark.usefixtures("english")
def test_archive_verify_exit_codes(cli: click.Group, ws: Workspace) -> None:
    code, out = run(cli, "archive", "verify", "-w", str(ws.root))
    assert code == 0 and "OK" in out
    pdf = ws.archive_dir / "2026" / "FF_2026_002" / "FF_2026_002.pdf"
    pdf.write_bytes(pdf.read_bytes() + b"x")
    code, out = run(cli, "archive", "verify", "-w", str(ws.root))
    assert code == 1
    assert f"[altered] {pdf}" in out and "expected: sha256" in out
    code, out = run(cli, "archive", "verify", "--json", "-w", str(ws.root))
    assert code == 1
    report = json.loads(out)
    assert report["valid"] is False
    assert [p["kind"] for p in report["problems"]] == ["altered"]
