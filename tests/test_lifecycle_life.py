"""A convention's whole life with real files: a draft outside the series, the numbered
run, real PAdES signatures, works, checks, the due list, the iCalendar file parsed back,
reminders received by a real SMTP server on loopback, termination, cancellation, no
silent revert; ``archive verify`` stays clean at every step."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import date, datetime
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from click.testing import CliRunner, Result
from dateutil.rrule import rrulestr
from icalendar import Calendar
from paths import PROJECT_ROOT
from pypdf import PdfReader

from pipeline.cli import main
from pipeline.core.workspace import Workspace
from pipeline.records.audit import verify_archive
from pipeline.signatures.credentials import Pkcs12Credential
from pipeline.signatures.local_pki import pem
from pipeline.signatures.pki_server import PkiServer
from pipeline.signatures.trust import add_root
from pipeline.signatures.workflow import SignRequest, sign_convention

pytestmark = pytest.mark.libreoffice

EXAMPLES = PROJECT_ROOT / "conventions" / "examples"
SKATE, PATHS, SOLAR = "FF_2026_001", "FF_2026_002", "FF_2026_003"


def cli(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False, env=env)


def _verify_clean(ws: Path) -> None:
    report = verify_archive(Workspace(ws))
    assert report.valid, [p.to_dict() for p in report.problems]


def _sign_all(ws: Path, cid: str, folder: Path, pki_server: PkiServer) -> None:
    """Every signatory signs (B-B) with a PKCS#12 issued in their name by the local PKI,
    whose root the workspace trusts; the files stay in ``folder`` for later steps."""
    shown = json.loads(cli("registry", "show", cid, "-w", str(ws), "--json").output)
    roles = [(s["key"], s["name"]) for s in shown["signatories"]]
    pki = pki_server.pki
    folder.mkdir(parents=True)
    passphrase = b"life passphrase"
    (folder / "PASSPHRASE.txt").write_text(passphrase.decode())
    root = folder / "root.pem"
    root.write_bytes(pem(pki.root.cert))
    add_root(Workspace(ws), root, actor="test")
    for key, name in roles:
        (folder / f"{key}.p12").write_bytes(
            pki.issue_signer(name).pkcs12(pki.chain, passphrase, key))
        with Pkcs12Credential(folder / f"{key}.p12", passphrase).open() as opened:
            sign_convention(Workspace(ws), SignRequest(cid, key, level="B-B",
                                                       location="Loos-en-Gohelle"), opened)


@pytest.fixture(scope="session")
def base_ws(tmp_path_factory: pytest.TempPathFactory, pki_server: PkiServer) -> Path:
    """Drafts of the skate-park and of a new idea, then the three examples numbered;
    skate-park and rural paths signed by every signatory (real PAdES)."""
    root = tmp_path_factory.mktemp("life")
    ws = root / "ws"
    mp = pytest.MonkeyPatch()
    mp.setenv("FIFTYFIFTY_TODAY", "2026-11-25")
    idea = json.loads((EXAMPLES / "solar-church.json").read_text(encoding="utf-8"))
    idea["reference"] = "FF-2027-NEW-IDEA"
    (root / "idea.json").write_text(json.dumps(idea, ensure_ascii=False), encoding="utf-8")
    try:
        draft = cli("run", str(EXAMPLES / "skatepark.json"), str(root / "idea.json"),
                    "--draft", "-w", str(ws), "--json")
        assert draft.exit_code == 0, draft.output
        inputs = [str(EXAMPLES / n) for n in ("skatepark.json", "rural-paths.json",
                                              "solar-church.json")]
        run = cli("run", *inputs, "-w", str(ws), "--json")
        assert run.exit_code == 0, run.output
        ids = [c["id"] for c in json.loads(run.output)["conventions"]]
        assert ids == [SKATE, PATHS, SOLAR]
        _sign_all(ws, SKATE, root / "pki-skate", pki_server)
        _sign_all(ws, PATHS, root / "pki-paths", pki_server)
    finally:
        mp.undo()
    return ws


@pytest.fixture
def ws(base_ws: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    copy = tmp_path / "ws"
    shutil.copytree(base_ws, copy)
    monkeypatch.setenv("FIFTYFIFTY_WORKSPACE", str(copy))
    monkeypatch.setenv("FIFTYFIFTY_USER", "Marie Clerc")
    monkeypatch.setenv("FIFTYFIFTY_LANG", "en")
    return copy


# ------------------------------------------------------------------ drafts

def test_the_draft_took_no_number_and_cannot_be_signed(ws: Path) -> None:
    folder = ws / "drafts" / "PROJET-FF-2026-SKATEPARK"
    pdf = PdfReader(folder / "PROJET-FF-2026-SKATEPARK.pdf")
    assert not pdf.get_fields()  # no signature field at all
    text = "".join(page.extract_text() for page in pdf.pages)
    assert "PROJET" in text and "FF_2026_001" not in text
    # The normal run took the first number of the series and replaced the draft.
    listed = json.loads(cli("registry", "list", "--status", "draft", "--json").output)
    assert "PROJET-FF-2026-SKATEPARK" not in [d["id"] for d in listed["conventions"]]
    assert not list((ws / "archive").rglob("PROJET*"))
    _verify_clean(ws)


def test_a_draft_is_listed_and_refused_for_signature(ws: Path, tmp_path: Path) -> None:
    listed = json.loads(cli("registry", "list", "--status", "draft", "--json").output)
    assert [d["id"] for d in listed["conventions"]] == ["PROJET-FF-2027-NEW-IDEA"]
    assert listed["conventions"][0]["numbered_as"] is None
    assert json.loads(cli("registry", "list", "--json").output)["conventions"][-1]["id"] == SOLAR
    refused = cli("sign", "PROJET-FF-2027-NEW-IDEA", "--signatory", "commune", "--pkcs12",
                  str(tmp_path / "none.p12"), "--passphrase-env", "NONE")
    assert refused.exit_code != 0
    _verify_clean(ws)


# ------------------------------------------------------------------ no silent revert

def test_an_older_intake_is_not_taken_back_silently(ws: Path, tmp_path: Path) -> None:
    original = EXAMPLES / "solar-church.json"
    data = json.loads(original.read_text(encoding="utf-8"))
    data["title"] = data["title"] + " (corrigé)"
    corrected = tmp_path / "solar-corrected.json"
    corrected.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    v2 = json.loads(cli("run", str(corrected), "--json").output)["conventions"][0]
    assert (v2["id"], v2["version"], v2["action"]) == (SOLAR, 2, "new_version")
    back = cli("run", str(original))
    assert back.exit_code == 0
    assert "Identical to version 1" in back.output and "current version is 2" in back.output
    shown = json.loads(cli("registry", "show", SOLAR, "--json").output)["convention"]
    assert shown["version"] == 2 and shown["title"].endswith("(corrigé)")
    again = json.loads(cli("run", str(original), "--as-new-version", "--json").output)
    assert again["conventions"][0]["version"] == 3
    _verify_clean(ws)


# ------------------------------------------------------------------ statuses

def test_cancel_before_signature_then_nothing_more(ws: Path) -> None:
    done = cli("cancel", SOLAR, "--reason", "projet retiré", "--json")
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["status"] == "cancelled"
    assert cli("cancel", SKATE, "--reason", "x").exit_code == 1  # signed: terminate instead
    refused = cli("works", "start", SOLAR)
    assert refused.exit_code == 1 and "cannot move to “works under way”" in refused.output
    _verify_clean(ws)


def test_works_then_termination_with_the_repayment(ws: Path) -> None:
    assert cli("works", "done", PATHS, "--on", "2027-06-30").exit_code == 1  # not started
    assert cli("works", "start", PATHS, "--on", "2027-03-01").exit_code == 0
    early = cli("works", "done", PATHS, "--on", "2027-02-01")
    assert early.exit_code == 1 and "before they started" in early.output
    report = ws.parent / "constat.pdf"
    fake = ws.parent / "constat-faux.pdf"
    fake.write_bytes(b"#!/bin/sh\necho not a pdf\n")
    refused = cli("works", "done", PATHS, "--on", "2027-06-30", "--report", str(fake))
    assert refused.exit_code == 2 and "not a PDF file" in refused.output
    report.write_bytes(b"%PDF-1.4\n% constat contradictoire\n")
    done = cli("works", "done", PATHS, "--on", "2027-06-30", "--report", str(report))
    assert done.exit_code == 0, done.output
    out = cli("terminate", PATHS, "--reason", "association dissoute", "--on", "2029-06-30",
              "--json")
    assert out.exit_code == 0, out.output
    rep = json.loads(out.output)["repayment"]
    assert rep["applies"] and rep["paid"] == "5500.00"  # the grant part
    assert float(rep["amount"]) == pytest.approx(5500 * rep["remaining_days"]
                                                 / rep["total_days"], abs=0.01)
    shown = json.loads(cli("registry", "show", PATHS, "--json").output)
    kinds = [s["text"] for s in shown["timeline"]]
    assert any(t.startswith("works started") for t in kinds)
    assert any(t.startswith("terminated: association dissoute; repayment") for t in kinds)
    assert any(d["kind"] == "works_report" for d in shown["documents"])
    author = next(e for e in shown["events"] if e["details"].get("to") == "terminated")
    assert (author["actor"], author["details"]["on"]) == ("Marie Clerc", "2029-06-30")
    assert cli("works", "start", PATHS).exit_code == 1  # the end is the end
    _verify_clean(ws)


# ------------------------------------------------------------------ upkeep

def _occurrences(event: Any, until: date) -> list[date]:
    rule = event.get("rrule")
    start = event.decoded("dtstart")
    if rule is None:
        return [start]
    parsed = rrulestr(rule.to_ical().decode(), dtstart=datetime.combine(start, datetime.min.time()))
    return [d.date() for d in parsed.between(datetime.combine(start, datetime.min.time()),
                                             datetime.combine(until, datetime.min.time()),
                                             inc=True)]


def test_due_list_checks_and_calendar(ws: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert cli("works", "start", SKATE, "--on", "2027-03-03").exit_code == 0
    assert cli("works", "done", SKATE, "--on", "2027-06-28").exit_code == 0
    monkeypatch.setenv("FIFTYFIFTY_TODAY", "2027-07-20")
    due = cli("due", "--within", "90d", "--json")
    assert due.exit_code == 1  # weekly sweeping overdue: nothing recorded yet
    items = json.loads(due.output)["items"]
    sweep = [i for i in items if i["convention"] == SKATE and i["task"] == 1]
    assert [i["overdue"] for i in sweep] == [True, False]
    assert sweep[0]["due"] == "2027-07-13" and sweep[1]["due"] == "2027-07-20"
    assert sweep[1]["occurrences"] == 13
    paths = [i for i in items if i["convention"] == PATHS]
    assert {i["kind"] for i in paths} >= {"review"}
    assert json.loads(cli("registry", "list", "--overdue", "--json").output)["conventions"][0][
        "id"] == SKATE
    assert cli("checks", "record", SKATE, "--task", "1", "--on", "2027-07-19", "--outcome",
               "ok", "--note", "RAS").exit_code == 0
    assert cli("checks", "record", SKATE, "--task", "2", "--on", "2027-07-19", "--outcome",
               "issue", "--note", "fissure sur le quarter").exit_code == 0
    assert cli("checks", "record", SKATE, "--task", "9", "--outcome", "ok").exit_code == 2
    assert cli("checks", "record", SOLAR, "--task", "1", "--outcome", "ok").exit_code == 1
    after = json.loads(cli("due", "--json").output)["items"]
    assert not [i for i in after if i["convention"] == SKATE and i["overdue"]]
    assert json.loads(cli("registry", "list", "--overdue", "--json").output)["conventions"] == []
    assert [c["id"] for c in json.loads(cli("registry", "list", "--holder", "riders",
                                            "--json").output)["conventions"]] == [SKATE]

    ics = ws.parent / "upkeep.ics"
    out = cli("calendar", "-o", str(ics))
    assert out.exit_code == 0, out.output
    cal = Calendar.from_ical(ics.read_bytes())
    events: dict[str, Any] = {str(e["uid"]): e for e in cal.walk("VEVENT")}
    sweep_ev = events[f"{SKATE}-upkeep-1@fiftyfifty"]
    assert sweep_ev["rrule"]["FREQ"] == ["WEEKLY"]
    assert sweep_ev.decoded("dtstart") == date(2027, 6, 29)
    check = events[f"{SKATE}-upkeep-2@fiftyfifty"]
    assert check["rrule"]["FREQ"] == ["MONTHLY"] and check["rrule"]["INTERVAL"] == [6]
    # The recurrences of the file give the very dates of the due list.
    window = _occurrences(sweep_ev, date(2027, 10, 18))
    assert [d for d in window if d >= date(2027, 7, 20)][:1] == [date(2027, 7, 20)]
    assert len([d for d in window if date(2027, 7, 20) <= d <= date(2027, 10, 18)]) == 13
    end = _occurrences(sweep_ev, date(2035, 1, 1))[-1]
    assert end <= date(2030, 6, 30) and (date(2030, 6, 30) - end).days < 7
    payments = [e for uid, e in events.items() if uid.startswith(f"{PATHS}-payment-")]
    assert sorted(e.decoded("dtstart") for e in payments) == [date(2027, 6, 30)]
    shown = json.loads(cli("registry", "show", SKATE, "--json").output)
    texts = [s["text"] for s in shown["timeline"]]
    assert any("upkeep check of task 2" in t and "fissure" in t for t in texts)
    assert sum(t.startswith("signed by ") and "every" not in t for t in texts) == 4
    _verify_clean(ws)


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def smtp_inbox() -> Iterator[tuple[_Inbox, int]]:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def test_reminders_dry_run_then_sent(ws: Path, smtp_inbox: tuple[_Inbox, int],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    inbox, port = smtp_inbox
    monkeypatch.setenv("FIFTYFIFTY_TODAY", "2027-09-20")
    monkeypatch.setenv("FIFTYFIFTY_LANG", "fr")
    dry = cli("remind", "--dry-run", "--within", "30d", "--json")
    assert dry.exit_code == 0, dry.output
    planned = json.loads(dry.output)["reminders"]
    assert {r["to"] for r in planned} == {"riders.loos@example.org", "contact@chemins-loos.fr"} \
        or all(r["to"] for r in planned)
    assert not inbox.messages
    assert cli("remind", "--send").exit_code == 3  # no SMTP settings yet
    (ws / "settings.yaml").write_text(
        f"smtp:\n  host: 127.0.0.1\n  port: {port}\n  sender: Mairie <mairie@example.fr>\n",
        encoding="utf-8")
    sent = cli("remind", "--send", "--within", "30d", "--json")
    assert sent.exit_code == 0, sent.output
    assert len(inbox.messages) == len(planned) >= 2
    skate = [m for m in inbox.messages if SKATE in str(m["Subject"])]
    assert skate and skate[0]["To"] == "riders.loos@example.org"
    payload = skate[0].get_payload(decode=True)
    assert isinstance(payload, bytes)
    body = payload.decode("utf-8")
    assert "Balayage des modules" in body and "Bonjour" in body


# ------------------------------------------------------------------ amendments

def test_amendment_states_each_change_is_signed_in_order_and_becomes_the_terms(
        ws: Path, base_ws: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert cli("amend", SOLAR, str(EXAMPLES / "solar-church.json")).exit_code == 1  # unsigned
    data = json.loads((EXAMPLES / "skatepark.json").read_text(encoding="utf-8"))
    data["schedule"]["end"] = "2027-07-31"
    data["commune_commitments"]["money"][0]["amount"] = "7 500,00"
    data["upkeep"]["tasks"][0]["frequency"] = "chaque semaine d'avril à octobre"
    data["upkeep"]["years"] = 4
    changed = tmp_path / "skate-changed.json"
    changed.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    made = cli("amend", SKATE, str(changed), "--json")
    assert made.exit_code == 0, made.output
    amendment = json.loads(made.output)
    aid = amendment["id"]
    assert aid == f"{SKATE}_A1"
    pdf = PdfReader(ws / amendment["pdf"])
    text = " ".join(" ".join(p.extract_text().split()) for p in pdf.pages)
    for expected in (
        "Avenant n° 1 à la convention n° FF_2026_001",
        "Article 2 de la convention — Engagements de la commune",
        "Apport financier de la commune : « 8 000,00 € » est remplacé par « 8 700,00 € »",
        "Article 4 de la convention — Budget et plan de financement",
        "Article 6 de la convention — Calendrier de réalisation",
        "Fin des travaux : « 30 juin 2027 » est remplacé par « 31 juillet 2027 »",
        "Article 7 de la convention — Durée de la convention et pérennité",
        "« 3 ans » est remplacé par « 4 ans »",
        "chaque semaine d'avril à octobre",
    ):
        assert expected.replace("\u202f", " ") in text.replace("\u202f", " ").replace(
            "\xa0", " "), expected
    keys = [s["key"] for s in amendment["signatories"]]
    assert set(pdf.get_fields() or {}) == {f"sig-{k}" for k in keys}
    again = cli("amend", SKATE, str(changed))
    assert again.exit_code == 1 and "not signed yet" in again.output

    pki = base_ws.parent / "pki-skate"
    monkeypatch.setenv("FF_PASS", (pki / "PASSPHRASE.txt").read_text().strip())

    def sign(key: str) -> Result:
        return cli("amendment", "sign", aid, "--signatory", key, "--pkcs12",
                   str(pki / f"{key}.p12"), "--passphrase-env", "FF_PASS", "--level", "B-B")

    early = sign("commune")
    assert early.exit_code == 1 and "still awaits" in early.output
    for key in keys:
        assert sign(key).exit_code == 0, key
    shown = json.loads(cli("registry", "show", SKATE, "--json").output)
    assert [(a["id"], a["status"]) for a in shown["amendments"]] == [(aid, "signed")]
    terms = shown["terms_in_force"]
    assert (terms["after"], terms["end"], terms["commitment_end"]) == (aid, "2027-07-31",
                                                                      "2031-07-31")
    texts = [s["text"] for s in shown["timeline"]]
    assert texts[-1] == f"amendment {aid} signed: now the terms in force"
    ics = tmp_path / "upkeep.ics"
    assert cli("calendar", "-o", str(ics), "--convention", SKATE).exit_code == 0
    parsed = Calendar.from_ical(ics.read_bytes())
    events: dict[str, Any] = {str(e["uid"]): e for e in parsed.walk("VEVENT")}
    sweep = events[f"{SKATE}-upkeep-1@fiftyfifty"]["rrule"]
    assert sweep["BYMONTH"] == [4, 5, 6, 7, 8, 9, 10]
    assert sweep["UNTIL"][0] == date(2031, 7, 31)
    _verify_clean(ws)
