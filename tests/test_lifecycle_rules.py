"""The lifecycle rules without LibreOffice: the transitions table (exhaustively), no silent
reverts, the structured upkeep frequency, the pro-rata repayment, and the due list."""

from __future__ import annotations

import hashlib
from collections import deque
from datetime import date
from decimal import Decimal
from itertools import pairwise
from pathlib import Path

import pytest

from pipeline.core.errors import StateError
from pipeline.core.workspace import Workspace
from pipeline.lifecycle.obligations import TaskPlan
from pipeline.lifecycle.statuses import compute_repayment
from pipeline.records.audit import verify_archive
from pipeline.records.registry import STATUSES, TRANSITIONS, NewConvention, Registry
from schemas import Convention
from schemas.recurrence import Recurrence, parse_frequency

EXAMPLES = Path(__file__).resolve().parent.parent / "conventions" / "examples"


def _new(reference: str, content: str) -> NewConvention:
    return NewConvention(
        type_id="fifty-fifty", year=2026, number_format="FF_{year}_{seq:03d}",
        reference=reference, fingerprint=hashlib.sha256(content.encode()).hexdigest(),
        title=f"Projet {content}", holders=[{"kind": "person", "name": "Inès Benali"}],
        commune_amount=Decimal("1500.00"), inkind_value=Decimal("800.50"),
        start=date(2027, 3, 1), end=date(2027, 6, 30), commitment_end=date(2030, 6, 30),
        signatories=[{"key": "holder-1", "name": "Inès"}, {"key": "commune", "name": "Maire"}])


def _path_to(target: str) -> list[str] | None:
    """The shortest list of moves from ``pending`` to ``target`` in the table."""
    seen = {"pending": ["pending"]}
    queue = deque(["pending"])
    while queue:
        here = queue.popleft()
        for nxt in sorted(TRANSITIONS[here]):
            if nxt not in seen:
                seen[nxt] = [*seen[here], nxt]
                queue.append(nxt)
    return seen.get(target)


def test_the_table_covers_every_status_and_only_known_ones() -> None:
    assert set(TRANSITIONS) == set(STATUSES)
    for targets in TRANSITIONS.values():
        assert targets <= set(STATUSES)
    assert TRANSITIONS["terminated"] == TRANSITIONS["cancelled"] == frozenset()
    assert "cancelled" not in TRANSITIONS["signed"]  # after signature: terminate, not cancel


REACHABLE = [s for s in STATUSES if _path_to(s) is not None]


def test_every_status_but_draft_is_reachable_from_pending() -> None:
    assert set(STATUSES) - set(REACHABLE) == {"draft"}


@pytest.mark.parametrize("start", REACHABLE)
def test_every_move_from_every_status(tmp_path: Path, start: str) -> None:
    """For each reachable status, every one of the ten targets: allowed moves succeed and
    are events with their details; any other move is refused and changes nothing."""
    path = _path_to(start)
    assert path is not None
    with Registry.open(tmp_path / "r.sqlite") as reg:
        for n, target in enumerate(STATUSES):
            cid = reg.claim(_new(f"R{n}", "a")).convention_id
            for step in path[1:]:
                reg.set_status(cid, step, actor="test")  # type: ignore[arg-type]
            before = len(reg.events(cid))
            if target in TRANSITIONS[start]:
                row = reg.set_status(cid, target, actor="Marie Clerc",
                                     details={"on": "2027-03-03", "by": "Marie Clerc"})
                assert row.status == target
                ev = reg.events(cid)[-1]
                assert (ev.actor, ev.details["from"], ev.details["to"], ev.details["on"]) == \
                    ("Marie Clerc", start, target, "2027-03-03")
            else:
                with pytest.raises(StateError, match=f"is {start}: it cannot become {target}"):
                    reg.set_status(cid, target, actor="x")
                assert reg.get(cid).status == start  # type: ignore[union-attr]
                assert len(reg.events(cid)) == before


