"""Shared options and the one place where library errors become messages and exit codes."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click

from pipeline.core.errors import PipelineError
from pipeline.core.i18n import _
from pipeline.core.workspace import Workspace

F = TypeVar("F", bound=Callable[..., Any])
log = logging.getLogger("fiftyfifty")

EXIT_OK, EXIT_REJECTED, EXIT_USAGE, EXIT_FATAL = 0, 1, 2, 3


def shown_path(path: Path | str) -> str:
    """``path`` as the clerk can use it from where the command was typed: relative to the
    current folder when it lies inside it, else absolute."""
    full = Path(path).absolute()
    try:
        return str(full.relative_to(Path.cwd()))
    except ValueError:
        return str(full)


def workspace_option(func: F) -> F:
    """``--workspace DIR`` (else ``$FIFTYFIFTY_WORKSPACE``, else ``./workspace``)."""
    return click.option(
        "--workspace", "-w", "workspace",
        type=click.Path(file_okay=False), default=None,
        help="Workspace folder (default: $FIFTYFIFTY_WORKSPACE, else ./workspace).",
    )(func)


def json_option(func: F) -> F:
    """``--json``: one JSON document on stdout, nothing else there."""
    return click.option(
        "--json", "as_json", is_flag=True, help="Print one JSON document on stdout."
    )(func)


def get_workspace(given: str | None) -> Workspace:
    return Workspace.resolve(given)


def emit_json(payload: Any) -> None:
    click.echo(json.dumps(payload, ensure_ascii=False, indent=2, default=str))


def verbose_enabled() -> bool:
    ctx = click.get_current_context(silent=True)
    while ctx is not None:
        if ctx.obj and isinstance(ctx.obj, dict) and ctx.obj.get("verbose"):
            return True
        ctx = ctx.parent
    return False


@contextmanager
def guarded() -> Iterator[None]:
    """Turn a :class:`PipelineError` into a message on stderr and its exit code."""
    try:
        yield
    except PipelineError as exc:
        if verbose_enabled():
            log.exception("fatal")
        click.echo(_("Error: {message}").format(message=_(exc.msg)), err=True)
        if exc.hint:
            click.echo(_(exc.hint), err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo(_("Interrupted."), err=True)
        sys.exit(130)
    except (click.exceptions.Exit, click.ClickException, SystemExit):
        raise
    except OSError as exc:
        if verbose_enabled():
            log.exception("fatal")
        where = f" ({shown_path(exc.filename)})" if getattr(exc, "filename", None) else ""
        click.echo(_("Error: {message}").format(message=f"{exc.strerror or exc}{where}"),
                   err=True)
        sys.exit(EXIT_FATAL)
    except Exception as exc:
        if verbose_enabled():
            raise
        click.echo(_("Error: unexpected failure ({kind}: {detail}). Run again with --verbose "
                     "for details.").format(kind=type(exc).__name__, detail=exc), err=True)
        sys.exit(EXIT_FATAL)
