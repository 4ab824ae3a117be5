"""Render a convention into a Word document with docxtpl.

The template is a ``.docx`` whose text carries Jinja tags (docxtpl dialect: ``{%p %}``,
``{%tr %}`` for paragraphs and table rows). Rendering runs in a sandboxed Jinja environment
with autoescape (intake text cannot inject XML) and ``StrictUndefined`` (a misspelt name is
an error, not a blank). The context is built by :func:`build_context` and described, for
the template checker, by :data:`CONTEXT_TYPES`.

Speed: a template is prepared once per file version (its bytes, its patched XML parts and
their compiled Jinja templates are kept), so a batch only pays for the rendering itself.
"""

from __future__ import annotations

import functools
import io
import threading
import zipfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import jinja2
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment
from pydantic import BaseModel

from pipeline.core.errors import TemplateError
from pipeline.documents.docx_package import Dialect, PackageTemplate
from pipeline.documents.frenchfmt import FILTERS
from pipeline.documents.pdf.anchors import bookmark_anchors
from schemas.base import Strict
from schemas.convention import Convention
from schemas.wording import de

__all__ = [
    "CONTEXT_TYPES",
    "DocumentProperties",
    "SignatureCell",
    "build_context",
    "document_properties",
    "make_environment",
    "metadata_text",
    "model_properties",
    "render_docx",
    "signatory_rows",
]

SIGNATURES_PER_ROW = 2


@dataclass(frozen=True)
class SignatureCell:
    """One cell of the signature block; an empty ``key`` marks a filler cell."""

    key: str = ""
    """Signatory key (``holder-1``, ``guardian-1-2``, ``commune``), for the anchor."""
    name: str = ""
    """Who signs."""
    capacity: str = ""
    """In what capacity."""
    party: str = ""
    """For which party."""


CONTEXT_TYPES: dict[str, Any] = {
    "convention": Convention,
    "number": str,
    "fingerprint": str,
    "version": int,
    "today": date,
    "draft": bool,
    "signatory_rows": list[list[SignatureCell]],
}
"""Top-level names of the rendering context and their types (read by the checker)."""


def model_properties(cls: type[BaseModel]) -> dict[str, Any]:
    """Plain ``@property`` members a schema model adds (``Holder.kind_label``,
    ``TechnicalHelp.value``…), with their return annotations; computed fields excluded."""
    return dict(_model_properties(cls))


@functools.cache
def _model_properties(cls: type[BaseModel]) -> dict[str, Any]:
    """:func:`model_properties`, found once per class (every document asks again)."""
    found: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        if not (isinstance(klass, type) and issubclass(klass, Strict)) or klass is Strict:
            continue
        for name, member in vars(klass).items():
            if isinstance(member, property) and not name.startswith("_"):
                if name in cls.model_computed_fields:
                    continue
                getter = member.fget
                hints = getattr(getter, "__annotations__", {})
                found[name] = hints.get("return", Any)
    return found


def _dump(model: BaseModel) -> dict[str, Any]:
    """``model_dump(mode="python")`` plus the model's plain properties, recursively."""
    data = model.model_dump(mode="python")
    _add_properties(model, data)
    return data


def _add_properties(value: Any, data: Any) -> None:
    if isinstance(value, BaseModel) and isinstance(data, dict):
        for name in _model_properties(type(value)):
            data[name] = getattr(value, name)
        for name in (*type(value).model_fields, *type(value).model_computed_fields):
            if name in data:
                _add_properties(getattr(value, name), data[name])
    elif isinstance(value, list) and isinstance(data, list):
        for item, dumped in zip(value, data, strict=True):
            _add_properties(item, dumped)


def signatory_rows(conv: Convention) -> list[list[SignatureCell]]:
    """The signatories in signing order, two per row; the last row padded with a filler."""
    cells = [SignatureCell(s.key, s.name, s.capacity, s.party) for s in conv.signatories]
    rows = [cells[i:i + SIGNATURES_PER_ROW] for i in range(0, len(cells), SIGNATURES_PER_ROW)]
    if rows and len(rows[-1]) < SIGNATURES_PER_ROW:
        rows[-1] = rows[-1] + [SignatureCell()] * (SIGNATURES_PER_ROW - len(rows[-1]))
    return rows


