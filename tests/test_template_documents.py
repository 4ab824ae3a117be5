"""The documents as a lawyer reads them: every bundled example and the hand-made batch of
tests/data/documents/ (three holders with an association, an informal group and a minor
girl; an association that only receives help in kind), rendered, converted in ONE
LibreOffice call and stamped, then read back with pdftotext, zbarimg and pypdf."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from render_fixtures import TEMPLATE, example_conventions

from pipeline.catalogue.loader import Catalogue
from pipeline.documents.convert import convert_batch
from pipeline.documents.pdf.sigfields import find_anchors
from pipeline.documents.pdf.stamp import stamp_bytes
from pipeline.documents.render import render_docx
from pipeline.validation.validator import Validator, iter_validated
from schemas import Convention

pytestmark = pytest.mark.libreoffice

BATCH = Path(__file__).resolve().parent / "data" / "documents" / "three-holders.json"
THREE = "FF-2026-JARDIN-PROVINCES"
IN_KIND = "FF-2026-NATURE-SEULE"
PAPER = "PAPER"
"""The in-kind record signed by hand: the signature boxes keep their blank date."""


@dataclass(frozen=True)
class Document:
    conv: Convention
    number: str
    fingerprint: str
    pdf: Path

    @cached_property
    def pages(self) -> list[str]:
        """The text of each page (pdftotext, spaces of every kind made one space)."""
        out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(self.pdf), "-"],
                             capture_output=True, check=True, text=True).stdout
        return [re.sub(r"[ \u00a0\u202f]+", " ", page) for page in out.split("\f")[:-1]]

    @cached_property
    def flat(self) -> str:
        return re.sub(r"\s+", " ", " ".join(self.pages))

    @cached_property
    def layout(self) -> str:
        out = subprocess.run(["pdftotext", "-layout", "-enc", "UTF-8", str(self.pdf), "-"],
                             capture_output=True, check=True, text=True).stdout
        return re.sub(r"[\u00a0\u202f]", " ", out)


@pytest.fixture(scope="session")
def documents(catalogue: Catalogue, tmp_path_factory: pytest.TempPathFactory,
              ) -> dict[str, Document]:
    """Every document rendered, converted once, stamped: by reference."""
    out = tmp_path_factory.mktemp("documents")
    found = example_conventions(catalogue)
    for result in iter_validated([BATCH], Validator(catalogue)):
        assert result.convention is not None, [i.message for i in result.issues]
        found[result.reference] = (result.convention, result.fingerprint)
    in_kind = found[IN_KIND][0]
    signing = in_kind.signing.model_copy(update={"mode": "handwritten"})
    found[PAPER] = (in_kind.model_copy(update={"signing": signing}), found[IN_KIND][1])
    numbers: dict[str, str] = {}
    docs = []
    for n, ref in enumerate(sorted(found), start=1):
        numbers[ref] = f"FF_2026_{n:03d}"
        docx = out / f"{ref}.docx"
        render_docx(found[ref][0], TEMPLATE, docx, number=numbers[ref],
                    fingerprint=found[ref][1], today=date(2026, 11, 25))
        docs.append(docx)
    results = convert_batch(docs, out / "pdf")
    assert all(r.ok for r in results), [r.error for r in results]
    documents: dict[str, Document] = {}
    for r in results:
        assert r.pdf is not None
        ref = r.source.stem
        conv, fingerprint = found[ref]
        stamped = out / f"{ref}.pdf"
        stamped.write_bytes(stamp_bytes(r.pdf.read_bytes(), number=numbers[ref],
                                        fingerprint=fingerprint))
        documents[ref] = Document(conv, numbers[ref], fingerprint, stamped)
    return documents


def test_the_batch_holds_what_the_tests_need(documents: dict[str, Document]) -> None:
    three = documents[THREE].conv
    assert [h.kind for h in three.holders] == ["association", "group", "person"]
    assert three.holders[2].minor and three.amounts.grants
    in_kind = documents[IN_KIND].conv
    assert in_kind.holders[0].kind == "association"
    assert not in_kind.commune_commitments.money and in_kind.amounts.commune_technical
    assert len(documents) >= 7


# ------------------------------------------------------------------ French


def test_no_parenthesised_endings_anywhere(documents: dict[str, Document]) -> None:
    for ref, doc in documents.items():
        flat = doc.flat
        assert not re.search(r"\w\((e|s|es)\)", flat), (ref, re.findall(r".{30}\(e\).{10}", flat))
        assert "(mineur)" not in flat and "(habitant)" not in flat, ref


def test_elision_before_a_vowel(documents: dict[str, Document]) -> None:
    for ref, doc in documents.items():
        # « de Inès », « de Arras »: never; « de Yanis » is right (a consonant y).
        assert not re.search(r"\bde [AEIOUÉÈÊÎÏÔ][a-zéèêëîïôûù]", doc.flat), ref
    three = documents[THREE].flat
    assert "mère d'Inès Moreau, personne mineure" in three
    assert "Le représentant légal d'Inès Moreau remet" in three


def test_a_minor_girl_is_a_personne_mineure(documents: dict[str, Document]) -> None:
    three = documents[THREE].flat
    assert ("Inès Moreau, personne mineure, demeurant 3 allée d'Anjou, 62750 Loos-en-Gohelle, "
            "représentée par son représentant légal, Claire Moreau (mère)") in three
    assert "Inès Moreau : représentant légal Claire Moreau (mère)" in three
    assert "Participation de personnes mineures" in three
    skate = documents["FF-2026-SKATEPARK"].flat
    assert "Inès Benali (plans et maquette, personne mineure)" in skate
    assert "père d'Inès Benali, personne mineure" in skate


def test_an_inhabitant_in_words_that_fit_everyone(documents: dict[str, Document]) -> None:
    in_kind = documents[IN_KIND].flat
    assert ("Lina Haddad, demeurant 6 place Verte, 62750 Loos-en-Gohelle, agissant en son nom "
            "propre") in in_kind
    assert "Lina Haddad, habitant" not in in_kind
    assert "Association Couleurs de Loos, association, RNA W623009876" in in_kind
    assert "représentée par Paul Lenoir" in in_kind


# ------------------------------------------------------------------ contradictions


def test_parental_authorisations_are_in_the_list_of_annexes(
        documents: dict[str, Document]) -> None:
    for ref, doc in documents.items():
        flat = doc.flat
        if doc.conv.has_minors:
            assert "autorisations sont annexées" in flat, ref
            assert "ne comporte pas d'annexe" not in flat, ref
            assert re.search(r"Annexe \d+ : Autorisations parentales", flat), ref
    assert "Annexe 2 : Autorisations parentales des personnes mineures." in \
        documents[THREE].flat


def test_an_informal_group_receives_nothing(documents: dict[str, Document]) -> None:
    for ref, doc in documents.items():
        assert "Bénéficiaire" not in doc.flat, ref
    three = documents[THREE].flat
    assert "Il ne reçoit aucune somme d'argent de la commune" in three
    assert "Pour le porteur" in three   # the purchase is made for the group, not paid to it


# ------------------------------------------------------------------ money


def test_the_23000_article_states_the_per_beneficiary_figure(
        documents: dict[str, Document]) -> None:
    doc = documents[THREE]
    aid = doc.conv.holder_aid(0)
    flat = doc.flat
    assert aid.total == doc.conv.aid_to_holder(0)
    assert ("L'aide attribuée à Association Les Jardins d'Ostrevent s'élève à 24 400,00 € "
            "(vingt-quatre mille quatre cents euros)") in flat
    assert "12 500,00 € de subvention versée en numéraire" in flat
    assert "9 800,00 € d'achats et de prestations payés par la commune pour son compte" in flat
    assert "2 100,00 € d'aide technique valorisée (sa part de l'aide des services" in flat
    assert "répartie à parts égales entre les 3 porteurs" in flat
    assert "L'aide s'élève à 29 450,50 €" not in flat  # the whole commitment is not the aid


def test_the_schedule_covers_grants_only(documents: dict[str, Document]) -> None:
    flat = documents[THREE].flat
    assert ("Les subventions, d'un montant total de 12 500,00 €, sont versées aux porteurs "
            "selon l'échéancier suivant") in flat
    assert "Les achats directs et les prestations sont commandés et payés par la commune" in flat


def test_no_grant_paragraph_without_a_grant(documents: dict[str, Document]) -> None:
    for ref, doc in documents.items():
        flat = doc.flat
        grants, money = doc.conv.amounts.grants, doc.conv.commune_commitments.money
        assert ("mandat administratif" in flat) == bool(grants), ref
        purchases = any(m.form != "grant" for m in money)
        assert ("Les achats directs et les prestations sont commandés" in flat) == purchases, ref
    in_kind = documents[IN_KIND].flat
    assert "Aucune somme n'est versée aux porteurs." in in_kind


def test_cer_visa_when_an_association_receives_help_even_in_kind(
        documents: dict[str, Document]) -> None:
    visa = "Vu la loi n° 2021-1109 du 24 août 2021 confortant le respect des principes"
    for ref, doc in documents.items():
        assert (visa in doc.flat) == doc.conv.republican_commitment_required, ref
    assert visa in documents[IN_KIND].flat and visa in documents[THREE].flat
    assert visa not in documents["FF-2026-SKATEPARK"].flat


def test_no_zero_rows_and_no_long_wrapping(documents: dict[str, Document]) -> None:
    for ref, doc in documents.items():
        for line in doc.layout.splitlines():
            assert not re.search(r"(^|\s)0,00 €", line), (ref, line)
        # A total spans the empty cells: its label stays on one line.
        for label in ("Total de l'aide technique valorisée", "Total des apports en nature",
                      "Total de l'apport financier"):
            if label.split()[-1] in doc.flat and len(_rows(doc, label)) > 0:
                assert all(label in line for line in _rows(doc, label)), (ref, label)


def _rows(doc: Document, label: str) -> list[str]:
    return [line for line in doc.layout.splitlines() if line.strip().startswith(label[:8])
            and label[:14] in line]


# ------------------------------------------------------------------ layout


def test_one_page_numbering(documents: dict[str, Document]) -> None:
    for ref, doc in documents.items():
        pages = doc.pages
        for n, page in enumerate(pages, start=1):
            numbering = re.findall(r"[Pp]age \d+ / \d+", page)
            assert numbering == [f"page {n} / {len(pages)}"], (ref, n, numbering)


def test_signatures_stay_with_their_heading(documents: dict[str, Document]) -> None:
    for ref, doc in documents.items():
        anchors = find_anchors(doc.pdf, [s.key for s in doc.conv.signatories])
        heading = next(n for n, page in enumerate(doc.pages)
                       if re.search(r"Article \d+ – Signatures", page))
        assert {a.page for a in anchors.values()} == {heading}, (ref, heading)


def test_electronic_boxes_leave_no_blank_date(documents: dict[str, Document]) -> None:
    blank = "le ____________"
    electronic = documents[IN_KIND].flat
    assert blank not in electronic and "Lu et approuvé" not in electronic
    assert "La date de chaque signature figure dans son cadre" in electronic
    paper = documents[PAPER].flat
    assert paper.count(blank) == len(documents[PAPER].conv.signatories)


# ------------------------------------------------------------------ QR code and metadata


def test_qr_code_decodes_at_150_dpi(documents: dict[str, Document], tmp_path: Path) -> None:
    for ref, doc in documents.items():
        png = tmp_path / ref
        subprocess.run(["pdftoppm", "-r", "150", "-f", "1", "-l", "1", "-png", "-singlefile",
                        str(doc.pdf), str(png)], check=True)
        out = subprocess.run(["zbarimg", "-q", "--raw", f"{png}.png"], capture_output=True,
                             text=True)
        assert out.returncode == 0, (ref, out.stderr)
        assert out.stdout.strip() == f"fiftyfifty:{doc.number}:{doc.fingerprint}", ref


def test_pdf_metadata_title_number_author_language(documents: dict[str, Document]) -> None:
    for ref, doc in documents.items():
        reader = PdfReader(doc.pdf)
        info = reader.metadata
        assert info is not None
        title = f"Convention n° {doc.number} – {doc.conv.title}".replace("'", "\u2019")
        assert info.title == title, ref
        assert info.author == "Commune de Loos-en-Gohelle", ref
        assert doc.number in str(info.get("/Keywords")), ref
        root: Any = reader.trailer["/Root"]
        assert root["/Lang"] == "fr-FR", ref
        xmp = reader.xmp_metadata
        assert xmp is not None
        assert xmp.dc_title == {"x-default": title}, ref
        assert xmp.dc_creator == ["Commune de Loos-en-Gohelle"], ref
        # PDF/A-2b: the identification is kept by the stamp, the file is sound.
        raw = root["/Metadata"].get_object().get_data()
        assert re.search(rb"pdfaid:part[>=\"']+2", raw), ref
        assert re.search(rb"pdfaid:conformance[>=\"']+B", raw), ref
        check = subprocess.run(["qpdf", "--check", str(doc.pdf)], capture_output=True,
                               text=True)
        assert check.returncode == 0, (ref, check.stdout)
