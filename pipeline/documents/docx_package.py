"""A Word template read once and rendered many times, in the docxtpl dialect.

For every document, docxtpl opens the template with python-docx (parsing every XML part of
the package), writes the body out as text, renders it, parses it again, moves it into the
document (lxml then reconciles the namespaces of every node) and saves the whole package,
compressing every part again. In a batch, most of that is the same for every document.

:class:`PackageTemplate` does that part once: the template is opened by docxtpl itself,
the patched text of its body, headers and footers is kept (compiled by the sandboxed
environment's cache), the document part around the body is kept as text, and the parts
that rendering does not change are written once, compressed, as python-docx saves them.
Per document, only the templated parts are rendered, with docxtpl's own steps (its
paragraph and table fixes, its identifiers for drawings, its properties rendering) and
the signature bookmarks, and appended to a copy of the unchanged parts.

A template with a part this does not handle (footnotes) returns ``None`` from
:meth:`PackageTemplate.prepare`: the caller renders it with docxtpl as a whole.
"""

from __future__ import annotations

import copy
import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from docx.opc.coreprops import CoreProperties
from docx.opc.oxml import serialize_part_xml
from docx.oxml.ns import nsmap, qn
from docx.oxml.parser import parse_xml
from docxtpl import DocxTemplate
from lxml import etree  # type: ignore[import-untyped]

from pipeline.documents.pdf.anchors import bookmark_anchors

__all__ = ["Dialect", "PackageTemplate"]

_FOOTNOTES = "application/vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml"
_RENDERED_PROPERTIES = ("comments", "identifier", "language", "subject", "title")
"""The core properties docxtpl renders as templates (the same list as its own)."""
_NS_DECLARATION = re.compile(r'\sxmlns:([A-Za-z_][\w.-]*)="([^"]*)"')
_DOC_PR = etree.XPath("//wp:docPr", namespaces={"wp": nsmap["wp"]})
_FIRST_DRAWING_ID = 1000
"""docxtpl numbers the drawings of a rendered body from 1001 (``fix_docpr_ids``)."""


class Dialect(DocxTemplate):  # type: ignore[misc]
    """docxtpl's text steps, with line breaks and tabs of the data turned into Word breaks
    only when there are some (docxtpl runs three regular expressions on every part)."""

    def resolve_listing(self, xml: str) -> str:
        if not any(c in xml for c in "\n\t\a\f"):
            return xml
        return str(super().resolve_listing(xml))


@dataclass(frozen=True)
class _Part:
    """A templated part other than the body (a header or a footer)."""

    member: str
    """Its name in the package."""
    source: str
    """Its text, patched by docxtpl, a paragraph per line (:func:`_split`)."""
    encoding: str


