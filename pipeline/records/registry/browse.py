"""Reading the registry as a clerk does: search, filters, sorting, pages, and figures.

Pure reads over the registry's tables, for the back-office list and dashboard (and any
command that wants the same): :func:`search` returns one :class:`Page` of conventions,
:func:`dashboard` the counts by status, the signatures still awaited and the upkeep
commitments ending soon.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Literal

from pipeline.core.clock import today as clock_today
from pipeline.records.registry import STATUSES, ConventionRow, Registry

__all__ = ["SORTS", "Dashboard", "Page", "Query", "Waiting", "dashboard", "search"]

SORTS: dict[str, str] = {
    "number": "year {d}, seq {d}, id {d}",
    "title": "title COLLATE NOCASE {d}, id",
    "status": "status {d}, id",
    "updated": "updated_at {d}, id",
    "amount": "CAST(commune_amount AS REAL) {d}, id",
}
"""Sort keys a caller may ask for, and their SQL (``{d}`` is ASC or DESC)."""

Upkeep = Literal["", "due", "overdue"]
CLOSED = ("terminated", "cancelled")


@dataclass(frozen=True)
class Query:
    """What a clerk asks the list for; every field is optional."""

    text: str = ""
    """Searched in the number, reference, title and holders' names, ignoring case and
    accents."""
    status: str = ""
    year: int | None = None
    upkeep: Upkeep = ""
    """``due``: upkeep commitment ending within 90 days; ``overdue``: already ended."""
    sort: str = "number"
    descending: bool = True
    page: int = 1
    per_page: int = 25
    today: date = field(default_factory=clock_today)


@dataclass(frozen=True)
class Page:
    """One page of results."""

    rows: list[ConventionRow]
    total: int
    page: int
    pages: int


def fold(text: object) -> str:
    """Text without case or accents (``Hélène Dœuf`` → ``helene doeuf``), for searching."""
    value = str(text or "").replace("œ", "oe").replace("Œ", "OE").replace("æ", "ae")
    value = unicodedata.normalize("NFKD", value.replace("Æ", "AE"))
    return "".join(c for c in value if not unicodedata.combining(c)).casefold()


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _where(q: Query) -> tuple[str, list[object]]:
    clauses: list[str] = []
    args: list[object] = []
    text = fold(" ".join(q.text.split())[:100])
    if text:
        like = f"%{_escape_like(text)}%"
        clauses.append("(ff_fold(id) LIKE ? ESCAPE '\\' OR ff_fold(reference) LIKE ? ESCAPE"
                       " '\\' OR ff_fold(title) LIKE ? ESCAPE '\\'"
                       " OR ff_fold(holders) LIKE ? ESCAPE '\\')")
        args += [like] * 4
    if q.status in STATUSES:
        clauses.append("status = ?")
        args.append(q.status)
    if q.year is not None:
        clauses.append("year = ?")
        args.append(q.year)
    if q.upkeep:
        clauses.append("commitment_end IS NOT NULL AND status NOT IN ('terminated','cancelled')")
        if q.upkeep == "due":
            clauses.append("commitment_end BETWEEN ? AND ?")
            args += [q.today.isoformat(), (q.today + timedelta(days=90)).isoformat()]
        else:
            clauses.append("commitment_end < ?")
            args.append(q.today.isoformat())
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", args


def search(reg: Registry, q: Query) -> Page:
    """One page of the conventions matching ``q``, sorted as asked (by number otherwise)."""
    where, args = _where(q)
    conn = reg.connection
    conn.create_function("ff_fold", 1, fold, deterministic=True)
    (total,) = conn.execute(f"SELECT COUNT(*) FROM conventions{where}", args).fetchone()  # noqa: S608
    per = max(1, min(q.per_page, 200))
    pages = max(1, -(-int(total) // per))
    page = max(1, min(q.page, pages))
    order = SORTS.get(q.sort, SORTS["number"]).format(d="DESC" if q.descending else "ASC")
    sql = f"SELECT id FROM conventions{where} ORDER BY {order} LIMIT ? OFFSET ?"  # noqa: S608
    ids = [str(r[0]) for r in conn.execute(sql, [*args, per, (page - 1) * per])]
    rows = [row for row in map(reg.get, ids) if row is not None]
    return Page(rows, int(total), page, pages)


def years(reg: Registry) -> list[int]:
    """The years that have conventions, newest first."""
    return [int(r[0]) for r in reg.connection.execute(
        "SELECT DISTINCT year FROM conventions ORDER BY year DESC")]


@dataclass(frozen=True)
class Waiting:
    """A convention some signatories have not signed yet."""

    convention: ConventionRow
    missing: list[str]
    """Names (or keys) of who still has to sign."""


@dataclass(frozen=True)
class Dashboard:
    """The figures of the back-office's home page."""

    by_status: dict[str, int]
    waiting: list[Waiting]
    upkeep_due: list[ConventionRow]


def dashboard(reg: Registry, today: date | None = None, limit: int = 20) -> Dashboard:
    """Counts by status, signatures awaited, upkeep commitments ending within 90 days."""
    day = today or clock_today()
    counts: dict[str, int] = dict.fromkeys(STATUSES, 0)
    for status, n in reg.connection.execute(
            "SELECT status, COUNT(*) FROM conventions GROUP BY status"):
        counts[str(status)] = int(n)
    waiting: list[Waiting] = []
    for row in reg.list(status="generated") + reg.list(status="signing"):
        done = reg.signatures(row.id)
        missing = [str(s.get("name") or s.get("key")) for s in row.signatories
                   if s.get("key") not in done]
        if missing:
            waiting.append(Waiting(row, missing))
    due = search(reg, Query(upkeep="due", sort="number", descending=False, per_page=limit,
                            today=day)).rows
    return Dashboard(counts, waiting[:limit], due)
