"""Bench part ``web``: ``fiftyfifty serve`` under 50 signers at once, and a clerk's upload.

In a fresh workspace (``work/ws``), ``fiftyfifty run`` generates one convention per
simulated signer (``BENCH_WEB_SIGNERS``, default 50) from the bundled ``rural-paths.json``,
each with its own reference and its holder's own e-mail address. The settings point at
an SMTP server on loopback (aiosmtpd, in this process) and the signing CA is made with
the project's code; every holder is invited with the project's
:func:`~pipeline.signatures.online.invite.invite` (the real e-mail, read from the inbox).
The real server, ``fiftyfifty serve``, runs in a subprocess.

1. **Signers**: one thread per signer, each from its own loopback address (127.0.0.2,
   127.0.0.3, …, as many inhabitants at home would be; the server limits requests per
   address), all started together. Each goes once through the whole flow, as the page
   asks, pausing between steps as a person reads and types (a random pause up to
   ``BENCH_WEB_THINK`` seconds, default 5, fixed seed; 0 sends every request at once,
   a stress test rather than people): opens its link (and the redirect to the
   convention's page), loads every page image and the PDF, asks for the code, reads
   it in its mail, types it, then signs (consent, typed name): the cryptographic
   signature is included (B-B, one-time certificate of the workspace's signing CA,
   evidence file archived). Then the loop ends. Every request's time is kept (a
   redirect followed counts in the request that caused it); p95 < 300 ms and no error are the goal.
2. **Clerk's upload**: an account is made with ``fiftyfifty users add``; the clerk logs
   in to ``/agents/``, uploads a 300-row CSV (``bench/generate.py``, fixed seed) and
   gets the validation report page: timed from the upload's first byte to the report
   page's last byte (goal < 3 s).
"""

from __future__ import annotations

import functools
import http.client
import json
import os
import random
import re
import resource
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

try:
    from common import Part, Target
    from generate import write_csv
except ImportError:  # imported as bench.web
    from bench.common import Part, Target
    from bench.generate import write_csv

from pipeline.core.settings import load_settings
from pipeline.core.workspace import Workspace
from pipeline.signatures.online.invite import InviteRequest, invite
from pipeline.signatures.signing_ca import init_signing_ca

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
EXAMPLE = ROOT / "conventions" / "examples" / "rural-paths.json"
TODAY = "2026-11-25"
CA_ENV = "FIFTYFIFTY_CA_PASSPHRASE"
CLERK, CLERK_PASSWORD_ENV = "bench-clerk", "FF_BENCH_CLERK_PASSWORD"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')

_SERVE = """
import atexit, json, resource, signal, sys
from pipeline.cli import main
def dump():
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(sys.argv[1], "w") as fh:
        json.dump({"cpu_s": me.ru_utime + me.ru_stime,
                   "workers_cpu_s": kids.ru_utime + kids.ru_stime}, fh)
def stop(*_):
    sys.exit(0)
atexit.register(dump)
signal.signal(signal.SIGTERM, stop)
main.main(args=sys.argv[2:], prog_name="fiftyfifty")
"""


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "")
    return int(raw) if raw.strip() else default


