"""Tampering table: each way to alter an archived file or registry row, caught by
``archive verify`` (and ``verify ID`` for a convention's own files).

tests/test_audit.py already covers one altered byte, a deleted file, an extra file, a
planted symlink, an edited or deleted event, an edited document row or status, a deleted
document row and a damaged manifest; this table adds the remaining ways, each applied to
a copy of one real workspace produced by ``fiftyfifty run``."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from test_faults import RECORDS, cli

pytestmark = pytest.mark.libreoffice

A = "archive/2026/FF_2026_001"
B = "archive/2026/FF_2026_002"


def _sql(ws: Path, *statements: str) -> None:
    con = sqlite3.connect(ws / "registry.sqlite")
    try:
        con.execute("DROP TRIGGER IF EXISTS events_no_update")
        con.execute("DROP TRIGGER IF EXISTS events_no_delete")
        for s in statements:
            con.execute(s)
        con.commit()
    finally:
        con.close()


def _swap_pdfs(ws: Path) -> None:
    a, b = ws / A / "FF_2026_001.pdf", ws / B / "FF_2026_002.pdf"
    da, db = a.read_bytes(), b.read_bytes()
    a.write_bytes(db)
    b.write_bytes(da)


def _truncate(ws: Path) -> None:
    p = ws / A / "FF_2026_001.pdf"
    p.write_bytes(p.read_bytes()[:-1])


def _append(ws: Path) -> None:
    with (ws / A / "FF_2026_001.pdf").open("ab") as f:
        f.write(b"\n% appended\n")


def _rename(ws: Path) -> None:
    (ws / A / "FF_2026_001.docx").rename(ws / A / "FF_2026_001-old.docx")


def _replace_by_folder(ws: Path) -> None:
    p = ws / A / "intake.json"
    p.unlink()
    p.mkdir()


def _remove_folder(ws: Path) -> None:
    shutil.rmtree(ws / B)


def _edit_intake_and_manifest(ws: Path) -> None:
    """Edit intake.json and make its manifest agree: the registry still disagrees."""
    intake = ws / A / "intake.json"
    intake.write_text(intake.read_text(encoding="utf-8").replace("Loos", "Lens"),
                      encoding="utf-8")
    manifest = ws / A / "manifest.json"
    data = json.loads(manifest.read_text(encoding="utf-8"))
    body = intake.read_bytes()
    for entry in data["files"]:
        if entry["name"] == "intake.json":
            entry["sha256"] = hashlib.sha256(body).hexdigest()
            entry["size"] = len(body)
    manifest.write_text(json.dumps(data), encoding="utf-8")


def _rehash_document_row(ws: Path) -> None:
    """Edit a file and its registry row consistently: the history still disagrees."""
    p = ws / A / "FF_2026_001.docx"
    p.write_bytes(p.read_bytes() + b"x")
    digest = hashlib.sha256(p.read_bytes()).hexdigest()
    _sql(ws, f"UPDATE documents SET sha256='{digest}', size={p.stat().st_size} "
             f"WHERE relpath='{A}/FF_2026_001.docx'")


TAMPERING: dict[str, tuple[Callable[[Path], None], set[str]]] = {
    "two PDFs swapped between folders": (_swap_pdfs, {"altered"}),
    "last byte cut off": (_truncate, {"altered"}),
    "bytes appended": (_append, {"altered"}),
    "file renamed": (_rename, {"missing", "unregistered"}),
    "file replaced by a folder": (_replace_by_folder, {"missing", "altered", "unregistered"}),
    "convention folder removed": (_remove_folder, {"missing"}),
    "file and manifest edited together": (_edit_intake_and_manifest, {"altered", "manifest"}),
    "file and document row edited together": (_rehash_document_row,
                                              {"registry_mismatch", "chain_broken", "altered"}),
    "relpath pointed outside the archive": (
        lambda ws: _sql(ws, f"UPDATE documents SET relpath='../../etc/passwd' "
                            f"WHERE relpath='{A}/intake.json'"),
        {"unsafe_path", "registry_mismatch", "missing", "unregistered"}),
    "convention row deleted": (
        lambda ws: _sql(ws, "PRAGMA foreign_keys=OFF",
                        "DELETE FROM documents WHERE convention_id='FF_2026_002'",
                        "DELETE FROM conventions WHERE id='FF_2026_002'"),
        {"registry_mismatch", "unregistered", "chain_broken"}),
    "two events swapped": (
        lambda ws: _sql(ws, "UPDATE events SET seq=-1 WHERE seq=2",
                        "UPDATE events SET seq=2 WHERE seq=3",
                        "UPDATE events SET seq=3 WHERE seq=-1"),
        {"chain_broken"}),
    "forged event appended": (
        lambda ws: _sql(ws, "INSERT INTO events (at, convention_id, action, actor, details,"
                            " prev_hash, hash) SELECT at, convention_id, action, actor,"
                            " details, prev_hash, hash FROM events WHERE seq=2"),
        {"chain_broken"}),
    "convention reference edited": (
        lambda ws: _sql(ws, "UPDATE conventions SET reference='FF-AUTRE' WHERE id='FF_2026_001'"),
        {"registry_mismatch", "chain_broken"}),
    "convention fingerprint edited": (
        lambda ws: _sql(ws, "UPDATE conventions SET fingerprint=hex(randomblob(32)) "
                            "WHERE id='FF_2026_001'"),
        {"registry_mismatch", "chain_broken"}),
    "convention amount edited": (
        lambda ws: _sql(ws, "UPDATE conventions SET commune_amount='99999.00' "
                            "WHERE id='FF_2026_001'"),
        {"registry_mismatch"}),
    "convention title edited": (
        lambda ws: _sql(ws, "UPDATE conventions SET title='Autre projet' WHERE id='FF_2026_001'"),
        {"registry_mismatch"}),
    "convention holders edited": (
        lambda ws: _sql(ws, "UPDATE conventions SET holders='[]' WHERE id='FF_2026_001'"),
        {"registry_mismatch"}),
    "convention end of upkeep edited": (
        lambda ws: _sql(ws, "UPDATE conventions SET commitment_end='2027-01-01' "
                            "WHERE id='FF_2026_001'"),
        {"registry_mismatch"}),
    "expected signatory removed": (
        lambda ws: _sql(ws, "UPDATE conventions SET signatories='[]' WHERE id='FF_2026_001'"),
        {"registry_mismatch"}),
}



@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ws = tmp_path_factory.mktemp("tamper") / "ws"
    res = cli("run", *map(str, RECORDS), "--workspace", str(ws), "--json",
              env={"FIFTYFIFTY_TODAY": "2026-11-25"})
    assert res.returncode == 0, res.stderr
    ok = cli("archive", "verify", "--workspace", str(ws))
    assert ok.returncode == 0, ok.stdout
    return ws


@pytest.mark.parametrize("name", sorted(TAMPERING))
def test_tampering_is_caught(pristine: Path, tmp_path: Path, name: str) -> None:
    ws = tmp_path / "ws"
    shutil.copytree(pristine, ws)
    tamper, expected = TAMPERING[name]
    tamper(ws)
    res = cli("archive", "verify", "--workspace", str(ws), "--json")
    assert res.returncode == 1, (name, res.stdout, res.stderr)
    report = json.loads(res.stdout)
    kinds = {p["kind"] for p in report["problems"]}
    assert kinds & expected, (name, kinds)
    assert all(p["path"] and p["message"] for p in report["problems"])
