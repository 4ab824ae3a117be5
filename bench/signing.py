"""Bench part ``signing``: ``sign-batch`` through a SoftHSM token, and ``verify``.

In one fresh workspace (``work/ws``), ``fiftyfifty run`` generates N conventions
(``BENCH_SIGN_N``, default 100) from the bundled ``rural-paths.json`` convention, each
with its own reference. A throw-away PKI is made with the project's own code
(:func:`~pipeline.signatures.demo_pki.create_demo_pki`) and served on 127.0.0.1 by
``fiftyfifty demo-pki-serve`` (timestamp authority, OCSP responder, CRLs); its root is
added with ``trust add``. The commune's key and certificate are loaded into a SoftHSM2
token (``softhsm2-util``, ``pkcs11-tool``; the key file is deleted once on the token).

The holder signs every convention first (``sign-batch --signatory holder-1`` with its
PKCS#12, at B-B: set-up, reported but not a target); the workspace is then copied, and
the commune signs all N with the token:

1. ``sign-batch`` at B-B (goal >= 10 conventions/s);
2. ``sign-batch`` at B-LT, with a timestamp and the OCSP answers embedded, against the
   local servers (goal >= 4 conventions/s);
3. ``verify`` of the N fully signed B-LT conventions (goal >= 20 conventions/s).

Each command runs in a subprocess, timed from outside (wall) and measured from inside
(its own CPU, user + system, read with ``getrusage`` when it ends); the local PKI
server's CPU is read from ``/proc`` separately.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

try:
    from common import Part, Target
    from tools import CLI_WRAPPER
except ImportError:  # imported as bench.signing
    from bench.common import Part, Target
    from bench.tools import CLI_WRAPPER

from pipeline.signatures.demo_pki import create_demo_pki

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
EXAMPLE = ROOT / "conventions" / "examples" / "rural-paths.json"
MODULE = Path("/usr/lib/softhsm/libsofthsm2.so")
TOKEN, PIN = "Mairie", "4821"  # a throw-away token made for the bench
TODAY = "2026-11-25"

_SERVE = """
import sys
from pipeline.cli import main
main.main(args=["demo-pki-serve", sys.argv[1]], prog_name="fiftyfifty")
"""


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "")
    return int(raw) if raw.strip() else default


def cli(work: Path, args: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    """``fiftyfifty ARGS`` in a subprocess: wall seconds, its CPU seconds, its stdout;
    stops the bench when it fails."""
    cpu_file = work / "cpu.json"
    full_env = {**os.environ, "FIFTYFIFTY_TODAY": TODAY, **(env or {})}
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", CLI_WRAPPER, str(cpu_file), *args],
                          capture_output=True, env=full_env, cwd=ROOT, check=False)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"fiftyfifty {' '.join(args[:2])} failed ({proc.returncode}):\n"
                           + proc.stderr.decode("utf-8", "replace")[-3000:]
                           + proc.stdout.decode("utf-8", "replace")[-2000:])
    cpu = json.loads(cpu_file.read_text())["cpu_s"]
    return {"wall_s": wall, "cpu_s": cpu, "stdout": proc.stdout.decode("utf-8", "replace")}


def write_records(path: Path, n: int) -> Path:
    """N copies of the bundled convention, each with its own reference."""
    base = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    records = []
    for i in range(n):
        record = json.loads(json.dumps(base))
        record["reference"] = f"{base['reference']}-{i + 1:04d}"
        records.append(record)
    path.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    return path


def proc_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by a running process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def make_token(folder: Path, p12: Path, passphrase: bytes) -> dict[str, str]:
    """A SoftHSM2 token holding the commune's key and certificate (from its PKCS#12);
    the environment that points SoftHSM at it."""
    (folder / "tokens").mkdir(parents=True)
    conf = folder / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {folder / 'tokens'}\nobjectstore.backend = file\n"
                    "log.level = ERROR\n")
    env = {**os.environ, "SOFTHSM2_CONF": str(conf)}
    subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", TOKEN, "--pin", PIN,
                    "--so-pin", "97531"], check=True, capture_output=True, env=env)
    key, cert, chain = pkcs12.load_key_and_certificates(p12.read_bytes(), passphrase)
    assert key is not None and cert is not None
    objects = [
        ("key.der", key.private_bytes(serialization.Encoding.DER,
                                      serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()), "privkey", "maire", "01"),
        ("cert.der", cert.public_bytes(serialization.Encoding.DER), "cert", "maire", "01"),
    ]
    objects += [(f"ca{i}.der", c.public_bytes(serialization.Encoding.DER), "cert", f"ca{i}",
                 f"1{i}") for i, c in enumerate(chain)]
    for name, data, kind, label, ident in objects:
        path = folder / name
        path.write_bytes(data)
        try:
            subprocess.run(["pkcs11-tool", "--module", str(MODULE), "--token-label", TOKEN,
                            "--login", "--pin", PIN, "--write-object", str(path), "--type",
                            kind, "--label", label, "--id", ident],
                           check=True, capture_output=True, env=env)
        finally:
            if kind == "privkey":
                path.unlink()  # the key lives on the token only
    return {"SOFTHSM2_CONF": str(conf), "FF_BENCH_PIN": PIN}


def wait_for(url: str) -> None:
    for _ in range(200):
        try:
            urllib.request.urlopen(url, timeout=1)  # noqa: S310 - loopback only
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"the local PKI server did not answer at {url}")


def signatory_names(work: Path, ws: Path) -> list[tuple[str, str]]:
    listed = json.loads(cli(work, ["registry", "list", "--workspace", str(ws), "--json"])
                        ["stdout"])
    first = listed["conventions"][0]["id"]
    shown = json.loads(cli(work, ["registry", "show", first, "--workspace", str(ws), "--json"])
                       ["stdout"])
    return [(s["key"], s["name"]) for s in shown["signatories"]]


def signed_count(stdout: str) -> int:
    return int(json.loads(stdout)["count"])


def verify_all(work: Path, ws: Path, ids: list[str]) -> dict[str, Any]:
    """``verify`` of every convention of ``ids``, in one call when the CLI takes several
    IDs; every verdict must be OK."""
    try:
        got = cli(work, ["verify", *ids, "--workspace", str(ws), "--json"])
        payload = json.loads(got["stdout"])
        results = payload["results"] if "results" in payload else [payload]
    except RuntimeError:  # a CLI that verifies one convention per call
        each = [cli(work, ["verify", cid, "--workspace", str(ws), "--json"]) for cid in ids]
        got = {"wall_s": sum(g["wall_s"] for g in each), "cpu_s": sum(g["cpu_s"] for g in each)}
        results = [json.loads(g["stdout"]) for g in each]
    bad = [r["convention"] for r in results if not r["ok"]]
    if bad or len(results) != len(ids):
        raise RuntimeError(f"verify refused {bad} ({len(results)} of {len(ids)} checked)")
    return got


def rate(n: int, got: dict[str, Any]) -> dict[str, float]:
    return {"n": n, "wall_s": round(got["wall_s"], 3), "cpu_s": round(got["cpu_s"], 3),
            "per_s": round(n / got["wall_s"], 2),
            "cpu_per_doc_ms": round(1000 * got["cpu_s"] / n, 1)}


def prepare(work: Path, n: int) -> tuple[Path, dict[str, Any]]:
    """The workspace with N generated conventions."""
    ws = work / "ws"
    records = write_records(work / "records.json", n)
    got = cli(work, ["run", str(records), "--workspace", str(ws), "--json"])
    if json.loads(got["stdout"])["accepted"] != n:
        raise RuntimeError("fiftyfifty run did not accept every record")
    return ws, {"run_wall_s": round(got["wall_s"], 2)}


def measure(work: Path) -> Part:
    n = env_int("BENCH_SIGN_N", 100)
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    load = os.getloadavg()
    ws, figures = prepare(work, n)
    roles = signatory_names(work, ws)
    pki = create_demo_pki(work / "pki", roles)
    cli(work, ["trust", "add", str(pki.ca_cert), "--workspace", str(ws)])
    token_env = make_token(work / "softhsm", pki.pkcs12_for("commune"), pki.passphrase)
    server = subprocess.Popen([sys.executable, "-c", _SERVE, str(pki.directory)], cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(pki.base_url + "/crl/root.crl")
        figures.update(sign_all(work, ws, roles, pki, token_env, n, server.pid))
    finally:
        server.terminate()
        server.wait(timeout=30)
    figures["load_before"] = [round(x, 2) for x in load]
    figures["load_after"] = [round(x, 2) for x in os.getloadavg()]
    return report(figures, n)


def sign_all(work: Path, ws: Path, roles: list[tuple[str, str]], pki: Any,
             token_env: dict[str, str], n: int, server_pid: int) -> dict[str, Any]:
    """Holders first (PKCS#12, B-B), then the commune's token at B-B and at B-LT in two
    copies of the workspace; then ``verify`` of the B-LT set."""
    figures: dict[str, Any] = {}
    pass_env = {"FF_BENCH_PASS": pki.passphrase.decode()}
    for key, _name in roles:
        if key == "commune":
            continue
        got = cli(work, ["sign-batch", "--signatory", key, "--pkcs12", str(pki.pkcs12_for(key)),
                         "--passphrase-env", "FF_BENCH_PASS", "--level", "B-B",
                         "--workspace", str(ws), "--json"], pass_env)
        figures[f"holders_{key}_pkcs12_bb"] = rate(signed_count(got["stdout"]), got)
    ws_lt = work / "ws-lt"
    shutil.copytree(ws, ws_lt, symlinks=True)
    token = ["--signatory", "commune", "--pkcs11-module", str(MODULE), "--token-label", TOKEN,
             "--key-label", "maire", "--pin-env", "FF_BENCH_PIN", "--json"]
    for label, folder, extra in (
        ("commune_token_bb", ws, ["--level", "B-B"]),
        ("commune_token_blt", ws_lt, ["--level", "B-LT", "--timestamp-url",
                                      pki.base_url + "/tsa"]),
    ):
        server_before = proc_cpu(server_pid)
        got = cli(work, ["sign-batch", *token, *extra, "--workspace", str(folder)], token_env)
        count = signed_count(got["stdout"])
        if count != n:
            raise RuntimeError(f"{label}: {count} of {n} conventions signed")
        figures[label] = {**rate(n, got),
                          "pki_server_cpu_s": round(proc_cpu(server_pid) - server_before, 3)}
    listed = json.loads(cli(work, ["registry", "list", "--workspace", str(ws_lt), "--json"])
                        ["stdout"])
    ids = [c["id"] for c in listed["conventions"] if c["status"] == "signed"]
    if len(ids) != n:
        raise RuntimeError(f"{len(ids)} of {n} conventions fully signed")
    sample = ids[:5]
    one_each = [cli(work, ["verify", cid, "--workspace", str(ws_lt)]) for cid in sample]
    figures["verify_blt_one_call_each"] = rate(len(sample), {
        "wall_s": sum(g["wall_s"] for g in one_each), "cpu_s": sum(g["cpu_s"] for g in one_each)})
    server_before = proc_cpu(server_pid)
    figures["verify_blt"] = {**rate(n, verify_all(work, ws_lt, ids)),
                             "pki_server_cpu_s": round(proc_cpu(server_pid) - server_before, 3)}
    return figures


def report(figures: dict[str, Any], n: int) -> Part:
    bb, blt, ver = figures["commune_token_bb"], figures["commune_token_blt"], figures["verify_blt"]
    load = "load {:.2f} {:.2f} {:.2f}".format(*figures["load_before"])
    targets = [
        Target(f"sign-batch of {n} conventions, SoftHSM token, B-B", bb["per_s"], 10.0,
               "conv/s", True, f"CPU {bb['cpu_per_doc_ms']:.0f} ms/conv, i.e. "
               f"{n / bb['cpu_s']:.1f}/s of CPU time; {load}"),
        Target(f"sign-batch of {n} conventions, SoftHSM token, B-LT (local OCSP)",
               blt["per_s"], 4.0, "conv/s", True,
               f"CPU {blt['cpu_per_doc_ms']:.0f} ms/conv + PKI server "
               f"{1000 * blt['pki_server_cpu_s'] / n:.0f} ms/conv"),
        Target(f"verify of {n} fully signed conventions (B-LT), one command", ver["per_s"],
               20.0, "conv/s", True, f"CPU {ver['cpu_per_doc_ms']:.0f} ms/conv over all "
               "workers; one command per convention: "
               f"{figures['verify_blt_one_call_each']['per_s']:.1f}/s"),
    ]
    lines = [f"  signing: {n} conventions generated by `run` in {figures['run_wall_s']:.1f} s; "
             f"{load} before, {'{:.2f} {:.2f} {:.2f}'.format(*figures['load_after'])} after"]
    for key, value in figures.items():
        if isinstance(value, dict):
            lines.append(f"    {key:28s} {value['wall_s']:7.2f} s wall  {value['cpu_s']:7.2f} s "
                         f"CPU  {value['per_s']:6.2f} conv/s")
    return Part(figures=figures, targets=targets, lines=lines)


if __name__ == "__main__":
    measure(HERE / "work" / "signing").show()
