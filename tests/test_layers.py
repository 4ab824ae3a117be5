"""The layers of the code base: stages import only downward, and nothing imports in a circle."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest
from paths import PROJECT_ROOT

LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _copy_sources(dest: Path) -> None:
    for name in ("pipeline", "schemas"):
        shutil.copytree(PROJECT_ROOT / name, dest / name,
                        ignore=shutil.ignore_patterns("__pycache__", "_defaults", "*.mo"))
    shutil.copy(PROJECT_ROOT / "pyproject.toml", dest / "pyproject.toml")


def _lint(where: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(LINT_IMPORTS), "--config", "pyproject.toml", "--no-cache"],
                          cwd=where, capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": str(where), "PATH": "/usr/bin:/bin"})


def test_the_layers_contract_holds() -> None:
    res = _lint(PROJECT_ROOT)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "Stages import only downward KEPT" in res.stdout


@pytest.mark.parametrize(("module", "line"), [
    ("pipeline/core/clock.py", "from pipeline.records import archive  # noqa"),
    ("pipeline/documents/pdf/stamp.py",
     "def f() -> None:\n    from pipeline.signatures import verify  # noqa"),
    ("pipeline/intake/flat.py", "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
     "    from pipeline.validation import reports  # noqa"),
])
def test_an_upward_import_breaks_the_contract(tmp_path: Path, module: str, line: str) -> None:
    _copy_sources(tmp_path)
    target = tmp_path / module
    target.write_text(target.read_text(encoding="utf-8") + "\n" + line + "\n", encoding="utf-8")
    res = _lint(tmp_path)
    assert res.returncode == 1, res.stdout
    assert "BROKEN" in res.stdout


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Every import cycle among the modules (depth-first search, each reported once)."""
    state: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(module: str) -> None:
        state[module] = 1
        stack.append(module)
        for dep in sorted(graph.find_modules_directly_imported_by(module)):
            if dep not in graph.modules:
                continue
            if state.get(dep) == 1:
                found.append([*stack[stack.index(dep):], dep])
            elif dep not in state:
                visit(dep)
        stack.pop()
        state[module] = 2

    for module in sorted(graph.modules):
        if module not in state:
            visit(module)
    return found


def test_no_import_cycles_even_inside_functions_or_type_checking() -> None:
    graph = grimp.build_graph("pipeline", "schemas", include_external_packages=False,
                              cache_dir=None)
    # A package importing its own sub-modules to re-export them is not a cycle of stages.
    for module in sorted(graph.modules):
        for dep in list(graph.find_modules_directly_imported_by(module)):
            if dep.startswith(module + ".") and graph.find_children(module):
                graph.remove_import(importer=module, imported=dep)
    assert _cycles(graph) == []
