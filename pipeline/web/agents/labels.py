"""Words a clerk reads for the registry's codes (statuses, document kinds, job states).

The values are English msgids, translated where they are shown (``_(label)``)."""

from __future__ import annotations

__all__ = ["DOCUMENT_LABELS", "EVENT_LABELS", "JOB_LABELS", "SEVERITY_LABELS", "STATUS_LABELS"]

STATUS_LABELS: dict[str, str] = {
    "pending": "Being produced",
    "draft": "Draft",
    "generated": "Ready to sign",
    "signing": "Signature in progress",
    "signed": "Signed",
    "declined": "Declined",
    "works_started": "Works started",
    "works_done": "Works done",
    "terminated": "Terminated",
    "cancelled": "Cancelled",
}

DOCUMENT_LABELS: dict[str, str] = {
    "intake": "Intake record (JSON)",
    "docx": "Word document",
    "pdf": "PDF for signature",
    "signed": "Signed PDF",
    "scan": "Scan of the signed paper original",
    "report": "Report",
    "evidence": "Evidence file (PDF)",
    "evidence_json": "Evidence file (JSON)",
    "works_report": "Works report",
    "attachment": "Attachment",
}

JOB_LABELS: dict[str, str] = {
    "validated": "Checked, not started",
    "queued": "Waiting its turn",
    "running": "Running",
    "done": "Finished",
    "failed": "Failed",
    "interrupted": "Interrupted (server stopped)",
}

SEVERITY_LABELS: dict[str, str] = {"error": "Error", "warning": "Warning"}

EVENT_LABELS: dict[str, str] = {
    "allocated": "Number allocated",
    "new_version": "New version",
    "status": "Status changed",
    "document": "Document archived",
    "signed": "Signature recorded",
    "amendment": "Amendment produced",
}
