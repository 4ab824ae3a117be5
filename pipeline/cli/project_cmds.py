"""``fiftyfifty init``: a commune's own folder of convention types and templates."""

from __future__ import annotations

from pathlib import Path

import click

from pipeline.catalogue.project import init_project
from pipeline.cli.common import EXIT_OK, emit_json, guarded, json_option
from pipeline.core.i18n import _, ngettext


@click.command("init")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@json_option
def init_cmd(folder: Path, as_json: bool) -> None:
    """Create a commune's own folder of types and templates.

    FOLDER receives conventions/ (the convention types, the commune profile to edit with
    the commune's name, SIRET and mayor, and examples/), templates/ (the Word templates)
    and an empty workspace/. Commands then use it when given --project FOLDER, when
    $FIFTYFIFTY_HOME names it, or when run from inside it. Existing files are never
    overwritten.

    \b
    Example:
      fiftyfifty init ~/mairie && cd ~/mairie && fiftyfifty validate conventions/examples/*
    """
    with guarded():
        result = init_project(folder)
    if as_json:
        emit_json(result.to_dict())
    else:
        click.echo(ngettext("Created {folder} ({n} file).", "Created {folder} ({n} files).",
                            len(result.files)).format(folder=result.root, n=len(result.files)))
        click.echo(_("Edit {profile} first: the commune's name, SIRET and mayor.").format(
            profile=result.root / "conventions" / "commune.yaml"))
    raise SystemExit(EXIT_OK)


def register(group: click.Group) -> None:
    """Add ``init`` to the ``fiftyfifty`` group."""
    group.add_command(init_cmd)


__all__ = ["init_cmd", "register"]
