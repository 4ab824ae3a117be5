"""``ca init``, ``serve`` and ``invite`` refusals, tokens and codes, the drawn signature,
and declining (through the application with Flask's client, with a real SMTP server)."""

from __future__ import annotations

import base64
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from PIL import Image
from web_fixtures import (
    CA_ENV,
    CA_PASSPHRASE,
    HOLDERS,
    Inbox,
    make_web_workspace,
    new_convention,
    smtp,
)

from pipeline.cli import main
from pipeline.core.errors import InputError
from pipeline.core.i18n import set_language
from pipeline.core.workspace import Workspace
from pipeline.signatures.online.drawing import decode_drawing
from pipeline.signatures.online.tokens import code_matches, hash_code, new_code, new_token
from pipeline.signatures.signing_ca import TRUST_FILE
from pipeline.web.server import build, free_port

__all__ = ["smtp"]  # fixture


@pytest.fixture(autouse=True)
def _french(monkeypatch: pytest.MonkeyPatch) -> None:
    set_language(None)
    monkeypatch.setenv(CA_ENV, CA_PASSPHRASE)


def run(*args: str) -> Any:
    return CliRunner().invoke(main, list(args))


def test_ca_init_trusts_its_root_and_never_replaces_it(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    ws = str(tmp_path / "ws")
    monkeypatch.delenv("FF_NO_SUCH_VAR", raising=False)
    refused = run("ca", "init", "--commune", "Loos", "--passphrase-env", "FF_NO_SUCH_VAR",
                  "-w", ws)
    assert refused.exit_code == 2 and "FF_NO_SUCH_VAR" in refused.output
    done = run("ca", "init", "--commune", "Loos-en-Gohelle", "--passphrase-env", CA_ENV,
               "-w", ws, "--json")
    assert done.exit_code == 0, done.output
    assert Path(json.loads(done.stdout)["trust_root"]) == tmp_path / "ws" / "trust" / TRUST_FILE
    key = tmp_path / "ws" / "signing-ca" / "ca-key.pem"
    assert b"ENCRYPTED" in key.read_bytes() and oct(key.stat().st_mode)[-3:] == "600"
    again = run("ca", "init", "--commune", "Loos", "--passphrase-env", CA_ENV, "-w", ws)
    assert again.exit_code == 3 and "never replaced" in again.output


def test_serve_refuses_incomplete_settings_in_french(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    result = run("serve", "-w", str(ws), "--port", str(free_port()))
    assert result.exit_code == 3
    assert "est incomplet : base_url, smtp" in result.output
    (ws / "settings.yaml").write_text(
        "base_url: http://127.0.0.1:1\nsmtp:\n  host: 127.0.0.1\n  sender: m@example.fr\n")
    result = run("serve", "-w", str(ws), "--port", str(free_port()))
    assert result.exit_code == 3 and "Aucun registre" in result.output


def test_invite_refusals(tmp_path: Path, smtp: tuple[Inbox, int]) -> None:
    bare = tmp_path / "bare"
    bare.mkdir()
    no_settings = run("invite", "FF_2026_001", "-w", str(bare))
    assert no_settings.exit_code == 3 and "base_url ou smtp" in no_settings.output
    ws = make_web_workspace(tmp_path / "ws", smtp[1], free_port())
    conv = new_convention(ws, tmp_path, "refusals")
    bad = run("invite", conv, "--expires", "forever", "-w", str(ws.root))
    assert bad.exit_code == 2 and "14d" in bad.output
    both = run("invite", conv, "--resend", "--revoke", "-w", str(ws.root))
    assert both.exit_code == 2
    long = run("invite", conv, "--expires", "400d", "-w", str(ws.root))
    assert long.exit_code == 2 and "90 jours" in long.output
    stranger = run("invite", conv, "--signatory", "holder-9", "-w", str(ws.root))
    assert stranger.exit_code == 1 and "holder-9" in stranger.output


def test_tokens_are_long_random_and_stored_only_as_hashes(tmp_path: Path,
                                                          smtp: tuple[Inbox, int]) -> None:
    token, digest = new_token()
    assert len(token) == 43 and len(base64.urlsafe_b64decode(token + "=")) * 8 >= 128
    assert new_token()[0] != token and digest != token
    code = new_code()
    assert re.fullmatch(r"\d{6}", code)
    stored = hash_code(code)
    assert code not in stored and code_matches(code, stored)
    assert not code_matches(f"{(int(code) + 1) % 10**6:06d}", stored)
    assert not code_matches("12345a", stored) and not code_matches(code, None)

    inbox, port = smtp
    ws = make_web_workspace(tmp_path / "ws", port, free_port())
    conv = new_convention(ws, tmp_path, "hashes")
    assert run("invite", conv, "-w", str(ws.root)).exit_code == 0
    link = inbox.link(HOLDERS[0]["email"])
    sent = link.rsplit("/", 1)[1]
    raw = b"".join(p.read_bytes() for p in ws.root.glob("registry.sqlite*"))
    assert sent.encode() not in raw  # only its hash is kept


def _png(color: tuple[int, int, int, int], size: tuple[int, int] = (60, 30)) -> str:
    img = Image.new("RGBA", size, (0, 0, 0, 0))
    for x in range(10, 50):
        img.putpixel((x, 15), color)
    out = io.BytesIO()
    img.save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


def test_the_drawing_is_checked_and_flattened() -> None:
    assert decode_drawing("") is None
    blank = _png((0, 0, 0, 0))
    assert decode_drawing(blank) is None
    clean = decode_drawing(_png((16, 42, 92, 255)))
    assert clean is not None
    with Image.open(io.BytesIO(clean)) as img:
        assert img.mode == "RGB" and img.width == 40  # cropped to the stroke
    for bad in ("data:image/svg+xml;base64,PHN2Zz4=", "data:image/png;base64,!!!",
                "data:image/png;base64," + base64.b64encode(b"GIF89a....").decode(),
                _png((0, 0, 0, 255), (3000, 20))):
        with pytest.raises(InputError):
            decode_drawing(bad)


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found
    return found.group(1)


def test_decline_with_a_reason_the_clerk_sees(tmp_path: Path, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    ws = make_web_workspace(tmp_path / "ws", port, free_port())
    conv = new_convention(ws, tmp_path, "decline")
    assert run("invite", conv, "--signatory", "holder-2", "-w", str(ws.root)).exit_code == 0
    client = build(ws, config={"TESTING": True}).test_client()
    link = inbox.link(HOLDERS[1]["email"])
    assert client.get("/signer/" + link.rsplit("/", 1)[1]).status_code == 302
    page = client.get("/signature").get_data(as_text=True)
    assert "Léa Martin" in page and "M’envoyer un code" in page
    assert client.post("/signature/code", data={"csrf_token": _csrf(page)}).status_code == 302
    code = inbox.code(HOLDERS[1]["email"])
    page = client.get("/signature").get_data(as_text=True)
    client.post("/signature/code/check", data={"csrf_token": _csrf(page), "code": code})
    page = client.get("/signature").get_data(as_text=True)
    assert "Refuser de signer" in page
    done = client.post("/signature/decline", data={
        "csrf_token": _csrf(page), "reason": "Le montant ne correspond pas à notre accord."})
    assert "Votre refus a été enregistré" in done.get_data(as_text=True)
    shown = json.loads(run("registry", "show", conv, "-w", str(ws.root), "--json").stdout)
    assert shown["convention"]["status"] == "declined"
    reasons = [e["details"].get("reason") for e in shown["events"] if e["action"] == "declined"]
    assert reasons == ["Le montant ne correspond pas à notre accord."]
    evidence = [d for d in shown["documents"] if d["kind"] == "evidence_json"]
    facts = json.loads((ws.root / evidence[0]["path"]).read_text(encoding="utf-8"))
    assert facts["outcome"] == "declined" and facts["steps"][-1]["step"] == "declined"
    audit = run("archive", "verify", "-w", str(ws.root), "--json")
    assert audit.exit_code == 0, audit.stdout
    assert json.loads(audit.stdout)["evidence"][0]["ok"]
    later = run("invite", conv, "--signatory", "holder-1", "-w", str(ws.root))
    assert later.exit_code == 1 and "declined" in later.output


def test_code_requests_are_rate_limited_and_pages_need_the_link(
        tmp_path: Path, smtp: tuple[Inbox, int], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    inbox, port = smtp
    ws = make_web_workspace(tmp_path / "ws", port, free_port())
    conv = new_convention(ws, tmp_path, "limits")
    assert run("invite", conv, "--signatory", "holder-1", "-w", str(ws.root)).exit_code == 0
    app = build(ws, config={"TESTING": True})
    stranger = app.test_client()
    assert stranger.get("/signature").status_code == 404  # same page as a bad link
    assert stranger.get("/signature/page-1-x.png").status_code == 403
    assert stranger.get("/signature/convention-x.pdf").status_code == 403
    client = app.test_client()
    token = inbox.link(HOLDERS[0]["email"]).rsplit("/", 1)[1]
    opened = client.get("/signer/" + token)
    assert opened.status_code == 302 and token not in opened.headers["Location"]
    image = client.get("/signature/page-1-x.png")
    assert image.mimetype == "image/png" and image.get_data()[:4] == b"\x89PNG"
    image.close()
    before = len(inbox.to(HOLDERS[0]["email"]))
    for _ in range(4):
        page = client.get("/signature").get_data(as_text=True)
        client.post("/signature/code", data={"csrf_token": _csrf(page)})
    page = client.get("/signature").get_data(as_text=True)
    assert "Trop de codes ont été demandés" in page
    assert len(inbox.to(HOLDERS[0]["email"])) == before + 3
    ours = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("mail."))
    for secret in (token, HOLDERS[0]["email"], HOLDERS[0]["name"], inbox.code(
            HOLDERS[0]["email"])):
        assert secret not in ours  # no personal data, link or code in our logs


def test_addresses_come_from_the_intake_record(tmp_path: Path) -> None:
    from pipeline.core.settings import load_settings
    from pipeline.records.registry import Registry
    from pipeline.signatures.online.invite import signatory_email

    ws = Workspace(tmp_path / "ws")
    conv = new_convention(ws, tmp_path, "emails")
    record = {"holders": [
        {"email": "asso@example.org", "representative": {
            "email": None, "guardian": {"email": "parent@example.org"}},
         "members": [{"guardian": {"email": "mere@example.org"}}]}],
        "commune": {"email": "mairie@example.org"}}
    settings = load_settings(ws)
    with Registry.open(ws.registry_path) as reg:
        row = reg.get(conv)
    assert row is not None
    assert signatory_email(row, "holder-1", settings, record) == "asso@example.org"
    assert signatory_email(row, "guardian-1", settings, record) == "parent@example.org"
    assert signatory_email(row, "guardian-1-1", settings, record) == "mere@example.org"
    assert signatory_email(row, "commune", settings, record) == "mairie@example.org"
    assert signatory_email(row, "holder-2", settings, {}) == HOLDERS[1]["email"]
    assert signatory_email(row, "holder-x", settings, record) is None
