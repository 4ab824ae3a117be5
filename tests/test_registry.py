"""The SQLite registry: numbering, versions, statuses, events, exports (real SQLite files)."""

from __future__ import annotations

import csv
import io
import itertools
import json
import sqlite3
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from registry_driver import new_convention

import pipeline.records.registry as registry_api
from pipeline.core.errors import ConfigError, RegistryError, StateError
from pipeline.records.registry import (
    GENESIS,
    MIGRATIONS,
    NewConvention,
    Registry,
    export_csv,
    export_json,
    verify_chain,
)
from pipeline.records.registry.db import applied_migrations, migrate


def fixed_clock() -> datetime:
    return datetime(2026, 5, 4, 10, 30, tzinfo=UTC)


def conv(ref: str, content: str = "a", **changes: object) -> NewConvention:
    return replace(new_convention({"reference": ref, "content": content}), **changes)  # type: ignore[arg-type]


@pytest.fixture
def reg(tmp_path: Path) -> Iterator[Registry]:
    with Registry.open(tmp_path / "registry.sqlite", clock=fixed_clock) as r:
        yield r


def test_public_surface_is_pinned() -> None:
    assert set(registry_api.__all__) >= {
        "Registry", "NewConvention", "Claim", "ConventionRow", "DocumentRow", "EventRow",
        "EVENT_SIGNED", "verify_chain", "export_csv", "export_json",
    }
    for name in registry_api.__all__:
        assert hasattr(registry_api, name), name


def test_open_sets_wal_foreign_keys_and_records_migrations(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "registry.sqlite"
    with Registry.open(path) as r:
        conn = r.connection
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 30000
        assert applied_migrations(conn) == [m[0] for m in MIGRATIONS]
        assert migrate(conn) == []  # re-running is harmless
    with Registry.open(path) as r:  # and so is reopening
        assert applied_migrations(r.connection) == [m[0] for m in MIGRATIONS]


@pytest.mark.usefixtures("english")
def test_open_refuses_missing_or_corrupt_registry(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="No registry"):
        Registry.open(tmp_path / "none.sqlite", create=False)
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"this is not a database at all, just text" * 100)
    with pytest.raises(RegistryError, match="unusable"):
        Registry.open(bad)


def test_numbers_follow_type_format_and_year(reg: Registry) -> None:
    assert reg.claim(conv("A")).convention_id == "FF_2026_001"
    assert reg.claim(conv("B")).convention_id == "FF_2026_002"
    assert reg.claim(conv("C", year=2027)).convention_id == "FF_2027_001"
    custom = conv("D", type_id="jardin", number_format="JP{year}{seq:04d}")
    assert reg.claim(custom).convention_id == "JP20260001"
    # A second type with the default format shares its sequence: never the same number.
    other = reg.claim(conv("E", type_id="voirie"))
    assert (other.action, other.convention_id) == ("new", "FF_2026_003")


@pytest.mark.parametrize("fmt", ["FIFTYFIFTY_{year}_{seq:05d}", "ff-{year}-{seq}", "{year}",
                                 "FF_{annee}_{seq}"])
def test_unusable_number_format_is_a_config_error(reg: Registry, fmt: str) -> None:
    with pytest.raises(ConfigError):
        reg.claim(conv("A", number_format=fmt))
    assert reg.list() == []


