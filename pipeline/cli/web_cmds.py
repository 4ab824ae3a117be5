"""Commands ``serve``, ``invite`` and ``ca init``: signing online, a thin shell."""

from __future__ import annotations

import os
import re
from datetime import timedelta

import click

from pipeline.cli.common import emit_json, get_workspace, guarded, json_option, workspace_option
from pipeline.core.errors import InputError
from pipeline.core.i18n import _
from pipeline.core.settings import load_settings
from pipeline.signatures.online.invite import DEFAULT_EXPIRY, InviteRequest, invite
from pipeline.signatures.signing_ca import DEFAULT_PASSPHRASE_ENV, TRUST_FILE, init_signing_ca

__all__ = ["parse_duration", "register"]

_DURATION = re.compile(r"^\s*(\d{1,4})\s*([mhd])\s*$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def parse_duration(text: str) -> timedelta:
    """``14d``, ``48h``, ``30m`` as a timedelta."""
    found = _DURATION.match(text or "")
    if not found:
        raise click.BadParameter(_("{value!r}: expected a number and d, h or m (e.g. 14d).")
                                 .format(value=text))
    return timedelta(**{_UNITS[found.group(2)]: int(found.group(1))})


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (keep loopback behind a reverse proxy).")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(1, 65535),
              help="TCP port.")
@workspace_option
def serve_command(host: str, port: int, workspace: str | None) -> None:
    """Run the web server where inhabitants sign online (behind an HTTPS reverse proxy).

    Refuses to start while the settings file lacks base_url or smtp, the SMTP password
    variable is unset, or the workspace has no signing CA (fiftyfifty ca init).

    \b
    Example:
      FIFTYFIFTY_CA_PASSPHRASE=... fiftyfifty serve --workspace ws --port 8080
    """
    from pipeline.web.server import ServeOptions, serve

    with guarded():
        ws = get_workspace(workspace)
        click.echo(_("Serving {ws} on http://{host}:{port} (Ctrl+C to stop).").format(
            ws=ws.root, host=host, port=port), err=True)
        serve(ws, ServeOptions(host=host, port=port))


@click.command("invite")
@click.argument("convention_id")
@click.option("--signatory", metavar="KEY", help="Only this signatory (holder-1, commune…).")
@click.option("--expires", default="14d", show_default=True, metavar="DURATION",
              help="Validity of the link: 14d, 48h, 30m…")
@click.option("--resend", is_flag=True, help="Send a new link; the previous one stops working.")
@click.option("--revoke", is_flag=True, help="Close the active link(s); send nothing.")
@workspace_option
@json_option
def invite_command(convention_id: str, signatory: str | None, expires: str, resend: bool,
                   revoke: bool, workspace: str | None, as_json: bool) -> None:
    """E-mail each signatory who may sign now a personal link to sign online.

    Holders first (together), the commune's representative once every holder has
    signed. Each link expires and works until its signatory signs or declines.

    \b
    Example:
      fiftyfifty invite FF_2026_001 --expires 14d --workspace ws
      fiftyfifty invite FF_2026_001 --signatory holder-1 --resend --workspace ws
    """
    with guarded():
        if resend and revoke:
            raise click.UsageError(_("--resend and --revoke cannot be combined."))
        ws = get_workspace(workspace)
        outcome = invite(ws, load_settings(ws), InviteRequest(
            convention_id=convention_id, signatory=signatory,
            expires=parse_duration(expires) if expires else DEFAULT_EXPIRY,
            resend=resend, revoke=revoke))
        if as_json:
            emit_json(outcome.to_dict())
            return
        labels = {"sent": _("invitation sent"), "resent": _("new link sent"),
                  "revoked": _("link revoked"), "skipped": _("nothing sent")}
        if not outcome.invited:
            click.echo(_("{id}: no active link to revoke.").format(id=convention_id))
        for item in outcome.invited:
            extra = f" ({item.note})" if item.note else ""
            until = (" " + _("until {date}").format(
                date=item.expires_at[:16].replace("T", " ") + " UTC")
                     if item.expires_at and item.action in ("sent", "resent") else "")
            click.echo(f"{convention_id}: {item.signatory} {item.name}: "
                       f"{labels[item.action]}{until}{extra}")


@click.group("ca")
def ca_group() -> None:
    """The workspace's signing CA for online signatures.

    \b
    Example:
      fiftyfifty ca init --commune Loos-en-Gohelle --workspace ws
    """


@ca_group.command("init")
@click.option("--commune", required=True, help="The commune's name, in its certificates.")
@click.option("--passphrase-env", default=DEFAULT_PASSPHRASE_ENV, show_default=True,
              metavar="VAR", help="Environment variable holding the CA's passphrase.")
@workspace_option
@json_option
def ca_init_command(commune: str, passphrase_env: str, workspace: str | None,
                    as_json: bool) -> None:
    """Create the signing CA and the commune's seal; trust the CA in this workspace.

    The CA issues a one-time certificate to each inhabitant who signs online; the seal
    seals the evidence files. Keys are encrypted with the passphrase from --passphrase-env.

    \b
    Example:
      FIFTYFIFTY_CA_PASSPHRASE=... fiftyfifty ca init --commune Loos-en-Gohelle -w ws
    """
    with guarded():
        value = os.environ.get(passphrase_env)
        if not value:
            raise InputError(_("Set the passphrase in the environment variable {var} first.")
                             .format(var=passphrase_env))
        ws = get_workspace(workspace)
        ca = init_signing_ca(ws, commune, value.encode("utf-8"), passphrase_env=passphrase_env)
        trust = ws.trust_dir / TRUST_FILE
        if as_json:
            emit_json({"folder": str(ca.folder), "trust_root": str(trust),
                       "seal": str(ca.seal_pkcs12), "commune": commune})
            return
        click.echo(_("Signing CA created in {folder}; its root is trusted ({trust}).").format(
            folder=ca.folder, trust=trust))
        click.echo(_("Commune's seal: {seal}").format(seal=ca.seal_pkcs12))


def register(group: click.Group) -> None:
    """Add ``serve``, ``invite`` and ``ca init`` to the command group."""
    group.add_command(serve_command)
    group.add_command(invite_command)
    group.add_command(ca_group)
