"""``make bench``: how close ``fiftyfifty run`` comes to LibreOffice's own limit.

On the same N synthetic records (``BENCH_N``, default 300, fixed seed) and in one run:

1. ``fiftyfifty run`` end to end into a fresh workspace, in a subprocess whose own peak
   resident memory is read from ``/proc/self/status`` (``VmHWM``; LibreOffice's processes
   are its children and are not counted);
2. the lower bound: the same DOCX files (rendered once, in-process) converted by
   LibreOffice alone, one multi-file ``soffice --convert-to`` call per core, each with its
   own profile, warmed beforehand; nothing else;
3. the usual way: docxtpl rendering plus one ``soffice --convert-to`` call per document,
   on a sample (``BENCH_USUAL_SAMPLE``, default 20) extrapolated to N when N is larger;

then ``fiftyfifty validate`` on a generated CSV of ``BENCH_VALIDATE_ROWS`` rows (default
100,000) and on a tenth of it, to show memory stays flat. Results are printed and written
to ``bench/results.json``. Public tools only: the standard library and ``soffice``.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

from generate import DEFAULT_SEED, write_csv, write_json

from pipeline.documents.convert import pdf_filter

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = HERE / "work"
RESULTS = HERE / "results.json"
TODAY = "2026-11-25"
PDF_FILTER = pdf_filter(pdfa=True)  # the very options ``fiftyfifty run`` uses
"""The export the pipeline uses (PDF/A-2b), so every variant does the same work."""

# Runs the CLI in-process, then records the process's own peak RSS (KiB on Linux) and the
# CPU seconds it used itself and through its children (LibreOffice).
_WRAPPER = """
import json, resource, sys
from pipeline.cli import main
code = 0
try:
    main.main(args=sys.argv[2:], prog_name="fiftyfifty")
except SystemExit as exc:
    code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
finally:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    # VmHWM, not ru_maxrss: the latter keeps the high-water mark of the process that
    # forked this one (the benchmark itself) across exec.
    with open("/proc/self/status") as status:
        hwm = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    with open(sys.argv[1], "w") as fh:
        json.dump({"rss_kb": hwm, "cpu_self_s": me.ru_utime + me.ru_stime,
                   "cpu_children_s": kids.ru_utime + kids.ru_stime}, fh)
sys.exit(code)
"""


def children_cpu() -> float:
    """CPU seconds used so far by this process's waited-for children."""
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return kids.ru_utime + kids.ru_stime


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "")
    return int(raw) if raw.strip() else default


def log(text: str) -> None:
    print(text, flush=True)


def run_cli(args: list[str], stdout: Path) -> tuple[float, float, int]:
    """``fiftyfifty ARGS`` in a subprocess: (wall seconds, peak RSS in MB, exit code); its
    CPU use is left in :data:`LAST_CPU`."""
    rss_file = WORK / "rss.txt"
    env = {**os.environ, "FIFTYFIFTY_TODAY": TODAY}
    with stdout.open("wb") as out:
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", _WRAPPER, str(rss_file), *args],
                              stdout=out, stderr=subprocess.PIPE, env=env, cwd=ROOT,
                              check=False)
        wall = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        sys.exit(f"fiftyfifty {args[0]} failed ({proc.returncode}):\n"
                 + proc.stderr.decode("utf-8", "replace")[-3000:])
    usage = json.loads(rss_file.read_text())
    LAST_CPU.update(self_s=usage["cpu_self_s"], libreoffice_s=usage["cpu_children_s"])
    return wall, usage["rss_kb"] / 1024, proc.returncode


LAST_CPU: dict[str, float] = {}


def soffice_argv(profile: Path, outdir: Path, files: list[Path]) -> list[str]:
    return ["soffice", f"-env:UserInstallation={profile.as_uri()}", "--headless",
            "--norestore", "--nologo", "--convert-to", PDF_FILTER, "--outdir", str(outdir),
            *map(str, files)]