def test_claim_outcomes_follow_the_contract(reg: Registry) -> None:
    first = reg.claim(conv("A", "v1"))
    assert (first.action, first.version, first.status) == ("new", 1, "pending")
    assert reg.claim(conv("A", "v1")).action == "resume"
    changed = reg.claim(conv("A", "v2"))  # pending and changed: a new version
    assert (changed.action, changed.version) == ("new_version", 2)
    reg.set_status(first.convention_id, "generated", actor="t")
    assert reg.claim(conv("A", "v2")).action == "unchanged"
    third = reg.claim(conv("A", "v3", title="Nouveau titre"))
    assert (third.action, third.convention_id, third.version) == ("new_version",
                                                                  "FF_2026_001", 3)
    row = reg.get("FF_2026_001")
    assert row is not None and row.title == "Nouveau titre" and row.status == "pending"
    reg.set_status(row.id, "generated", actor="t")
    reg.set_status(row.id, "signing", actor="t")
    refused = reg.claim(conv("A", "v4"))
    assert refused.action == "refused" and "amendment" in refused.message
    assert reg.claim(conv("A", "v3", title="Nouveau titre")).action == "unchanged"
    reg.set_status(row.id, "cancelled", actor="t")
    assert reg.claim(conv("A", "v5")).action == "refused"
    assert [c.id for c in reg.list()] == ["FF_2026_001"]


ALLOWED = {("pending", "generated"), ("pending", "pending"), ("generated", "signing"),
           ("signing", "signed"), ("generated", "cancelled"), ("signing", "cancelled"),
           ("pending", "cancelled")}
PATHS = {"pending": [], "generated": ["generated"], "signing": ["generated", "signing"],
         "signed": ["generated", "signing", "signed"], "cancelled": ["generated", "cancelled"]}


@pytest.mark.parametrize("start", list(PATHS))
@pytest.mark.parametrize("target", list(PATHS))
def test_only_allowed_transitions(reg: Registry, start: str, target: str) -> None:
    cid = reg.claim(conv("A")).convention_id
    for step in PATHS[start]:
        reg.set_status(cid, step, actor="t")  # type: ignore[arg-type]
    before = len(reg.events(cid))
    if (start, target) in ALLOWED:
        assert reg.set_status(cid, target, actor="t").status == target  # type: ignore[arg-type]
        last = reg.events(cid)[-1]
        assert (last.action, last.details["from"], last.details["to"]) == ("status", start,
                                                                          target)
    else:
        with pytest.raises(StateError):
            reg.set_status(cid, target, actor="t")  # type: ignore[arg-type]
        assert len(reg.events(cid)) == before  # nothing recorded
        row = reg.get(cid)
        assert row is not None and row.status == start


def test_values_round_trip(reg: Registry) -> None:
    new = conv("A", holders=[{"name": "Léa Dupré", "kind": "citizen"}])
    cid = reg.claim(new).convention_id
    row = reg.get(cid)
    assert row is not None
    assert (row.commune_amount, row.inkind_value) == (new.commune_amount, new.inkind_value)
    assert (row.start, row.end, row.commitment_end) == (new.start, new.end, new.commitment_end)
    assert row.holders == new.holders and row.signatories == new.signatories
    assert row.created_at == fixed_clock().isoformat()
    assert reg.get("FF_2099_999") is None


def test_documents_and_signatures(reg: Registry) -> None:
    cid = reg.claim(conv("A")).convention_id
    reg.add_document(cid, "pdf", 1, f"archive/2026/{cid}/a.pdf", "1" * 64, 10)
    reg.add_document(cid, "signed", 1, f"archive/2026/{cid}/s1.pdf", "2" * 64, 20)
    reg.add_document(cid, "signed", 1, f"archive/2026/{cid}/s2.pdf", "3" * 64, 30)
    latest = reg.latest_document(cid, ["signed", "pdf"])
    assert latest is not None and latest.relpath.endswith("s2.pdf")
    assert reg.latest_document(cid, ["scan"]) is None
    with pytest.raises(Exception, match="never replaced"):
        reg.add_document(cid, "pdf", 1, f"archive/2026/{cid}/a.pdf", "4" * 64, 1)
    reg.record_event(cid, "signed", "signing", {"signatory": "holder-1"})
    assert set(reg.signatures(cid)) == {"holder-1"}
    with pytest.raises(StateError):
        reg.record_event("FF_2026_404", "signed", "x", {})


