"""Signing: three signatories in order, checked by our verifier and by poppler's pdfsig;
the appearance; every refusal leaves the destination untouched."""

from __future__ import annotations

import hashlib
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sign_fixtures import (
    CAPACITIES,
    FIELDS,
    ROLES,
    SignedChain,
    demo_pki,
    make_unsigned_pdf,
    pdfsig,
    signed_chain,
)

from pipeline.core.errors import SigningError
from pipeline.signatures.demo_pki import DemoPki, create_demo_pki
from pipeline.signatures.pades import sign_pdf
from pipeline.signatures.verify import verify_pdf

__all__ = ["demo_pki", "signed_chain"]  # fixtures, imported for pytest


def test_each_version_verifies_with_us_and_with_pdfsig(
    signed_chain: SignedChain, demo_pki: DemoPki
) -> None:
    for n, version in enumerate(signed_chain.versions, start=1):
        report = verify_pdf(version, trust=[demo_pki.ca_cert], expected_fields=FIELDS[:n])
        assert report.ok, report.reasons
        assert [s.field for s in report.signatures] == list(FIELDS[:n])
        assert all(s.intact and s.valid and s.trusted for s in report.signatures)
        assert [s.signer for s in report.signatures] == [name for _, name in ROLES[:n]]
        # the newest signature covers the whole file, earlier ones their revision
        assert report.signatures[-1].coverage == "entire_file"
        assert all(s.coverage == "entire_revision" for s in report.signatures[:-1])
        assert all(s.modification_level == "form_filling" for s in report.signatures[:-1])

        seen = pdfsig(version)
        signed = [e for e in seen if e.validation]
        assert len(signed) == n
        assert {e.subfilter for e in signed} == {"ETSI.CAdES.detached"}
        assert {e.validation for e in signed} == {"Signature is Valid."}
        assert [e.common_name for e in signed] == [name for _, name in ROLES[:n]]


def test_intermediate_version_reports_the_fields_still_to_sign(
    signed_chain: SignedChain,
) -> None:
    report = verify_pdf(signed_chain.versions[0], expected_fields=FIELDS)
    assert not report.ok
    assert report.unsigned_fields == FIELDS[1:]
    assert "expected signature field 'sig-commune' is not signed" in report.reasons


def test_each_signature_is_an_incremental_update(signed_chain: SignedChain) -> None:
    previous = signed_chain.unsigned.read_bytes()
    for version, result in zip(signed_chain.versions, signed_chain.results, strict=True):
        data = version.read_bytes()
        assert data.startswith(previous)
        assert result.sha256 == hashlib.sha256(data).hexdigest()
        assert result.size == len(data)
        assert result.level == "B-B" and result.warnings == ()
        previous = data


def test_appearance_shows_name_capacity_and_date_with_accents(
    signed_chain: SignedChain,
) -> None:
    final = signed_chain.versions[-1]
    text = subprocess.run(
        ["pdftotext", "-f", "2", "-l", "2", str(final), "-"],
        capture_output=True, text=True, check=True,
    ).stdout
    assert text.count("Signé électroniquement par") == 3
    for _, name in ROLES:
        assert name in text
    assert "Éco-Jardins" in text and "Maire de Loos-en-Gohelle" in text
    assert signed_chain.results[0].signed_at.strftime("%Y") in text
    fonts = subprocess.run(
        ["pdffonts", str(final)], capture_output=True, text=True, check=True
    ).stdout
    dejavu = [line for line in fonts.splitlines() if "DejaVuSans" in line]
    assert len(dejavu) == 3
    assert all(line.split()[-5] == "yes" for line in dejavu)  # the "emb" column


def test_appearance_is_drawn_on_the_page(signed_chain: SignedChain, tmp_path: Path) -> None:
    """Rasterised, the signature boxes hold ink where the blank page had none."""
    def ink(pdf: Path, stem: str) -> int:
        subprocess.run(
            ["pdftoppm", "-f", "2", "-l", "2", "-r", "50", "-gray", str(pdf),
             str(tmp_path / stem)],
            check=True,
        )
        pgm = next(tmp_path.glob(f"{stem}*.pgm")).read_bytes()
        pixels = pgm.split(b"\n", 3)[3]
        return sum(1 for p in pixels if p < 128)

    assert ink(signed_chain.versions[-1], "signed") > ink(signed_chain.unsigned, "blank") + 500


