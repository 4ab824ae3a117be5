"""The LibreOffice converter: real soffice for conversions, a fake one for hangs and crashes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from docx import Document
from pypdf import PdfReader

from pipeline.core.errors import ConfigError, ConverterError
from pipeline.documents.convert import (
    ConvertResult,
    WarmStarts,
    convert_batch,
    default_chunk_size,
    find_soffice,
    pdfa_conformance,
    stop_all_conversions,
    stop_orphans,
)

DATA = Path(__file__).parent / "data" / "convert"
CLAUSE = (
    "Les porteurs du projet s'engagent à réaliser les travaux décrits à l'article 2, "
    "à en assurer l'entretien pendant cinq ans et à informer la commune de toute difficulté. "
)


def make_docx(path: Path, title: str, articles: int = 11) -> Path:
    """A convention-like Word document of about 8 pages, with tables."""
    doc = Document()
    doc.add_heading(f"Convention fifty-fifty {title}", 0)
    for number in range(1, articles + 1):
        doc.add_heading(f"Article {number} — Engagements réciproques", level=1)
        for _ in range(3):
            doc.add_paragraph(CLAUSE * 4)
        if number % 3 == 0:
            table = doc.add_table(rows=6, cols=4)
            table.style = "Table Grid"
            for r, row in enumerate(table.rows):
                for c, cell in enumerate(row.cells):
                    cell.text = f"Ligne {r} : {c * 1500} €"
    doc.save(str(path))
    return path


def make_light(path: Path) -> Path:
    """An empty, valid docx for the fake converter (which never reads it)."""
    return make_docx(path, path.stem, articles=0)


def processes_with(marker: Path) -> list[str]:
    """Command lines of running processes mentioning ``marker`` (zombies have none)."""
    needle = str(marker).encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or entry.name == str(os.getpid()):
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if needle in cmdline:
            found.append(cmdline.replace(b"\0", b" ").decode(errors="replace"))
    return found


@pytest.fixture
def fake_soffice(tmp_path: Path) -> str:
    """An executable with soffice's command line, backed by tests/data/convert/fake_soffice.py."""
    script = tmp_path / "bin" / "soffice"
    script.parent.mkdir()
    script.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{DATA / "fake_soffice.py"}" "$@"\n')
    script.chmod(0o755)
    return str(script)


@pytest.mark.libreoffice
def test_batch_converts_to_valid_pdfa(tmp_path: Path) -> None:
    titles = [f"FF_2026_{n:03d}" for n in range(1, 5)]
    docs = [make_docx(tmp_path / f"{t}.docx", t) for t in titles]
    out = tmp_path / "out"
    seen: list[ConvertResult] = []

    results = convert_batch(docs, out, workers=2, chunk_size=2, on_progress=seen.append)

    assert [r.source for r in results] == docs
    assert sorted(r.source.name for r in seen) == sorted(d.name for d in docs)
    for title, result in zip(titles, results, strict=True):
        assert result.ok and result.error is None, result.error
        assert result.pdf == out / f"{title}.pdf"
        assert 5 <= result.pages <= 9
        assert result.pages == len(PdfReader(result.pdf).pages)
        subprocess.run(["qpdf", "--check", str(result.pdf)], check=True, capture_output=True)
        assert pdfa_conformance(result.pdf) == "2B"
        text = " ".join(subprocess.run(["pdftotext", str(result.pdf), "-"], check=True,
                                       capture_output=True, text=True).stdout.split())
        assert f"Convention fifty-fifty {title}" in text
        assert "Article 11 — Engagements réciproques" in text and "4500 €" in text
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{t}.pdf" for t in titles)
    assert processes_with(out) == []


@pytest.mark.libreoffice
def test_pdfa_can_be_turned_off(tmp_path: Path) -> None:
    doc = make_docx(tmp_path / "plain.docx", "plain", articles=1)
    [result] = convert_batch([doc], tmp_path / "out", pdfa=False)
    assert result.ok and result.pdf is not None
    assert pdfa_conformance(result.pdf) is None