@dataclass
class Inbox:
    """Every message the loopback SMTP server received, by recipient."""

    bodies: dict[str, list[str]] = field(default_factory=dict)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg: Any = message_from_bytes(envelope.content, policy=policy.default)
        body = str(msg.get_body(("plain",)).get_content())
        with self.arrived:
            for rcpt in envelope.rcpt_tos:
                self.bodies.setdefault(rcpt.lower(), []).append(body)
            self.arrived.notify_all()
        return "250 OK"

    def wait_for(self, address: str, pattern: str, after: int = 0) -> tuple[str, int]:
        """The first match of ``pattern`` in a message to ``address`` beyond the first
        ``after`` ones, and how many messages there are then (waits without polling, so
        that 50 waiting signers cost the bench's process nothing)."""
        deadline = time.monotonic() + 60
        with self.arrived:
            while True:
                mails = self.bodies.get(address.lower(), [])
                for body in mails[after:]:
                    found = re.search(pattern, body)
                    if found:
                        return found.group(1), len(mails)
                left = deadline - time.monotonic()
                if left <= 0:
                    raise RuntimeError(f"no message matching {pattern!r} for {address}")
                self.arrived.wait(left)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Browser:
    """A minimal browser: its own loopback address, cookies, redirects followed; every
    request timed."""

    def __init__(self, base: str, source_ip: str) -> None:
        class FromAddress(urllib.request.HTTPHandler):
            def http_open(self, req: Any) -> Any:
                return self.do_open(functools.partial(
                    http.client.HTTPConnection, source_address=(source_ip, 0)), req)

        self.base = base
        self.opener = urllib.request.build_opener(
            FromAddress(), urllib.request.HTTPCookieProcessor(CookieJar()))
        self.times: list[tuple[str, float]] = []
        self.errors: list[str] = []

    def fetch(self, label: str, url: str, form: dict[str, str] | None = None,
              body: bytes | None = None, headers: dict[str, str] | None = None) -> str:
        data = urllib.parse.urlencode(form).encode() if form is not None else body
        req = urllib.request.Request(  # noqa: S310 - the loopback server only
            url if url.startswith("http") else self.base + url, data=data,
            headers=headers or {})
        start = time.perf_counter()
        try:
            with self.opener.open(req, timeout=60) as resp:
                content: bytes = resp.read()
        except Exception as exc:
            self.errors.append(f"{label}: {type(exc).__name__} {exc}")
            self.times.append((label, time.perf_counter() - start))
            return ""
        self.times.append((label, time.perf_counter() - start))
        return content.decode("utf-8", "replace") if b"<html" in content[:200].lower() \
            or content[:15].lower().startswith(b"<!doctype") else ""


def write_records(path: Path, n: int) -> list[str]:
    """N copies of the bundled convention, each with its reference and holder address."""
    base = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    records, emails = [], []
    for i in range(n):
        record = json.loads(json.dumps(base))
        record["reference"] = f"{base['reference']}-WEB-{i + 1:03d}"
        email = f"signataire{i + 1:03d}@example.org"
        record["holders"][0]["email"] = email
        records.append(record)
        emails.append(email)
    path.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    return emails


def cli(args: list[str], env: dict[str, str] | None = None) -> str:
    proc = subprocess.run([sys.executable, "-c", "from pipeline.cli import main; main()",
                           *args], capture_output=True, text=True, cwd=ROOT, check=False,
                          env={**os.environ, "FIFTYFIFTY_TODAY": TODAY, **(env or {})})
    if proc.returncode != 0:
        raise RuntimeError(f"fiftyfifty {args[0]} failed: {proc.stderr[-2000:]}")
    return proc.stdout


def prepare(work: Path, n: int, smtp_port: int, port: int) -> tuple[Workspace, list[str]]:
    """The workspace, its settings and signing CA, N generated conventions."""
    ws = Workspace(work / "ws")
    emails = write_records(work / "records.json", n)
    out = json.loads(cli(["run", str(work / "records.json"), "--workspace", str(ws.root),
                          "--json"]))
    if out["accepted"] != n:
        raise RuntimeError("fiftyfifty run did not accept every record")
    (ws.root / "settings.yaml").write_text(
        f"base_url: http://127.0.0.1:{port}\n"
        f"smtp:\n  host: 127.0.0.1\n  port: {smtp_port}\n"
        "  sender: \"Mairie de Loos-en-Gohelle <conventions@example.org>\"\n"
        "signing:\n  location: Loos-en-Gohelle\n  level: B-B\n", encoding="utf-8")
    init_signing_ca(ws, "Loos-en-Gohelle", os.environ[CA_ENV].encode())
    ids = [c["id"] for c in out["conventions"]]
    settings = load_settings(ws)
    for cid in ids:
        invite(ws, settings, InviteRequest(cid, "holder-1"))
    return ws, emails