def build_context(conv: Convention, *, number: str, fingerprint: str, version: int = 1,
                  today: date, draft: bool = False) -> dict[str, Any]:
    """The names a template sees: ``convention`` (the record as plain data, dates and
    Decimals kept, computed fields and properties included), ``number``, ``fingerprint``,
    ``version``, ``today``, ``draft`` and ``signatory_rows``."""
    return {
        "convention": _dump(conv),
        "number": number,
        "fingerprint": fingerprint,
        "version": version,
        "today": today,
        "draft": draft,
        "signatory_rows": signatory_rows(conv),
    }


class _TemplateEnvironment(SandboxedEnvironment):
    """The sandbox, remembering each compiled part: docxtpl compiles every XML part for
    every document; the sources repeat, so the compiled template is reused."""

    def __init__(self) -> None:
        super().__init__(autoescape=True, undefined=jinja2.StrictUndefined)
        self._compiled: dict[str, jinja2.Template] = {}
        self._lock = threading.Lock()

    def from_string(self, source: str | jinja2.nodes.Template,  # type: ignore[override]
                    globals: dict[str, Any] | None = None,
                    template_class: type[jinja2.Template] | None = None) -> jinja2.Template:
        if not isinstance(source, str) or globals or template_class:
            return super().from_string(source, globals, template_class)
        with self._lock:
            found = self._compiled.get(source)
        if found is None:
            found = super().from_string(source)
            with self._lock:
                self._compiled[source] = found
        return found


def make_environment() -> SandboxedEnvironment:
    """A fresh sandboxed environment with autoescape, StrictUndefined and the French
    filters: the one templates are rendered (and checked) with."""
    env = _TemplateEnvironment()
    env.filters.update(FILTERS)
    return env


@dataclass
class _Prepared:
    """What is kept of one template file between documents."""

    data: bytes
    env: SandboxedEnvironment
    patched: dict[str, str] = field(default_factory=dict)
    package: PackageTemplate | bool | None = False
    """The template read once (False: not read yet; None: rendered by docxtpl whole)."""


class _PreparedDocx(Dialect):
    """A DocxTemplate that reuses the patched XML of its prepared template."""

    def __init__(self, prepared: _Prepared) -> None:
        super().__init__(io.BytesIO(prepared.data))
        self._prepared = prepared

    def patch_xml(self, src_xml: str) -> str:
        cache = self._prepared.patched
        found = cache.get(src_xml)
        if found is None:
            found = str(super().patch_xml(src_xml))
            cache[src_xml] = found
        return found


_PREPARED: dict[tuple[str, int, int], _Prepared] = {}
_PREPARED_LOCK = threading.Lock()


def _prepare(template: Path) -> _Prepared:
    try:
        stat = template.stat()
    except OSError:
        raise TemplateError(f"{template}: the Word template was not found") from None
    key = (str(template.resolve()), stat.st_mtime_ns, stat.st_size)
    with _PREPARED_LOCK:
        found = _PREPARED.get(key)
    if found is not None:
        return found
    data = template.read_bytes()
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise TemplateError(f"{template}: not a Word document (.docx)",
                            hint="Save the template as a Word 2007+ document (.docx).")
    prepared = _Prepared(data, make_environment())
    with _PREPARED_LOCK:
        _PREPARED[key] = prepared
    return prepared


def _explain(template: Path, exc: Exception) -> TemplateError:
    """A clerk-readable TemplateError for what went wrong while rendering."""
    if isinstance(exc, SecurityError):
        return TemplateError(
            f"{template.name}: the template tried something the sandbox forbids ({exc})",
            hint="A template may only read the convention's data; remove the tag.")
    if isinstance(exc, jinja2.UndefinedError):
        return TemplateError(
            f"{template.name}: the template uses a name the convention does not have ({exc})",
            hint="Run `fiftyfifty templates check` to find the tag.")
    if isinstance(exc, jinja2.TemplateSyntaxError):
        return TemplateError(
            f"{template.name}: a tag of the template is malformed ({exc.message})",
            hint="Run `fiftyfifty templates check` to find the tag.")
    return TemplateError(f"{template.name}: the template cannot be rendered "
                         f"({type(exc).__name__}: {exc})")


