"""The evidence file (dossier de preuve) of one online signature or refusal.

Two files, archived together: a JSON document (every fact, machine-readable) and a
PDF/A report of the same facts in French, which carries the JSON's SHA-256 and is sealed
(PAdES, invisible field ``cachet-commune``) with the commune's seal certificate. So the
seal protects the report and, through the hash, the JSON; the registry keeps both
hashes, and ``verify`` / ``archive verify`` check all three links.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from PIL import ImageCms
from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    NameObject,
    NumberObject,
    TextStringObject,
)
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen import canvas

from pipeline.core.errors import SigningError
from pipeline.core.workspace import Workspace
from pipeline.documents.pdf.sigfields import FieldSpec, signature_fields_bytes
from pipeline.records.archive import StoredDocument, add_files, workspace_path
from pipeline.records.registry import Registry
from pipeline.signatures.appearance import _FONT, _register_font
from pipeline.signatures.credentials import OpenedSigner, Pkcs12Credential
from pipeline.signatures.pades import FieldSignature, SigningPolicy, sign_pdf_bytes
from pipeline.signatures.signing_ca import SigningCa
from pipeline.signatures.trust import load_roots
from pipeline.signatures.verify import verify_pdf

__all__ = ["JSON_HASH_KEY", "SEAL_FIELD", "EvidenceCheck", "archive_evidence",
           "evidence_pdf", "verify_evidence"]

SEAL_FIELD = "cachet-commune"
JSON_HASH_KEY = "/FFEvidenceJSONSHA256"
"""Entry of the report's document information that holds the JSON's SHA-256."""

_STEP_LABELS = {
    "invitation_sent": "Invitation envoyée par courriel",
    "invitation_revoked": "Invitation révoquée",
    "link_opened": "Lien ouvert",
    "code_sent": "Code à usage unique envoyé",
    "code_failed": "Code erroné saisi",
    "code_locked": "Lien verrouillé après trop d'essais",
    "code_checked": "Code vérifié",
    "consent": "Convention lue et acceptée",
    "signed": "Signature apposée",
    "declined": "Signature refusée",
}


def _lines(facts: dict[str, Any], json_sha: str) -> list[tuple[str, str]]:
    signer = facts["signer"]
    rows: list[tuple[str, str]] = [
        ("h", "Dossier de preuve de signature électronique"),
        ("t", f"Convention {facts['convention']} — {facts['title']}"),
        ("t", f"Signataire : {signer['name']} ({facts['signatory']}), {facts['capacity']}"),
        ("t", f"Nom saisi : {signer.get('typed_name') or '—'} ; courriel : {signer['email']}"),
        ("t", f"Issue : {'signée' if facts['outcome'] == 'signed' else 'refusée'}"
              + (f" — motif : {facts['reason']}" if facts.get("reason") else "")),
        ("t", f"Identification : {facts['identification']}"),
        ("h", "Document"),
        ("t", f"Avant : {facts['document_before']['path']}"),
        ("m", f"SHA-256 {facts['document_before']['sha256']}"),
    ]
    after = facts.get("document_after")
    if after:
        rows += [("t", f"Après : {after['path']} (niveau PAdES {facts.get('level')})"),
                 ("m", f"SHA-256 {after['sha256']}")]
    cert = facts.get("certificate")
    if cert:
        rows += [("t", f"Certificat à usage unique : {cert['subject']}"),
                 ("m", f"Empreinte SHA-256 {cert['sha256_fingerprint']}"),
                 ("t", f"Émis par : {cert['issuer']}")]
    rows.append(("h", "Étapes (heure UTC, adresse IP, navigateur)"))
    for step in facts["steps"]:
        label = _STEP_LABELS.get(step["step"], step["step"])
        rows.append(("t", f"{step['at'][:19].replace('T', ' ')} — {label}"))
        if step.get("ip") or step.get("user_agent"):
            rows.append(("m", f"IP {step.get('ip') or '—'} ; {step.get('user_agent') or '—'}"))
    rows += [("h", "Intégrité"),
             ("t", "Données complètes : fichier JSON joint au dossier, dont l'empreinte est :"),
             ("m", f"SHA-256 {json_sha}"),
             ("t", "Ce rapport est scellé par le cachet électronique de la commune.")]
    return rows


def _srgb_profile() -> bytes:
    profile: Any = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
    return bytes(profile.tobytes())


def _xmp(title: str, when: datetime) -> bytes:
    stamp = when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    safe = (title.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:xmp="http://ns.adobe.com/xap/1.0/" '
        'xmlns:pdf="http://ns.adobe.com/pdf/1.3/">'
        '<pdfaid:part>2</pdfaid:part><pdfaid:conformance>B</pdfaid:conformance>'
        f'<dc:title><rdf:Alt><rdf:li xml:lang="x-default">{safe}</rdf:li></rdf:Alt></dc:title>'
        f'<xmp:CreateDate>{stamp}</xmp:CreateDate><xmp:ModifyDate>{stamp}</xmp:ModifyDate>'
        '<pdf:Producer>fiftyfifty</pdf:Producer>'
        '</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
    ).encode()


def _as_pdfa(data: bytes, title: str, json_sha: str, when: datetime) -> bytes:
    """Add the PDF/A-2b identification (XMP) and an sRGB output intent."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    meta = DecodedStreamObject()
    meta.set_data(_xmp(title, when))
    meta.update({NameObject("/Type"): NameObject("/Metadata"),
                 NameObject("/Subtype"): NameObject("/XML")})
    icc = DecodedStreamObject()
    icc.set_data(_srgb_profile())
    icc.update({NameObject("/N"): NumberObject(3)})
    intent = DictionaryObject({
        NameObject("/Type"): NameObject("/OutputIntent"),
        NameObject("/S"): NameObject("/GTS_PDFA1"),
        NameObject("/OutputConditionIdentifier"): TextStringObject("sRGB IEC61966-2.1"),
        NameObject("/DestOutputProfile"): writer._add_object(icc),
    })
    root = writer._root_object
    root[NameObject("/Metadata")] = writer._add_object(meta)
    root[NameObject("/OutputIntents")] = ArrayObject([writer._add_object(intent)])
    writer.add_metadata({"/Title": title, "/Producer": "fiftyfifty", JSON_HASH_KEY: json_sha})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def evidence_pdf(facts: dict[str, Any], json_sha: str) -> bytes:
    """The French report (unsealed), PDF/A-2b, fonts embedded."""
    _register_font()
    buf = io.BytesIO()
    page = canvas.Canvas(buf, pagesize=A4, pageCompression=1, initialFontName=_FONT)
    title = f"Dossier de preuve — {facts['convention']} — {facts['signatory']}"
    page.setTitle(title)
    width, height = A4
    y = height - 56
    for kind, text in _lines(facts, json_sha):
        size = 13.0 if kind == "h" else 7.5 if kind == "m" else 9.5
        if kind == "h":
            y -= 8
        for line in simpleSplit(text, _FONT, size, width - 112):
            if y < 56:
                page.showPage()
                y = height - 56
            page.setFont(_FONT, size)
            page.drawString(56, y, line)
            y -= size * 1.35
    page.showPage()
    page.save()
    return _as_pdfa(buf.getvalue(), title, json_sha, datetime.now(UTC))


