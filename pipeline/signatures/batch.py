"""Batch signing for staff: every convention waiting for one signatory, with one key.

The mayor opens the smart card once (one PIN entry), then each convention whose next
expected signatory is the commune is signed in turn. Each signature is complete (file
archived, event recorded) before the next starts; the first failure stops the batch, so
a rerun simply continues with what is still waiting.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from pipeline.core.errors import SigningError
from pipeline.core.workspace import Workspace
from pipeline.records.registry import Registry
from pipeline.signatures.credentials import OpenedSigner
from pipeline.signatures.workflow import (
    ConventionSignature,
    SignRequest,
    check_can_sign,
    sign_convention,
    signing_order,
)


def waiting_for(ws: Workspace, signatory: str) -> list[str]:
    """IDs of the conventions ``signatory`` may sign now, in number order."""
    out: list[str] = []
    with Registry.open(ws.registry_path, create=False) as reg:
        for row in reg.list():
            if row.status not in ("generated", "signing"):
                continue
            try:
                check_can_sign(reg, row, signatory, signing_order(row.type_id))
            except SigningError:
                continue
            out.append(row.id)
    return out


def sign_batch(ws: Workspace, convention_ids: list[str], template: SignRequest,
               opened: OpenedSigner,
               progress: Callable[[ConventionSignature], None] | None = None,
               ) -> list[ConventionSignature]:
    """Sign each convention of ``convention_ids`` with ``template``'s settings; stop at
    the first refusal (the exception propagates after the finished ones)."""
    done: list[ConventionSignature] = []
    for convention_id in convention_ids:
        result = sign_convention(ws, replace(template, convention_id=convention_id), opened)
        done.append(result)
        if progress is not None:
            progress(result)
    return done


__all__ = ["sign_batch", "waiting_for"]