def warm_profiles(profiles: list[Path], sample: Path) -> float:
    """Give each LibreOffice profile its first start (one conversion of ``sample``, as
    the real converter's first chunk does), in parallel; seconds taken."""
    start = time.perf_counter()
    procs = [subprocess.Popen(soffice_argv(p, p.parent / f"warm-{p.name}", [sample]),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for p in profiles]
    for proc in procs:
        proc.wait()
    return time.perf_counter() - start


def check_pdfs(folder: Path, expected: int) -> None:
    pdfs = sorted(folder.rglob("*.pdf"))
    bad = [p for p in pdfs if p.read_bytes()[:5] != b"%PDF-"]
    if len(pdfs) != expected or bad:
        sys.exit(f"{folder}: {len(pdfs)} PDF(s) instead of {expected}, {len(bad)} invalid")


# ------------------------------------------------------------------ the measures


def render_all(records: Path, out: Path) -> tuple[list[Path], float]:
    """Validate and render every record once, in-process (the DOCX of the lower bound)."""
    from pipeline.catalogue.loader import Catalogue
    from pipeline.documents.render import render_docx
    from pipeline.validation.validator import Validator, iter_validated

    catalogue = Catalogue.load(None)
    validator = Validator(catalogue)
    out.mkdir(parents=True)
    paths: list[Path] = []
    today = date.fromisoformat(TODAY)
    start = time.perf_counter()
    for v in iter_validated([records], validator):
        conv = v.convention
        if conv is None:
            sys.exit(f"generated record {v.raw.row} is invalid: {v.issues[:2]}")
        path = out / f"FF_2026_{len(paths) + 1:03d}.docx"
        ctype = catalogue.get(conv.convention_type)
        render_docx(conv, catalogue.template_path(ctype), path, number=path.stem,
                    fingerprint=v.fingerprint, today=today)
        paths.append(path)
    return paths, time.perf_counter() - start


def end_to_end(records: Path, n: int) -> dict[str, Any]:
    ws = WORK / "workspace"
    shutil.rmtree(ws, ignore_errors=True)
    out = WORK / "run.json"
    wall, rss, code = run_cli(["run", str(records), "--workspace", str(ws), "--json"], out)
    summary = json.loads(out.read_text("utf-8"))
    if code != 0 or summary["accepted"] != n:
        sys.exit(f"fiftyfifty run accepted {summary['accepted']} of {n} (exit {code})")
    check_pdfs(ws / "archive", n)
    return {"seconds": wall, "docs_per_s": n / wall, "peak_rss_mb": rss,
            "cpu_fiftyfifty_s": LAST_CPU["self_s"],
            "cpu_libreoffice_s": LAST_CPU["libreoffice_s"]}


LO_MAX_PER_CALL = 200
"""One ``soffice`` call stopped after about 245 documents here (both lanes, silently):
a lane converts its share in consecutive calls of at most this many documents."""


def lower_bound(docx: list[Path], workers: int) -> dict[str, Any]:
    """One multi-file soffice call per core (per 200 documents), separate warmed profiles,
    nothing else."""
    base = WORK / "lower"
    profiles = [base / f"profile-{i}" for i in range(workers)]
    warm = warm_profiles(profiles, docx[0])
    size = -(-len(docx) // workers)
    lanes = [docx[i:i + size] for i in range(0, len(docx), size)]
    outdirs = [base / f"pdf-{i}" for i in range(len(lanes))]

    def lane(i: int) -> int:
        calls = 0
        for j in range(0, len(lanes[i]), LO_MAX_PER_CALL):
            subprocess.run(soffice_argv(profiles[i], outdirs[i], lanes[i][j:j + LO_MAX_PER_CALL]),
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
            calls += 1
        return calls

    start, cpu = time.perf_counter(), children_cpu()
    with ThreadPoolExecutor(len(lanes)) as pool:
        calls = sum(pool.map(lane, range(len(lanes))))
    wall, cpu = time.perf_counter() - start, children_cpu() - cpu
    for i in range(len(lanes)):
        check_pdfs(outdirs[i], len(lanes[i]))
    return {"seconds": wall, "docs_per_s": len(docx) / wall, "workers": workers,
            "soffice_calls": calls, "profile_first_start_s": warm,
            "cpu_libreoffice_s": cpu}


def usual_way(records: Path, n: int, sample: int) -> dict[str, Any]:
    """docxtpl from scratch plus one soffice call per document, on ``sample`` records."""
    import docxtpl

    from pipeline.catalogue.loader import Catalogue
    from pipeline.documents.render import build_context, make_environment
    from pipeline.validation.validator import Validator, iter_validated

    catalogue = Catalogue.load(None)
    validator = Validator(catalogue)
    base = WORK / "usual"
    profile = base / "profile"
    base.mkdir(parents=True)
    warm_profiles([profile], next((WORK / "docx").glob("*.docx")))
    today = date.fromisoformat(TODAY)
    done = 0
    start = time.perf_counter()
    for v in iter_validated([records], validator):
        if done == sample:
            break
        assert v.convention is not None
        ctype = catalogue.get(v.convention.convention_type)
        number = f"FF_2026_{done + 1:03d}"
        doc = docxtpl.DocxTemplate(str(catalogue.template_path(ctype)))
        doc.render(build_context(v.convention, number=number, fingerprint=v.fingerprint,
                                 today=today), jinja_env=make_environment(), autoescape=True)
        path = base / "docx" / f"{number}.docx"
        path.parent.mkdir(parents=True, exist_ok=True)
        doc.save(str(path))
        subprocess.run(soffice_argv(profile, base / "pdf", [path]), check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        done += 1
    wall = time.perf_counter() - start
    check_pdfs(base / "pdf", done)
    per_doc = wall / done
    return {"sample": done, "extrapolated": done < n, "seconds_per_doc": per_doc,
            "seconds": per_doc * n, "docs_per_s": 1 / per_doc}


def validation(rows: int) -> dict[str, Any]:
    """``fiftyfifty validate`` on a generated CSV of ``rows`` rows (cached by content)."""
    key = hashlib.sha256((HERE / "generate.py").read_bytes()).hexdigest()[:10]
    csv_path = WORK / f"validate-{rows}-{DEFAULT_SEED}-{key}.csv"
    generated = 0.0
    if not csv_path.exists():
        start = time.perf_counter()
        write_csv(csv_path.with_suffix(".tmp"), rows)
        csv_path.with_suffix(".tmp").rename(csv_path)
        generated = time.perf_counter() - start
    wall, rss, _ = run_cli(["validate", str(csv_path), "--json"], WORK / "validate.json")
    stats = json.loads((WORK / "validate.json").read_text("utf-8"))["stats"]
    if stats["records"] != rows:
        sys.exit(f"validate saw {stats['records']} records instead of {rows}")
    return {"rows": rows, "seconds": wall, "records_per_s": rows / wall, "peak_rss_mb": rss,
            "accepted": stats["accepted"], "csv_mb": csv_path.stat().st_size / 1e6,
            "csv_generated_s": generated}


# ------------------------------------------------------------------ the report


def stage(label: str, step: Callable[[], Any]) -> Any:
    log(f"... {label}")
    return step()


def verdicts(r: dict[str, Any]) -> dict[str, bool]:
    return {
        "end_to_end_within_1.5x_lower_bound": r["ratio_e2e_to_lower"] <= 1.5,
        "at_least_10x_faster_than_usual": r["ratio_usual_to_e2e"] >= 10,
        "peak_rss_under_300_mb": r["end_to_end"]["peak_rss_mb"] < 300,
        "validation_100k_under_20_s": "validation" in r and r["validation"]["rows"] >= 100_000
        and r["validation"]["seconds"] < 20,
    }


def print_report(r: dict[str, Any]) -> None:
    n, e2e, low, usual = r["n"], r["end_to_end"], r["lower_bound"], r["usual_way"]
    label = (f"extrapolated from {usual['sample']} docs" if usual["extrapolated"]
             else "measured")
    log("")
    log(f"fiftyfifty bench: N={n}, seed {r['seed']}, {r['cores']} cores, {r['soffice']}")
    log(f"  load average {r['load_average_at_start']:.1f} at start, "
        f"{r['load_average_at_end']:.1f} at end (other work on the machine skews the figures)")
    log(f"  render only (in-process)    {r['render_ms_per_doc']:8.1f} ms/doc")
    log(f"  1. fiftyfifty run           {e2e['seconds']:8.1f} s  {e2e['docs_per_s']:6.2f} doc/s"
        f"  peak RSS {e2e['peak_rss_mb']:.0f} MB")
    log(f"  2. LibreOffice alone        {low['seconds']:8.1f} s  {low['docs_per_s']:6.2f} doc/s"
        f"  ({low['soffice_calls']} calls; profile first start {low['profile_first_start_s']:.1f} s"
        " excluded)")
    log(f"  3. usual way                {usual['seconds']:8.1f} s  {usual['docs_per_s']:6.2f} doc/s"
        f"  ({label}, {usual['seconds_per_doc']:.2f} s/doc)")
    log(f"  CPU, 1: fiftyfifty {e2e['cpu_fiftyfifty_s']:.1f} s + LibreOffice "
        f"{e2e['cpu_libreoffice_s']:.1f} s;  2: LibreOffice {low['cpu_libreoffice_s']:.1f} s"
        f"  ({r['cores']} cores: 1 cannot beat (sum of its CPU) / cores)")
    log(f"  ratio 1/2 = {r['ratio_e2e_to_lower']:.2f}   ratio 3/1 = {r['ratio_usual_to_e2e']:.1f}")
    if "validation" in r:
        val, small = r["validation"], r["validation_small"]
        log(f"  validate {val['rows']:,} CSV rows   {val['seconds']:6.1f} s "
            f"{val['records_per_s']:8.0f} rec/s  peak RSS {val['peak_rss_mb']:.0f} MB"
            f"  ({small['rows']:,} rows: peak RSS {small['peak_rss_mb']:.0f} MB)")
    for name, ok in r["targets"].items():
        log(f"  [{'met' if ok else 'NOT MET'}] {name}")
    log(f"Results written to {RESULTS.relative_to(ROOT)}")


def main() -> None:
    n = env_int("BENCH_N", 300)
    sample = min(n, env_int("BENCH_USUAL_SAMPLE", 20))
    rows = env_int("BENCH_VALIDATE_ROWS", 100_000)
    workers = os.cpu_count() or 1
    if shutil.which("soffice") is None:
        sys.exit("soffice is not installed (run `make system`)")
    WORK.mkdir(exist_ok=True)
    for old in ("workspace", "lower", "usual", "docx"):
        shutil.rmtree(WORK / old, ignore_errors=True)
    records = write_json(WORK / f"records-{n}.json", n)
    version = subprocess.run(["soffice", "--version"], capture_output=True, text=True,
                             check=False).stdout.strip().split("\n")[0]
    r: dict[str, Any] = {"n": n, "seed": DEFAULT_SEED, "cores": workers, "soffice": version,
                         "python": platform.python_version(), "machine": platform.machine(),
                         "load_average_at_start": os.getloadavg()[0]}
    docx, render_s = stage("rendering the DOCX once", lambda: render_all(records, WORK / "docx"))
    r["render_ms_per_doc"] = 1000 * render_s / n
    r["lower_bound"] = stage("2. LibreOffice alone", lambda: lower_bound(docx, workers))
    r["end_to_end"] = stage("1. fiftyfifty run", lambda: end_to_end(records, n))
    r["usual_way"] = stage("3. the usual way", lambda: usual_way(records, n, sample))
    if rows > 0:  # BENCH_VALIDATE_ROWS=0 skips the validation measure
        r["validation"] = stage(f"validate {rows:,} rows", lambda: validation(rows))
        r["validation_small"] = stage(f"validate {rows // 10:,} rows",
                                      lambda: validation(max(1, rows // 10)))
    r["ratio_e2e_to_lower"] = r["end_to_end"]["seconds"] / r["lower_bound"]["seconds"]
    r["ratio_usual_to_e2e"] = r["usual_way"]["seconds"] / r["end_to_end"]["seconds"]
    r["load_average_at_end"] = os.getloadavg()[0]
    r["targets"] = verdicts(r)
    RESULTS.write_text(json.dumps(r, indent=2) + "\n", "utf-8")
    print_report(r)
    if not os.environ.get("BENCH_KEEP"):
        for old in ("workspace", "lower", "usual", "docx"):
            shutil.rmtree(WORK / old, ignore_errors=True)


if __name__ == "__main__":
    main()