def _seal(data: bytes, ca: SigningCa, commune: str, roots: tuple[Any, ...]) -> bytes:
    """The report sealed by the commune: its seal field added first (so it is fixed before
    any signature, as ``verify`` demands), then signed as a certification, PDF 1.7 kept."""
    with_field = signature_fields_bytes(data, [FieldSpec(SEAL_FIELD, 0, (56.0, 20.0, 226.0, 60.0))],
                                        name="the evidence report")
    policy = SigningPolicy("B-B", None, roots)
    try:
        stat = ca.seal_pkcs12.stat()
        opened = _seal_signer(ca.seal_pkcs12, (stat.st_mtime_ns, stat.st_size), ca.passphrase)
    except OSError as exc:
        raise SigningError(f"The commune's seal ({ca.seal_pkcs12}) cannot be opened.") from exc
    result = sign_pdf_bytes(with_field, FieldSignature(
        field=SEAL_FIELD, capacity=f"Cachet de la commune de {commune}",
        reason="Cachet du dossier de preuve", certify=True), opened, policy)
    return result.data


@functools.lru_cache(maxsize=4)
def _seal_signer(path: Path, stamp: tuple[int, int], passphrase: bytes) -> OpenedSigner:
    """The commune's seal, opened once per process (its PKCS#12 key derivation is a tenth
    of an evidence file's CPU); read again when the file changes (``stamp``: its time and
    size). The key stays in this process's memory, as the CA's key already does."""
    with Pkcs12Credential(path, passphrase).open() as opened:
        return opened