def signer(base: str, n: int, email: str, inbox: Inbox, go: threading.Event,
           think: float) -> Browser:
    """One inhabitant, through the whole flow once, pausing between steps (reading,
    typing) for a random time up to ``think`` seconds (fixed seed; 0: no pause)."""
    me = Browser(base, f"127.0.0.{n + 2}")
    rng = random.Random(n)  # noqa: S311 - pauses of a simulation, not a secret

    def pause() -> None:
        if think > 0:
            time.sleep(rng.uniform(think / 6, think))

    link, seen = inbox.wait_for(email, r"(http://\S+/signer/[A-Za-z0-9_-]+)")
    go.wait()
    pause()
    page = me.fetch("open link", link)
    for src in dict.fromkeys(re.findall(r'src="(/signature/page-[^"]+\.png)"', page)):
        me.fetch("page image", src)
    pdf = re.search(r'href="(/signature/convention-[^"]+\.pdf)"', page)
    if pdf:
        me.fetch("download PDF", pdf.group(1))
    token = _CSRF.search(page)
    if token is None:
        me.errors.append("no form on the convention's page")
        return me
    pause()
    page = me.fetch("ask for the code", "/signature/code", {"csrf_token": token.group(1)})
    code, seen = inbox.wait_for(email, r"\b(\d{6})\b", after=seen)
    pause()
    page = me.fetch("check the code", "/signature/code/check",
                    {"csrf_token": token.group(1), "code": code})
    if 'id="sign-form"' not in page:
        me.errors.append("the code was not accepted")
        return me
    typed = re.search(r'id="signer-name"[^>]*>([^<]+)<', page)
    pause()
    done = me.fetch("sign", "/signature/sign", {
        "csrf_token": token.group(1), "consent": "yes", "drawing": "",
        "typed_name": typed.group(1).strip() if typed else "Bernard Lemaire"})
    if 'id="signed-ok"' not in done:
        me.errors.append("no confirmation after signing")
    return me


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def signers_round(base: str, emails: list[str], inbox: Inbox, think: float
                  ) -> dict[str, Any]:
    go = threading.Event()
    browsers: list[Browser | None] = [None] * len(emails)

    def run(i: int) -> None:
        browsers[i] = signer(base, i, emails[i], inbox, go, think)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(emails))]
    for thread in threads:
        thread.start()
    time.sleep(0.5)
    start = time.perf_counter()
    go.set()
    for thread in threads:
        thread.join(timeout=600)
    wall = time.perf_counter() - start
    times = [(label, t) for b in browsers if b for label, t in b.times]
    errors = [e for b in browsers if b for e in b.errors]
    by_label: dict[str, list[float]] = {}
    for label, t in times:
        by_label.setdefault(label, []).append(t)
    return {
        "signers": len(emails), "think_s": think, "requests": len(times), "errors": len(errors),
        "first_errors": errors[:5], "wall_s": round(wall, 2),
        "p50_ms": round(1000 * percentile([t for _, t in times], 0.5), 1),
        "p95_ms": round(1000 * percentile([t for _, t in times], 0.95), 1),
        "max_ms": round(1000 * max(t for _, t in times), 1),
        "p95_by_page_ms": {k: round(1000 * percentile(v, 0.95), 1) for k, v in by_label.items()},
    }


def multipart(field_name: str, filename: str, data: bytes, fields: dict[str, str]
              ) -> tuple[bytes, str]:
    boundary = "----bench" + secrets.token_hex(12)
    parts = [f"--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
             .encode() for k, v in fields.items()]
    parts.append(f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field_name}\"; "
                 f"filename=\"{filename}\"\r\nContent-Type: text/csv\r\n\r\n".encode()
                 + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def clerk_upload(base: str, work: Path, rows: int) -> dict[str, Any]:
    """Log in, upload ROWS rows, get the report page; seconds for the upload + report."""
    csv_path = write_csv(work / "upload.csv", rows)
    clerk = Browser(base, "127.0.0.1")
    page = clerk.fetch("login page", "/agents/login")
    token = _CSRF.search(page)
    assert token, "no login form"
    clerk.fetch("log in", "/agents/login", {"csrf_token": token.group(1), "login": CLERK,
                                            "password": os.environ[CLERK_PASSWORD_ENV],
                                            "next": "/agents/imports"})
    page = clerk.fetch("imports page", "/agents/imports")
    token = _CSRF.search(page)
    assert token, "not logged in"
    body, ctype = multipart("file", "projets.csv", csv_path.read_bytes(),
                            {"csrf_token": token.group(1)})
    start = time.perf_counter()
    report = clerk.fetch("upload", "/agents/imports", body=body,
                         headers={"Content-Type": ctype})
    seconds = time.perf_counter() - start
    counted = re.search(r'id="count-records">(\d+)<', report)
    accepted = re.search(r'id="count-accepted">(\d+)<', report)
    if clerk.errors or counted is None or int(counted.group(1)) != rows or accepted is None:
        raise RuntimeError(f"the upload's report does not show {rows} records validated: "
                           f"{clerk.errors[:3]}")
    return {"rows": rows, "seconds": round(seconds, 3), "bytes": len(body),
            "accepted": int(accepted.group(1))}


