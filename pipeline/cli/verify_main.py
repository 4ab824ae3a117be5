"""``python -m pipeline.cli.verify_main``: the ``verify`` command alone (fast start-up, for
checks run under ``faketime``)."""

from __future__ import annotations

from pipeline.cli.verify_cmds import verify_command

if __name__ == "__main__":
    verify_command()
