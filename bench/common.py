"""What every part of ``make bench`` shares: a target with its goal, and how a part reports.

Each part of the benchmark is a module of this folder with a function
``measure(work: Path) -> Part``: it runs its measures in one go (in ``work``, its own
scratch folder), and returns its raw figures (written to ``bench/results.json`` under the
part's name) and its targets, each with the measured value, the goal and the verdict.
``bench/run.py`` runs the parts named in ``BENCH_ONLY`` (comma-separated; all by default)
and prints every target with its goal and pass/fail.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Target:
    """One figure held against its goal: ``value <= goal`` (or ``>=`` when higher is
    better)."""

    name: str
    """What is measured, in words staff can read: "validate 100,000 CSV rows"."""
    value: float
    goal: float
    unit: str
    """"s", "MB", "doc/s", "x" (a ratio)…"""
    higher_is_better: bool = False
    note: str = ""

    @property
    def met(self) -> bool:
        return self.value >= self.goal if self.higher_is_better else self.value <= self.goal

    def line(self) -> str:
        sign = ">=" if self.higher_is_better else "<="
        verdict = "pass" if self.met else "FAIL"
        note = f"  ({self.note})" if self.note else ""
        return (f"  [{verdict}] {self.name}: {self.value:,.2f} {self.unit} "
                f"(goal {sign} {self.goal:,.2f} {self.unit}){note}")

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "met": self.met}


@dataclass
class Part:
    """What one part of the benchmark measured."""

    figures: dict[str, Any] = field(default_factory=dict)
    targets: list[Target] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    """Extra lines to print (a table, a finding), in the order given."""

    def show(self) -> None:
        """Print the part's lines, then each target with its verdict (a part run alone)."""
        for line in self.lines:
            print(line)
        for target in self.targets:
            print(target.line())