def test_fixed_signing_time_is_claimed(demo_pki: DemoPki, tmp_path: Path) -> None:
    blank = make_unsigned_pdf(tmp_path / "blank.pdf")
    when = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
    result = sign_pdf(
        blank, tmp_path / "out.pdf", field="sig-commune", pkcs12=demo_pki.pkcs12_for("commune"),
        passphrase=demo_pki.passphrase, capacity=CAPACITIES["commune"], when=when,
    )
    assert result.signed_at == when
    report = verify_pdf(result.path)
    assert report.signatures[0].signing_time == when


def test_unreachable_timestamp_authority_is_a_warning(
    demo_pki: DemoPki, tmp_path: Path
) -> None:
    blank = make_unsigned_pdf(tmp_path / "blank.pdf")
    result = sign_pdf(
        blank, tmp_path / "out.pdf", field="sig-holder-1",
        pkcs12=demo_pki.pkcs12_for("holder-1"), passphrase=demo_pki.passphrase,
        capacity="Porteuse", timestamp_url="http://127.0.0.1:9/tsa",
    )
    assert result.level == "B-B"
    assert len(result.warnings) == 1 and "unreachable" in result.warnings[0]
    assert verify_pdf(result.path).ok


def _refused(tmp_path: Path, **kwargs: object) -> SigningError:
    src = kwargs.pop("src", None) or make_unsigned_pdf(tmp_path / "blank.pdf")
    dst = tmp_path / "refused.pdf"
    params: dict[str, object] = {"field": "sig-holder-1", "capacity": "Porteuse"}
    params.update(kwargs)
    with pytest.raises(SigningError) as caught:
        sign_pdf(src, dst, **params)  # type: ignore[arg-type]
    assert not dst.exists()
    return caught.value


def test_wrong_passphrase_is_refused(demo_pki: DemoPki, tmp_path: Path) -> None:
    err = _refused(
        tmp_path, pkcs12=demo_pki.pkcs12_for("holder-1"), passphrase=b"not-the-passphrase"
    )
    assert "wrong passphrase" in err.msg
    assert err.exit_code == 1


def test_expired_certificate_is_refused(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    old = create_demo_pki(
        tmp_path / "old-pki", [("holder-1", "Ancien Porteur")],
        not_before=now - timedelta(days=800), not_after=now - timedelta(days=30),
    )
    err = _refused(tmp_path, pkcs12=old.pkcs12_for("holder-1"), passphrase=old.passphrase)
    assert "expired" in err.msg


def test_not_yet_valid_certificate_is_refused(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    future = create_demo_pki(
        tmp_path / "future-pki", [("holder-1", "Futur Porteur")],
        not_before=now + timedelta(days=10), not_after=now + timedelta(days=400),
    )
    err = _refused(tmp_path, pkcs12=future.pkcs12_for("holder-1"), passphrase=future.passphrase)
    assert "not valid before" in err.msg


def test_signing_a_signed_field_is_refused(
    signed_chain: SignedChain, demo_pki: DemoPki, tmp_path: Path
) -> None:
    err = _refused(
        tmp_path, src=signed_chain.versions[0], pkcs12=demo_pki.pkcs12_for("holder-1"),
        passphrase=demo_pki.passphrase,
    )
    assert "already signed" in err.msg


def test_missing_field_is_refused(demo_pki: DemoPki, tmp_path: Path) -> None:
    err = _refused(
        tmp_path, field="sig-guardian-1", pkcs12=demo_pki.pkcs12_for("holder-1"),
        passphrase=demo_pki.passphrase,
    )
    assert "no signature field 'sig-guardian-1'" in err.msg
    assert "sig-holder-1" in err.msg  # names the fields that exist


def test_existing_destination_is_never_overwritten(
    signed_chain: SignedChain, demo_pki: DemoPki, tmp_path: Path
) -> None:
    blank = make_unsigned_pdf(tmp_path / "blank.pdf")
    dst = tmp_path / "taken.pdf"
    dst.write_bytes(b"keep me")
    with pytest.raises(SigningError, match="never overwritten"):
        sign_pdf(
            blank, dst, field="sig-holder-1", pkcs12=demo_pki.pkcs12_for("holder-1"),
            passphrase=demo_pki.passphrase, capacity="Porteuse",
        )
    assert dst.read_bytes() == b"keep me"
