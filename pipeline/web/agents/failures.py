"""What a clerk reads when the library refuses an action: its own message, in French.

The library's refusals (:class:`~pipeline.core.errors.PipelineError`) carry a translated
message. A record that does not fit the schema is the one case where the text underneath
is pydantic's, in English: it is never shown as is, but told in the clerk's language with
the names of the fields at fault.
"""

from __future__ import annotations

from pydantic import ValidationError

from pipeline.core.errors import PipelineError
from pipeline.core.i18n import _

__all__ = ["explain"]

MAX_FIELDS = 5


def _schema_error(exc: BaseException) -> ValidationError | None:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ValidationError):
            return seen
        seen = seen.__cause__
    return None


def _fields(exc: ValidationError) -> str:
    names: list[str] = []
    for error in exc.errors():
        name = ".".join(str(part) for part in error["loc"]) or _("(the whole record)")
        if name not in names:
            names.append(name)
    shown = ", ".join(names[:MAX_FIELDS])
    return shown + ("…" if len(names) > MAX_FIELDS else "")


def explain(exc: Exception, hide: str = "") -> str:
    """The message to flash for ``exc`` (``hide``: a temporary folder to leave out)."""
    schema = _schema_error(exc)
    if schema is not None:
        return _("The convention's record does not fit the rules of its type; fields at "
                 "fault: {fields}.").format(fields=_fields(schema))
    text = exc.msg if isinstance(exc, PipelineError) else str(exc)
    return text.replace(hide.rstrip("/") + "/", "") if hide else text