def archive_evidence(ws: Workspace, reg: Registry, ca: SigningCa, facts: dict[str, Any],
                     *, actor: str) -> tuple[StoredDocument, StoredDocument]:
    """Write, seal and archive the JSON and the report; record an ``evidence`` event."""
    cid, key = str(facts["convention"]), str(facts["signatory"])
    body = (json.dumps(facts, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode()
    json_sha = hashlib.sha256(body).hexdigest()
    sealed = _seal(evidence_pdf(facts, json_sha), ca, ca.commune, load_roots(ws))
    with reg.transaction():
        row = reg.get(cid)
        assert row is not None
        n = sum(1 for d in reg.documents(cid) if d.kind == "evidence") + 1
        pdf, js = add_files(ws, reg, cid, row.version, [
            (f"{cid}-preuve-{n}-{key}.pdf", "evidence", sealed),
            (f"{cid}-preuve-{n}-{key}.json", "evidence_json", body),
        ], actor=actor)
        reg.record_event(cid, "evidence", actor, {
            "signatory": key, "outcome": facts["outcome"], "report": pdf.relpath,
            "report_sha256": pdf.sha256, "json": js.relpath, "json_sha256": js.sha256})
    return pdf, js


@dataclass(frozen=True)
class EvidenceCheck:
    """The check of one evidence report and its JSON."""

    report: str
    json: str | None
    ok: bool
    reasons: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"report": self.report, "json": self.json, "ok": self.ok,
                "reasons": list(self.reasons)}


def _check_pair(ws: Workspace, report: str, js: str | None,
                roots: tuple[Any, ...]) -> EvidenceCheck:
    reasons: list[str] = []
    path = workspace_path(ws, report)
    if not path.is_file():
        return EvidenceCheck(report, js, False, (f"{report} is missing",))
    seal = verify_pdf(path, roots=roots, expected_fields=[SEAL_FIELD])
    reasons += [f"seal: {r}" for r in seal.reasons]
    if not roots:
        reasons.append("seal: no trust root given, the commune's seal cannot be trusted")
    try:
        info: Any = PdfReader(path).metadata or {}
        recorded = str(info.get(JSON_HASH_KEY, ""))
    except Exception as exc:
        recorded = ""
        reasons.append(f"{report} cannot be read: {exc}")
    if js is None:
        reasons.append("its JSON file is not registered")
    else:
        jpath = workspace_path(ws, js)
        if not jpath.is_file():
            reasons.append(f"{js} is missing")
        elif hashlib.sha256(jpath.read_bytes()).hexdigest() != recorded:
            reasons.append(f"{js} does not match the SHA-256 sealed in the report")
    return EvidenceCheck(report, js, not reasons, tuple(reasons))


def verify_evidence(ws: Workspace, convention_id: str | None, roots: tuple[Any, ...]
                    ) -> list[EvidenceCheck]:
    """Check every evidence file of one convention (or of the whole archive) against the
    trust ``roots`` (see :func:`pipeline.signatures.trust.load_roots`)."""
    with Registry.open(ws.registry_path, create=False) as reg:
        docs = reg.documents(convention_id)
    jsons = {d.relpath for d in docs if d.kind == "evidence_json"}
    checks = []
    for doc in docs:
        if doc.kind != "evidence":
            continue
        twin = doc.relpath[:-4] + ".json" if doc.relpath.endswith(".pdf") else ""
        checks.append(_check_pair(ws, doc.relpath, twin if twin in jsons else None, roots))
    return checks
