"""A stand-in for the runner, run as a real subprocess by the crash and concurrency tests.

Usage: ``python registry_driver.py WORKSPACE RECORDS.json``. For each record
(``{"reference": ..., "content": ...}``) it does what the runner does: claim, produce an
intake, a DOCX and a PDF (fake bytes), store them. It prints one JSON line per record and
a last line ``{"points": N}``.

``FF_KILL_AT=N`` makes it SIGKILL itself at its N-th crash point. Crash points are every
``os.fsync`` and ``os.replace`` (inside the archive's atomic writes) and the moment right
after each claim and each store is committed.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sys
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from pipeline.core.workspace import Workspace
from pipeline.records.archive import store_documents
from pipeline.records.registry import Claim, NewConvention, Registry

KILL_AT = int(os.environ.get("FF_KILL_AT", "0"))
_points = 0


def point() -> None:
    """Count a crash point; die here without any cleanup if it is the chosen one."""
    global _points
    _points += 1
    if _points == KILL_AT:
        os.kill(os.getpid(), signal.SIGKILL)


def _counted(func: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        point()
        return func(*args, **kwargs)
    return wrapper


def new_convention(record: dict[str, str]) -> NewConvention:
    content = record["content"]
    return NewConvention(
        type_id="standard", year=2026, number_format="FF_{year}_{seq:03d}",
        reference=record["reference"],
        fingerprint=hashlib.sha256(content.encode()).hexdigest(),
        title=f"Projet {content}", holders=[{"name": f"Porteur {record['reference']}"}],
        commune_amount=Decimal("1500.00"), inkind_value=Decimal("800.50"),
        start=date(2026, 3, 1), end=date(2026, 9, 30), commitment_end=date(2029, 9, 30),
        signatories=[{"key": "holder-1", "name": "Porteur"}, {"key": "commune",
                                                               "name": "Maire"}],
    )


def run_batch(ws: Workspace, reg: Registry, records: list[dict[str, str]],
              echo: bool = False) -> list[Claim]:
    """Claim, produce and store each record, as the runner does; return the claims."""
    claims = []
    for record in records:
        claim = reg.claim(new_convention(record), actor="driver")
        point()
        if claim.must_produce:
            cid = claim.convention_id
            body = record["content"].encode()
            files: list[tuple[str, str, Path | bytes]] = [
                ("intake.json", "intake", json.dumps(record).encode()),
                (f"{cid}.docx", "docx", b"PK\x03\x04 fake docx " + body),
                (f"{cid}.pdf", "pdf", b"%PDF-1.7 fake pdf " + body),
            ]
            store_documents(ws, reg, cid, 2026, claim.version, files, actor="driver")
            point()
        claims.append(claim)
        if echo:
            print(json.dumps({"reference": record["reference"], "action": claim.action,
                              "id": claim.convention_id, "version": claim.version}),
                  flush=True)
    return claims


def main(workspace: str, records_file: str) -> None:
    ws = Workspace(Path(workspace))
    records = json.loads(Path(records_file).read_text(encoding="utf-8"))
    with Registry.open(ws.registry_path, timeout=60.0) as reg:
        run_batch(ws, reg, records, echo=True)
    print(json.dumps({"points": _points}), flush=True)


if __name__ == "__main__":
    # Only when run as a script: importing this module from a test changes nothing.
    os.fsync = _counted(os.fsync)
    os.replace = _counted(os.replace)
    main(sys.argv[1], sys.argv[2])
