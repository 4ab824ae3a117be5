"""The real server in its own process, for the crash tests.

Usage: ``python web_server_driver.py WORKSPACE PORT [WORKERS]``. The kill points of
:mod:`web_fault_points` are installed where signatures are made: in the server's own
process (``WORKERS`` 0, the default: the server itself dies) or in each of its ``WORKERS``
signing processes (only that process dies).
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

from web_fault_points import install_kill_points

from pipeline.core.workspace import Workspace
from pipeline.web.server import ServeOptions, serve


def main() -> None:
    ws, port = Workspace(Path(sys.argv[1])), int(sys.argv[2])
    workers = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    if workers == 0:
        install_kill_points(str(ws.root))
        serve(ws, ServeOptions(port=port, sign_workers=0))
    else:
        serve(ws, ServeOptions(port=port, sign_workers=workers,
                               worker_setup=functools.partial(install_kill_points,
                                                              str(ws.root))))


if __name__ == "__main__":
    main()
