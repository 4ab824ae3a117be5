"""Commands ``sign`` and ``sign-batch``: a thin shell over the signing workflow.

The key comes from a PKCS#12 file (``--pkcs12``, passphrase from ``--passphrase-env`` or a
hidden prompt) or a PKCS#11 token such as the mayor's smart card (``--pkcs11-module``,
``--token-label``, PIN from ``--pin-env`` or a hidden prompt). Secrets are never arguments.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import click

from pipeline.cli.common import emit_json, get_workspace, guarded, json_option, workspace_option
from pipeline.cli.demo_pki_cmds import demo_pki_command, demo_pki_serve_command
from pipeline.cli.trust_cmds import renew_timestamps_command, trust_group
from pipeline.cli.verify_cmds import verify_command
from pipeline.core.errors import InputError
from pipeline.core.i18n import _, ngettext
from pipeline.lifecycle.statuses import status_label
from pipeline.signatures.batch import sign_batch, waiting_for
from pipeline.signatures.credentials import Credential, Pkcs11Credential, Pkcs12Credential
from pipeline.signatures.pades import LEVELS
from pipeline.signatures.workflow import (
    ConventionSignature,
    SignRequest,
    record_scan,
    sign_convention,
)

F = TypeVar("F", bound=Callable[..., Any])


def _secret(env_var: str | None, prompt: str) -> str:
    """From the named environment variable, else a hidden prompt; never an argument."""
    if env_var:
        value = os.environ.get(env_var)
        if value is None:
            raise InputError(f"Environment variable {env_var} is not set.")
        return value
    return str(click.prompt(prompt, hide_input=True, err=True))


def key_options(func: F) -> F:
    """The options choosing the signing key and the level (shared by sign, sign-batch)."""
    options = [
        click.option("--pkcs12", type=click.Path(dir_okay=False, exists=True, path_type=Path),
                     help="The signer's certificate and key (.p12/.pfx)."),
        click.option("--passphrase-env", metavar="VAR",
                     help="Environment variable holding the PKCS#12 passphrase "
                     "(else a hidden prompt)."),
        click.option("--pkcs11-module", type=click.Path(dir_okay=False, exists=True,
                                                        path_type=Path),
                     help="PKCS#11 library of the smart card or token."),
        click.option("--token-label", metavar="LABEL", help="Label of the token to use."),
        click.option("--key-label", metavar="LABEL",
                     help="Label of the key and certificate on the token (default: the "
                     "only one)."),
        click.option("--pin-env", metavar="VAR",
                     help="Environment variable holding the token PIN (else a hidden prompt)."),
        click.option("--level", type=click.Choice(LEVELS),
                     help="PAdES level (default: signing.level of the convention type or "
                     "commune profile, else B-LTA)."),
        click.option("--timestamp-url", metavar="URL",
                     help="RFC 3161 timestamp authority (default: signing.timestamp_url)."),
        click.option("--trust", "trust", multiple=True,
                     type=click.Path(dir_okay=False, exists=True, path_type=Path),
                     help="Extra trust root for this signature (besides the workspace's)."),
        click.option("--reason", help="Reason recorded in the signature."),
        click.option("--location", help="Place recorded in the signature."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def credential_from(options: dict[str, Any]) -> Credential:
    """The credential the options name: a PKCS#12 file or a PKCS#11 token."""
    if options["pkcs12"] and options["pkcs11_module"]:
        raise click.UsageError("Choose --pkcs12 or --pkcs11-module, not both.")
    if options["pkcs11_module"]:
        if not options["token_label"]:
            raise click.UsageError("--pkcs11-module needs --token-label.")
        return Pkcs11Credential(options["pkcs11_module"], options["token_label"],
                                _secret(options["pin_env"], "PIN"), options["key_label"])
    if not options["pkcs12"]:
        raise click.UsageError("--pkcs12 FILE or --pkcs11-module LIB is required to sign.")
    return Pkcs12Credential(options["pkcs12"], _secret(
        options["passphrase_env"], "PKCS#12 passphrase").encode("utf-8"))


def request_for(convention_id: str, signatory: str, options: dict[str, Any]) -> SignRequest:
    return SignRequest(
        convention_id=convention_id, signatory=signatory, level=options["level"],
        timestamp_url=options["timestamp_url"], reason=options["reason"],
        location=options["location"], extra_trust=tuple(options["trust"]),
    )


def _payload(done: ConventionSignature) -> dict[str, Any]:
    return {
        "convention": done.convention_id, "signatory": done.signatory, "signer": done.signer,
        "document": done.document.relpath, "sha256": done.document.sha256,
        "level": done.level, "status": done.status, "remaining": list(done.remaining),
        "warnings": list(done.warnings),
    }


def _record_scan(workspace: str | None, convention_id: str, options: dict[str, Any]
                 ) -> dict[str, Any]:
    if options["signed_on"] is None:
        raise click.UsageError("--scan needs --signed-on DATE.")
    if options["signatory"] or options["pkcs12"] or options["pkcs11_module"]:
        raise click.UsageError("--scan records a paper original: no --signatory or key.")
    signed_on: date = options["signed_on"].date()
    record = record_scan(get_workspace(workspace), convention_id, options["scan"], signed_on,
                         unchecked_reason=options["unchecked_scan"])
    return {
        "convention": record.convention_id, "mode": "handwritten",
        "document": record.document.relpath, "sha256": record.document.sha256,
        "signed_on": record.signed_on.isoformat(), "status": "signed",
        "signatories": list(record.signatories),
    }


