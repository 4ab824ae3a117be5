"""Bench part ``conversion``: ``fiftyfifty run`` on the bundled example conventions.

Every example of ``conventions/examples/*.json`` (one record each, every one a real
five-page convention) is varied N times into distinct references (``BENCH_CONVERSION_N``,
default ``100,300``), and in one run, for each example and each N:

1. ``fiftyfifty run`` end to end into a fresh workspace, in a subprocess whose own peak
   resident memory (``VmHWM``) and CPU (its own, and LibreOffice's as its children) it
   reports itself;
2. the lower bound, LibreOffice alone: the same DOCX (rendered once, in-process) converted
   by one multi-file ``soffice --convert-to`` call per core (at most 200 documents a call),
   each core with its own profile, warmed beforehand; nothing else;
3. the usual way, one ``soffice`` call per document (plus its rendering), timed on a few
   documents of the example (``BENCH_CONVERSION_SAMPLE``, default 5) and extrapolated to N,
   which the report says.

``BENCH_CONVERSION_EXAMPLES`` (comma-separated stems) measures some examples only.

Then a clerk's small batch (5 records, the examples in turn) against LibreOffice alone on
the same 5; the scaling of ``run`` with N (``BENCH_SCALING_N``, default
``10,100,300,1000``, on ``rural-paths.json``; the sizes already measured above are reused);
and where the time of ``run`` goes: the CPU per document of each of its stages, measured
in-process on twenty of the documents.

Public tools only: the standard library, ``soffice`` and the project's own code.
"""

from __future__ import annotations

import copy
import io
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

from common import Part, Target
from tools import CLI_WRAPPER

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
EXAMPLES = ROOT / "conventions" / "examples"
TODAY = "2026-11-25"
RATIO_GOAL = 1.25
USUAL_GOAL = 12.0
SMALL_BATCH = 5
SMALL_MARGIN_S = 1.0
SPREAD_GOAL = 1.2
LO_MAX_PER_CALL = 200
"""One ``soffice`` call has been seen to stop after about 245 documents."""



def env_sizes(name: str, default: str) -> list[int]:
    raw = os.environ.get(name, "").strip() or default
    return [int(part) for part in raw.split(",") if part.strip()]


def log(text: str) -> None:
    print(text, flush=True)


def children_cpu() -> float:
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return kids.ru_utime + kids.ru_stime


# ------------------------------------------------------------------ records


def examples() -> dict[str, dict[str, Any]]:
    """The bundled example conventions (one record per JSON file), by file stem."""
    return {p.stem: json.loads(p.read_text("utf-8")) for p in sorted(EXAMPLES.glob("*.json"))}


def vary(record: dict[str, Any], n: int) -> list[dict[str, Any]]:
    """``n`` copies of ``record``, each its own convention: a distinct reference and title
    (so a distinct fingerprint), everything else as the example has it."""
    out = []
    for i in range(1, n + 1):
        one = copy.deepcopy(record)
        one["reference"] = f"{record['reference']}-{i:04d}"
        one["title"] = f"{record['title']} ({i})"
        out.append(one)
    return out


def write_records(path: Path, records: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(records, ensure_ascii=False), "utf-8")
    return path


# ------------------------------------------------------------------ LibreOffice


def soffice_argv(profile: Path, outdir: Path, files: list[Path]) -> list[str]:
    from pipeline.documents.convert import pdf_filter

    return ["soffice", f"-env:UserInstallation={profile.as_uri()}", "--headless",
            "--norestore", "--nologo", "--convert-to", pdf_filter(pdfa=True),
            "--outdir", str(outdir), *map(str, files)]