def render_docx(conv: Convention, template: Path, out: Path, *, number: str, fingerprint: str,
                version: int = 1, today: date, draft: bool = False) -> None:
    """Render ``conv`` with ``template`` into the Word file ``out``.

    Raises :class:`~pipeline.core.errors.TemplateError` when the template is missing, is not a
    Word document, breaks the sandbox or uses a name the context does not have."""
    template = Path(template)
    prepared = _prepare(template)
    context = build_context(conv, number=number, fingerprint=fingerprint, version=version,
                            today=today, draft=draft)
    _render(prepared, template, context, Path(out), document_properties(conv, number))


def render_context_docx(template: Path, context: dict[str, Any], out: Path) -> None:
    """Render a template with a context of the caller's own (e.g. an amendment), in the
    same sandbox and with the same signature anchors as :func:`render_docx`."""
    template = Path(template)
    _render(_prepare(template), template, context, Path(out))


@dataclass(frozen=True)
class DocumentProperties:
    """The properties of a rendered document, which LibreOffice exports as the PDF's
    document information and XMP metadata (title, author, subject, keywords, language)."""

    title: str
    """``Convention n° FF_2026_001 – <project title>``."""
    author: str
    """The commune (``Commune de Loos-en-Gohelle``)."""
    subject: str
    """What the document is."""
    keywords: str
    """The number and the reference, for search."""
    language: str = "fr-FR"
    """The document language (BCP 47)."""


_XMP_SAFE = str.maketrans({"'": "\u2019", '"': "\u201d", "&": "et", "<": "\u2039",
                           ">": "\u203a"})
"""LibreOffice (7.4) escapes these characters twice in the XMP packet (``L&amp;apos;été``)
but not in the document information, so a title with an apostrophe would differ between
the two, which PDF/A forbids. The typographic apostrophe is the right French one anyway."""


def metadata_text(text: str) -> str:
    """``text`` with the characters LibreOffice would escape twice in XMP replaced."""
    return " ".join(text.translate(_XMP_SAFE).split())


def document_properties(conv: Convention, number: str) -> DocumentProperties:
    """The properties of ``conv``'s document numbered ``number``."""
    keywords = ", ".join(k for k in (number, conv.reference, "fifty-fifty") if k)
    return DocumentProperties(
        title=metadata_text(f"Convention n° {number} – {conv.title}"),
        author=metadata_text(f"Commune {de(conv.commune.name)}"),
        subject=f"Convention de partenariat « fifty-fifty » n° {number}",
        keywords=metadata_text(keywords),
    )


def _set_properties(core: Any, props: DocumentProperties) -> None:
    core.title, core.author, core.subject = props.title, props.author, props.subject
    core.keywords, core.language = props.keywords, props.language
    core.last_modified_by, core.comments = props.author, ""


def _render(prepared: _Prepared, template: Path, context: dict[str, Any], out: Path,
            props: DocumentProperties | None = None) -> None:
    try:
        data = _render_bytes(prepared, template, context, props)
    except (jinja2.TemplateError, ValueError, TypeError, ArithmeticError) as exc:
        raise _explain(template, exc) from exc
    except (KeyError, zipfile.BadZipFile, SyntaxError) as exc:  # lxml's XMLSyntaxError
        raise TemplateError(f"{template.name}: the template is not a usable Word document "
                            f"({exc})") from exc
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)


def _render_bytes(prepared: _Prepared, template: Path, context: dict[str, Any],
                  props: DocumentProperties | None) -> bytes:
    """The rendered document: from the template read once, or by docxtpl as a whole for
    a template :class:`PackageTemplate` does not handle."""
    if prepared.package is False:
        prepared.package = PackageTemplate.prepare(prepared.data)
    package = prepared.package
    def properties(core: Any) -> None:
        if props is not None:
            _set_properties(core, props)

    if isinstance(package, PackageTemplate):
        return package.render(context, prepared.env, template.name, properties)
    doc = _PreparedDocx(prepared)
    doc.render(context, jinja_env=prepared.env, autoescape=True)
    bookmark_anchors(doc.docx.element.body, template.name)
    properties(doc.docx.core_properties)
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()