def start_server(ws: Workspace, port: int, cpu_file: Path) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        [sys.executable, "-c", _SERVE, str(cpu_file), "serve", "--port", str(port),
         "--workspace", str(ws.root)], cwd=ROOT, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, env={**os.environ, "FIFTYFIFTY_TODAY": TODAY})
    for _ in range(300):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server
        except OSError:
            time.sleep(0.05)
    server.kill()
    raise RuntimeError("fiftyfifty serve did not start")


def measure(work: Path) -> Part:
    n, rows = env_int("BENCH_WEB_SIGNERS", 50), env_int("BENCH_WEB_ROWS", 300)
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    os.environ.setdefault(CA_ENV, secrets.token_urlsafe(18))
    os.environ.setdefault(CLERK_PASSWORD_ENV, secrets.token_urlsafe(18))
    inbox, smtp_port, port = Inbox(), free_port(), free_port()
    smtp = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    try:
        ws, emails = prepare(work, n, smtp_port, port)
        cli(["users", "add", CLERK, "--name", "Agent du banc d'essai", "--password-env",
             CLERK_PASSWORD_ENV, "--workspace", str(ws.root)])
        cpu_file = work / "server-cpu.json"
        server = start_server(ws, port, cpu_file)
        try:
            load = os.getloadavg()
            before = resource.getrusage(resource.RUSAGE_SELF)
            base = f"http://127.0.0.1:{port}"
            think = float(os.environ.get("BENCH_WEB_THINK", "5"))
            figures: dict[str, Any] = {"signers": signers_round(base, emails, inbox, think)}
            after = resource.getrusage(resource.RUSAGE_SELF)
            figures["client_cpu_s"] = round(after.ru_utime + after.ru_stime
                                            - before.ru_utime - before.ru_stime, 2)
            figures["upload"] = clerk_upload(base, work, rows)
        finally:
            server.terminate()
            server.wait(timeout=30)
        if cpu_file.is_file():
            cpu = json.loads(cpu_file.read_text())
            figures["server_cpu_s"] = cpu["cpu_s"]
            figures["workers_cpu_s"] = cpu.get("workers_cpu_s", 0.0)
    finally:
        smtp.stop()
    figures["load_before"] = [round(x, 2) for x in load]
    figures["load_after"] = [round(x, 2) for x in os.getloadavg()]
    return report(figures)


def report(figures: dict[str, Any]) -> Part:
    sig, up = figures["signers"], figures["upload"]
    load = "load {:.2f} {:.2f} {:.2f}".format(*figures["load_before"])
    targets = [
        Target(f"{sig['signers']} signers at once: p95 page time", sig["p95_ms"], 300.0, "ms",
               note=f"{sig['requests']} requests, signature included, pauses up to "
               f"{sig['think_s']:g} s between steps; {load}"),
        Target(f"{sig['signers']} signers at once: errors", sig["errors"], 0.0, "errors"),
        Target(f"clerk uploads {up['rows']} rows, report page shown", up["seconds"], 3.0, "s",
               note=f"{up['accepted']} accepted by the validation"),
    ]
    lines = [f"  web: {sig['signers']} signers in {sig['wall_s']:.1f} s, p50 {sig['p50_ms']:.0f}"
             f" ms, max {sig['max_ms']:.0f} ms; server CPU "
             f"{figures.get('server_cpu_s', float('nan')):.1f} s + its signing processes "
             f"{figures.get('workers_cpu_s', float('nan')):.1f} s, "
             f"simulated signers' CPU {figures['client_cpu_s']:.1f} s; {load}"]
    lines += [f"    p95 {label:18s} {ms:7.0f} ms" for label, ms in sig["p95_by_page_ms"].items()]
    lines += [f"    error: {e}" for e in sig["first_errors"]]
    return Part(figures=figures, targets=targets, lines=lines)


if __name__ == "__main__":
    measure(HERE / "work" / "web").show()
