"""The built wheel works outside the repository: init, validate and run from its defaults."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
from paths import PROJECT_ROOT

pytestmark = pytest.mark.libreoffice


def _tracked_copy(dest: Path) -> None:
    files = subprocess.run(["git", "ls-files", "-z"], cwd=PROJECT_ROOT, capture_output=True,
                           check=True).stdout.decode().split("\0")
    for rel in filter(None, files):
        src = PROJECT_ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)


def test_wheel_installs_and_runs_outside_the_repository(tmp_path: Path) -> None:
    src = tmp_path / "src"
    _tracked_copy(src)
    wheels = tmp_path / "wheels"
    res = _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels),
                str(src)], tmp_path, dict(os.environ))
    assert res.returncode == 0, res.stderr
    (wheel,) = wheels.glob("fiftyfifty-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "pipeline/_defaults/conventions/fifty-fifty.yaml" in names
    assert "pipeline/_defaults/templates/fifty-fifty.docx" in names
    assert not any(n.startswith(("tests/", "bench/")) for n in names)

    # A fresh venv: the wheel installed into it, its dependencies seen through a path file.
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    py = venv / "bin" / "python"
    site = _run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                tmp_path, {}).stdout.strip()
    Path(site, "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    res = _run([str(py), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
               tmp_path, {"PATH": os.environ["PATH"]})
    assert res.returncode == 0, res.stderr

    home = tmp_path / "elsewhere"
    home.mkdir()
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(home)}
    where = _run([str(py), "-c", "import pipeline; print(pipeline.__file__)"], home, env)
    assert where.stdout.startswith(site), where.stdout + where.stderr
    ff = str(venv / "bin" / "fiftyfifty")
    res = _run([ff, "init", "mairie"], home, env)
    assert res.returncode == 0, res.stdout + res.stderr
    mairie = home / "mairie"
    assert (mairie / "templates" / "fifty-fifty.docx").is_file()
    examples = sorted(str(p) for p in (mairie / "conventions" / "examples").glob("*.json"))
    res = _run([ff, "validate", *examples], mairie, env)
    assert res.returncode == 0, res.stdout + res.stderr
    res = _run([ff, "run", examples[0], "--workspace", "ws", "--json"], mairie, env)
    assert res.returncode == 0, res.stdout + res.stderr
    pdfs = list((mairie / "ws" / "archive").rglob("FF_*.pdf"))
    assert len(pdfs) == 1 and pdfs[0].read_bytes().startswith(b"%PDF-")
    # Outside any project folder, the packaged defaults are used.
    res = _run([ff, "validate", examples[0]], home, env)
    assert res.returncode == 0, res.stdout + res.stderr