def test_event_chain_links_and_resists_tampering(reg: Registry) -> None:
    for ref in "ABC":
        reg.claim(conv(ref))
    events = reg.events()
    assert events[0].prev_hash == GENESIS
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(events))
    assert verify_chain(reg.connection).breaks == ()
    conn = reg.connection
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("UPDATE events SET actor = 'x' WHERE seq = 2")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("DELETE FROM events WHERE seq = 2")
    conn.execute("DROP TRIGGER events_no_update")
    conn.execute("DROP TRIGGER events_no_delete")
    conn.execute("UPDATE events SET details = replace(details, 'B', 'Z') WHERE seq = 2")
    breaks = verify_chain(conn).breaks
    assert [(b.seq, b.reason) for b in breaks] == [(2, "altered")]


def test_deleted_event_is_detected(reg: Registry) -> None:
    for ref in "ABCD":
        reg.claim(conv(ref))
    conn = reg.connection
    conn.execute("DROP TRIGGER events_no_delete")
    conn.execute("DELETE FROM events WHERE seq = 2")
    reasons = {(b.seq, b.reason) for b in verify_chain(conn).breaks}
    assert reasons == {(3, "link"), (3, "gap")}


def test_exports_are_excel_safe(reg: Registry) -> None:
    reg.claim(conv("A", title="=HYPERLINK(\"http://x\")", holders=[{"name": "@Zoé"}]))
    reg.claim(conv("B"))
    text = export_csv(reg.list())
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:]), delimiter=";"))
    assert rows[0][0] == "Numéro" and len(rows) == 3
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first["Intitulé"].startswith("'=") and first["Porteurs"] == "'@Zoé"
    assert first["Montant commune (€)"] == "1500,00"
    data = json.loads(export_json(reg.list(), {"FF_2026_001": []}))
    assert [c["id"] for c in data["conventions"]] == ["FF_2026_001", "FF_2026_002"]
    assert data["conventions"][0]["commune_amount"] == "1500.00"


def test_list_filters(reg: Registry) -> None:
    reg.claim(conv("A"))
    reg.claim(conv("B", year=2027))
    reg.claim(conv("C", type_id="jardin"))
    reg.set_status("FF_2026_001", "generated", actor="t")
    assert [r.id for r in reg.list(status="generated")] == ["FF_2026_001"]
    assert [r.id for r in reg.list(year=2027)] == ["FF_2027_001"]
    assert [r.id for r in reg.list(type_id="jardin", year=2026)] == ["FF_2026_002"]


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("ABCD"), st.sampled_from("xyz"),
                          st.sampled_from(["claim", "generate", "sign"])), max_size=25))
def test_any_sequence_keeps_one_convention_per_reference(
        ops: list[tuple[str, str, str]]) -> None:
    with tempfile.TemporaryDirectory() as tmp, Registry.open(Path(tmp) / "r.sqlite") as r:
        for ref, content, op in ops:
            claim = r.claim(conv(ref, content))
            row = r.get(claim.convention_id)
            assert row is not None and row.reference == ref
            if op == "generate" and row.status == "pending":
                r.set_status(row.id, "generated", actor="t")
            elif op == "sign" and row.status == "generated":
                r.set_status(row.id, "signing", actor="t")
        rows = r.list()
        assert len({x.reference for x in rows}) == len(rows)
        assert [x.seq for x in rows] == list(range(1, len(rows) + 1))
        assert verify_chain(r.connection).breaks == ()


