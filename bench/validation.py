"""Bench part ``validation``: what a clerk waits for when checking records.

- ``fiftyfifty validate`` of 5 records (the bundled examples varied), the median of
  ``BENCH_VALIDATE_RUNS`` runs (default 5): goal 0.6 s;
- ``fiftyfifty --help``, the median likewise: goal 0.3 s;
- ``fiftyfifty validate`` of a generated CSV of 10,000 and of ``BENCH_VALIDATE_ROWS`` rows
  (default 100,000; the files are cached in the work folder by the generator's content):
  100,000 rows in 15 s at most, and memory flat, no process above 150 MB (the main
  process's own peak, ``VmHWM``, and the largest of its workers').

Wall-clock figures, with the CPU seconds of the command and of its workers beside them.
"""

from __future__ import annotations

import hashlib
import json
import statistics
import sys
from pathlib import Path
from typing import Any

from common import Part, Target
from generate import DEFAULT_SEED, write_csv
from tools import HERE, CliRun, env_int, example_records, run_cli

SMALL_GOAL_S = 0.6
HELP_GOAL_S = 0.3
ROWS_GOAL_S_PER_100K = 15.0
MEMORY_GOAL_MB = 150.0


def _csv(work: Path, rows: int) -> tuple[Path, float]:
    """The generated CSV of ``rows`` rows (made once, kept while the generator is the
    same), and the seconds it took to make it now (0 when cached)."""
    import time

    key = hashlib.sha256((HERE / "generate.py").read_bytes()).hexdigest()[:10]
    path = work / f"rows-{rows}-{DEFAULT_SEED}-{key}.csv"
    if path.exists():
        return path, 0.0
    start = time.perf_counter()
    tmp = path.with_suffix(".tmp")
    write_csv(tmp, rows)
    tmp.rename(path)
    return path, time.perf_counter() - start


def _medians(args: list[str], out: Path, runs: int) -> dict[str, Any]:
    calls: list[CliRun] = [run_cli(args, out) for _ in range(runs)]
    return {"median_s": statistics.median(c.wall_s for c in calls),
            "walls_s": [round(c.wall_s, 3) for c in calls],
            "median_cpu_s": statistics.median(c.cpu_self_s + c.cpu_children_s for c in calls)}


def _rows(work: Path, rows: int) -> dict[str, Any]:
    path, made = _csv(work, rows)
    out = work / f"validate-{rows}.json"
    call = run_cli(["validate", str(path), "--json"], out)
    stats = json.loads(out.read_text("utf-8"))["stats"]
    out.unlink()
    if stats["records"] != rows or stats["accepted"] != rows:
        raise RuntimeError(f"validate saw {stats['records']} records ({stats['accepted']} "
                           f"accepted) instead of {rows}")
    return {"rows": rows, "seconds": call.wall_s, "records_per_s": rows / call.wall_s,
            "cpu_main_s": call.cpu_self_s, "cpu_workers_s": call.cpu_children_s,
            "cpu_ms_per_row": 1000 * (call.cpu_self_s + call.cpu_children_s) / rows,
            "peak_rss_main_mb": call.peak_rss_mb,
            "peak_rss_largest_worker_mb": call.children_peak_rss_mb,
            "csv_mb": path.stat().st_size / 1e6, "csv_generated_s": made}


def measure(work: Path) -> Part:
    runs = max(1, env_int("BENCH_VALIDATE_RUNS", 5))
    rows = env_int("BENCH_VALIDATE_ROWS", 100_000)
    five = example_records(work / "five.json", 5)
    run_cli(["validate", str(five)], work / "warm.txt")  # the first call compiles bytecode
    small = _medians(["validate", str(five)], work / "five.txt", runs)
    helped = _medians(["--help"], work / "help.txt", runs)
    part = Part(figures={"validate_5_records": small, "help": helped})
    part.targets += [
        Target("validate 5 records (median)", small["median_s"], SMALL_GOAL_S, "s",
               note=f"of {runs} runs; CPU {small['median_cpu_s']:.2f} s"),
        Target("fiftyfifty --help (median)", helped["median_s"], HELP_GOAL_S, "s",
               note=f"of {runs} runs; CPU {helped['median_cpu_s']:.2f} s"),
    ]
    for n in sorted({max(1, rows // 10), rows} if rows > 0 else set()):
        r = _rows(work, n)
        part.figures[f"validate_{n}_rows"] = r
        part.lines.append(
            f"validate {n:,} CSV rows: {r['seconds']:.1f} s ({r['records_per_s']:,.0f} rec/s), "
            f"CPU {r['cpu_main_s']:.1f} s main + {r['cpu_workers_s']:.1f} s workers "
            f"({r['cpu_ms_per_row']:.3f} ms/row), peak RSS {r['peak_rss_main_mb']:.0f} MB main, "
            f"{r['peak_rss_largest_worker_mb']:.0f} MB largest worker")
        part.targets += [
            Target(f"validate {n:,} CSV rows", r["seconds"], ROWS_GOAL_S_PER_100K * n / 100_000,
                   "s", note=f"CPU {r['cpu_main_s'] + r['cpu_workers_s']:.1f} s in all"),
            Target(f"validate {n:,} CSV rows, largest process's peak memory",
                   max(r["peak_rss_main_mb"], r["peak_rss_largest_worker_mb"]),
                   MEMORY_GOAL_MB, "MB"),
        ]
    return part


if __name__ == "__main__":
    measure(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "work" / "validation").show()
