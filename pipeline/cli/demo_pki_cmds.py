"""Commands ``demo-pki`` (a throw-away PKI for demonstrations) and ``demo-pki-serve``."""

from __future__ import annotations

from pathlib import Path

import click

from pipeline.cli.common import emit_json, guarded, json_option
from pipeline.signatures.demo_pki import CA_NAME, create_demo_pki, load_demo_pki
from pipeline.signatures.pki_server import PkiServer

DEFAULT_ROLES: tuple[tuple[str, str], ...] = (
    ("holder-1", "Camille Dupré"),
    ("holder-2", "Léa Martin"),
    ("guardian-1", "Sophie Lefèbvre"),
    ("commune", "Jean-François Maëlle"),
)
"""Roles ``demo-pki`` makes when none is given (accented names, to exercise fonts)."""


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
@click.option("--port", type=click.IntRange(1024, 65535),
              help="Loopback port of its TSA/OCSP/CRL server (default: a free one).")
@json_option
def demo_pki_command(directory: Path, roles: tuple[str, ...], port: int | None,
                     as_json: bool) -> None:
    """Create a throw-away PKI and one PKCS#12 per signatory role, for demonstrations.

    Writes ca.pem (the root, for 'trust add'), ca/ (root and intermediate CA, timestamp
    authority, OCSP responder), KEY.p12 per role and PASSPHRASE.txt, private files
    readable by their owner only. Serve it with 'demo-pki-serve'. NOT for real signatures.

    \b
    Example:
      fiftyfifty demo-pki demo-out/pki --role holder-1="Camille Dupré" --role commune="Le maire"
    """
    with guarded():
        wanted = [_parse_role(r) for r in roles] or list(DEFAULT_ROLES)
        pki = create_demo_pki(directory, wanted, port=port)
        if as_json:
            emit_json({
                "directory": str(pki.directory), "ca_name": CA_NAME,
                "ca_cert": str(pki.ca_cert), "passphrase_file": str(pki.passphrase_file),
                "timestamp_url": f"{pki.base_url}/tsa",
                "roles": [{"key": r.key, "common_name": r.common_name, "pkcs12": str(r.pkcs12)}
                          for r in pki.roles],
            })
            return
        click.echo(f"{CA_NAME}: {pki.ca_cert}")
        for role in pki.roles:
            click.echo(f"  {role.key}: {role.pkcs12} ({role.common_name})")
        click.echo(f"Passphrase of every .p12: {pki.passphrase_file}")
        click.echo(f"Timestamp authority (once served): {pki.base_url}/tsa")


@click.command("demo-pki-serve")
@click.argument("directory", type=click.Path(file_okay=False, exists=True, path_type=Path))
def demo_pki_serve_command(directory: Path) -> None:
    """Serve a demo PKI's timestamp authority, OCSP and CRLs on 127.0.0.1 until stopped.

    \b
    Example:
      fiftyfifty demo-pki-serve demo-out/pki &
    """
    with guarded():
        pki = load_demo_pki(directory)
        port = int(pki.base_url.rsplit(":", 1)[1])
        click.echo(f"Serving {pki.base_url} (TSA /tsa, OCSP /ocsp, CRLs /crl/); Ctrl-C stops.",
                   err=True)
        try:
            PkiServer(pki, port).serve_forever()
        except KeyboardInterrupt:
            pass


__all__ = ["DEFAULT_ROLES", "demo_pki_command", "demo_pki_serve_command"]
