"""Where a workspace lives and what it holds."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ENV_VAR = "FIFTYFIFTY_WORKSPACE"


@dataclass(frozen=True)
class Workspace:
    """A workspace folder: the registry, the archive and the trust roots."""

    root: Path

    @classmethod
    def resolve(cls, given: str | os.PathLike[str] | None = None) -> Workspace:
        """``--workspace`` if given, else ``$FIFTYFIFTY_WORKSPACE``, else ``./workspace``."""
        raw = given if given else os.environ.get(ENV_VAR) or "workspace"
        return cls(Path(raw).expanduser().absolute())

    @property
    def registry_path(self) -> Path:
        return self.root / "registry.sqlite"

    @property
    def archive_dir(self) -> Path:
        return self.root / "archive"

    @property
    def trust_dir(self) -> Path:
        return self.root / "trust"

    @property
    def reports_dir(self) -> Path:
        return self.root / "reports"