def test_a_whole_life_keeps_the_archive_verifiable(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    with Registry.open(ws.registry_path) as reg:
        cid = reg.claim(_new("R1", "a")).convention_id
        for step in ("generated", "signing", "signed", "works_started", "works_done",
                     "terminated"):
            reg.set_status(cid, step, actor="test")
    report = verify_archive(ws)
    assert report.valid, report.problems


def test_an_older_content_is_not_taken_back_silently(tmp_path: Path) -> None:
    with Registry.open(tmp_path / "r.sqlite") as reg:
        first = reg.claim(_new("R1", "first"))
        second = reg.claim(_new("R1", "corrected"))
        assert (second.action, second.version) == ("new_version", 2)
        back = reg.claim(_new("R1", "first"))
        assert back.action == "older" and not back.must_produce
        assert "version 1" in back.message and "current version is 2" in back.message
        assert reg.get(first.convention_id).version == 2  # type: ignore[union-attr]
        again = reg.claim(_new("R1", "first"), as_new_version=True)
        assert (again.action, again.version) == ("new_version", 3)
        assert reg.claim(_new("R1", "first")).action == "resume"  # current content again


@pytest.mark.parametrize("status", ["signed", "works_started", "works_done", "terminated"])
def test_a_change_after_signature_is_refused(tmp_path: Path, status: str) -> None:
    with Registry.open(tmp_path / "r.sqlite") as reg:
        cid = reg.claim(_new("R1", "a")).convention_id
        path = _path_to(status)
        assert path is not None
        for step in path[1:]:
            reg.set_status(cid, step, actor="t")  # type: ignore[arg-type]
        claim = reg.claim(_new("R1", "b"))
        assert claim.action == "refused" and "amendment" in claim.message


@pytest.mark.parametrize(("text", "unit", "interval", "months"), [
    ("chaque semaine d'avril à octobre", "week", 1, [4, 5, 6, 7, 8, 9, 10]),
    ("une fois par an, en automne", "year", 1, [9, 10, 11]),
    ("deux fois par an", "month", 6, []),
    ("Chaque mois en été", "month", 1, [6, 7, 8]),
    ("tous les 3 ans", "year", 3, []),
    ("tous les quinze jours de novembre à février", "week", 2, [11, 12, 1, 2]),
    ("4 fois par an", "month", 3, []),
    ("trimestriel", "month", 3, []),
])
def test_french_frequencies_are_read(text: str, unit: str, interval: int,
                                     months: list[int]) -> None:
    rec = parse_frequency(text)
    assert rec is not None
    assert (rec.unit, rec.interval, rec.months) == (unit, interval, months)


@pytest.mark.parametrize("text", ["à la demande", "sept fois par an", "quand il pleut"])
def test_unclear_frequencies_give_none(text: str) -> None:
    assert parse_frequency(text) is None


def test_a_given_recurrence_wins_and_is_checked() -> None:
    from pydantic import ValidationError

    from schemas.clauses import UpkeepTask

    task = UpkeepTask(task="t", frequency="chaque semaine", who="w",
                      recurrence=Recurrence(unit="month", interval=2))
    assert task.schedule() == Recurrence(unit="month", interval=2)
    plain = UpkeepTask(task="t", frequency="chaque semaine", who="w")
    assert "recurrence" not in plain.model_dump()  # fingerprints of old records unchanged
    with pytest.raises(ValidationError, match="mois invalide"):
        Recurrence(unit="week", months=[13])


def test_weekly_in_season_occurrences_stay_in_season() -> None:
    rec = parse_frequency("chaque semaine d'avril à octobre")
    plan = TaskPlan("FF_2026_001", 1, "t", "w", "x", rec, date(2027, 7, 1), date(2029, 6, 30))
    days = plan.occurrences(date(2027, 7, 1), date(2028, 12, 31))
    assert days and all(4 <= d.month <= 10 for d in days)
    gaps = {(b - a).days for a, b in pairwise(days)}
    assert 7 in gaps and all(g == 7 or g > 150 for g in gaps)  # weekly, then winter off
    assert plan.rrule_text() == "FREQ=WEEKLY;BYMONTH=4,5,6,7,8,9,10;UNTIL=20290630"


def _example(name: str) -> Convention:
    from pipeline.catalogue.loader import Catalogue
    from pipeline.validation.validator import Validator, iter_validated

    (validated,) = iter_validated([EXAMPLES / name], Validator(Catalogue.load()))
    assert validated.convention is not None
    return validated.convention


def test_pro_rata_repayment() -> None:
    conv = _example("rural-paths.json")
    assert conv.amounts.grants > 0
    start, end = conv.schedule.start, conv.commitment_end
    halfway = start + (end - start) / 2
    rep = compute_repayment(conv, halfway)
    expected_paid = min(conv.amounts.grants, sum((s.amount for s in conv.payment.schedule
                                                  if s.due is None or s.due <= halfway),
                                                 Decimal(0)))
    assert rep.paid == expected_paid
    assert rep.total_days == (end - start).days
    assert rep.amount == (rep.paid * rep.remaining_days / rep.total_days).quantize(
        Decimal("0.01"))
    assert Decimal(0) < rep.amount < rep.paid
    assert compute_repayment(conv, end).amount == Decimal("0.00")
    no_repay = conv.model_copy(update={"termination": conv.termination.model_copy(
        update={"pro_rata_repayment": False})})
    assert compute_repayment(no_repay, halfway).amount == Decimal("0.00")


def test_dates_periods_and_authors_from_the_command_line() -> None:
    import click

    from pipeline.cli.lifecycle_opts import DATE, PERIOD, resolve

    assert DATE.convert("30/06/2027", None, None) == date(2027, 6, 30)
    assert DATE.convert("2027-06-30", None, None) == date(2027, 6, 30)
    assert (PERIOD.convert("90d", None, None), PERIOD.convert("12w", None, None),
            PERIOD.convert("7", None, None)) == (90, 84, 7)
    for bad in ("31/02/2027", "demain"):
        with pytest.raises(click.BadParameter):
            DATE.convert(bad, None, None)
    with pytest.raises(click.BadParameter):
        PERIOD.convert("3 mois", None, None)
    day, author = resolve(date(2027, 1, 2), "Marie\x1b[31m Clerc\n")
    assert (day, author) == (date(2027, 1, 2), "Marie[31m Clerc")


def test_a_draft_label_never_names_a_path() -> None:
    from pipeline.core.errors import ArchiveError
    from pipeline.lifecycle.drafts import draft_label

    assert draft_label("FF-2026-SKATEPARK") == "PROJET-FF-2026-SKATEPARK"
    for bad in ("../etc", "a/b", "", ".hidden"):
        with pytest.raises(ArchiveError):
            draft_label(bad)


def test_changes_are_stated_article_by_article() -> None:
    from pipeline.lifecycle.changes import by_article, compute_changes

    old = _example("rural-paths.json")
    new = old.model_copy(deep=True)
    new.schedule.end = date(2027, 9, 30)
    new.upkeep.years = 6
    changes = compute_changes(old, new)
    labels = [(c.heading, c.label) for c in changes]
    assert ("Article 6 de la convention — Calendrier de réalisation", "Fin des travaux") \
        in labels
    assert any(h.startswith("Article 7 de la convention") and lab == "Fin de l'engagement"
               for h, lab in labels)
    assert compute_changes(old, old) == []
    assert [g["heading"] for g in by_article(changes)] == sorted(
        {c.heading for c in changes}, key=[c.heading for c in changes].index)
