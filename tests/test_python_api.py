"""The public Python API: its surface is pinned, and docs/python-api.md runs as written."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from paths import PROJECT_ROOT

import pipeline

DOC = PROJECT_ROOT / "docs" / "python-api.md"


def test_public_surface_is_pinned() -> None:
    assert sorted(pipeline.__all__) == sorted([
        "AuditReport", "Catalogue", "PipelineError", "Registry", "Report", "RunOptions",
        "RunSummary", "Workspace", "__version__", "init_project", "load_catalogue",
        "open_registry", "run_batch", "sign_convention", "validate_files", "verify_archive",
        "verify_convention", "verify_pdf",
    ])
    for name in pipeline.__all__:
        assert getattr(pipeline, name) is not None, name
    with pytest.raises(AttributeError):
        _ = pipeline.no_such_name


def test_importing_the_package_imports_no_stage() -> None:
    code = ("import sys, pipeline; heavy = [m for m in sys.modules if m.startswith("
            "('pipeline.', 'pyhanko', 'pydantic', 'docxtpl'))]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60).stdout
    assert out.strip() == "[]"


def test_version_is_the_package_version_and_the_changelog_s() -> None:
    from importlib.metadata import version

    assert pipeline.__version__ == version("fiftyfifty")
    changelog = (PROJECT_ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    first = re.search(r"^## \[?(\d+\.\d+\.\d+)", changelog, re.M)
    assert first and first.group(1) == pipeline.__version__


@pytest.mark.libreoffice
def test_the_documented_example_runs(tmp_path: Path) -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert len(blocks) >= 3
    script = tmp_path / "example.py"
    script.write_text("\n".join(blocks), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIFTYFIFTY_")}
    res = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True,
                         text=True, timeout=600, env=env)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "3 records accepted" in res.stdout
    assert res.stdout.count("FF_2026_") >= 3
    assert "refused:" in res.stdout
