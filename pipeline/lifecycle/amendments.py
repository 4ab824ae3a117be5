"""Amendments (avenants): ``fiftyfifty amend ID INPUT`` and their signature.

The changed record is validated with the same rules as any intake; the changes are
computed article by article against the terms in force (:mod:`.changes`); the amendment
``<ID>_A<n>`` is rendered from its own Word template (``amendment.docx`` beside the
type's template), converted, stamped, given one signature field per signatory, and
archived in the convention's folder (kind ``attachment``: the PDF, the DOCX and the
amended record ``<ID>_A<n>-record.json``). The ``amendments`` table (migration 3) and
``amendment`` events link it to the convention. It is signed in the convention's signing
order; once every signatory has signed, its record is the terms in force
(:func:`.terms.signed_amendment_record`), used by the due list, the calendar and termination.
"""

from __future__ import annotations

import io
import json
import logging
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from pypdf import PdfReader

from pipeline.catalogue.loader import Catalogue
from pipeline.core.errors import InputError, SigningError, StateError
from pipeline.core.i18n import _
from pipeline.core.workspace import Workspace
from pipeline.documents.convert import convert_batch
from pipeline.documents.pdf.sigfields import field_name, fields_from_anchors, find_anchors
from pipeline.documents.pdf.stamp import stamp_bytes
from pipeline.documents.render import build_context, render_context_docx
from pipeline.lifecycle.amendment_rows import AmendmentRow, amendments, get_amendment
from pipeline.lifecycle.changes import Change, by_article, compute_changes
from pipeline.lifecycle.terms import current_terms, require
from pipeline.records.archive import add_files, workspace_path
from pipeline.records.registry import EVENT_AMENDMENT, Registry, is_valid_convention_id
from pipeline.records.registry.lifecycle_store import insert_amendment, set_amendment_status
from pipeline.signatures.credentials import Pkcs12Credential
from pipeline.signatures.pades import FieldSignature, Level, sign_pdf_bytes
from pipeline.signatures.workflow import SignRequest, signing_group, signing_order, signing_policy
from pipeline.validation.validator import Validator, canonical_json, iter_validated
from schemas import Convention

log = logging.getLogger(__name__)

AMENDABLE = ("signed", "works_started", "works_done")
TEMPLATE_NAME = "amendment.docx"


@dataclass(frozen=True)
class AmendRequest:
    """``amend ID INPUT``."""

    convention_id: str
    source: Path
    by: str
    soffice: str | None = None


def _read_record(source: Path, catalogue: Catalogue) -> tuple[Convention, str, str]:
    records = list(iter_validated([source], Validator(catalogue)))
    if len(records) != 1:
        raise InputError(_("{path}: an amendment takes exactly one record ({n} found).")
                         .format(path=source, n=len(records)))
    v = records[0]
    if v.convention is None:
        errors = "; ".join(f"{i.field or '(record)'}: {i.message}" for i in v.issues
                           if i.severity == "error")
        raise InputError(_("{path} row {row}: the record is not valid: {errors}").format(
            path=source, row=v.raw.row, errors=errors))
    return v.convention, v.reference, v.fingerprint


def _pdf_from(docx: Path, conv: Convention, aid: str, fingerprint: str,
              soffice: str | None) -> bytes:
    (result,) = convert_batch([docx], docx.parent / "pdf", workers=1, soffice=soffice,
                              profiles=docx.parent / "profiles")
    if not result.ok or result.pdf is None:
        raise StateError(_("The amendment {id} could not be converted to PDF: {error}")
                         .format(id=aid, error=result.error))
    data = result.pdf.read_bytes()
    keys = [s.key for s in conv.signatories]
    reader = PdfReader(io.BytesIO(data))
    specs = fields_from_anchors(find_anchors(reader, keys), keys)
    return stamp_bytes(data, number=aid, fingerprint=fingerprint, reader=reader,
                       fields=specs, name=f"{aid}.pdf")


def produce_amendment(ws: Workspace, catalogue: Catalogue, req: AmendRequest, *,
                      today: date) -> tuple[AmendmentRow, list[Change], str]:
    """Check the changed record, compute the changes, produce and archive the amendment.
    Returns the amendment, its changes and the PDF's workspace-relative path."""
    new, reference, fingerprint = _read_record(req.source, catalogue)
    with Registry.open(ws.registry_path, create=False) as reg:
        row = require(reg, req.convention_id)
        if row.status not in AMENDABLE:
            raise StateError(_("Convention {id} is not signed and running: an amendment "
                               "cannot be made (change the intake and run again before "
                               "signature).").format(id=row.id))
        if reference != row.reference or new.convention_type != row.type_id:
            raise InputError(_("{path}: reference {ref} does not belong to {id} (reference "
                               "{expected}).").format(path=req.source, ref=reference,
                                                      id=row.id, expected=row.reference))
        existing = amendments(reg, row.id)
        open_ = [a.id for a in existing if a.status in ("generated", "signing")]
        if open_:
            raise StateError(_("Amendment {id} is not signed yet: sign it before another "
                               "one.").format(id=open_[0]))
        changes = compute_changes(current_terms(ws, reg, row), new)
        if not changes:
            raise InputError(_("{path}: nothing changes in the terms of {id}.").format(
                path=req.source, id=row.id))
        n = max((a.n for a in existing), default=0) + 1
        aid = f"{row.id}_A{n}"
        if not is_valid_convention_id(aid):
            raise StateError(_("{id} would be longer than 15 characters.").format(id=aid))
        template = catalogue.template_path(catalogue.get(row.type_id)).with_name(TEMPLATE_NAME)
        context = build_context(new, number=row.id, fingerprint=fingerprint, today=today)
        context.update({"amendment": {"id": aid, "n": n}, "articles": by_article(changes)})
        with tempfile.TemporaryDirectory(prefix="fiftyfifty-amend-") as tmp:
            docx = Path(tmp) / f"{aid}.docx"
            render_context_docx(template, context, docx)
            pdf = _pdf_from(docx, new, aid, fingerprint, req.soffice)
            record = (json.dumps(json.loads(canonical_json(new)), ensure_ascii=False,
                                 indent=2) + "\n").encode("utf-8")
            signatories = [s.model_dump() for s in new.signatories]
            with reg.transaction():
                stored = add_files(ws, reg, row.id, row.version, [
                    (f"{aid}.pdf", "attachment", pdf),
                    (f"{aid}.docx", "attachment", docx.read_bytes()),
                    (f"{aid}-record.json", "attachment", record)], actor=req.by)
                now = reg.now()
                insert_amendment(
                    reg, amendment_id=aid, convention_id=row.id, n=n, fingerprint=fingerprint,
                    changes=json.dumps([c.to_dict() for c in changes], ensure_ascii=False),
                    signatories=json.dumps(signatories, ensure_ascii=False), now=now)
                reg.record_event(row.id, EVENT_AMENDMENT, req.by, {
                    "amendment": aid, "step": "produced", "fingerprint": fingerprint,
                    "changes": [c.to_dict() for c in changes], "document": stored[0].relpath,
                    "sha256": stored[0].sha256})
        return get_amendment(reg, aid), changes, stored[0].relpath