def warm(profiles: list[Path], sample: Path) -> None:
    """Each profile's first start (one conversion), in parallel, before any timing."""
    procs = [subprocess.Popen(soffice_argv(p, p.parent / f"warm-{p.name}", [sample]),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for p in profiles]
    for proc in procs:
        proc.wait()


def count_pdfs(folder: Path, expected: int) -> None:
    pdfs = [p for p in folder.rglob("*.pdf") if p.read_bytes()[:5] == b"%PDF-"]
    if len(pdfs) != expected:
        sys.exit(f"{folder}: {len(pdfs)} valid PDF(s) instead of {expected}")


def render(records: Path, out: Path) -> tuple[list[Path], float]:
    """Validate and render every record once, in-process: the DOCX LibreOffice alone gets."""
    from pipeline.catalogue.loader import Catalogue
    from pipeline.documents.render import render_docx
    from pipeline.validation.validator import Validator, iter_validated

    catalogue = Catalogue.load(None)
    out.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    start = time.perf_counter()
    for v in iter_validated([records], Validator(catalogue)):
        conv = v.convention
        if conv is None:
            sys.exit(f"varied record {v.raw.row} is invalid: {v.issues[:2]}")
        path = out / f"FF_2026_{len(paths) + 1:04d}.docx"
        render_docx(conv, catalogue.template_path(catalogue.get(conv.convention_type)), path,
                    number=path.stem, fingerprint=v.fingerprint,
                    today=date.fromisoformat(TODAY))
        paths.append(path)
    return paths, time.perf_counter() - start


def libreoffice_alone(docx: list[Path], base: Path, workers: int) -> dict[str, Any]:
    """One multi-file call per core (per 200 documents), warmed profiles, nothing else."""
    profiles = [base / f"profile-{i}" for i in range(workers)]
    warm(profiles, docx[0])
    size = -(-len(docx) // workers)
    lanes = [docx[i:i + size] for i in range(0, len(docx), size)]

    def lane(i: int) -> int:
        calls = 0
        for j in range(0, len(lanes[i]), LO_MAX_PER_CALL):
            subprocess.run(soffice_argv(profiles[i], base / "pdf", lanes[i][j:j + LO_MAX_PER_CALL]),
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
            calls += 1
        return calls

    start, cpu = time.perf_counter(), children_cpu()
    with ThreadPoolExecutor(len(lanes)) as pool:
        calls = sum(pool.map(lane, range(len(lanes))))
    wall, cpu = time.perf_counter() - start, children_cpu() - cpu
    count_pdfs(base / "pdf", len(docx))
    return {"seconds": wall, "calls": calls, "cpu_libreoffice_s": cpu}


def one_call_per_document(docx: list[Path], base: Path, render_s_per_doc: float
                          ) -> dict[str, Any]:
    """The usual way on a sample: one ``soffice`` call per document, one after the other
    (with its profile warmed), plus the document's rendering."""
    profile = base / "profile"
    warm([profile], docx[0])
    start = time.perf_counter()
    for path in docx:
        subprocess.run(soffice_argv(profile, base / "pdf", [path]), check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    count_pdfs(base / "pdf", len(docx))
    return {"sample": len(docx), "seconds_per_doc": wall / len(docx) + render_s_per_doc}


# ------------------------------------------------------------------ fiftyfifty run


def run_cli(records: Path, work: Path) -> dict[str, Any]:
    """``fiftyfifty run`` into a fresh workspace, in a subprocess; every record must be
    accepted and archived."""
    ws = work / "workspace"
    shutil.rmtree(ws, ignore_errors=True)
    usage_file, out = work / "usage.json", work / "run.json"
    env = {**os.environ, "FIFTYFIFTY_TODAY": TODAY}
    with out.open("wb") as fh:
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", CLI_WRAPPER, str(usage_file), "run",
                               str(records), "--workspace", str(ws), "--json"],
                              stdout=fh, stderr=subprocess.PIPE, env=env, cwd=ROOT,
                              check=False)
        wall = time.perf_counter() - start
    n = len(json.loads(records.read_text("utf-8")))
    summary = json.loads(out.read_text("utf-8") or "{}")
    if proc.returncode != 0 or summary.get("accepted") != n:
        sys.exit(f"fiftyfifty run on {records.name} failed ({proc.returncode}, "
                 f"{summary.get('accepted')} of {n} accepted):\n"
                 + proc.stderr.decode("utf-8", "replace")[-3000:])
    count_pdfs(ws / "archive", n)
    usage = json.loads(usage_file.read_text())
    shutil.rmtree(ws, ignore_errors=True)
    return {"n": n, "seconds": wall, "ms_per_doc": 1000 * wall / n,
            "peak_rss_mb": usage["rss_kb"] / 1024, "cpu_fiftyfifty_s": usage["cpu_self_s"],
            "cpu_libreoffice_s": usage["cpu_children_s"]}


# ------------------------------------------------------------------ where the time goes


@contextmanager
def _clock(totals: dict[str, float], stage: str) -> Iterator[None]:
    start = time.thread_time()
    yield
    totals[stage] = totals.get(stage, 0.0) + time.thread_time() - start


def stage_cpu(records: Path, pdf_dir: Path, count: int = 20) -> dict[str, float]:
    """CPU ms per document of each in-process stage of ``run`` (this thread's CPU time),
    on the first ``count`` records and the PDFs LibreOffice alone made of them, archived
    into a scratch workspace. What a run does once (reading the template, making the
    stamp's font subset) is done before, outside the clock, on the first document."""
    from pypdf import PdfReader

    from pipeline.catalogue.loader import Catalogue
    from pipeline.core.workspace import Workspace
    from pipeline.documents.convert import pdf_page_count
    from pipeline.documents.pdf.sigfields import fields_from_anchors, find_anchors
    from pipeline.documents.pdf.stamp import stamp_bytes
    from pipeline.documents.render import render_docx
    from pipeline.records.archive import store_documents
    from pipeline.records.registry import Registry
    from pipeline.runner import _new_convention
    from pipeline.validation.validator import Validator, canonical_json, iter_validated

    catalogue = Catalogue.load(None)
    validator = Validator(catalogue)
    scratch = pdf_dir.parent / "stage-docx"
    scratch.mkdir(exist_ok=True)
    ws = Workspace(pdf_dir.parent / "stage-workspace")
    shutil.rmtree(ws.root, ignore_errors=True)
    ws.root.mkdir(parents=True)
    totals: dict[str, float] = {}
    done = 0
    with _clock(totals, "validate"):
        validated = [v for _, v in zip(range(count), iter_validated([records], validator),
                                       strict=False)]
    first = validated[0]
    assert first.convention is not None
    # The run's one-off work, unclocked.
    render_docx(first.convention, catalogue.template_path(
        catalogue.get(first.convention.convention_type)), scratch / "first.docx",
        number="FF_2026_0001", fingerprint=first.fingerprint, today=date.fromisoformat(TODAY))
    stamp_bytes((pdf_dir / "FF_2026_0001.pdf").read_bytes(), number="FF_2026_0001",
                fingerprint=first.fingerprint)
    with Registry.open(ws.registry_path) as reg:
        for i, v in enumerate(validated, start=1):
            conv = v.convention
            assert conv is not None
            number = f"FF_2026_{i:04d}"
            ctype = catalogue.get(conv.convention_type)
            docx = scratch / f"{number}.docx"
            with _clock(totals, "render"):
                render_docx(conv, catalogue.template_path(ctype), docx, number=number,
                            fingerprint=v.fingerprint, today=date.fromisoformat(TODAY))
            pdf = pdf_dir / f"{number}.pdf"
            with _clock(totals, "check converted PDF"):
                pdf_page_count(pdf)
            data = pdf.read_bytes()
            keys = [s.key for s in conv.signatories]
            with _clock(totals, "read PDF + anchors"):
                reader = PdfReader(io.BytesIO(data), strict=True)
                specs = fields_from_anchors(find_anchors(reader, keys), keys)
            with _clock(totals, "stamp + fields"):
                final = stamp_bytes(data, number=number, fingerprint=v.fingerprint,
                                    name=pdf.name, reader=reader, fields=specs)
            with _clock(totals, "number + archive + register"):
                claim = reg.claim(_new_convention(v, conv, int(TODAY[:4]),
                                                  ctype.number_format), actor="bench")
                intake = (json.dumps(json.loads(canonical_json(conv)), ensure_ascii=False,
                                     indent=2) + "\n").encode("utf-8")
                store_documents(ws, reg, claim.convention_id, int(TODAY[:4]), claim.version,
                                [("intake.json", "intake", intake),
                                 (f"{claim.convention_id}.docx", "docx", docx),
                                 (f"{claim.convention_id}.pdf", "pdf", final)],
                                actor="bench")
            done += 1
    shutil.rmtree(ws.root, ignore_errors=True)
    return {stage: 1000 * seconds / done for stage, seconds in totals.items()}


def startup_s() -> float:
    """Wall seconds of ``fiftyfifty run --help`` (the interpreter and the command's imports)."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "from pipeline.cli import main; "
                    "main.main(args=['run', '--help'], prog_name='fiftyfifty')"],
                   stdout=subprocess.DEVNULL, cwd=ROOT, check=False)
    return time.perf_counter() - start


# ------------------------------------------------------------------ the part


def _example(name: str, record: dict[str, Any], sizes: list[int], work: Path, workers: int,
             sample: int) -> dict[str, Any]:
    """Every N for one example, then the usual way on a sample of it."""
    figures: dict[str, Any] = {}
    for n in sizes:
        base = work / f"{name}-{n}"
        shutil.rmtree(base, ignore_errors=True)
        records = write_records(base / "records.json", vary(record, n))
        log(f"... {name}, N={n}: rendering, LibreOffice alone, fiftyfifty run")
        docx, render_s = render(records, base / "docx")
        low = libreoffice_alone(docx, base / "lower", workers)
        e2e = run_cli(records, base)
        figures[str(n)] = {"run": e2e, "libreoffice_alone": low,
                           "render_ms_per_doc": 1000 * render_s / n,
                           "ratio_run_to_lower": e2e["seconds"] / low["seconds"],
                           # The same in CPU seconds, which the machine's load barely moves.
                           "cpu_ratio_run_to_lower": (e2e["cpu_fiftyfifty_s"]
                                                      + e2e["cpu_libreoffice_s"])
                           / max(low["cpu_libreoffice_s"], 1e-9)}
        if n == max(sizes):
            figures["stages_cpu_ms_per_doc"] = stage_cpu(records, base / "lower" / "pdf")
        if n != max(sizes):
            shutil.rmtree(base, ignore_errors=True)
    base = work / f"{name}-{max(sizes)}"
    docx = sorted((base / "docx").glob("*.docx"))[:sample]
    render_ms = figures[str(max(sizes))]["render_ms_per_doc"]
    log(f"... {name}: one soffice call per document, on {len(docx)} documents")
    usual = one_call_per_document(docx, work / f"{name}-usual", render_ms / 1000)
    shutil.rmtree(work / f"{name}-usual", ignore_errors=True)
    shutil.rmtree(base, ignore_errors=True)
    figures["one_call_per_document"] = usual
    for n in sizes:
        row = figures[str(n)]
        row["usual_s"] = usual["seconds_per_doc"] * n
        row["ratio_usual_to_run"] = row["usual_s"] / row["run"]["seconds"]
    return figures


def _small_batch(items: dict[str, dict[str, Any]], work: Path, workers: int
                 ) -> dict[str, Any]:
    """A clerk's batch after a public meeting: 5 records, the examples in turn."""
    names = list(items)
    records = [vary(items[names[i % len(names)]], i + 1)[i] for i in range(SMALL_BATCH)]
    base = work / "small"
    shutil.rmtree(base, ignore_errors=True)
    path = write_records(base / "records.json", records)
    log(f"... a small batch of {SMALL_BATCH} records")
    docx, _ = render(path, base / "docx")
    low = libreoffice_alone(docx, base / "lower", workers)
    e2e = run_cli(path, base)
    shutil.rmtree(base, ignore_errors=True)
    return {"run": e2e, "libreoffice_alone": low}


def _scaling(record: dict[str, Any], sizes: list[int], known: dict[str, Any], work: Path
             ) -> list[dict[str, Any]]:
    rows = []
    for n in sizes:
        if str(n) in known:
            e2e = known[str(n)]["run"]
        else:
            base = work / f"scaling-{n}"
            shutil.rmtree(base, ignore_errors=True)
            log(f"... scaling: fiftyfifty run, N={n}")
            e2e = run_cli(write_records(base / "records.json", vary(record, n)), base)
            shutil.rmtree(base, ignore_errors=True)
        rows.append({"n": n, "seconds": e2e["seconds"], "ms_per_doc": e2e["ms_per_doc"],
                     "peak_rss_mb": e2e["peak_rss_mb"],
                     "cpu_ms_per_doc": 1000 * (e2e["cpu_fiftyfifty_s"]
                                               + e2e["cpu_libreoffice_s"]) / n})
    return rows


def _targets(part: Part, sample: int) -> None:
    f = part.figures
    for name, rows in f["examples"].items():
        usual = rows["one_call_per_document"]
        for n in f["sizes"]:
            row = rows[str(n)]
            part.targets.append(Target(
                f"{name} N={n}: run / LibreOffice alone", row["ratio_run_to_lower"],
                RATIO_GOAL, "x", note=f"run {row['run']['seconds']:.1f} s, LibreOffice "
                f"alone {row['libreoffice_alone']['seconds']:.1f} s"))
            part.targets.append(Target(
                f"{name} N={n}: one soffice call per document / run",
                row["ratio_usual_to_run"], USUAL_GOAL, "x", higher_is_better=True,
                note=f"extrapolated from {usual['sample']} documents, "
                f"{usual['seconds_per_doc']:.2f} s each"))
    small = f["small_batch"]
    lower = small["libreoffice_alone"]["seconds"]
    part.targets.append(Target(
        f"run of {SMALL_BATCH} records (goal: LibreOffice alone on them + {SMALL_MARGIN_S:g} s)",
        small["run"]["seconds"], lower + SMALL_MARGIN_S, "s",
        note=f"LibreOffice alone {lower:.2f} s"))
    big = [r["ms_per_doc"] for r in f["scaling"] if r["n"] >= 100]
    if len(big) >= 2:
        part.targets.append(Target(
            "run, wall per document, largest / smallest over N >= 100", max(big) / min(big),
            SPREAD_GOAL, "x", note=", ".join(f"N={r['n']}: {r['ms_per_doc']:.0f} ms"
                                             for r in f["scaling"])))


def _lines(part: Part) -> None:
    f = part.figures
    add = part.lines.append
    add(f"conversion: the bundled examples varied N times ({f['cores']} cores, "
        f"{f['soffice']}; load average {f['load_average_at_start']:.1f} at start, "
        f"{f['load_average_at_end']:.1f} at end)")
    add(f"  {'example':<14}{'N':>6}{'run s':>9}{'LO alone s':>12}{'ratio':>7}{'CPU ratio':>11}"
        f"{'1 call/doc s':>14}{'speed-up':>10}{'run RSS MB':>12}")
    for name, rows in f["examples"].items():
        for n in f["sizes"]:
            r = rows[str(n)]
            add(f"  {name:<14}{n:>6}{r['run']['seconds']:>9.1f}"
                f"{r['libreoffice_alone']['seconds']:>12.1f}{r['ratio_run_to_lower']:>7.2f}"
                f"{r['cpu_ratio_run_to_lower']:>11.2f}"
                f"{r['usual_s']:>13.0f}*{r['ratio_usual_to_run']:>9.1f}x"
                f"{r['run']['peak_rss_mb']:>12.0f}")
    add("  * one soffice call per document: measured on a sample, extrapolated to N;"
        " CPU ratio: CPU of run (fiftyfifty and its LibreOffice) / CPU of LibreOffice alone")
    small = f["small_batch"]
    add(f"  small batch of {SMALL_BATCH}: run {small['run']['seconds']:.2f} s, LibreOffice "
        f"alone {small['libreoffice_alone']['seconds']:.2f} s; `run --help` "
        f"{f['startup_s']:.2f} s (interpreter and the command's imports)")
    add(f"  scaling ({f['scaling_example']}):  N   wall s   ms/doc   CPU ms/doc   peak RSS MB")
    for r in f["scaling"]:
        add(f"  {r['n']:>22}{r['seconds']:>9.1f}{r['ms_per_doc']:>9.0f}"
            f"{r['cpu_ms_per_doc']:>13.0f}{r['peak_rss_mb']:>14.0f}")
    stages = f["examples"][f["scaling_example"]].get("stages_cpu_ms_per_doc", {})
    if stages:
        add(f"  where the CPU of run goes, per document ({f['scaling_example']}, in-process): "
            + ", ".join(f"{k} {v:.1f} ms" for k, v in stages.items())
            + f"; total {sum(stages.values()):.1f} ms")


def measure(work: Path) -> Part:
    """The whole part, in one go, in ``work``."""
    if shutil.which("soffice") is None:
        sys.exit("soffice is not installed (run `make system`)")
    sizes = env_sizes("BENCH_CONVERSION_N", "100,300")
    scaling = env_sizes("BENCH_SCALING_N", "10,100,300,1000")
    sample = int(os.environ.get("BENCH_CONVERSION_SAMPLE", "").strip() or 5)
    workers = os.cpu_count() or 1
    work.mkdir(parents=True, exist_ok=True)
    version = subprocess.run(["soffice", "--version"], capture_output=True, text=True,
                             check=False).stdout.strip().split("\n")[0]
    part = Part()
    f = part.figures
    f.update(sizes=sizes, cores=workers, soffice=version, sample=sample,
             load_average_at_start=os.getloadavg()[0], scaling_example="rural-paths")
    items = examples()
    only = [n.strip() for n in os.environ.get("BENCH_CONVERSION_EXAMPLES", "").split(",")
            if n.strip()]
    if only:  # a quicker run on some examples only (the scaling one is always kept)
        items = {k: v for k, v in items.items() if k in only or k == "rural-paths"}
    f["startup_s"] = startup_s()
    f["examples"] = {name: _example(name, record, sizes, work, workers, sample)
                     for name, record in items.items()}
    f["small_batch"] = _small_batch(items, work, workers)
    f["scaling"] = _scaling(items[f["scaling_example"]], scaling,
                            f["examples"][f["scaling_example"]], work)
    f["load_average_at_end"] = os.getloadavg()[0]
    _targets(part, sample)
    _lines(part)
    return part


def _print(part: Part) -> None:
    for line in part.lines:
        log(line)
    for target in part.targets:
        log(target.line())


def main() -> None:
    """``python bench/conversion.py``: this part alone (results in bench/work/conversion)."""
    part = measure(HERE / "work" / "conversion")
    _print(part)
    out = HERE / "work" / "conversion.json"
    out.write_text(json.dumps({"figures": part.figures,
                               "targets": [t.as_json() for t in part.targets]}, indent=2)
                   + "\n", "utf-8")


if __name__ == "__main__":
    main()
