"""``fiftyfifty amend ID INPUT`` and ``fiftyfifty amendment sign``: avenants."""

from __future__ import annotations

import os
from pathlib import Path

import click

from pipeline.catalogue.loader import Catalogue
from pipeline.cli.common import emit_json, get_workspace, guarded, json_option, workspace_option
from pipeline.cli.intake_cmds import catalogue_option
from pipeline.cli.lifecycle_opts import by_option, resolve
from pipeline.core.clock import today
from pipeline.core.errors import InputError
from pipeline.core.i18n import _
from pipeline.lifecycle.amendments import AmendRequest, produce_amendment, sign_amendment
from pipeline.signatures.pades import LEVELS


@click.command("amend")
@click.argument("convention_id")
@click.argument("source", metavar="INPUT", type=click.Path(dir_okay=False, path_type=Path))
@by_option
@catalogue_option
@workspace_option
@json_option
def amend_cmd(convention_id: str, source: Path, by: str | None, catalogue: str | None,
              workspace: str | None, as_json: bool) -> None:
    """Produce an amendment (avenant) <ID>_A1, _A2… from a changed record.

    The record is checked with the same rules as any intake; the amendment states what
    changes, article by article (amounts, dates, holders, payments, upkeep), with one
    signature field per signatory. Sign it with `fiftyfifty amendment sign`.

    \b
    Example:
      fiftyfifty amend FF_2026_001 skatepark-changed.json --workspace ws
    """
    with guarded():
        _day, author = resolve(None, by)
        amendment, changes, pdf = produce_amendment(
            get_workspace(workspace), Catalogue.load(catalogue),
            AmendRequest(convention_id, source, author), today=today())
        if as_json:
            emit_json({**amendment.to_dict(), "pdf": pdf})
            return
        click.echo(_("Amendment {id} produced: {pdf}").format(id=amendment.id, pdf=pdf))
        for ch in changes:
            click.echo(f"  {ch.heading} — {ch.label} : « {ch.before} » → « {ch.after} »")


@click.command("sign")
@click.argument("amendment_id")
@click.option("--signatory", required=True, help="Signatory key (holder-1, commune…).")
@click.option("--pkcs12", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              required=True, help="The signatory's PKCS#12 file.")
@click.option("--passphrase-env", metavar="VAR", required=True,
              help="Environment variable holding the passphrase.")
@click.option("--location", help="Place of signature.")
@click.option("--level", type=click.Choice(LEVELS), default=None,
              help="Signature level (default: the convention type's, else the commune's).")
@click.option("--timestamp-url", default=None, help="Timestamp authority (B-T and above).")
@by_option
@workspace_option
@json_option
def amendment_sign_cmd(amendment_id: str, signatory: str, pkcs12: Path, passphrase_env: str,
                       location: str | None, level: str | None, timestamp_url: str | None,
                       by: str | None, workspace: str | None, as_json: bool) -> None:
    """Sign an amendment, in the same signing order as the convention (commune last).

    \b
    Example:
      fiftyfifty amendment sign FF_2026_001_A1 --signatory commune --pkcs12 maire.p12 \\
        --passphrase-env FF_PASS --workspace ws
    """
    with guarded():
        value = os.environ.get(passphrase_env)
        if value is None:
            raise InputError(_("Environment variable {var} is not set.").format(
                var=passphrase_env))
        _day, author = resolve(None, by)
        result = sign_amendment(get_workspace(workspace), amendment_id, signatory,
                                pkcs12=pkcs12, passphrase=value.encode("utf-8"), by=author,
                                location=location, level=level,  # type: ignore[arg-type]
                                timestamp_url=timestamp_url)
        if as_json:
            emit_json(result.__dict__)
            return
        click.echo(_("{id} signed by {who}; still to sign: {rest}").format(
            id=result.amendment_id, who=result.signer,
            rest=", ".join(result.remaining) or _("nobody")))


def register(group: click.Group) -> None:
    """Add ``amend`` and ``amendment sign`` to ``group``."""
    group.add_command(amend_cmd)
    amendment = click.Group("amendment", help="Sign the amendments (avenants).\n\n\b\n"
                            "Example:\n  fiftyfifty amendment sign FF_2026_001_A1 "
                            "--signatory commune --pkcs12 maire.p12 --passphrase-env FF_PASS")
    amendment.add_command(amendment_sign_cmd)
    group.add_command(amendment)