def test_migration_2_keeps_a_version_1_registry_and_widens_its_checks(tmp_path: Path) -> None:
    import sqlite3

    from pipeline.records.registry.db import _m1_initial

    path = tmp_path / "registry.sqlite"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    _m1_initial(conn)
    conn.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY,"
                 " name TEXT NOT NULL, applied_at TEXT NOT NULL)")
    conn.execute("INSERT INTO schema_migrations VALUES (1, 'v1', '2026-01-01')")
    conn.execute(
        "INSERT INTO conventions VALUES ('FF_2026_001', 'fifty-fifty', 2026, 1, 'FF', 'R1',"
        " 'f', 'T', '[]', '1', '0', '2026-01-01', '2026-02-01', NULL, '[]', 'signed', 1,"
        " 'x', 'x')")
    conn.execute("INSERT INTO documents (convention_id, kind, version, relpath, sha256, size,"
                 " created_at) VALUES ('FF_2026_001', 'pdf', 1, 'a/b.pdf', 'h', 1, 'x')")
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("UPDATE conventions SET status = 'works_done'")
    conn.close()
    with Registry.open(path) as r:
        c = r.connection
        assert applied_migrations(c) == [m[0] for m in MIGRATIONS]
        assert c.execute("SELECT status FROM conventions").fetchone()[0] == "signed"
        assert c.execute("SELECT relpath FROM documents").fetchone()[0] == "a/b.pdf"
        c.execute("UPDATE conventions SET status = 'works_done'")
        with pytest.raises(sqlite3.IntegrityError):
            c.execute("UPDATE conventions SET status = 'nonsense'")
        with pytest.raises(sqlite3.IntegrityError):  # foreign keys still enforced
            c.execute("INSERT INTO documents (convention_id, kind, version, relpath, sha256,"
                      " size, created_at) VALUES ('NOPE', 'evidence', 1, 'c', 'h', 1, 'x')")
        assert c.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert {row[1] for row in c.execute("PRAGMA index_list(conventions)")} >= {
            "conventions_status"}


def test_the_sqlite_registry_is_a_registry_store(tmp_path: Path) -> None:
    from pipeline.records.registry import RegistryStore, open_store

    with open_store(tmp_path / "r.sqlite") as store:
        assert isinstance(store, RegistryStore)
        assert store.integrity_check() == "ok" and store.verify_chain().breaks == ()
    with open_store(f"sqlite://{tmp_path / 'r.sqlite'}", create=False) as store:
        assert store.list() == []
    with pytest.raises(ConfigError, match="postgresql"):
        open_store("postgresql://db/conventions")


def test_no_stage_outside_the_registry_package_touches_sql() -> None:
    from paths import PROJECT_ROOT

    offenders = [
        str(path.relative_to(PROJECT_ROOT))
        for path in (PROJECT_ROOT / "pipeline").rglob("*.py")
        if "registry" not in path.relative_to(PROJECT_ROOT / "pipeline").parts[:2]
        and any(word in path.read_text(encoding="utf-8")
                for word in ("import sqlite3", ".connection.execute", "PRAGMA "))
    ]
    assert offenders == []


def test_opening_an_up_to_date_registry_never_waits_for_a_writer(tmp_path: Path) -> None:
    """Reading (every page of the server opens the registry) goes on while another
    process holds the write lock: opening takes it only to migrate an old schema."""
    path = tmp_path / "registry.sqlite"
    Registry.open(path).close()
    writer = sqlite3.connect(str(path), isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    try:
        with Registry.open(path, timeout=0.5, create=False) as reg:
            assert reg.list() == []
    finally:
        writer.execute("ROLLBACK")
        writer.close()


def test_a_registry_held_open_keeps_its_wal_between_openings(tmp_path: Path) -> None:
    path = tmp_path / "registry.sqlite"
    wal = tmp_path / "registry.sqlite-wal"
    with Registry.open(path) as reg:
        reg.record_event(None, "check", "test")
    assert not wal.exists()  # the last connection closed: checkpointed, WAL removed
    held = registry_api.hold_open(path)
    try:
        with Registry.open(path) as reg:
            reg.record_event(None, "check", "test")
        assert wal.exists()  # kept for the next opening
        with Registry.open(path) as reg:  # and every commit is there for the next one
            assert [e.action for e in reg.events()] == ["check", "check"]
            assert not reg.verify_chain().breaks
    finally:
        held.close()
    assert not wal.exists()