def _signatures(reg: Registry, a: AmendmentRow) -> dict[str, str]:
    done: dict[str, str] = {}
    for ev in reg.events(a.convention_id):
        d = ev.details
        if ev.action == EVENT_AMENDMENT and d.get("amendment") == a.id \
                and d.get("step") == "signature":
            done.setdefault(str(d.get("signatory")), str(d.get("document")))
    return done


def _latest_pdf(reg: Registry, a: AmendmentRow) -> str:
    names = [d.relpath for d in reg.documents(a.convention_id)
             if d.kind == "attachment" and d.relpath.rsplit("/", 1)[-1].startswith(a.id)
             and d.relpath.endswith(".pdf")]
    if not names:
        raise StateError(_("No PDF of amendment {id} in the archive.").format(id=a.id))
    signed = list(_signatures(reg, a).values())
    return signed[-1] if signed else names[0]


@dataclass(frozen=True)
class AmendmentSignature:
    """One signature of an amendment."""

    amendment_id: str
    signatory: str
    signer: str
    document: str
    status: str
    remaining: tuple[str, ...]


def sign_amendment(ws: Workspace, amendment_id: str, signatory: str, *, pkcs12: Path,
                   passphrase: bytes, by: str, location: str | None = None,
                   level: Level | None = None, timestamp_url: str | None = None,
                   extra_trust: tuple[Path, ...] = ()) -> AmendmentSignature:
    """Sign an amendment for ``signatory`` in the convention's signing order."""
    with Registry.open(ws.registry_path, create=False) as reg:
        a = get_amendment(reg, amendment_id)
        row = require(reg, a.convention_id)
        if a.status not in ("generated", "signing"):
            raise SigningError(_("Amendment {id} is {status}: it cannot be signed.").format(
                id=a.id, status=a.status))
        keys = [str(s.get("key")) for s in a.signatories]
        entry = next((s for s in a.signatories if s.get("key") == signatory), None)
        if entry is None:
            raise SigningError(_("{key} is not a signatory of {id} (signatories: {keys}).")
                               .format(key=signatory, id=a.id, keys=", ".join(keys)))
        done = _signatures(reg, a)
        if signatory in done:
            raise SigningError(_("{key} has already signed {id}.").format(key=signatory,
                                                                          id=a.id))
        order = list(signing_order(row.type_id))
        earlier = set(order[: order.index(signing_group(signatory))])
        waiting = [k for k in keys if signing_group(k) in earlier and k not in done]
        if waiting:
            raise SigningError(_("{id} still awaits {keys} before {key}.").format(
                id=a.id, keys=", ".join(waiting), key=signatory))
        source = _latest_pdf(reg, a)
        policy = signing_policy(ws, row.type_id, SignRequest(
            row.id, signatory, level=level, timestamp_url=timestamp_url,
            extra_trust=extra_trust))
        with Pkcs12Credential(pkcs12, passphrase).open() as opened:
            result = sign_pdf_bytes(workspace_path(ws, source).read_bytes(), FieldSignature(
                field=field_name(signatory), capacity=str(entry.get("capacity") or ""),
                reason=f"Signature de l'avenant {a.id}", location=location,
                certify=not done), opened, policy)
        signed, name, moment, level = (result.data, result.signer, result.signed_at,
                                       result.level)
        with reg.transaction():
            count = len(done) + 1
            (stored,) = add_files(ws, reg, row.id, row.version, [
                (f"{a.id}-signed-{count}-{signatory}.pdf", "attachment", signed)], actor=by)
            reg.record_event(row.id, EVENT_AMENDMENT, by, {
                "amendment": a.id, "step": "signature", "signatory": signatory,
                "signer": name, "signed_at": moment.isoformat(), "level": level,
                "document": stored.relpath, "sha256": stored.sha256})
            remaining = tuple(k for k in keys if k not in done and k != signatory)
            status = "signing" if remaining else "signed"
            set_amendment_status(reg, a.id, status, reg.now())
            if not remaining:
                reg.record_event(row.id, EVENT_AMENDMENT, by, {
                    "amendment": a.id, "step": "signed", "document": stored.relpath})
        return AmendmentSignature(a.id, signatory, name, stored.relpath, status, remaining)

