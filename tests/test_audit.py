"""``verify_archive`` detects each kind of damage, with the exact path and what differs."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from registry_driver import new_convention, run_batch

from pipeline.core.errors import RegistryError
from pipeline.core.workspace import Workspace
from pipeline.records.archive import MANIFEST_NAME, archive_folder
from pipeline.records.audit import AuditReport, verify_archive
from pipeline.records.registry import Registry

PDF = "archive/2026/FF_2026_002/FF_2026_002.pdf"


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    """A workspace with three stored conventions, verified clean."""
    workspace = Workspace(tmp_path / "ws")
    with Registry.open(workspace.registry_path) as reg:
        run_batch(workspace, reg, [{"reference": f"R{i}", "content": f"c{i}"}
                                   for i in range(3)])
    assert verify_archive(workspace).valid
    yield workspace


def _kinds(report: AuditReport) -> set[tuple[str, str]]:
    return {(p.kind, p.path) for p in report.problems}


def _sql(ws: Workspace, *statements: str) -> None:
    conn = sqlite3.connect(ws.registry_path)
    try:
        for statement in statements:
            conn.execute(statement)
        conn.commit()
    finally:
        conn.close()


def test_clean_archive_report(ws: Workspace) -> None:
    report = verify_archive(ws)
    assert report.valid and report.problems == ()
    assert (report.conventions, report.files_checked, report.events) == (3, 9, 15)
    data = report.to_dict()
    assert data["valid"] is True and len(data["chain_head"]) == 64


def test_altered_byte_is_reported_with_both_hashes(ws: Workspace) -> None:
    path = ws.root / PDF
    blob = bytearray(path.read_bytes())
    expected = hashlib.sha256(blob).hexdigest()
    blob[3] ^= 0x01
    path.write_bytes(bytes(blob))
    report = verify_archive(ws)
    assert _kinds(report) == {("altered", PDF)}
    (problem,) = report.problems
    assert expected in problem.expected
    assert hashlib.sha256(blob).hexdigest() in problem.found
    assert problem.convention_id == "FF_2026_002"


def test_deleted_file_is_reported(ws: Workspace) -> None:
    (ws.root / PDF).unlink()
    assert _kinds(verify_archive(ws)) == {("missing", PDF)}


def test_extra_file_is_reported(ws: Workspace) -> None:
    extra = ws.archive_dir / "2026" / "FF_2026_001" / "notes.txt"
    extra.write_text("ajout", encoding="utf-8")
    stray = ws.archive_dir / "2025" / "FF_2025_009" / "x.pdf"
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"%PDF")
    assert _kinds(verify_archive(ws)) == {
        ("unregistered", "archive/2026/FF_2026_001/notes.txt"),
        ("unregistered", "archive/2025/FF_2025_009/x.pdf"),
    }


def test_symlink_planted_in_archive_is_reported(ws: Workspace, tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.mkdir()
    (ws.archive_dir / "2026" / "link").symlink_to(target)
    assert _kinds(verify_archive(ws)) == {("unregistered", "archive/2026/link")}


def test_edited_event_breaks_the_chain(ws: Workspace) -> None:
    _sql(ws, "DROP TRIGGER events_no_update",
         "UPDATE events SET actor = 'mallory' WHERE seq = 4")
    report = verify_archive(ws)
    assert ("chain_broken", "registry.sqlite#events/4") in _kinds(report)


def test_deleted_event_breaks_the_chain(ws: Workspace) -> None:
    _sql(ws, "DROP TRIGGER events_no_delete", "DELETE FROM events WHERE seq = 7")
    kinds = _kinds(verify_archive(ws))
    assert ("chain_broken", "registry.sqlite#events/8") in kinds


def test_edited_document_row_is_reported(ws: Workspace) -> None:
    # Someone alters a file AND updates its hash in the documents table: the history
    # still holds the original hash.
    path = ws.root / PDF
    path.write_bytes(b"%PDF forged")
    digest = hashlib.sha256(b"%PDF forged").hexdigest()
    _sql(ws, f"UPDATE documents SET sha256 = '{digest}', size = 11 WHERE relpath = '{PDF}'")
    kinds = _kinds(verify_archive(ws))
    assert ("registry_mismatch", PDF) in kinds
    assert ("manifest", "archive/2026/FF_2026_002/manifest.json") in kinds


def test_edited_status_is_reported(ws: Workspace) -> None:
    _sql(ws, "UPDATE conventions SET status = 'signed' WHERE id = 'FF_2026_003'")
    report = verify_archive(ws)
    (problem,) = report.problems
    assert problem.kind == "registry_mismatch"
    assert (problem.expected, problem.found) == ("generated v1", "signed v1")


def test_deleted_document_row_is_reported(ws: Workspace) -> None:
    _sql(ws, f"DELETE FROM documents WHERE relpath = '{PDF}'")
    kinds = _kinds(verify_archive(ws))
    assert ("registry_mismatch", PDF) in kinds
    assert ("unregistered", PDF) in kinds


def test_manifest_tampering_and_loss(ws: Workspace) -> None:
    manifest = archive_folder(ws, 2026, "FF_2026_001") / MANIFEST_NAME
    data = json.loads(manifest.read_text(encoding="utf-8"))
    data["files"][0]["size"] += 1
    manifest.write_text(json.dumps(data), encoding="utf-8")
    (archive_folder(ws, 2026, "FF_2026_003") / MANIFEST_NAME).unlink()
    report = verify_archive(ws)
    assert {p.kind for p in report.problems} == {"manifest", "missing"}
    assert ("missing", "archive/2026/FF_2026_003/manifest.json") in _kinds(report)


def test_temp_files_are_listed_apart_and_pending_is_incomplete(ws: Workspace) -> None:
    tmp = archive_folder(ws, 2026, "FF_2026_001") / ".FF_2026_001.pdf.00aa11bb22cc.tmp"
    tmp.write_bytes(b"%PDF half")
    report = verify_archive(ws)
    assert report.valid
    assert report.temp_files == ("archive/2026/FF_2026_001/.FF_2026_001.pdf.00aa11bb22cc.tmp",)
    with Registry.open(ws.registry_path) as reg:
        reg.claim(new_convention({"reference": "R9", "content": "new"}))
    kinds = _kinds(verify_archive(ws))
    assert kinds == {("incomplete", "registry.sqlite#conventions/FF_2026_004")}


@pytest.mark.usefixtures("english")
def test_missing_registry_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="No registry"):
        verify_archive(Workspace(tmp_path / "nothing"))
