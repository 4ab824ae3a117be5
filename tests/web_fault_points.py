"""Fault points for the signing processes of the web server, installed in each worker
when it starts (``SignWorkers(setup=functools.partial(install_kill_points, root))``) or
in the server's own process; importable by the spawned workers (the tests' folder is on
their path).

- :func:`install_kill_points`: when the file ``ROOT/KILL_AT`` names a point, the process
  SIGKILLs itself there (after deleting the file), as a power cut would:
  ``before-archive`` (the signature is made in memory, nothing is written yet) or
  ``after-signature`` (the signed PDF is archived and recorded, the invitation is still
  open and the evidence file not yet written).
- :func:`install_gate`: every online signature waits until the file ``gate`` exists (a
  slow signature, so that a second click surely comes while the first is being made).
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pipeline.signatures import workflow
from pipeline.signatures.online import journey

__all__ = ["install_gate", "install_kill_points"]


def _point(root: Path, name: str, real: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        flag = root / "KILL_AT"
        if flag.is_file() and flag.read_text().strip() == name:
            flag.unlink()
            os.kill(os.getpid(), signal.SIGKILL)
        return real(*args, **kwargs)
    return wrapper


def install_kill_points(root: str) -> None:
    """The two kill points, for the workspace at ``root``."""
    ws = Path(root)
    setattr(workflow, "add_files",  # noqa: B010 (a fault point patched in for the test)
            _point(ws, "before-archive", getattr(workflow, "add_files")))  # noqa: B009
    setattr(journey, "archive_evidence",  # noqa: B010
            _point(ws, "after-signature", getattr(journey, "archive_evidence")))  # noqa: B009


def install_gate(gate: str) -> None:
    """Online signatures wait (up to a minute) for the file ``gate``."""
    real = journey.sign

    def waiting(*args: Any, **kwargs: Any) -> Any:
        deadline = time.monotonic() + 60
        while not Path(gate).exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        return real(*args, **kwargs)

    setattr(journey, "sign", waiting)  # noqa: B010
