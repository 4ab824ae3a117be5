"""``make demo``: every signatory of one convention signs at B-LTA, with a throw-away PKI.

The demo PKI issues certificates in the signatories' names; its root is added to the
workspace's trust roots; its timestamp, OCSP and CRL servers run on 127.0.0.1 for the
time of the signatures; every signatory signs in order (the commune last); then
``verify`` checks the convention against the workspace's trust roots.

Usage: ``python bench/demo_sign.py WORKSPACE REFERENCE PKI_FOLDER``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

BIN = Path(sys.executable).parent
FF = str(BIN / "fiftyfifty")


def ff(*args: str, capture: bool = False, env: dict[str, str] | None = None) -> str:
    """Run one fiftyfifty command; stop the demo if it fails."""
    res = subprocess.run([FF, *args], text=True, env=env, check=False,
                         stdout=subprocess.PIPE if capture else None)
    if res.returncode != 0:
        sys.exit(f"demo: `fiftyfifty {' '.join(args)}` failed with exit code {res.returncode}")
    return res.stdout or ""


def main() -> None:
    ws, reference, pki = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    listed = json.loads(ff("registry", "list", "--workspace", ws, "--json", capture=True))
    cid = next(c["id"] for c in listed["conventions"] if c["reference"] == reference)
    shown = json.loads(ff("registry", "show", cid, "--workspace", ws, "--json", capture=True))
    roles = [(s["key"], s["name"]) for s in shown["signatories"]]
    ff("demo-pki", str(pki), *(f"--role={key}={name}" for key, name in roles))
    ff("trust", "add", str(pki / "ca.pem"), "--workspace", ws)
    server = subprocess.Popen([FF, "demo-pki-serve", str(pki)], stderr=subprocess.DEVNULL)
    try:
        base = json.loads((pki / "ca" / "pki.json").read_text(encoding="utf-8"))["base_url"]
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/crl/root.crl", timeout=1)  # noqa: S310
                break
            except OSError:
                time.sleep(0.1)
        env = {**os.environ, "FF_DEMO_PASS": (pki / "PASSPHRASE.txt").read_text().strip()}
        for key, _name in roles:
            ff("sign", cid, "--signatory", key, "--pkcs12", str(pki / f"{key}.p12"),
               "--passphrase-env", "FF_DEMO_PASS", "--level", "B-LTA",
               "--timestamp-url", base + "/tsa", "--location", "Loos-en-Gohelle",
               "--workspace", ws, env=env)
        ff("verify", cid, "--workspace", ws)
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(cid)


if __name__ == "__main__":
    main()