@click.command("sign")
@click.argument("convention_id")
@click.option("--signatory", metavar="KEY", help="Who signs: holder-1, guardian-1, commune…")
@key_options
@click.option("--scan", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Record this scan of the wet-ink signed convention instead.")
@click.option("--signed-on", type=click.DateTime(["%Y-%m-%d"]),
              help="With --scan: the date written on the paper original (YYYY-MM-DD).")
@click.option("--unchecked-scan", metavar="REASON",
              help="With --scan: accept a scan whose QR code cannot be read, for this reason.")
@workspace_option
@json_option
def sign_command(convention_id: str, workspace: str | None, as_json: bool,
                 **options: Any) -> None:
    """Sign a convention for one signatory, or record its signed paper original.

    Electronic: PAdES signature of the latest version into the signatory's field, as a
    new archived version. The certificate must name the signatory (for the commune: the
    mayor or a deputy with a delegation in the commune profile) and chain to a trust
    root of the workspace; it is checked for revocation. Holders and guardians sign
    first, in any order; the commune signs last. A scan must carry the convention's QR
    code on page 1.

    \b
    Example:
      FF_PASS=... fiftyfifty sign FF_2026_001 --signatory holder-1 \\
          --pkcs12 holder-1.p12 --passphrase-env FF_PASS --workspace ws
      fiftyfifty sign FF_2026_001 --signatory commune \\
          --pkcs11-module /usr/lib/x86_64-linux-gnu/opensc-pkcs11.so --token-label Maire
      fiftyfifty sign FF_2026_001 --scan original.pdf --signed-on 2026-12-03
    """
    with guarded():
        if options["scan"] is not None:
            payload = _record_scan(workspace, convention_id, options)
            if as_json:
                emit_json(payload)
            else:
                click.echo(_("{id}: paper original recorded as {document} (sha256 {sha256}),"
                             " signed on {day}; status signed.").format(
                    id=convention_id, document=payload["document"], sha256=payload["sha256"],
                    day=payload["signed_on"]))
            return
        if not options["signatory"]:
            raise click.UsageError("--signatory is required to sign electronically.")
        with credential_from(options).open() as opened:
            done = sign_convention(get_workspace(workspace), request_for(
                convention_id, options["signatory"], options), opened)
        for warning in done.warnings:
            click.echo(_("Warning: {warning}").format(warning=warning), err=True)
        payload = _payload(done)
        if as_json:
            emit_json(payload)
            return
        left = ", ".join(payload["remaining"]) or _("nobody")
        click.echo(_("{id}: signed by {signer} ({key}, PAdES {level}) -> {document}").format(
            id=convention_id, signer=payload["signer"], key=payload["signatory"],
            level=payload["level"], document=payload["document"]))
        click.echo(_("  status {status}; still to sign: {left}").format(
            status=status_label(payload["status"]), left=left))


@click.command("sign-batch")
@click.option("--signatory", metavar="KEY", default="commune", show_default=True,
              help="Sign every convention whose next expected signatory is KEY.")
@key_options
@workspace_option
@json_option
def sign_batch_command(signatory: str, workspace: str | None, as_json: bool,
                       **options: Any) -> None:
    """Sign, after one PIN entry, every convention waiting for one signatory.

    For the mayor's smart card: opens the token once, then signs each convention whose
    next expected signatory is KEY, with a progress bar. The first failure stops the
    batch; what was signed stays signed and nothing is half-written, so running the same
    command again continues where it stopped.

    \b
    Example:
      fiftyfifty sign-batch --signatory commune \\
          --pkcs11-module /usr/lib/x86_64-linux-gnu/opensc-pkcs11.so --token-label Maire
    """
    with guarded():
        ws = get_workspace(workspace)
        todo = waiting_for(ws, signatory)
        done: list[dict[str, Any]] = []
        if todo:
            bar_out = sys.stderr
            with credential_from(options).open() as opened, click.progressbar(
                    length=len(todo), label="Signing", file=bar_out) as bar:
                def progress(result: ConventionSignature) -> None:
                    done.append(_payload(result))
                    bar.update(1)

                sign_batch(ws, todo, request_for("", signatory, options), opened, progress)
        if as_json:
            emit_json({"signatory": signatory, "signed": done, "count": len(done)})
            return
        for item in done:
            click.echo(_("{id}: signed ({level}) -> {document}").format(
                id=item["convention"], level=item["level"], document=item["document"]))
        click.echo(ngettext("{n} convention signed for {key}.",
                            "{n} conventions signed for {key}.", len(done)).format(
            n=len(done), key=signatory))


def register(group: click.Group) -> None:
    """Add the signing commands to the ``fiftyfifty`` group."""
    for command in (sign_command, sign_batch_command, verify_command, demo_pki_command,
                    demo_pki_serve_command, trust_group):
        group.add_command(command)
    archive = group.commands.get("archive")
    if isinstance(archive, click.Group):
        archive.add_command(renew_timestamps_command)


__all__ = ["credential_from", "key_options", "register"]
