"""Commands ``sign``, ``verify`` and ``demo-pki``: a thin shell over the signing stages."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import click

from pipeline.cli.common import (
    EXIT_OK,
    EXIT_REJECTED,
    emit_json,
    get_workspace,
    guarded,
    json_option,
    verbose_enabled,
    workspace_option,
)
from pipeline.cli.evidence_view import print_evidence
from pipeline.core.errors import InputError
from pipeline.records.registry import is_valid_convention_id
from pipeline.signatures.demo_pki import CA_NAME, create_demo_pki
from pipeline.signatures.online.evidence import verify_evidence
from pipeline.signatures.verify import VerifyReport, verify_pdf
from pipeline.signatures.workflow import record_scan, sign_convention, verify_convention

DEFAULT_ROLES: tuple[tuple[str, str], ...] = (
    ("holder-1", "Camille Dupré"),
    ("holder-2", "Léa Martin"),
    ("guardian-1", "Sophie Lefèbvre"),
    ("commune", "Jean-François Maëlle"),
)
"""Roles ``demo-pki`` makes when none is given (accented names, to exercise fonts)."""
_TRUST_SUFFIXES = (".pem", ".crt", ".cer", ".der")


@contextmanager
def _quiet_pyhanko() -> Iterator[None]:
    """pyHanko logs tracebacks for suspicious files; the report says it in words."""
    logger = logging.getLogger("pyhanko")
    before = logger.level
    if not verbose_enabled():
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(before)


def _workspace_roots(workspace: str | None) -> list[Path]:
    folder = get_workspace(workspace).trust_dir
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in _TRUST_SUFFIXES)


def _print_report(report: VerifyReport) -> None:
    click.echo(f"{report.path}: {len(report.signatures)} signature(s)")
    for sig in report.signatures:
        when = sig.timestamp_time or sig.signing_time
        stamp = when.isoformat(timespec="seconds") if when else "unknown time"
        trusted = "" if sig.trusted is None else (", trusted" if sig.trusted else ", NOT trusted")
        click.echo(
            f"  {sig.field}: {sig.signer or '?'}, {stamp}; "
            f"{'intact' if sig.intact else 'ALTERED'}, {'valid' if sig.valid else 'INVALID'}, "
            f"covers {sig.coverage.replace('_', ' ')}, "
            f"later changes: {sig.modification_level or 'unknown'}{trusted}"
        )
    for name in report.unsigned_fields:
        click.echo(f"  {name}: not signed")
    if report.ok:
        click.echo("OK: every signature is intact and valid.")
        return
    click.echo("FAILED:")
    for reason in report.reasons:
        click.echo(f"  - {reason}")


@click.command("verify")
@click.argument("target")
@click.option(
    "--trust", "trust", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
    help="Trust root certificate (PEM or DER); repeatable. "
    "Default: the certificates in the workspace's trust/ folder.",
)
@click.option(
    "--expect", "expect", multiple=True, metavar="FIELD",
    help="For a PDF file: a signature field that must be signed; repeatable.",
)
@workspace_option
@json_option
def verify_command(
    target: str, trust: tuple[Path, ...], expect: tuple[str, ...],
    workspace: str | None, as_json: bool,
) -> None:
    """Verify every signature of a convention (its ID) or of a signed PDF file.

    Reports, for each signature, the signer, the signing time, whether the signed bytes
    are intact, what the signature covers and what changed after it, and whether the
    signer is trusted; for a convention ID, also whether each expected signatory signed
    its latest signed version. Exit 0 only when every check passes, 1 otherwise.

    \b
    Example:
      fiftyfifty verify FF_2026_001 --workspace ws
      fiftyfifty verify convention-signee.pdf --trust ca.pem --json
    """
    with guarded():
        roots = list(trust) or _workspace_roots(workspace)
        path = Path(target)
        if is_valid_convention_id(target) and not path.is_file():
            with _quiet_pyhanko():
                result = verify_convention(get_workspace(workspace), target, trust=roots)
                evidence = verify_evidence(get_workspace(workspace), target, roots)
            if as_json:
                emit_json({**result.to_dict(), "evidence": [e.to_dict() for e in evidence]})
            else:
                click.echo(f"{result.convention_id}: {result.document}")
                if not result.hash_matches:
                    click.echo("  the file's SHA-256 differs from the registry's record")
                _print_report(result.report)
                print_evidence(evidence)
            ok = result.ok and all(e.ok for e in evidence)
            sys.exit(EXIT_OK if ok else EXIT_REJECTED)
        if not path.is_file():
            raise InputError(f"No such PDF file or convention: {target}.")
        with _quiet_pyhanko():
            report = verify_pdf(path, trust=roots, expected_fields=expect)
        if as_json:
            emit_json(report.to_dict())
        else:
            _print_report(report)
        sys.exit(EXIT_OK if report.ok else EXIT_REJECTED)


def _passphrase(env_var: str | None) -> bytes:
    """From the named environment variable, else a hidden prompt; never an argument."""
    if env_var:
        value = os.environ.get(env_var)
        if value is None:
            raise InputError(f"Environment variable {env_var} is not set.")
        return value.encode("utf-8")
    value = click.prompt("PKCS#12 passphrase", hide_input=True, err=True)
    return str(value).encode("utf-8")


def _sign_electronic(
    workspace: str | None, convention_id: str, options: dict[str, Any]
) -> dict[str, Any]:
    for needed in ("signatory", "pkcs12"):
        if not options[needed]:
            raise click.UsageError(f"--{needed} is required to sign electronically.")
    passphrase = _passphrase(options["passphrase_env"])
    done = sign_convention(
        get_workspace(workspace), convention_id, options["signatory"],
        pkcs12=options["pkcs12"], passphrase=passphrase, reason=options["reason"],
        location=options["location"], timestamp_url=options["timestamp_url"],
    )
    for warning in done.warnings:
        click.echo(f"Warning: {warning}", err=True)
    return {
        "convention": done.convention_id, "signatory": done.signatory, "signer": done.signer,
        "document": done.document.relpath, "sha256": done.document.sha256,
        "level": done.level, "status": done.status, "remaining": list(done.remaining),
        "warnings": list(done.warnings),
    }


@click.command("sign")
@click.argument("convention_id")
@click.option("--signatory", metavar="KEY", help="Who signs: holder-1, guardian-1, commune…")
@click.option("--pkcs12", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="The signer's certificate and key (.p12/.pfx).")
@click.option("--passphrase-env", metavar="VAR",
              help="Environment variable holding the passphrase (else a hidden prompt).")
@click.option("--reason", help="Reason recorded in the signature.")
@click.option("--location", help="Place recorded in the signature (e.g. Loos-en-Gohelle).")
@click.option("--timestamp-url", metavar="URL",
              help="RFC 3161 timestamp authority; if unreachable, signs without (B-B).")
@click.option("--scan", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Record this scan of the wet-ink signed convention instead.")
@click.option("--signed-on", type=click.DateTime(["%Y-%m-%d"]),
              help="With --scan: the date written on the paper original (YYYY-MM-DD).")
@workspace_option
@json_option
def sign_command(convention_id: str, workspace: str | None, as_json: bool,
                 **options: Any) -> None:
    """Sign a convention for one signatory, or record its signed paper original.

    Electronic: PAdES signature of the latest version into the signatory's field, as a
    new archived version. Holders and guardians sign first, in any order; the commune
    signs last. The passphrase comes from --passphrase-env or a hidden prompt.

    \b
    Example:
      FF_PASS=... fiftyfifty sign FF_2026_001 --signatory holder-1 \\
          --pkcs12 holder-1.p12 --passphrase-env FF_PASS --workspace ws
      fiftyfifty sign FF_2026_001 --scan original.pdf --signed-on 2026-12-03
    """
    with guarded():
        scan: Path | None = options["scan"]
        if scan is not None:
            if options["signed_on"] is None:
                raise click.UsageError("--scan needs --signed-on DATE.")
            if options["signatory"] or options["pkcs12"]:
                raise click.UsageError("--scan records a paper original: no --signatory.")
            signed_on: date = options["signed_on"].date()
            record = record_scan(get_workspace(workspace), convention_id, scan, signed_on)
            payload: dict[str, Any] = {
                "convention": record.convention_id, "mode": "handwritten",
                "document": record.document.relpath, "sha256": record.document.sha256,
                "signed_on": record.signed_on.isoformat(), "status": "signed",
                "signatories": list(record.signatories),
            }
        else:
            payload = _sign_electronic(workspace, convention_id, options)
        if as_json:
            emit_json(payload)
            return
        if scan is not None:
            click.echo(f"{convention_id}: paper original recorded as {payload['document']}"
                       f" (sha256 {payload['sha256']}); status signed.")
            return
        left = ", ".join(payload["remaining"]) or "nobody"
        click.echo(f"{convention_id}: signed by {payload['signer']} ({payload['signatory']},"
                   f" PAdES {payload['level']}) -> {payload['document']}")
        click.echo(f"  status {payload['status']}; still to sign: {left}")


def _parse_role(text: str) -> tuple[str, str]:
    key, sep, name = text.partition("=")
    if not sep or not key.strip() or not name.strip():
        raise click.BadParameter(f"{text!r}: expected KEY=NAME, e.g. holder-1='Camille Dupré'.")
    return key.strip(), name.strip()


@click.command("demo-pki")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--role", "roles", multiple=True, metavar="KEY=NAME",
    help="A signatory role and the name in its certificate; repeatable "
    "(default: holder-1, holder-2, guardian-1, commune).",
)
@json_option
def demo_pki_command(directory: Path, roles: tuple[str, ...], as_json: bool) -> None:
    """Create a throw-away CA and one PKCS#12 per signatory role, for demonstrations.

    Writes ca.pem (the trust root), KEY.p12 per role and PASSPHRASE.txt beside them,
    all readable by their owner only. NOT for real signatures.

    \b
    Example:
      fiftyfifty demo-pki demo-out/pki --role holder-1="Camille Dupré" --role commune="Le maire"
    """
    with guarded():
        wanted = [_parse_role(r) for r in roles] or list(DEFAULT_ROLES)
        pki = create_demo_pki(directory, wanted)
        if as_json:
            emit_json({
                "directory": str(pki.directory),
                "ca_name": CA_NAME,
                "ca_cert": str(pki.ca_cert),
                "passphrase_file": str(pki.passphrase_file),
                "roles": [
                    {"key": r.key, "common_name": r.common_name, "pkcs12": str(r.pkcs12)}
                    for r in pki.roles
                ],
            })
            return
        click.echo(f"{CA_NAME}: {pki.ca_cert}")
        for role in pki.roles:
            click.echo(f"  {role.key}: {role.pkcs12} ({role.common_name})")
        click.echo(f"Passphrase of every .p12: {pki.passphrase_file}")


def register(group: click.Group) -> None:
    """Add ``sign``, ``verify`` and ``demo-pki`` to the ``fiftyfifty`` command group."""
    group.add_command(sign_command)
    group.add_command(verify_command)
    group.add_command(demo_pki_command)


__all__ = ["DEFAULT_ROLES", "register"]
