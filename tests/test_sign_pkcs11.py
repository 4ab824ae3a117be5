"""The mayor's smart card: a real SoftHSM2 token (Debian's softhsm2, loaded with opensc's
pkcs11-tool), ``sign --pkcs11-module`` and ``sign-batch`` after one PIN entry; a failure
stops the batch with nothing half-written, and a rerun continues."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from sign_fixtures import ROLES
from test_signing_flow import new_convention

from pipeline.cli.sign_cmds import register
from pipeline.core.workspace import Workspace
from pipeline.records.registry import Registry
from pipeline.signatures.credentials import Pkcs11Credential
from pipeline.signatures.pki_server import PkiServer

pytestmark = pytest.mark.usefixtures("english")


MODULE = Path("/usr/lib/softhsm/libsofthsm2.so")
LABEL, PIN = "Mairie", "4821"
MAYOR = dict(ROLES)["commune"]
COMMUNE_ONLY = [{"key": "commune", "name": MAYOR, "capacity": "le Maire", "party": "Commune"}]


@pytest.fixture(scope="module")
def token(tmp_path_factory: pytest.TempPathFactory, pki_server: PkiServer) -> Iterator[Path]:
    """A SoftHSM2 token holding the mayor's key, certificate and the intermediate CA."""
    folder = tmp_path_factory.mktemp("softhsm")
    (folder / "tokens").mkdir()
    conf = folder / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {folder / 'tokens'}\nobjectstore.backend = file\n"
                    "log.level = ERROR\n")
    before = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", LABEL, "--pin", PIN,
                    "--so-pin", "97531"], check=True, capture_output=True)
    pki = pki_server.pki
    issued = pki.issue_signer(MAYOR)
    objects = {
        "key.der": (issued.key.private_bytes(serialization.Encoding.DER,
                                             serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption()), "privkey", "maire",
                    "01"),
        "cert.der": (issued.cert.public_bytes(serialization.Encoding.DER), "cert", "maire",
                     "01"),
        "ca.der": (pki.intermediate.cert.public_bytes(serialization.Encoding.DER), "cert",
                   "ca", "02"),
    }
    for name, (data, kind, label, ident) in objects.items():
        (folder / name).write_bytes(data)
        subprocess.run(["pkcs11-tool", "--module", str(MODULE), "--token-label", LABEL,
                        "--login", "--pin", PIN, "--write-object", str(folder / name),
                        "--type", kind, "--label", label, "--id", ident],
                       check=True, capture_output=True)
        if kind == "privkey":
            (folder / name).unlink()  # the key lives on the token only
    yield folder
    if before is None:
        os.environ.pop("SOFTHSM2_CONF", None)
    else:
        os.environ["SOFTHSM2_CONF"] = before


def _cli() -> click.Group:
    @click.group()
    def group() -> None:
        """Throw-away group for the tests."""

    register(group)
    return group


def _run(*args: str, input: str | None = None) -> Any:
    return CliRunner().invoke(_cli(), list(args), input=input)


@pytest.fixture
def ws(tmp_path: Path, p12_set: Any) -> Workspace:
    workspace = Workspace(tmp_path / "ws")
    assert _run("trust", "add", str(p12_set.root), "--workspace",
                str(workspace.root)).exit_code == 0
    return workspace


def _key_args(pki_server: PkiServer) -> list[str]:
    return ["--pkcs11-module", str(MODULE), "--token-label", LABEL, "--key-label", "maire",
            "--level", "B-T", "--timestamp-url", pki_server.pki.tsa_url]


def test_token_opens_with_its_pin_only(token: Path) -> None:
    with Pkcs11Credential(MODULE, LABEL, PIN, "maire").open() as opened:
        assert opened.common_name == MAYOR
        assert [c.subject.rfc4514_string() for c in opened.chain] != []
    with pytest.raises(Exception, match="wrong PIN"), \
            Pkcs11Credential(MODULE, LABEL, "0000", "maire").open():
        pass


def test_sign_with_the_smart_card_pin_prompted(token: Path, ws: Workspace,
                                               pki_server: PkiServer, tmp_path: Path) -> None:
    conv = new_convention(ws, tmp_path, "carte", COMMUNE_ONLY)
    result = _run("sign", conv, "--signatory", "commune", *_key_args(pki_server),
                  "--workspace", str(ws.root), "--json", input=PIN + "\n")
    assert result.exit_code == 0, result.output
    assert PIN not in result.stdout
    payload = json.loads(result.stdout.split("\n", 1)[1] if not result.stdout.startswith("{")
                         else result.stdout)
    assert payload["signer"] == MAYOR and payload["status"] == "signed"
    assert _run("verify", conv, "--workspace", str(ws.root)).exit_code == 0


def test_batch_stops_at_a_failure_and_a_rerun_continues(
    token: Path, ws: Workspace, pki_server: PkiServer, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FF_PIN", PIN)
    convs = [new_convention(ws, tmp_path, f"lot-{n}", COMMUNE_ONLY) for n in range(3)]
    with Registry.open(ws.registry_path) as reg:
        doc = reg.latest_document(convs[1], ["pdf"])
        assert doc is not None
    damaged = ws.root / doc.relpath
    original = damaged.read_bytes()
    damaged.write_bytes(original + b"%junk\n")
    args = ["sign-batch", "--signatory", "commune", *_key_args(pki_server), "--pin-env",
            "FF_PIN", "--workspace", str(ws.root)]
    first = _run(*args)
    assert first.exit_code == 1
    assert "no longer matches the SHA-256" in first.output
    statuses = []
    with Registry.open(ws.registry_path) as reg:
        for conv in convs:
            row = reg.get(conv)
            assert row is not None
            statuses.append(row.status)
        assert not reg.signatures(convs[1])
    assert statuses == ["signed", "generated", "generated"]
    damaged.write_bytes(original)
    second = _run(*args, "--json")
    assert second.exit_code == 0, second.output
    payload = json.loads(second.stdout)
    assert [s["convention"] for s in payload["signed"]] == convs[1:]
    again = json.loads(_run(*args, "--json").stdout)
    assert again["count"] == 0  # nothing left waiting for the commune
