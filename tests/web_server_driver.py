"""The real server in its own process, for the crash tests.

Usage: ``python web_server_driver.py WORKSPACE PORT``. When the file ``WORKSPACE/KILL_AT``
names a kill point, the process SIGKILLs itself there (after deleting the file), as a
power cut would:

- ``before-archive``: the signature is made in memory, nothing is written yet;
- ``after-signature``: the signed PDF is archived and recorded, the invitation is still
  open and the evidence file not yet written.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pipeline.core.workspace import Workspace
from pipeline.signatures import workflow
from pipeline.signatures.online import journey
from pipeline.web.server import ServeOptions, serve


def _point(ws: Workspace, name: str, real: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        flag = ws.root / "KILL_AT"
        if flag.is_file() and flag.read_text().strip() == name:
            flag.unlink()
            os.kill(os.getpid(), signal.SIGKILL)
        return real(*args, **kwargs)
    return wrapper


def main() -> None:
    ws, port = Workspace(Path(sys.argv[1])), int(sys.argv[2])
    setattr(workflow, "add_files",  # noqa: B010 (a fault point patched in for the test)
            _point(ws, "before-archive", getattr(workflow, "add_files")))  # noqa: B009
    setattr(journey, "archive_evidence",  # noqa: B010
            _point(ws, "after-signature", getattr(journey, "archive_evidence")))  # noqa: B009
    serve(ws, ServeOptions(port=port))


if __name__ == "__main__":
    main()
