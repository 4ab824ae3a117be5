"""Check a Word template against the convention model, before any document is rendered.

The Jinja source is rebuilt the way docxtpl does it (its ``patch_xml`` on the document
body, headers and footers), so a template that passes renders without a syntax error.
Each tag is also collected with the place it stands in the document (paragraph N, or
table T, row R, cell C), then parsed one tag per line so that every problem points at
the paragraph or cell a clerk can find in Word. The syntax tree is walked with the types
of the rendering context (:data:`pipeline.documents.render.CONTEXT_TYPES`): every dotted path,
loop variable and filter must exist.

Public API: :func:`check_template`, :class:`TemplateReport`, :class:`TemplateProblem`.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from docx import Document
from docx.opc.exceptions import PackageNotFoundError
from docx.opc.oxml import parse_xml
from docx.oxml.ns import qn
from docxtpl import DocxTemplate
from lxml import etree  # type: ignore[import-untyped]

from pipeline.documents.render import CONTEXT_TYPES, make_environment
from pipeline.documents.template_types import Checker, Problem

__all__ = ["TemplateProblem", "TemplateReport", "check_template", "extract_tags"]

_HEADER = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/header"
_FOOTER = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/footer"
_TAG = re.compile(r"\{%.*?%\}|\{\{.*?\}\}|\{#.*?#\}", re.DOTALL)
_DOCX_PREFIX = re.compile(r"^\{([%{])(-?)(tr|tc|p|r) ")
_DOCX_ONLY = re.compile(r"^\{%-?\s*(vm|hm)\s*-?%\}$")
_DOCX_EXPR = re.compile(r"^\{%-?\s*(colspan|cellbg)\s+(.*?)\s*-?%\}$", re.DOTALL)
_OPENERS = {"if", "for", "macro", "call", "filter", "with", "block", "raw", "autoescape"}
_ANCHOR = "SIG::"


@dataclass(frozen=True)
class TemplateProblem:
    """One problem of a template, where a clerk can find it."""

    location: str
    """``paragraph 12``, ``table 3, row 2, cell 1`` or ``header1.xml, paragraph 1``."""
    excerpt: str
    """The tag (or the start of the paragraph) at fault."""
    message: str
    """What is wrong, in plain words."""

    def to_dict(self) -> dict[str, str]:
        return {"location": self.location, "excerpt": self.excerpt, "message": self.message}


@dataclass(frozen=True)
class TemplateReport:
    """The result of checking one template."""

    template: Path
    problems: tuple[TemplateProblem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {"template": str(self.template), "ok": self.ok,
                "problems": [p.to_dict() for p in self.problems]}


@dataclass(frozen=True)
class _Tag:
    location: str
    source: str
    """The tag as Jinja sees it (docxtpl prefixes removed)."""
    raw: str
    """The tag as written in the document."""


def _locate(p: Any, tables: dict[Any, int], body_index: int, part: str) -> str:
    """Human location of paragraph element ``p``."""
    cell = next((a for a in p.iterancestors(qn("w:tc"))), None)
    where = f"paragraph {body_index}"
    if cell is not None:
        row = cell.getparent()
        table = row.getparent()
        rows = table.findall(qn("w:tr"))
        where = (f"table {tables.get(table, 0)}, row {rows.index(row) + 1}, "
                 f"cell {row.findall(qn('w:tc')).index(cell) + 1}")
    return f"{part}, {where}" if part else where


def _text(p: Any) -> str:
    return "".join(t.text or "" for t in p.iter(qn("w:t")))


def extract_tags(root: Any, part: str = "") -> tuple[list[_Tag], list[TemplateProblem]]:
    """Every Jinja tag of an XML part, in document order, with its location."""
    patcher = DocxTemplate(None)
    tables = {t: n for n, t in enumerate(root.iter(qn("w:tbl")), start=1)}
    tags: list[_Tag] = []
    problems: list[TemplateProblem] = []
    body_index = 0
    for p in root.iter(qn("w:p")):
        in_cell = next(p.iterancestors(qn("w:tc")), None) is not None
        if not in_cell:
            body_index += 1
        text = _text(p)
        if "{" not in text and "}" not in text:
            continue
        where = _locate(p, tables, body_index, part)
        patched = str(patcher.patch_xml(etree.tostring(p, encoding="unicode")))
        found = _TAG.findall(patched)
        rest = re.sub(r"<[^>]+>", "", _TAG.sub("", patched))
        if re.search(r"\{[{%#]|[%}#]\}", rest.replace("{_{", "").replace("}_}", "")):
            problems.append(TemplateProblem(where, _short(text), "a tag is not closed in this "
                                            "paragraph (each {{ }} or {% %} must open and "
                                            "close in the same paragraph)"))
        for raw in found:
            one_line = " ".join(raw.split("\n"))
            match = _DOCX_PREFIX.match(one_line)
            source = one_line
            if match:
                source = _DOCX_PREFIX.sub(r"{\1\2 ", one_line)
                kind = match.group(3)
                if kind in ("tr", "tc") and not in_cell:
                    problems.append(TemplateProblem(
                        where, raw, f"a {{%{kind} %}} tag must stand in a table cell"))
            if _DOCX_ONLY.match(source):
                continue
            expr = _DOCX_EXPR.match(source)
            if expr:
                source = "{{ " + expr.group(2) + " }}"
            tags.append(_Tag(where, source, raw))
        alone = [t for t in _TAG.findall(text) if re.match(r"^\{%-?p ", t)]
        if alone and _TAG.sub("", text).strip():
            problems.append(TemplateProblem(
                where, _short(text), "a {%p %} tag must be alone in its paragraph: the rest "
                "of this paragraph would be dropped"))
    return tags, problems


def _short(text: str, width: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _unclosed(tags: list[_Tag]) -> TemplateProblem | None:
    """The block tag left open or closed out of order, if any."""
    stack: list[tuple[str, _Tag]] = []
    for tag in tags:
        m = re.match(r"^\{%-?\s*(\w+)(.*?)-?%\}$", tag.source, re.DOTALL)
        if not m:
            continue
        word, rest = m.group(1), m.group(2)
        if word in _OPENERS or (word == "set" and "=" not in rest):
            stack.append((word, tag))
        elif word.startswith("end"):
            opener = word[3:]
            if not stack or stack[-1][0] != opener:
                return TemplateProblem(tag.location, tag.raw,
                                       f"{{% {word} %}} closes nothing that is open here")
            stack.pop()
    if stack:
        word, tag = stack[-1]
        return TemplateProblem(tag.location, tag.raw,
                               f"this {{% {word} %}} is never closed (add {{% end{word} %}})")
    return None


def _parts(path: Path) -> list[tuple[str, Any]]:
    """(label, XML root) of the body, then of each header and footer."""
    doc = Document(str(path))
    parts: list[tuple[str, Any]] = [("", doc.element.body)]
    for rel in doc.part.rels.values():
        if rel.reltype in (_HEADER, _FOOTER) and not rel.is_external:
            target = rel.target_part
            parts.append((str(target.partname).rsplit("/", 1)[-1], parse_xml(target.blob)))
    return parts


def _docxtpl_source(path: Path) -> list[str]:
    """The Jinja sources docxtpl itself would render (body, headers, footers)."""
    tpl = DocxTemplate(str(path))
    tpl.init_docx()
    sources = [tpl.patch_xml(tpl.get_xml())]
    for uri in (tpl.HEADER_URI, tpl.FOOTER_URI):
        for _key, part in tpl.get_headers_footers(uri):
            sources.append(tpl.patch_xml(tpl.get_part_xml(part)))
    return [str(s) for s in sources]


def check_template(path: Path) -> TemplateReport:
    """Check one template; never raises for a bad template (it is reported)."""
    path = Path(path)
    if not path.is_file():
        return TemplateReport(path, (TemplateProblem("file", str(path), "file not found"),))
    try:
        parts = _parts(path)
    except (zipfile.BadZipFile, KeyError, ValueError, etree.XMLSyntaxError,
            PackageNotFoundError) as exc:
        return TemplateReport(path, (TemplateProblem(
            "file", path.name, f"not a Word document (.docx): {exc}"),))
    env = make_environment()
    problems: list[TemplateProblem] = []
    anchors = False
    for label, root in parts:
        tags, found = extract_tags(root, label)
        problems.extend(found)
        anchors = anchors or any(_ANCHOR in _text(p) for p in root.iter(qn("w:p")))
        problems.extend(_check_part(env, tags))
    if not problems:
        for source in _docxtpl_source(path):
            try:
                env.parse(source)
            except jinja2.TemplateSyntaxError as exc:
                problems.append(TemplateProblem("document", "", f"docxtpl cannot read the "
                                                f"template: {exc.message}"))
    if not anchors:
        problems.append(TemplateProblem(
            "document", "", f"no signature anchor ({_ANCHOR}{{{{ ...key }}}}::) in the "
            "template: signature fields cannot be placed"))
    return TemplateReport(path, tuple(problems))


def _check_part(env: jinja2.Environment, tags: list[_Tag]) -> list[TemplateProblem]:
    source = "\n".join(tag.source for tag in tags)
    try:
        tree = env.parse(source)
    except jinja2.TemplateSyntaxError as exc:
        message = exc.message or ""
        if "Unexpected end of template" in message or "Encountered unknown tag" in message:
            precise = _unclosed(tags)
            if precise is not None:
                return [precise]
        tag = tags[min(max((exc.lineno or 1) - 1, 0), len(tags) - 1)] if tags else None
        return [TemplateProblem(tag.location if tag else "document",
                                tag.raw if tag else "", f"malformed tag: {exc.message}")]
    checker = Checker(env, CONTEXT_TYPES)
    checker.visit_template(tree)
    return [_place(problem, tags) for problem in checker.problems]


def _place(problem: Problem, tags: list[_Tag]) -> TemplateProblem:
    index = min(max(problem.lineno - 1, 0), len(tags) - 1)
    tag = tags[index]
    return TemplateProblem(tag.location, tag.raw, problem.message)
