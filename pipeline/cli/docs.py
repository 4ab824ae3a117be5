"""The CLI reference of the README, generated from ``--help`` so the two never drift."""

from __future__ import annotations

from collections.abc import Iterator

import click

START = "<!-- cli-reference:start -->"
END = "<!-- cli-reference:end -->"


def walk(group: click.Group, prefix: str = "fiftyfifty") -> Iterator[tuple[str, click.Command]]:
    """Every command under ``group`` with its full name, depth first, sorted."""
    ctx = click.Context(group, info_name=prefix)
    for name in sorted(group.list_commands(ctx)):
        cmd = group.get_command(ctx, name)
        if cmd is None or cmd.hidden:
            continue
        full = f"{prefix} {name}"
        if isinstance(cmd, click.Group):
            yield from walk(cmd, full)
        else:
            yield full, cmd


def help_text(full: str, cmd: click.Command) -> str:
    """``full --help`` as the command line prints it (``-h, --help``, 100 columns)."""
    root = click.Context(click.Group("fiftyfifty"), info_name="fiftyfifty",
                         help_option_names=["-h", "--help"])
    ctx = click.Context(cmd, info_name=full, parent=root, terminal_width=100,
                        max_content_width=100)
    return cmd.get_help(ctx)


def reference(group: click.Group) -> str:
    """The markdown block between the README's markers, in the current language (French
    unless asked otherwise: ``--lang en`` help is the English of the code)."""
    from pipeline.cli.localise import click_speaks, localise, restore
    from pipeline.core.i18n import current_language

    load_all = getattr(group, "load_all", None)
    if load_all is not None:  # the lazy root group: every command, before translating
        load_all()
    localise(group)
    parts = [START, ""]
    try:
        with click_speaks(current_language()):
            for full, cmd in walk(group):
                parts += [f"### `{full}`", "", "```text", help_text(full, cmd), "```", ""]
    finally:
        restore(group)
    parts.append(END)
    return "\n".join(parts)


def replace_reference(readme: str, group: click.Group) -> str:
    """``readme`` with its reference block regenerated."""
    head, _, rest = readme.partition(START)
    _, _, tail = rest.partition(END)
    return head + reference(group) + tail


def main() -> None:
    """Regenerate the README's CLI reference in place (``make docs``)."""
    from pathlib import Path

    from pipeline.cli import main as cli

    path = Path(__file__).resolve().parents[2] / "README.md"
    path.write_text(replace_reference(path.read_text(encoding="utf-8"), cli), encoding="utf-8")


if __name__ == "__main__":
    main()