@dataclass(frozen=True)
class PackageTemplate:
    """What is kept of one template between the documents rendered with it."""

    body: str
    """The body's patched text, a paragraph per line (namespaces declared on the document
    element left out)."""
    head: str
    """The document part up to its body."""
    tail: str
    """The document part after its body."""
    document: str
    """The document part's name in the package."""
    parts: tuple[_Part, ...]
    core: bytes
    """The core properties part, as python-docx writes it."""
    core_member: str
    fixed: bytes
    """A zip holding every other part, as python-docx writes them, compressed once."""

    @classmethod
    def prepare(cls, data: bytes) -> PackageTemplate | None:
        """Read the template ``data`` once; ``None`` for a template with footnotes."""
        tpl = Dialect(io.BytesIO(data))
        tpl.init_docx()
        doc = tpl.docx
        package = doc.part.package
        if any(p.content_type == _FOOTNOTES for p in package.iter_parts()):
            return None
        core_part = package._core_properties_part  # created if missing, as docxtpl would
        head, tail = _around_body(doc.element)
        parts: list[_Part] = []
        for uri in (DocxTemplate.HEADER_URI, DocxTemplate.FOOTER_URI):
            for _, part in tpl.get_headers_footers(uri):
                xml = tpl.get_part_xml(part)
                parts.append(_Part(_member(part.partname), _split(tpl.patch_xml(xml)),
                                   tpl.get_headers_footers_encoding(xml)))
        document = _member(doc.part.partname)
        core_member = _member(core_part.partname)
        saved = io.BytesIO()
        doc.save(saved)
        fixed = _fixed_parts(saved.getvalue(),
                             {document, core_member, *(p.member for p in parts)})
        body = _split(_drop_declarations(tpl.patch_xml(tpl.get_xml()), doc.element.nsmap))
        return cls(body, head, tail, document, tuple(parts), core_part.blob, core_member,
                   fixed)

    def render(self, context: dict[str, Any], env: Any, label: str,
               properties: Callable[[CoreProperties], None] | None = None) -> bytes:
        """The rendered document's bytes (``label`` names the template in errors).

        ``properties`` sets the core properties after docxtpl's rendering of them."""
        tpl = Dialect(None)
        body = _render_part(tpl, self.body, context, env)
        tree = tpl.fix_tables((self.head + body + self.tail).encode("utf-8"))
        for number, drawing in enumerate(_DOC_PR(tree), start=_FIRST_DRAWING_ID + 1):
            drawing.attrib["id"] = str(number)
        bookmark_anchors(tree.find(qn("w:body")), label)
        members = [(self.document, etree.tostring(tree, encoding="UTF-8", standalone=True))]
        for part in self.parts:
            xml = _render_part(tpl, part.source, context, env)
            members.append((part.member,
                            serialize_part_xml(parse_xml(xml.encode(part.encoding)))))
        core = CoreProperties(parse_xml(self.core))
        for name in _RENDERED_PROPERTIES:
            setattr(core, name, env.from_string(getattr(core, name)).render(context))
        if properties is not None:
            properties(core)
        members.append((self.core_member, serialize_part_xml(core._element)))
        out = io.BytesIO(self.fixed)
        out.seek(0, io.SEEK_END)
        with zipfile.ZipFile(out, "a", zipfile.ZIP_DEFLATED) as package:
            for name, data in members:
                package.writestr(name, data)
        return out.getvalue()


def _split(xml: str) -> str:
    """``xml`` with every paragraph on a line of its own, as docxtpl renders a part (so a
    template error names a line); done once here instead of for every document."""
    return xml.replace("<w:p ", "\n<w:p ").replace("<w:p>", "\n<w:p>")


_ESCAPES = (("{_{", "{{"), ("}_}", "}}"), ("{_%", "{%"), ("%_}", "%}"))
"""docxtpl's escapes for literal Jinja delimiters in a template's text."""


def _render_part(tpl: Dialect, source: str, context: dict[str, Any], env: Any) -> str:
    """A part rendered as docxtpl renders it: the paragraphs joined again, the escaped
    delimiters restored, the data's line breaks and tabs made Word breaks."""
    xml = str(env.from_string(source).render(context))
    xml = xml.replace("\n<w:p ", "<w:p ").replace("\n<w:p>", "<w:p>")
    for escaped, plain in _ESCAPES:
        xml = xml.replace(escaped, plain)
    return str(tpl.resolve_listing(xml))


def _member(partname: str) -> str:
    return str(partname).lstrip("/")


def _around_body(root: Any) -> tuple[str, str]:
    """The document part's text before and after its body, as python-docx writes it."""
    shell = copy.deepcopy(root)
    body = shell.find(qn("w:body"))
    for child in list(body):
        body.remove(child)
    text = serialize_part_xml(shell).decode("utf-8")
    start = text.index("<w:body")
    end = text.index(">", start) + 1
    if text[end - 2:end] != "/>":
        end = text.index("</w:body>", end) + len("</w:body>")
    return text[:start], text[end:]


def _drop_declarations(body: str, declared: dict[str | None, str]) -> str:
    """``body`` without the namespace declarations its start tag repeats from the
    document element (lxml drops them when docxtpl moves the body into the document)."""
    end = body.index(">")
    tag = _NS_DECLARATION.sub(
        lambda m: "" if declared.get(m.group(1)) == m.group(2) else m.group(0), body[:end])
    return tag + body[end:]


def _fixed_parts(saved: bytes, templated: set[str]) -> bytes:
    """The members of ``saved`` rendering does not change, in a zip of their own."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(saved)) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as fixed:
        for info in source.infolist():
            if info.filename not in templated:
                fixed.writestr(info.filename, source.read(info))
    return out.getvalue()
