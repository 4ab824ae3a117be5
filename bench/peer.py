"""Bench part ``peer``: the same records the usual Python way, side by side with ours.

The usual route: render each document with docxtpl, then convert it with unoserver (from
PyPI, run by Debian's ``python3`` with ``python3-uno``), one document at a time as its
README shows: start ``unoserver`` once, then ``unoconvert in.docx out.pdf`` per document,
with the export options the pipeline uses (PDF/A-2b, bookmarks as named destinations:
``--output-filter writer_pdf_Export --filter-option SelectPdfVersion=2 --filter-option
ExportBookmarksToPDFDestination=true``). Against it, ``fiftyfifty run`` on the same records
(the bundled examples varied), in the same run; the speed-up is the peer's time over ours
(goal at least 4), for each N of ``BENCH_PEER_N`` (default ``20,100``: a small batch, where
our start-up weighs most, and N=100 as in the ``conversion`` part). The server's start is
timed apart and left out of the peer's time (a server is started once and kept), which
favours the peer.

unoserver is installed into ``bench/work/unoserver-venv`` (``/usr/bin/python3 -m venv
--system-site-packages``, so that it sees ``uno``) from PyPI, version :data:`UNOSERVER`.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import xmlrpc.client
from datetime import date
from pathlib import Path
from typing import Any

from common import Part, Target
from tools import HERE, TODAY, check_pdfs, env_sizes, example_records, run_cli

UNOSERVER = "unoserver>=3.0,<4"
VENV = HERE / "work" / "unoserver-venv"
SYSTEM_PYTHON = "/usr/bin/python3"
SPEED_UP_GOAL = 4.0
FILTER_OPTIONS = ["--output-filter", "writer_pdf_Export",
                  "--filter-option", "SelectPdfVersion=2",
                  "--filter-option", "ExportBookmarksToPDFDestination=true"]


def unoserver_venv() -> Path:
    """The venv's ``bin`` folder, made (and unoserver installed) when missing."""
    bin_dir = VENV / "bin"
    if (bin_dir / "unoconvert").exists():
        return bin_dir
    check = subprocess.run([SYSTEM_PYTHON, "-c", "import uno"], capture_output=True,
                           check=False)
    if check.returncode != 0:
        raise RuntimeError(f"{SYSTEM_PYTHON} cannot import uno: install the Debian package "
                           "python3-uno (`make bench` does, as root)")
    subprocess.run([SYSTEM_PYTHON, "-m", "venv", "--system-site-packages", str(VENV)],
                   check=True)
    subprocess.run([str(bin_dir / "python"), "-m", "pip", "install", "-q", UNOSERVER],
                   check=True)
    return bin_dir


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start_server(bin_dir: Path, work: Path) -> tuple[subprocess.Popen[bytes], int, float]:
    """``unoserver`` on free ports with its own profile; (process, port, seconds until it
    answers)."""
    port, uno_port = _free_port(), _free_port()
    log = (work / "unoserver.log").open("wb")
    start = time.perf_counter()
    proc = subprocess.Popen(
        [str(bin_dir / "unoserver"), "--interface", "127.0.0.1", "--port", str(port),
         "--uno-port", str(uno_port), "--user-installation", str(work / "uno-profile")],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    server = xmlrpc.client.ServerProxy(f"http://127.0.0.1:{port}")
    while True:
        try:
            server.info()
            return proc, port, time.perf_counter() - start
        except (OSError, xmlrpc.client.Error):
            if proc.poll() is not None or time.perf_counter() - start > 180:
                stop_server(proc)
                raise RuntimeError("unoserver did not start: see "
                                   f"{work / 'unoserver.log'}") from None
            time.sleep(0.2)


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    """Stop unoserver and the LibreOffice it started (its own process group)."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def peer_way(records: Path, bin_dir: Path, port: int, out: Path) -> dict[str, Any]:
    """Validate, render with docxtpl and convert with ``unoconvert``, document by
    document."""
    import docxtpl

    from pipeline.catalogue.loader import Catalogue
    from pipeline.documents.render import build_context, make_environment
    from pipeline.validation.validator import Validator, iter_validated

    out.mkdir(parents=True)
    today = date.fromisoformat(TODAY)
    render_s = 0.0
    start = time.perf_counter()
    catalogue = Catalogue.load(None)
    done = 0
    for v in iter_validated([records], Validator(catalogue)):
        if v.convention is None:
            raise RuntimeError(f"record {v.raw.row} is invalid: {v.issues[:2]}")
        began = time.perf_counter()
        number = f"FF_2026_{done + 1:03d}"
        ctype = catalogue.get(v.convention.convention_type)
        doc = docxtpl.DocxTemplate(str(catalogue.template_path(ctype)))
        doc.render(build_context(v.convention, number=number, fingerprint=v.fingerprint,
                                 today=today), jinja_env=make_environment(), autoescape=True)
        docx = out / f"{number}.docx"
        doc.save(str(docx))
        render_s += time.perf_counter() - began
        subprocess.run([str(bin_dir / "unoconvert"), "--host", "127.0.0.1", "--port",
                        str(port), *FILTER_OPTIONS, str(docx), str(docx.with_suffix(".pdf"))],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        done += 1
    wall = time.perf_counter() - start
    check_pdfs(out, done)
    return {"documents": done, "seconds": wall, "seconds_per_doc": wall / done,
            "render_s": render_s}


def ours(records: Path, n: int, work: Path) -> dict[str, Any]:
    ws = work / "workspace"
    call = run_cli(["run", str(records), "--workspace", str(ws), "--json"], work / "run.json")
    summary = json.loads((work / "run.json").read_text("utf-8"))
    if call.code != 0 or summary["accepted"] != n:
        raise RuntimeError(f"fiftyfifty run accepted {summary['accepted']} of {n} "
                           f"(exit {call.code})")
    check_pdfs(ws / "archive", n)
    return {"seconds": call.wall_s, "seconds_per_doc": call.wall_s / n,
            "cpu_fiftyfifty_s": call.cpu_self_s, "cpu_libreoffice_s": call.cpu_children_s}


def _compare(records: Path, n: int, bin_dir: Path, port: int, work: Path) -> dict[str, Any]:
    """Both ways on the same ``n`` records: the peer's, then ours."""
    for old in ("workspace", "peer"):
        shutil.rmtree(work / old, ignore_errors=True)
    peer = peer_way(records, bin_dir, port, work / "peer")
    mine = ours(records, n, work)
    return {"n": n, "peer": peer, "fiftyfifty_run": mine,
            "speed_up": peer["seconds"] / mine["seconds"]}


def _lines(row: dict[str, Any]) -> list[str]:
    peer, mine, n = row["peer"], row["fiftyfifty_run"], row["n"]
    return [
        f"N={n}: docxtpl + unoserver {peer['seconds']:.1f} s "
        f"({peer['seconds_per_doc']:.2f} s/doc, of which docxtpl {peer['render_s']:.1f} s); "
        f"fiftyfifty run {mine['seconds']:.1f} s ({mine['seconds_per_doc']:.2f} s/doc; "
        f"CPU {mine['cpu_fiftyfifty_s']:.1f} s + LibreOffice {mine['cpu_libreoffice_s']:.1f} s)",
        f"N={n}: speed-up {row['speed_up']:.2f}x; counting the server's start in the "
        f"peer's time {row['speed_up_counting_server_start']:.2f}x",
    ]


def measure(work: Path) -> Part:
    sizes = [max(1, n) for n in env_sizes("BENCH_PEER_N", "20,100")]
    shutil.rmtree(work / "uno-profile", ignore_errors=True)
    bin_dir = unoserver_venv()
    version = subprocess.run([str(bin_dir / "unoserver"), "--version"], capture_output=True,
                             text=True, check=False).stdout.strip().removeprefix("unoserver ")
    proc, port, started = start_server(bin_dir, work)
    rows = []
    try:
        for n in sizes:
            records = example_records(work / f"records-{n}.json", n)
            rows.append(_compare(records, n, bin_dir, port, work))
    finally:
        stop_server(proc)
    lines = [f"the bundled examples varied; unoserver {version}, started once in "
             f"{started:.1f} s (not counted); ours also stamps, archives and registers"]
    targets = []
    for row in rows:
        row["speed_up_counting_server_start"] = (
            (row["peer"]["seconds"] + started) / row["fiftyfifty_run"]["seconds"])
        lines += _lines(row)
        targets.append(Target(f"speed-up over docxtpl + unoserver, {row['n']} records",
                              row["speed_up"], SPEED_UP_GOAL, "x", higher_is_better=True,
                              note="peer's time / fiftyfifty run's"))
    figures = {"sizes": sizes, "unoserver": version, "unoserver_start_s": started,
               "by_size": rows, "peer_filter_options": FILTER_OPTIONS[1:]}
    return Part(figures=figures, targets=targets, lines=lines)


if __name__ == "__main__":
    measure(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "work" / "peer").show()