@pytest.mark.libreoffice
def test_corrupt_documents_fail_alone(tmp_path: Path) -> None:
    good = [make_docx(tmp_path / f"good{n}.docx", f"good{n}", articles=2) for n in range(2)]
    garbage = tmp_path / "garbage.docx"
    garbage.write_bytes(os.urandom(4000))
    broken = tmp_path / "broken.docx"  # a valid package whose document.xml is cut in half
    with zipfile.ZipFile(good[0]) as src, zipfile.ZipFile(broken, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            dst.writestr(item, data[: len(data) // 2] if item.filename == "word/document.xml"
                         else data)
    missing = tmp_path / "missing.docx"
    docs = [good[0], garbage, broken, missing, good[1]]

    results = convert_batch(docs, tmp_path / "out", workers=1, chunk_size=5)

    assert [r.ok for r in results] == [True, False, False, False, True]
    assert "not a Word document" in (results[1].error or "")
    assert "LibreOffice could not convert" in (results[2].error or "")
    assert "does not exist" in (results[3].error or "")
    assert all(r.pdf is None and r.pages == 0 for r in results[1:4])
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["good0.pdf", "good1.pdf"]


def test_hanging_document_is_isolated(tmp_path: Path, fake_soffice: str) -> None:
    names = ["a", "b", "c-hang", "d", "e", "f", "g"]
    docs = [make_light(tmp_path / f"{n}.docx") for n in names]
    out = tmp_path / "out"

    results = convert_batch(docs, out, workers=2, chunk_size=4, timeout=1.0,
                            soffice=fake_soffice)

    assert [r.ok for r in results] == [n != "c-hang" for n in names]
    assert "stopped responding" in (results[2].error or "")
    assert all(r.pages == 1 for r in results if r.ok)
    assert processes_with(out) == []
    assert sorted(p.name for p in out.iterdir()) == sorted(
        f"{n}.pdf" for n in names if n != "c-hang")


def _orphan(fake_soffice: str, outdir: Path, doc: Path) -> subprocess.Popen[bytes]:
    """A converter left behind by a run killed outright: its own session, still working."""
    outdir.mkdir(parents=True)
    proc = subprocess.Popen([fake_soffice, "--headless", "--convert-to", "pdf", "--outdir",
                             str(outdir), str(doc)], start_new_session=True)
    deadline = time.monotonic() + 10
    while len(processes_with(outdir)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)  # the hanging fake has started its child too
    return proc


def test_orphans_of_a_dead_run_are_stopped(tmp_path: Path, fake_soffice: str) -> None:
    doc = make_light(tmp_path / "x-hang.docx")
    dead, alive = tmp_path / "dead-run", tmp_path / "live-run"
    orphan = _orphan(fake_soffice, dead / "pdf" / "attempt-1", doc)
    other = _orphan(fake_soffice, alive / "pdf" / "attempt-1", doc)
    try:
        assert len(processes_with(dead)) == 2

        assert stop_orphans(dead) == 1

        assert processes_with(dead) == []
        assert orphan.wait(5) == -signal.SIGKILL
        assert other.poll() is None and len(processes_with(alive)) == 2
    finally:
        os.killpg(other.pid, signal.SIGKILL)
        other.wait()
        orphan.kill()
        orphan.wait()


@pytest.mark.libreoffice
def test_calls_are_served_by_the_libreoffice_started_ahead(tmp_path: Path) -> None:
    docs = [make_docx(tmp_path / f"w{n}.docx", "w", articles=0) for n in range(3)]
    profiles = tmp_path / "profiles"
    warm = WarmStarts(find_soffice(None))
    try:
        warm.start(profiles / "worker-0")
        first = convert_batch(docs[:2], tmp_path / "out", workers=1, profiles=profiles,
                              warm=warm)
        # It keeps running: the next call on that profile is served by it too.
        second = convert_batch(docs[2:], tmp_path / "out", workers=1, profiles=profiles,
                               warm=warm)
    finally:
        warm.close()
    assert [r.ok for r in first + second] == [True, True, True]
    served = (profiles / "worker-0.warm.log").read_text(errors="replace")
    assert all(f"w{n}.docx" in served for n in range(3))
    assert processes_with(profiles) == []


@pytest.mark.libreoffice
def test_libreoffice_started_ahead_is_started_afresh_after_a_failed_call(
        tmp_path: Path) -> None:
    docs = [make_docx(tmp_path / f"r{n}.docx", "r", articles=0) for n in range(2)]
    profiles = tmp_path / "profiles"
    warm = WarmStarts(find_soffice(None))
    try:
        warm.start(profiles / "worker-0")
        first = convert_batch(docs[:1], tmp_path / "out", workers=1, profiles=profiles,
                              warm=warm)
        # What a stalled or crashed call does: the LibreOffice is killed, started anew
        # (the killed one left a lock on the document it kept open).
        warm.restart(profiles / "worker-0")
        second = convert_batch(docs[1:], tmp_path / "out", workers=1, profiles=profiles,
                               warm=warm)
    finally:
        warm.close()
    assert [r.ok for r in first + second] == [True, True]
    served = (profiles / "worker-0.warm.log").read_text(errors="replace")
    assert "r0.docx" in served and "r1.docx" in served
    assert processes_with(profiles) == []


@pytest.mark.libreoffice
def test_libreoffice_started_ahead_by_a_dead_run_is_stopped(tmp_path: Path) -> None:
    dead = tmp_path / "dead-run"
    profile = dead / "profiles" / "worker-0"
    orphan = subprocess.Popen([find_soffice(None), f"-env:UserInstallation={profile.as_uri()}",
                               "--headless", "--norestore", "--nologo"],
                              start_new_session=True)
    try:
        deadline = time.monotonic() + 20
        while not any("soffice.bin" in c for c in processes_with(dead)):
            assert time.monotonic() < deadline
            time.sleep(0.05)

        assert stop_orphans(dead) == 1

        assert processes_with(dead) == []
        assert orphan.wait(5) == -signal.SIGKILL
    finally:
        orphan.kill()
        orphan.wait()


def test_documents_are_handed_on_while_their_chunk_still_converts(
        tmp_path: Path, fake_soffice: str) -> None:
    docs = [make_light(tmp_path / f"{n}.docx") for n in ("a", "b", "c-hang")]
    out = tmp_path / "out"
    converter_alive: dict[str, bool] = {}

    def progress(result: ConvertResult) -> None:
        converter_alive[result.source.stem] = bool(processes_with(out))

    results = convert_batch(docs, out, workers=1, chunk_size=3, timeout=1.0,
                            soffice=fake_soffice, on_progress=progress)

    assert [r.ok for r in results] == [True, True, False]
    # "a" was complete once "b" was being written: handed on while soffice still ran;
    # "b", the newest output when the call hung, only once the call was over.
    assert converter_alive == {"a": True, "b": False, "c-hang": False}
    assert (out / "a.pdf").is_file() and (out / "b.pdf").is_file()


def test_crashing_document_is_isolated(tmp_path: Path, fake_soffice: str) -> None:
    names = ["a", "b-crash", "c", "d"]
    docs = [make_light(tmp_path / f"{n}.docx") for n in names]

    results = convert_batch(docs, tmp_path / "out", workers=1, chunk_size=4, timeout=30,
                            soffice=fake_soffice)

    assert [r.ok for r in results] == [True, False, True, True]
    assert "crashed (signal 9)" in (results[1].error or "")


def test_interrupt_from_progress_leaves_no_process(tmp_path: Path, fake_soffice: str) -> None:
    docs = [make_light(tmp_path / f"{n}.docx") for n in ["a", "b-hang", "c"]]
    out = tmp_path / "out"
    alive_when_interrupted: list[str] = []

    def interrupt(result: ConvertResult) -> None:
        alive_when_interrupted.extend(processes_with(out))
        raise KeyboardInterrupt

    # chunk 1 = [a] converts; chunk 2 = [b-hang, c] hangs (long timeout) while "a" reports.
    with pytest.raises(KeyboardInterrupt):
        convert_batch(docs, out, workers=2, chunk_size=1, timeout=120,
                      soffice=fake_soffice, on_progress=interrupt)

    assert any("fake_soffice" in cmd for cmd in alive_when_interrupted)
    assert processes_with(out) == []
    assert not list(out.glob(".fiftyfifty-convert-*"))


@pytest.mark.libreoffice
def test_interrupt_with_real_libreoffice(tmp_path: Path) -> None:
    light = [make_docx(tmp_path / f"light{n}.docx", "x", articles=0) for n in range(2)]
    heavy = [make_docx(tmp_path / f"heavy{n}.docx", "y", articles=14) for n in range(2)]
    out = tmp_path / "out"

    def interrupt(result: ConvertResult) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        convert_batch(light + heavy, out, workers=2, chunk_size=2, on_progress=interrupt)

    assert processes_with(out) == []
    assert not list(out.glob(".fiftyfifty-convert-*"))


def test_sigterm_kills_the_pool(tmp_path: Path, fake_soffice: str) -> None:
    docs = [make_light(tmp_path / f"{n}.docx") for n in ["a-hang", "b-hang"]]
    out = tmp_path / "out"
    program = textwrap.dedent(f"""
        from pathlib import Path
        from pipeline.documents.convert import convert_batch
        convert_batch([Path({str(docs[0])!r}), Path({str(docs[1])!r})], Path({str(out)!r}),
                      workers=2, chunk_size=1, timeout=120, soffice={fake_soffice!r})
    """)
    child = subprocess.Popen([sys.executable, "-c", program])
    try:
        while sum("time.sleep(600)" in c for c in processes_with(out)) < 2:
            assert child.poll() is None, "the batch ended before being terminated"
            time.sleep(0.05)
        child.send_signal(signal.SIGTERM)
        assert child.wait(timeout=60) == 128 + signal.SIGTERM
    finally:
        child.kill()
        child.wait()
    assert processes_with(out) == []
    assert not list(out.glob(".fiftyfifty-convert-*"))


def test_stop_all_conversions_ends_a_background_batch(tmp_path: Path, fake_soffice: str) -> None:
    """How a caller converting in a background thread stops it when interrupted."""
    docs = [make_light(tmp_path / f"{n}.docx") for n in ["a-hang", "b", "c", "d"]]
    out = tmp_path / "out"
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(convert_batch, docs, out, workers=1, chunk_size=4, timeout=120,
                             soffice=fake_soffice)
        while not any("time.sleep(600)" in c for c in processes_with(out)):
            assert not future.done(), future
            time.sleep(0.05)
        stop_all_conversions()
        results = future.result()
    assert not any(r.ok for r in results)
    assert all("the conversion was stopped" in (r.error or "") for r in results)
    assert processes_with(out) == []


@pytest.mark.usefixtures("english")
def test_missing_soffice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FIFTYFIFTY_SOFFICE", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ConverterError) as caught:
        find_soffice(None)
    assert "apt-get install libreoffice-writer-nogui" in str(caught.value)
    with pytest.raises(ConverterError):
        convert_batch([make_light(tmp_path / "a.docx")], tmp_path / "out")
    with pytest.raises(ConverterError, match="not found"):
        find_soffice(str(tmp_path / "no-such-soffice"))


def test_find_soffice_order(fake_soffice: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FIFTYFIFTY_SOFFICE", fake_soffice)
    assert find_soffice(None) == fake_soffice
    monkeypatch.delenv("FIFTYFIFTY_SOFFICE")
    assert Path(find_soffice(None)).name in ("soffice", "libreoffice")
    assert find_soffice("soffice") == find_soffice(None)


@pytest.mark.parametrize("option", [{"timeout": 0}, {"chunk_size": 0}, {"workers": 0}])
def test_bad_settings_are_refused(tmp_path: Path, fake_soffice: str,
                                  option: dict[str, float]) -> None:
    with pytest.raises(ConfigError):
        convert_batch([make_light(tmp_path / "a.docx")], tmp_path / "out",
                      soffice=fake_soffice, **option)  # type: ignore[arg-type]


def test_same_pdf_name_is_refused(tmp_path: Path, fake_soffice: str) -> None:
    (tmp_path / "x").mkdir()
    docs = [make_light(tmp_path / "a.docx"), make_light(tmp_path / "x" / "a.docx")]
    with pytest.raises(ConverterError, match=r"same PDF name a\.pdf"):
        convert_batch(docs, tmp_path / "out", soffice=fake_soffice)


@pytest.mark.parametrize(
    ("count", "workers", "expected"),
    [(1, 2, 1), (7, 2, 4), (100, 2, 50), (101, 2, 26), (300, 2, 50), (10, 1, 10)],
)
def test_default_chunk_size(count: int, workers: int, expected: int) -> None:
    assert default_chunk_size(count, workers) == expected
