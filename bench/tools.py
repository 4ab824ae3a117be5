"""What the parts of ``make bench`` share to run things and check what they made.

- :func:`run_cli`: ``fiftyfifty ARGS`` in a subprocess, with its wall time, its own peak
  resident memory (``VmHWM``) and its CPU seconds, its own and its children's
  (LibreOffice's) apart;
- :func:`soffice_argv`, :func:`warm_profiles`: LibreOffice alone, the way the pipeline
  calls it (same PDF/A export options, :data:`PDF_FILTER`), each lane with its own profile;
- :func:`check_pdfs`: the PDFs a measure made are all there and are PDFs;
- :func:`example_records`: the bundled example conventions, varied into N valid records;
- :func:`median_wall`, :func:`env_int`, :func:`env_sizes`, :func:`children_cpu`, :func:`log`.

Public tools only: the standard library, ``soffice`` and the project's own code.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

from pipeline.documents.convert import pdf_filter

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
EXAMPLES = ROOT / "conventions" / "examples"
TODAY = "2026-11-25"
"""The day every measure runs on (``FIFTYFIFTY_TODAY``): the same records, the same output."""
PDF_FILTER = pdf_filter(pdfa=True)
"""The export ``fiftyfifty run`` uses (PDF/A-2b, bookmarks as named destinations), so every
variant does the same work."""

# Runs the CLI in-process, then records the process's own peak RSS (KiB on Linux) and the
# CPU seconds it used itself and through its children (LibreOffice, validation workers).
# Every part runs ``fiftyfifty`` through this one wrapper.
CLI_WRAPPER = """
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
    # A LibreOffice kept running between rounds is stopped, never reaped: counted apart.
    from pipeline.documents.convert import _warm
    kept = getattr(_warm, "STOPPED_CPU_S", 0.0)
    # VmHWM, not ru_maxrss: the latter keeps the high-water mark of the process that
    # forked this one (the benchmark itself) across exec.
    with open("/proc/self/status") as status:
        hwm = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    mine = me.ru_utime + me.ru_stime
    theirs = kids.ru_utime + kids.ru_stime + kept
    with open(sys.argv[1], "w") as fh:
        json.dump({"rss_kb": hwm, "cpu_self_s": mine, "cpu_children_s": theirs,
                   "cpu_s": mine + theirs, "children_rss_kb": kids.ru_maxrss}, fh)
sys.exit(code)
"""


class CliRun(NamedTuple):
    """What one ``fiftyfifty`` call took."""

    wall_s: float
    peak_rss_mb: float
    """The ``fiftyfifty`` process's own peak (its children are not counted)."""
    code: int
    cpu_self_s: float
    cpu_children_s: float
    """LibreOffice's processes, validation workers: every child it waited for."""
    children_peak_rss_mb: float
    """The largest peak of one of its children (a validation worker, a LibreOffice)."""


LAST_CPU: dict[str, float] = {}
"""The CPU seconds of the last :func:`run_cli` (``self_s``, ``libreoffice_s``), as the
first bench had them."""


def run_cli(args: list[str], stdout: Path, *, env: dict[str, str] | None = None,
            ok_codes: tuple[int, ...] = (0, 1)) -> CliRun:
    """``fiftyfifty ARGS`` in a subprocess, its output into ``stdout``; exits the bench
    (a crash of the measure) when the exit code is not in ``ok_codes``."""
    fd, usage_name = tempfile.mkstemp(prefix="usage-", suffix=".json", dir=stdout.parent)
    os.close(fd)
    usage_file = Path(usage_name)
    full_env = {**os.environ, "FIFTYFIFTY_TODAY": TODAY, **(env or {})}
    try:
        with stdout.open("wb") as out:
            start = time.perf_counter()
            proc = subprocess.run([sys.executable, "-c", CLI_WRAPPER, str(usage_file), *args],
                                  stdout=out, stderr=subprocess.PIPE, env=full_env, cwd=ROOT,
                                  check=False)
            wall = time.perf_counter() - start
        if proc.returncode not in ok_codes:
            raise RuntimeError(f"fiftyfifty {args[0]} failed ({proc.returncode}):\n"
                               + proc.stderr.decode("utf-8", "replace")[-3000:])
        usage = json.loads(usage_file.read_text())
    finally:
        usage_file.unlink(missing_ok=True)
    LAST_CPU.update(self_s=usage["cpu_self_s"], libreoffice_s=usage["cpu_children_s"])
    return CliRun(wall, usage["rss_kb"] / 1024, proc.returncode, usage["cpu_self_s"],
                  usage["cpu_children_s"], usage["children_rss_kb"] / 1024)


def median_wall(step: Callable[[], float], runs: int) -> tuple[float, list[float]]:
    """The median of ``runs`` wall times returned by ``step``, and all of them."""
    walls = [step() for _ in range(runs)]
    return statistics.median(walls), walls


def children_cpu() -> float:
    """CPU seconds used so far by this process's waited-for children."""
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return kids.ru_utime + kids.ru_stime


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "")
    return int(raw) if raw.strip() else default


def env_sizes(name: str, default: str) -> list[int]:
    """A comma-separated list of sizes from the environment (``100,300``)."""
    raw = os.environ.get(name, "").strip() or default
    return [int(part) for part in raw.split(",") if part.strip()]


def log(text: str) -> None:
    print(text, flush=True)


def soffice_argv(profile: Path, outdir: Path, files: list[Path]) -> list[str]:
    """One ``soffice --convert-to`` call with its own profile, the pipeline's options."""
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
    """Every PDF expected is in ``folder`` (or below) and starts as a PDF does."""
    pdfs = sorted(folder.rglob("*.pdf"))
    bad = [p for p in pdfs if p.read_bytes()[:5] != b"%PDF-"]
    if len(pdfs) != expected or bad:
        raise RuntimeError(f"{folder}: {len(pdfs)} PDF(s) instead of {expected}, "
                           f"{len(bad)} invalid")


def soffice_version() -> str:
    out = subprocess.run(["soffice", "--version"], capture_output=True, text=True,
                         check=False).stdout.strip()
    return out.split("\n")[0] if out else "soffice not found"


# ------------------------------------------------------------------ example records


def _examples() -> list[dict[str, Any]]:
    """The bundled examples' records that are valid, as nested records (in file order)."""
    from pipeline.catalogue.loader import Catalogue
    from pipeline.validation.validator import Validator, iter_validated

    validator = Validator(Catalogue.load(None), fingerprints=False)
    paths = sorted(EXAMPLES.iterdir())
    out = []
    for v in iter_validated(paths, validator):
        if v.accepted and v.raw.data is not None:
            out.append(v.raw.data)
    return out


def iter_example_records(n: int) -> Iterator[dict[str, Any]]:
    """``n`` valid records: the bundled examples in turn, each copy with its own reference
    and title (``…-B003`` the third)."""
    examples = _examples()
    for i in range(n):
        record = json.loads(json.dumps(examples[i % len(examples)]))
        base = record.get("reference") or "FF-EX"
        record["reference"] = f"{base}-B{i + 1:03d}"[:64]
        record["title"] = f"{record['title']} ({i + 1})"[:200]
        yield record


def example_records(path: Path, n: int) -> Path:
    """:func:`iter_example_records` written as one JSON list to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(list(iter_example_records(n)), ensure_ascii=False, indent=1),
                    "utf-8")
    return path
