"""The ``fiftyfifty`` command line: a thin shell over the pipeline stages.

Each command parses its options, calls the library and picks the exit code:
0 all good; 1 records rejected or a verification failed; 2 usage error; 3 fatal.
Commands are imported only when used (:mod:`pipeline.cli.lazy`), so ``--help`` is instant.

Messages are French by default, English with ``--lang en`` (or ``LANG=en*``): the
language is read from the arguments before anything is parsed, so that the help itself
is in that language (see :mod:`pipeline.cli.localise`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import click

from pipeline.cli.lazy import LazyEntry, LazyGroup
from pipeline.cli.localise import LocalisedGroup, localise
from pipeline.core.i18n import LANGUAGES, _

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}

COMMANDS: dict[str, LazyEntry] = {
    "amend": LazyEntry(("amend_cmds",), "Produce an amendment (avenant) to a convention."),
    "amendment": LazyEntry(("amend_cmds",), "Sign the amendments (avenants)."),
    "archive": LazyEntry(("registry_cmds", "export_cmds", "sign_cmds"),
                         "Check the archive, hand it over to the archive service."),
    "ca": LazyEntry(("web_cmds",), "The workspace's signing authority for online signatures."),
    "calendar": LazyEntry(("upkeep_cmds",), "Write the upkeep calendar (iCalendar)."),
    "cancel": LazyEntry(("lifecycle_cmds",), "Cancel a convention before it is signed."),
    "checks": LazyEntry(("upkeep_cmds",), "Record the commune's upkeep checks."),
    "demo-pki": LazyEntry(("sign_cmds",), "Create a throw-away CA and one PKCS#12 per signatory."),
    "demo-pki-serve": LazyEntry(("sign_cmds",), "Serve a demo PKI's timestamps, OCSP and CRLs."),
    "due": LazyEntry(("upkeep_cmds",), "List what falls due: upkeep, payments, reviews."),
    "init": LazyEntry(("project_cmds",), "Create a commune's own folder of types and templates."),
    "invite": LazyEntry(("web_cmds",), "E-mail each signatory a personal link to sign online."),
    "intake-template": LazyEntry(("intake_cmds",), "Write an empty intake form to fill in."),
    "opendata": LazyEntry(("publish_cmds",), "Publish the commune's data in open formats."),
    "registry": LazyEntry(("registry_cmds",), "Look into the conventions registry."),
    "remind": LazyEntry(("upkeep_cmds",), "E-mail each holder what falls due."),
    "report": LazyEntry(("publish_cmds",), "Write the scheme's yearly report (PDF/A)."),
    "run": LazyEntry(("run_cmd",), "Produce numbered, stamped PDF conventions ready to sign."),
    "schema": LazyEntry(("intake_cmds",), "JSON Schemas of the intake and the catalogue files."),
    "serve": LazyEntry(("web_cmds",), "Run the signing website and the back-office."),
    "sign": LazyEntry(("sign_cmds",), "Sign a convention for one signatory, or record its scan."),
    "sign-batch": LazyEntry(("sign_cmds",), "Sign every convention waiting for one signatory."),
    "templates": LazyEntry(("template_cmds",), "Work with the Word templates of the conventions."),
    "terminate": LazyEntry(("lifecycle_cmds",), "End a signed convention early."),
    "trust": LazyEntry(("sign_cmds",), "Manage the workspace's trust roots."),
    "users": LazyEntry(("users_cmds",), "Manage the back-office accounts."),
    "validate": LazyEntry(("intake_cmds",), "Check intake files without producing anything."),
    "verify": LazyEntry(("sign_cmds",), "Verify every signature of a convention or a PDF."),
    "works": LazyEntry(("lifecycle_cmds",), "Record the works of a signed convention."),
}
"""Every top-level command: the modules that register it and its line in ``--help``."""


class RootGroup(LocalisedGroup, LazyGroup):
    """Commands loaded on demand; while a command line runs, each command loaded is given
    its help in the clerk's language (outside a run, the tree stays as written)."""

    _running = False

    def main(self, *args: Any, **kwargs: Any) -> Any:
        from pipeline.catalogue.project import chosen_project, use_project

        self._running = True
        project = chosen_project()
        try:
            return super().main(*args, **kwargs)
        finally:  # as found, for whoever runs a command next in this process (tests)
            self._running = False
            use_project(project)

    def _load(self, modules: Sequence[str]) -> None:
        super()._load(modules)
        if self._running:
            localise(self)

    def load_all(self) -> None:
        """Import every command (for the documentation and the message catalogs)."""
        for entry in COMMANDS.values():
            self._load(entry.modules)


@click.group(cls=RootGroup, entries=COMMANDS, translate=_, context_settings=CONTEXT_SETTINGS)
@click.version_option(package_name="fiftyfifty")
@click.option("--verbose", "-v", is_flag=True, help="Show debug logs and tracebacks.")
@click.option("--lang", type=click.Choice(LANGUAGES), default=None,
              help="Language of the messages: fr (default) or en (also LANG=en_*).")
@click.option("--project", "-p", type=click.Path(file_okay=False), default=None,
              help="The commune's folder of conventions/ and templates/ (default: "
              "$FIFTYFIFTY_HOME, else the current folder if it has one, else the defaults).")
@click.pass_context
def main(ctx: click.Context, verbose: bool, lang: str | None, project: str | None) -> None:
    """Turn citizen-initiative intake forms into numbered, signed, archived conventions.

    \b
    Example:
      fiftyfifty run conventions/examples/*.json --workspace ws
    """
    del lang  # read before parsing, by LocalisedGroup
    ctx.ensure_object(dict)
    ctx.obj["verbose"] = verbose
    if project:
        from pipeline.catalogue.project import use_project

        use_project(project)
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )


__all__ = ["COMMANDS", "RootGroup", "main"]
