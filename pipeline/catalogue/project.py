"""Where a commune's own files live, and the defaults shipped inside the package.

A *project folder* holds ``conventions/`` (one YAML per convention type, the commune
profile ``commune.yaml``, ``examples/``) and ``templates/`` (the Word templates the types
name). Commands look for it, in order: ``--project DIR``, ``$FIFTYFIFTY_HOME``, the current
folder when it has ``conventions/commune.yaml``; otherwise they use the defaults carried by
the package (read with :mod:`importlib.resources`; in a source checkout, the repository's
own folders). ``fiftyfifty init DIR`` copies those defaults into a new folder the commune
then edits.
"""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from pipeline.core.errors import ConfigError
from pipeline.core.i18n import _, ngettext

__all__ = [
    "ENV_HOME",
    "InitResult",
    "bundled_templates",
    "chosen_project",
    "defaults_root",
    "init_project",
    "project_dir",
    "template_file",
    "use_project",
]

log = logging.getLogger(__name__)

ENV_HOME = "FIFTYFIFTY_HOME"
PACKAGED = "_defaults"
"""Folder inside the ``pipeline`` package where the wheel carries the defaults."""
_chosen: Path | None = None


def use_project(folder: str | os.PathLike[str] | None) -> None:
    """Choose the project folder for the rest of the process (the CLI's ``--project``)."""
    global _chosen
    _chosen = Path(folder).expanduser().absolute() if folder else None


def chosen_project() -> Path | None:
    """The folder :func:`use_project` chose, or ``None``."""
    return _chosen


def defaults_root() -> Path:
    """The folder holding the default ``conventions/`` and ``templates/``."""
    packaged: Traversable = resources.files("pipeline") / PACKAGED
    if packaged.is_dir():
        return Path(str(packaged))
    # A source checkout (or an editable install): the repository's own folders.
    source = Path(str(resources.files("pipeline"))).parent
    if (source / "conventions" / "commune.yaml").is_file():
        return source
    raise ConfigError(_("The default convention types are missing from this installation."),
                      hint=_("Reinstall fiftyfifty, or point --project at a commune folder."))


def project_dir() -> Path:
    """The project folder in use (see the module docstring for the order)."""
    if _chosen is not None:
        return _chosen
    home = os.environ.get(ENV_HOME)
    if home:
        return Path(home).expanduser().absolute()
    here = Path.cwd()
    if (here / "conventions" / "commune.yaml").is_file():
        return here
    return defaults_root()


def template_file(name: str) -> Path:
    """A Word template by file name: the project folder's own copy, else the default."""
    own = project_dir() / "templates" / name
    return own if own.is_file() else defaults_root() / "templates" / name


def bundled_templates() -> list[Path]:
    """The Word templates shipped with the package, by name."""
    return sorted((defaults_root() / "templates").glob("*.docx"))


@dataclass(frozen=True)
class InitResult:
    """What ``init`` created."""

    root: Path
    files: tuple[Path, ...]
    workspace: Path

    def to_dict(self) -> dict[str, object]:
        return {"root": str(self.root), "workspace": str(self.workspace),
                "files": [str(p.relative_to(self.root)) for p in self.files]}


def _default_files() -> list[tuple[Path, Path]]:
    """(source, path relative to a project folder) for every default file."""
    root = defaults_root()
    pairs = []
    for sub, pattern in (("conventions", "*.yaml"), ("conventions/examples", "*"),
                         ("templates", "*.docx")):
        for src in sorted((root / sub).glob(pattern)):
            if src.is_file() and not src.name.startswith("."):
                pairs.append((src, Path(sub) / src.name))
    return pairs


def init_project(folder: str | os.PathLike[str]) -> InitResult:
    """Create a commune's own editable folder from the defaults; never overwrite a file."""
    root = Path(folder).expanduser().absolute()
    pairs = _default_files()
    clashes = [rel for _, rel in pairs if (root / rel).exists()]
    if clashes:
        raise ConfigError(
            ngettext("{root} already holds {file}; nothing was changed.",
                     "{root} already holds {file} and {more} other files; nothing was changed.",
                     len(clashes)).format(root=root, file=clashes[0], more=len(clashes) - 1),
            hint=_("Choose a new folder, or edit the existing one."))
    created = []
    for src, rel in pairs:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, root / rel)
        created.append(root / rel)
    workspace = root / "workspace"
    workspace.mkdir(parents=True, exist_ok=True)
    log.info("project folder created at %s with %d files", root, len(created))
    return InitResult(root, tuple(created), workspace)
