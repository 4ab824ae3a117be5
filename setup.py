"""Build hook: the wheel carries the default convention types, profile and templates.

In the repository they live at the top level (``conventions/``, ``templates/``), where staff
and developers edit them; a built wheel copies them into ``pipeline/_defaults/`` so an
installed ``fiftyfifty`` finds them with :mod:`importlib.resources`.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent


class BuildWithDefaults(build_py):
    """``build_py`` plus a copy of the defaults (not for editable installs, which read the
    repository's folders directly)."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / "pipeline" / "_defaults"
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(HERE / "conventions", target / "conventions")
        (target / "templates").mkdir(parents=True)
        for docx in sorted((HERE / "templates").glob("*.docx")):
            shutil.copyfile(docx, target / "templates" / docx.name)


setup(cmdclass={"build_py": BuildWithDefaults})
