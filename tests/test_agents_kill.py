"""A server killed in the middle of an import leaves the registry as a killed
``fiftyfifty run`` does, and starting the import again finishes it (real LibreOffice)."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from agents_fixtures import intake_rows

from pipeline.catalogue.loader import Catalogue
from pipeline.core.workspace import Workspace
from pipeline.imports import stage_upload
from pipeline.records.audit import verify_archive
from pipeline.records.registry import Registry
from pipeline.records.registry.jobs import get_job, queue_job
from pipeline.web.agents.worker import ImportWorker

SERVER = """
import sys
from pipeline.core.workspace import Workspace
from pipeline.web.agents.worker import ImportWorker
ImportWorker(Workspace.resolve(sys.argv[1])).run_next()
"""


def six_rows(path: Path) -> Path:
    good = intake_rows()[0]
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, delimiter=";")
        w.writerow(list(good))
        for i in range(6):
            w.writerow([f"KILL-{i}" if k == "reference" else v for k, v in good.items()])
    return path


@pytest.mark.libreoffice
def test_killed_mid_run_then_started_again(tmp_path: Path, catalogue: Catalogue) -> None:
    ws = Workspace(tmp_path / "ws")
    with Registry.open(ws.registry_path) as reg:
        job = stage_upload(ws, reg, filename="lot.csv", login="clerk", catalogue=catalogue,
                           data=six_rows(tmp_path / "lot.csv").read_bytes())
        assert job.counts.accepted == 6
        queue_job(reg, job.id)
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(ws.root)],
                              start_new_session=True)
    try:
        while server.poll() is None:  # wait until numbers exist but documents do not
            with Registry.open(ws.registry_path) as reg:
                if reg.list(status="pending"):
                    break
            time.sleep(0.05)
        assert server.poll() is None, "the import ended before it could be interrupted"
    finally:
        os.killpg(server.pid, signal.SIGKILL)  # the server and its LibreOffice
        server.wait()
    with Registry.open(ws.registry_path) as reg:
        pending = [c.id for c in reg.list(status="pending")]
        running = get_job(reg, job.id)
    assert pending and running is not None and running.state == "running"
    assert {p.kind for p in verify_archive(ws).problems} <= {"incomplete"}

    restarted = ImportWorker(ws, poll=0.05)  # the next server start
    restarted.start()
    restarted.stop(30)
    with Registry.open(ws.registry_path) as reg:
        again = get_job(reg, job.id)
        assert again is not None and again.state == "interrupted"
        queue_job(reg, job.id)
    assert ImportWorker(ws).run_next()
    with Registry.open(ws.registry_path) as reg:
        done = get_job(reg, job.id)
        rows = reg.list()
    assert done is not None and done.state == "done", done
    assert [r.id for r in rows] == [f"FF_2026_{i:03d}" for i in range(1, 7)]  # none twice
    assert {r.status for r in rows} == {"generated"}
    assert set(pending) <= {r.id for r in rows}
    report = verify_archive(ws)
    assert report.valid, report.problems
