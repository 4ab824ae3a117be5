"""A workspace with the bundled example conventions registered and really signed, for the
export tests (SEDA packages, open data, yearly report).

Each example is validated, numbered and archived with its normalised intake and a PDF
carrying three empty signature fields; the conventions listed in ``SIGNED`` are then
signed by the three demo signatories through ``fiftyfifty sign`` (real PAdES signatures
from the session's demo PKI).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from sign_fixtures import ROLES, Pkcs12Set, make_unsigned_pdf

from pipeline.catalogue.loader import Catalogue
from pipeline.cli.sign_cmds import register as register_sign
from pipeline.core.workspace import Workspace
from pipeline.records.archive import store_documents
from pipeline.records.registry import NewConvention, Registry
from pipeline.validation.validator import Validator, canonical_json, iter_validated

EXAMPLES = Path(__file__).resolve().parents[1] / "conventions" / "examples"
SIGNATORIES = [{"key": key, "name": name, "capacity": f"Qualité de {name}", "party": "x"}
               for key, name in ROLES]
SIGNED = ("FF-2026-CHEMINS-RURAUX", "FF-2026-SKATEPARK", "FF-2026-SOLAIRE-EGLISE",
          "FF-2026-JARDIN-PARTAGE")
PASS_ENV = "FF_EXPORT_TEST_PASS"
COMMUNE_SIRET = "21620528000017"


@dataclass(frozen=True)
class SignedWorkspace:
    """The workspace and the numbers of its conventions, by reference."""

    root: Path
    ids: dict[str, str]

    @property
    def ws(self) -> Workspace:
        return Workspace(self.root)

    def copy_to(self, dst: Path) -> Workspace:
        """A private copy a test may change."""
        shutil.copytree(self.root, dst)
        return Workspace(dst)


def _cli() -> click.Group:
    @click.group()
    def group() -> None:
        """Throw-away group for the tests."""

    register_sign(group)
    return group


def build_signed_workspace(root: Path, catalogue: Catalogue, pki: Pkcs12Set) -> SignedWorkspace:
    """Register every example (JSON and CSV), sign those of ``SIGNED``."""
    ws = Workspace(root)
    ids: dict[str, str] = {}
    paths = sorted(EXAMPLES.glob("*.json")) + sorted(EXAMPLES.glob("*.csv"))
    with Registry.open(ws.registry_path) as reg:
        for v in iter_validated(paths, Validator(catalogue)):
            conv = v.convention
            if conv is None:  # the CSV holds one wrong row on purpose
                continue
            a = conv.amounts
            claim = reg.claim(NewConvention(
                type_id=conv.convention_type, year=2026, number_format="FF_{year}_{seq:03d}",
                reference=v.reference, fingerprint=v.fingerprint, title=conv.title,
                holders=[{"kind": h.kind, "name": h.name} for h in conv.holders],
                commune_amount=a.commune_total, inkind_value=a.holders_inkind,
                start=conv.schedule.start, end=conv.schedule.end,
                commitment_end=conv.commitment_end, signatories=SIGNATORIES))
            intake = json.dumps(json.loads(canonical_json(conv)), ensure_ascii=False, indent=2)
            pdf = make_unsigned_pdf(root.parent / f"{claim.convention_id}.pdf")
            store_documents(ws, reg, claim.convention_id, 2026, claim.version,
                            [("intake.json", "intake", intake.encode("utf-8")),
                             (f"{claim.convention_id}.pdf", "pdf", pdf)])
            ids[v.reference] = claim.convention_id
    for ref in SIGNED:
        sign_all(root, ids[ref], pki)
    return SignedWorkspace(root, ids)


def sign_all(root: Path, convention_id: str, pki: Pkcs12Set) -> None:
    """Every demo signatory signs ``convention_id`` through ``fiftyfifty sign``."""
    env = {PASS_ENV: pki.passphrase.decode()}
    runner = CliRunner(env=env)
    trusted = runner.invoke(_cli(), ["trust", "add", str(pki.root), "--workspace", str(root)])
    assert trusted.exit_code == 0, trusted.output
    for key, _ in ROLES:
        result = runner.invoke(_cli(), [
            "sign", convention_id, "--signatory", key, "--pkcs12", str(pki.p12(key)),
            "--passphrase-env", PASS_ENV, "--level", "B-B", "--workspace", str(root)])
        assert result.exit_code == 0, result.output


def add_signed_amendment(ws: Workspace, parent: str, pki: Pkcs12Set) -> str:
    """A signed amendment ``<parent>_A1`` registered beside ``parent``."""
    with Registry.open(ws.registry_path) as reg:
        row = reg.get(parent)
        assert row is not None
        intake = next(d for d in reg.documents(parent) if d.kind == "intake")
        claim = reg.claim(NewConvention(
            type_id=row.type_id, year=row.year, number_format=f"{parent}_A{{seq}}",
            reference=f"{row.reference}-A1", fingerprint="a" * 64,
            title="Avenant : prolongation des travaux", holders=row.holders,
            commune_amount=row.commune_amount, inkind_value=row.inkind_value,
            start=row.start, end=row.end, commitment_end=row.commitment_end,
            signatories=SIGNATORIES))
        pdf = make_unsigned_pdf(ws.root.parent / f"{claim.convention_id}.pdf")
        store_documents(ws, reg, claim.convention_id, row.year, claim.version,
                        [("intake.json", "intake", ws.root / intake.relpath),
                         (f"{claim.convention_id}.pdf", "pdf", pdf)])
    sign_all(ws.root, claim.convention_id, pki)
    return claim.convention_id


@pytest.fixture(scope="session")
def signed_ws(tmp_path_factory: pytest.TempPathFactory, p12_set: Pkcs12Set) -> SignedWorkspace:
    """The examples registered and signed, once per session (copy it before changing it)."""
    from paths import PROJECT_ROOT

    catalogue = Catalogue.load(PROJECT_ROOT / "conventions")
    return build_signed_workspace(tmp_path_factory.mktemp("exports") / "ws", catalogue,
                                  p12_set)
