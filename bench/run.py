"""``make bench``: every part of the benchmark in one run, every target with its goal.

The parts are modules of this folder, each with ``measure(work: Path) -> Part`` (see
``bench/common.py``), run in this order, each in its own scratch folder
``bench/work/<name>``:

- ``conversion``: ``fiftyfifty run`` on the bundled example conventions against
  LibreOffice alone and one ``soffice`` call per document;
- ``peer``: the same records through docxtpl + unoserver, one document at a time;
- ``validation``: ``fiftyfifty validate`` of a few records, ``--help``, 10,000 and
  100,000 CSV rows;
- ``signing``: ``sign-batch`` and ``verify`` through SoftHSM;
- ``web``: simulated signers on the web server.

``BENCH_ONLY=validation,peer`` runs only those (comma-separated). A part whose module is
not there yet is skipped, saying so. The figures are printed and written to
``bench/results.json`` with the machine, the load average at the start and the end, and
each part's figures and targets. The exit code is 0 even when targets are not met (this
is a report); it is 1 only when a part's measure crashed.
"""

from __future__ import annotations

import importlib
import json
import os
import platform
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from common import Part  # noqa: E402
from tools import log, soffice_version  # noqa: E402

PARTS = ("conversion", "peer", "validation", "signing", "web")
"""Every part, in the order they run."""
WORK = HERE / "work"
RESULTS = HERE / "results.json"


def chosen_parts() -> list[str]:
    """The parts ``BENCH_ONLY`` names (all of them when unset), in :data:`PARTS` order;
    an unknown name stops the bench before anything runs."""
    raw = os.environ.get("BENCH_ONLY", "")
    asked = [p.strip() for p in raw.split(",") if p.strip()]
    unknown = [p for p in asked if p not in PARTS]
    if unknown:
        sys.exit(f"BENCH_ONLY: unknown part(s) {', '.join(unknown)} "
                 f"(known: {', '.join(PARTS)})")
    return [p for p in PARTS if not asked or p in asked]


def run_part(name: str) -> dict[str, Any]:
    """Import and measure one part; its entry for ``results.json``."""
    start = time.perf_counter()
    try:
        module: ModuleType | None = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name == name:
            log(f"== {name}: skipped (bench/{name}.py is not in this branch yet)")
            return {"status": "missing"}
        module = None  # the part is there but needs a module that is not: told below
    folder = WORK / name
    folder.mkdir(parents=True, exist_ok=True)
    log(f"== {name}  (load average {os.getloadavg()[0]:.2f})")
    try:
        if module is None:
            module = importlib.import_module(name)
        part: Part = module.measure(folder)
    except Exception:  # reported; the other parts still run
        log(f"  [CRASH] {name}: the measure failed:")
        log(traceback.format_exc().rstrip())
        return {"status": "crashed", "error": traceback.format_exc()[-4000:],
                "seconds": time.perf_counter() - start}
    for line in part.lines:
        log(f"  {line}")
    for target in part.targets:
        log(target.line())
    return {"status": "measured", "seconds": time.perf_counter() - start,
            "load_average_at_end": os.getloadavg()[0], "figures": part.figures,
            "targets": [t.as_json() for t in part.targets]}


def main() -> int:
    names = chosen_parts()
    WORK.mkdir(exist_ok=True)
    results: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": platform.machine(), "platform": platform.platform(),
        "cores": os.cpu_count() or 1, "soffice": soffice_version(),
        "python": platform.python_version(), "load_average_at_start": os.getloadavg()[0],
        "parts": {},
    }
    log(f"fiftyfifty bench: {results['cores']} cores, {results['soffice']}, "
        f"Python {results['python']}, load average {results['load_average_at_start']:.2f}")
    for name in names:
        results["parts"][name] = run_part(name)
    results["load_average_at_end"] = os.getloadavg()[0]
    RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", "utf-8")
    summary(results)
    return 1 if any(p["status"] == "crashed" for p in results["parts"].values()) else 0


def summary(results: dict[str, Any]) -> None:
    """Every target again, together, then what was skipped or crashed."""
    log("")
    log(f"Summary (load average {results['load_average_at_start']:.2f} at start, "
        f"{results['load_average_at_end']:.2f} at end; other work on the machine skews "
        "wall-clock figures)")
    met = total = 0
    for name, part in results["parts"].items():
        if part["status"] != "measured":
            log(f"  {name}: {part['status']}")
            continue
        for t in part["targets"]:
            total += 1
            met += bool(t["met"])
            sign = ">=" if t["higher_is_better"] else "<="
            log(f"  [{'pass' if t['met'] else 'FAIL'}] {name}: {t['name']}: "
                f"{t['value']:,.2f} {t['unit']} (goal {sign} {t['goal']:,.2f} {t['unit']})")
    shown = RESULTS.relative_to(HERE.parent) if RESULTS.is_relative_to(HERE.parent) else RESULTS
    log(f"{met} of {total} targets met. Results written to {shown}")


if __name__ == "__main__":
    sys.exit(main())
