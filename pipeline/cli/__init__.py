"""The ``fiftyfifty`` command line: a thin shell over the pipeline stages.

Each command parses its options, calls the library and picks the exit code:
0 all good; 1 records rejected or a verification failed; 2 usage error; 3 fatal.

Messages are French by default, English with ``--lang en`` (or ``LANG=en*``): the
language is read from the arguments before anything is parsed, so that the help itself
is in that language (see :mod:`pipeline.cli.localise`).
"""

from __future__ import annotations

import logging

import click

from pipeline.cli import intake_cmds, registry_cmds, run_cmd, sign_cmds, template_cmds
from pipeline.cli.localise import LocalisedGroup
from pipeline.core.i18n import LANGUAGES

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(cls=LocalisedGroup, context_settings=CONTEXT_SETTINGS)
@click.version_option(package_name="fiftyfifty")
@click.option("--verbose", "-v", is_flag=True, help="Show debug logs and tracebacks.")
@click.option("--lang", type=click.Choice(LANGUAGES), default=None,
              help="Language of the messages: fr (default) or en (also LANG=en_*).")
@click.pass_context
def main(ctx: click.Context, verbose: bool, lang: str | None) -> None:
    """Turn citizen-initiative intake forms into numbered, signed, archived conventions.

    \b
    Example:
      fiftyfifty run conventions/examples/*.json --workspace ws
    """
    del lang  # read before parsing, by LocalisedGroup
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

__all__ = ["main"]
