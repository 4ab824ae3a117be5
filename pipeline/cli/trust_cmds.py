"""Commands ``trust add|list|remove`` (the workspace's roots) and
``archive renew-timestamps``."""

from __future__ import annotations

import getpass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import click

from pipeline.catalogue.loader import Catalogue
from pipeline.cli.common import emit_json, get_workspace, guarded, json_option, workspace_option
from pipeline.core.i18n import _, ngettext
from pipeline.signatures.renew import renew_timestamps
from pipeline.signatures.trust import add_root, list_roots, remove_root


def _actor() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "fiftyfifty"


@click.group("trust")
def trust_group() -> None:
    """Manage the certification authorities the workspace trusts.

    A signature is accepted only when its certificate chains to one of these roots;
    every change is recorded in the registry's event log.

    \b
    Example:
      fiftyfifty trust add autorite-racine.pem --workspace ws
    """


@trust_group.command("add")
@click.argument("certificate", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@workspace_option
@json_option
def trust_add(certificate: Path, workspace: str | None, as_json: bool) -> None:
    """Trust the certification authority in CERTIFICATE (PEM or DER).

    \b
    Example:
      fiftyfifty trust add autorite-racine.pem --workspace ws
    """
    with guarded():
        added = add_root(get_workspace(workspace), certificate, actor=_actor())
        if as_json:
            emit_json({"added": [r.to_dict() for r in added]})
            return
        for root in added:
            click.echo(_("Trusted: {subject} (SHA-256 {fingerprint}…)").format(
                subject=root.subject, fingerprint=root.fingerprint[:16]))
        if not added:
            click.echo(_("Already trusted: nothing changed."))


@trust_group.command("list")
@workspace_option
@json_option
def trust_list(workspace: str | None, as_json: bool) -> None:
    """List the trusted roots: subject, fingerprint and expiry.

    \b
    Example:
      fiftyfifty trust list --workspace ws --json
    """
    with guarded():
        roots = list_roots(get_workspace(workspace))
        if as_json:
            emit_json({"roots": [r.to_dict() for r in roots]})
            return
        if not roots:
            click.echo(_("No trust root: add one with 'fiftyfifty trust add CA.pem'."))
        for root in roots:
            click.echo(_("{fingerprint}  {subject}  (valid until {end})").format(
                fingerprint=root.fingerprint[:16], subject=root.subject,
                end=f"{root.not_after:%Y-%m-%d}"))


@trust_group.command("remove")
@click.argument("fingerprint")
@workspace_option
@json_option
def trust_remove(fingerprint: str, workspace: str | None, as_json: bool) -> None:
    """Stop trusting the root whose SHA-256 starts with FINGERPRINT (8+ characters).

    \b
    Example:
      fiftyfifty trust remove 3f2a9c01d4e5b6a7 --workspace ws
    """
    with guarded():
        root = remove_root(get_workspace(workspace), fingerprint, actor=_actor())
        if as_json:
            emit_json({"removed": root.to_dict()})
            return
        click.echo(_("No longer trusted: {subject}").format(subject=root.subject))


@click.command("renew-timestamps")
@click.option("--before", type=click.DateTime(["%Y-%m-%d"]),
              help="Renew when the last timestamp's authority expires before this date "
              "(default: two years from today).")
@click.option("--timestamp-url", metavar="URL",
              help="Timestamp authority (default: signing.timestamp_url of the profile).")
@workspace_option
@json_option
def renew_timestamps_command(before: datetime | None, timestamp_url: str | None,
                             workspace: str | None, as_json: bool) -> None:
    """Add a new archive timestamp to signed conventions whose last one expires soon.

    \b
    Example:
      fiftyfifty archive renew-timestamps --before 2031-01-01 --workspace ws
    """
    with guarded():
        limit: date = before.date() if before else (datetime.now(UTC) + timedelta(
            days=730)).date()
        url = timestamp_url or Catalogue.load().profile.signing.timestamp_url
        done = renew_timestamps(get_workspace(workspace), before=limit, timestamp_url=url,
                                actor=_actor())
        if as_json:
            emit_json({"renewed": [{"convention": r.convention_id, "document": r.document,
                                    "previous_expiry": r.expired_on.isoformat()
                                    if r.expired_on else None} for r in done]})
            return
        for item in done:
            click.echo(_("{id}: new archive timestamp -> {document}").format(
                id=item.convention_id, document=item.document))
        click.echo(ngettext("{n} convention renewed.", "{n} conventions renewed.",
                            len(done)).format(n=len(done)))


__all__ = ["renew_timestamps_command", "trust_group"]
