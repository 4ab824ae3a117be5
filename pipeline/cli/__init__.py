"""The ``fiftyfifty`` command line: a thin shell over the pipeline stages.

Each command parses its options, calls the library and picks the exit code:
0 all good; 1 records rejected or a verification failed; 2 usage error; 3 fatal.
"""

from __future__ import annotations

import logging

import click

from pipeline.cli import (
    intake_cmds,
    registry_cmds,
    run_cmd,
    sign_cmds,
    template_cmds,
    users_cmds,
)

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(context_settings=CONTEXT_SETTINGS)
@click.version_option(package_name="fiftyfifty")
@click.option("--verbose", "-v", is_flag=True, help="Show debug logs and tracebacks.")
@click.pass_context
def main(ctx: click.Context, verbose: bool) -> None:
    """Turn citizen-initiative intake forms into numbered, signed, archived conventions.

    \b
    Example:
      fiftyfifty run conventions/examples/*.json --workspace ws
    """
    ctx.ensure_object(dict)
    ctx.obj["verbose"] = verbose
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )


intake_cmds.register(main)
run_cmd.register(main)
registry_cmds.register(main)
sign_cmds.register(main)
template_cmds.register(main)
users_cmds.register(main)

__all__ = ["main"]
