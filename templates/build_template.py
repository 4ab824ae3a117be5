"""Regenerate the bundled Word template ``templates/fifty-fifty.docx``.

Staff edit the ``.docx`` itself in Word or LibreOffice; this script only rebuilds the
bundled version from scratch (run ``python templates/build_template.py``). The tags are
docxtpl's Jinja dialect: ``{%p ... %}`` stands alone in a paragraph that disappears,
``{%tr ... %}`` alone in a table row that disappears. Names come from
``pipeline.documents.render.build_context``; ``fiftyfifty templates check`` verifies them.

Fonts: Liberation Serif (text) and Liberation Sans (headings, tables), metric-compatible
with Times New Roman and Arial and installed wherever LibreOffice runs. A4, 2 cm margins.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from docx import Document
from docx.enum.table import WD_ROW_HEIGHT_RULE, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

sys.path.insert(0, str(Path(__file__).resolve().parent))
from template_text import (
    CLAUSES,
    PARTIES,
    PREAMBLE,
    SIGNATURES,
    TITLE_PAGE,
    VISAS,
    Block,
)

OUT = Path(__file__).resolve().parent / "fifty-fifty.docx"
SERIF, SANS = "Liberation Serif", "Liberation Sans"
TEXT_WIDTH = Cm(17)
ANCHOR_SPACE = Pt(66)
SIGNATURE_SIZE = 10.0
"""The one font size of the signature boxes."""
"""Empty height left under each signature anchor (the field needs 55 pt, we ask 60)."""


def _set_fonts(rpr_owner: Any, name: str) -> None:
    """Force explicit font names (no theme fonts, which LibreOffice maps unpredictably)."""
    rpr = rpr_owner.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in list(fonts.attrib):
        if attr.endswith("Theme"):
            del fonts.attrib[attr]
    for slot in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(slot), name)


def _styles(doc: Any) -> None:
    styles = doc.styles
    normal = styles["Normal"]
    normal.font.name, normal.font.size = SERIF, Pt(10.5)
    _set_fonts(normal.element, SERIF)
    fmt = normal.paragraph_format
    fmt.space_after, fmt.space_before, fmt.line_spacing = Pt(4), Pt(0), 1.1
    for name, size, before in (("Title", 20, 24), ("Heading 1", 12.5, 14),
                               ("Heading 2", 11, 8)):
        style = styles[name]
        style.font.name, style.font.size, style.font.bold = SANS, Pt(size), True
        style.font.color.rgb = RGBColor(0x1F, 0x2A, 0x44)
        _set_fonts(style.element, SANS)
        style.paragraph_format.space_before = Pt(before)
        style.paragraph_format.space_after = Pt(6)
        style.paragraph_format.keep_with_next = True
    bullet = styles["List Bullet"]
    _set_fonts(bullet.element, SERIF)
    # Every remaining theme font reference goes, docDefaults included.
    for fonts in styles.element.iter(qn("w:rFonts")):
        for attr in list(fonts.attrib):
            if attr.endswith("Theme"):
                del fonts.attrib[attr]
        for slot in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
            fonts.set(qn(slot), fonts.get(qn(slot)) or SERIF)


def _page(doc: Any) -> None:
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    for side in ("left_margin", "right_margin"):
        setattr(section, side, Cm(2))
    # 2.5 cm at the top leaves the stamp's QR code (6 + 64 pt) clear of the text.
    section.top_margin, section.bottom_margin = Cm(2.5), Cm(2.2)
    section.header_distance, section.footer_distance = Cm(1), Cm(1.1)
    section.different_first_page_header_footer = True
    first = section.first_page_header.paragraphs[0]
    _runs(first, "**COMMUNE {{ convention.commune.name|de|upper }}**", size=12)
    first.alignment = WD_ALIGN_PARAGRAPH.CENTER
    second = section.first_page_header.add_paragraph()
    _runs(second, "Convention n° {{ number }}", size=10)
    second.alignment = WD_ALIGN_PARAGRAPH.CENTER
    header = section.header.paragraphs[0]
    _runs(header, "Commune {{ convention.commune.name|de }} – Convention n° {{ number }}",
          size=8.5)
    header.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    # No page numbers in the footer: the stamp numbers every page of the PDF
    # ("Convention n° … — page X / Y"); two numberings on one page contradict each other
    # as soon as a page is added or removed.


def _language(doc: Any, tag: str = "fr-FR") -> None:
    """The document language (``w:lang`` of the default run properties): LibreOffice
    writes it as the PDF's ``/Lang``, and spell checkers use it."""
    defaults = doc.styles.element.find(qn("w:docDefaults"))
    if defaults is None:
        defaults = OxmlElement("w:docDefaults")
        doc.styles.element.insert(0, defaults)
    rpr_default = defaults.find(qn("w:rPrDefault"))
    if rpr_default is None:
        rpr_default = OxmlElement("w:rPrDefault")
        defaults.insert(0, rpr_default)
    rpr = rpr_default.find(qn("w:rPr"))
    if rpr is None:
        rpr = OxmlElement("w:rPr")
        rpr_default.append(rpr)
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    for attr in ("w:val", "w:eastAsia", "w:bidi"):
        lang.set(qn(attr), tag)


def _runs(paragraph: Any, text: str, *, size: float | None = None,
          color: RGBColor | None = None) -> None:
    """Add ``text`` with ``**bold**`` and ``^^italic^^`` spans (never split inside a tag)."""
    bold = italic = False
    token = ""
    i = 0
    while i <= len(text):
        marker = text[i:i + 2]
        if i == len(text) or marker in ("**", "^^"):
            if token:
                run = paragraph.add_run(token)
                run.bold, run.italic = bold or None, italic or None
                if size:
                    run.font.size = Pt(size)
                if color is not None:
                    run.font.color.rgb = color
            token = ""
            if marker == "**":
                bold = not bold
            elif marker == "^^":
                italic = not italic
            i += 2
            continue
        token += text[i]
        i += 1


def _paragraph(container: Any, line: str) -> Any:
    """One line of the text model: ``# `` heading 1, ``## `` heading 2, ``- `` bullet,
    ``> `` centred, ``!! `` centred and large, ``! `` title; anything else is body text."""
    style, text, align = None, line, None
    for prefix, name in (("# ", "Heading 1"), ("## ", "Heading 2"), ("- ", "List Bullet"),
                         ("! ", "Title")):
        if line.startswith(prefix) and not line.startswith("!! "):
            style, text = name, line[len(prefix):]
    size = None
    if line.startswith("> "):
        text, align = line[2:], WD_ALIGN_PARAGRAPH.CENTER
    elif line.startswith("!! "):
        text, align, size = line[3:], WD_ALIGN_PARAGRAPH.CENTER, 15.0
    paragraph = container.add_paragraph(style=style)
    if style == "Title":
        align = WD_ALIGN_PARAGRAPH.CENTER
    if align is not None:
        paragraph.alignment = align
    elif style is None and not text.startswith("{%p"):
        paragraph.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    _runs(paragraph, text, size=size)
    return paragraph


def _mark_row(row: Any, *, header: bool = False, cant_split: bool = True) -> None:
    tr_pr = row._tr.get_or_add_trPr()
    if cant_split:
        tr_pr.append(OxmlElement("w:cantSplit"))
    if header:
        tr_pr.append(OxmlElement("w:tblHeader"))


def _shade(cell: Any, fill: str) -> None:
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill)
    cell._tc.get_or_add_tcPr().append(shading)


def _cell_text(cell: Any, text: str, *, size: float = 9.5) -> None:
    paragraph = cell.paragraphs[0]
    paragraph.paragraph_format.space_after = Pt(1)
    right = text.startswith(">>")
    text = text.removeprefix(">>")
    bare = text.strip("*")
    numeric = bare.endswith(("|amount }}", "|percent }}"))
    if right or numeric or "|number" in text:
        paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    _runs(paragraph, text, size=size)
    for run in paragraph.runs:
        run.font.name = SANS


def _table(doc: Any, block: Block) -> None:
    """A table: header row, optional loop rows (``{%tr for %}`` … ``{%tr endfor %}``),
    then fixed rows (totals)."""
    widths = [Cm(w) for w in block.widths]
    table = doc.add_table(rows=0, cols=len(widths))
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width

    def add(cells: list[str], *, header: bool = False, fill: str | None = None,
            span: bool = False) -> None:
        row = table.add_row()
        _mark_row(row, header=header)
        targets = list(zip(row.cells, cells, widths, strict=True))
        if span and len(cells) > 2 and not any(cells[1:-1]):
            # A total: its label spans the empty middle cells, so it never wraps in the
            # narrow first column.
            merged = row.cells[0].merge(row.cells[-2])
            targets = [(merged, cells[0], sum(widths[:-1], Cm(0))), targets[-1]]
        for cell, text, width in targets:
            cell.width = width
            _cell_text(cell, text)
            if fill:
                _shade(cell, fill)

    add([f"**{h}**" for h in block.header], header=True, fill="DCE3EE")
    if block.loop:
        add([f"{{%tr for {block.loop} %}}"] + [""] * (len(widths) - 1))
        for cells in block.rows:
            add(cells)
        add(["{%tr endfor %}"] + [""] * (len(widths) - 1))
        rows: list[list[str]] = block.totals
    else:
        rows = block.rows + block.totals
    for index, cells in enumerate(rows):
        total = index - (len(rows) - len(block.totals))
        condition = block.when.get(total) if total >= 0 else None
        if condition:
            add([f"{{%tr if {condition} %}}"] + [""] * (len(widths) - 1))
        add(cells, fill="F2F4F8" if total >= 0 else None, span=total >= 0)
        if condition:
            add(["{%tr endif %}"] + [""] * (len(widths) - 1))
    doc.add_paragraph().paragraph_format.space_after = Pt(2)


def _signature_cell(cell: Any, index: int) -> None:
    """One signatory's box: party, name, capacity, then room for the signature. On paper,
    "Lu et approuvé" and a blank date; signed electronically, the signature's appearance
    carries the date and place itself. One font size in every box."""
    who = f"row[{index}]"
    lines = [f"**{{{{ {who}.party }}}}**", f"{{{{ {who}.name }}}}", f"^^{{{{ {who}.capacity }}}}^^",
             f"{{%p if {who}.key and convention.signing.mode == 'handwritten' %}}",
             "Lu et approuvé",
             "Fait à {{ convention.signing.place }}, le ____________",
             f"{{%p elif {who}.key %}}",
             "Fait à {{ convention.signing.place }}",
             "{%p endif %}",
             f"{{%p if {who}.key %}}"]
    first = True
    for line in lines:
        paragraph = cell.paragraphs[0] if first else cell.add_paragraph()
        first = False
        paragraph.paragraph_format.space_after = Pt(2)
        paragraph.paragraph_format.keep_with_next = True
        _runs(paragraph, line, size=SIGNATURE_SIZE)
    anchor = cell.add_paragraph()
    anchor.paragraph_format.space_before = Pt(6)
    anchor.paragraph_format.space_after = Pt(0)
    anchor.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    anchor.paragraph_format.line_spacing = Pt(3)
    anchor.paragraph_format.keep_with_next = True
    _runs(anchor, f"SIG::{{{{ {who}.key }}}}::", size=2, color=RGBColor(0xFF, 0xFF, 0xFF))
    room = cell.add_paragraph()
    room.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    room.paragraph_format.line_spacing = ANCHOR_SPACE
    room.paragraph_format.space_after = Pt(0)
    room.paragraph_format.keep_with_next = True
    end = cell.add_paragraph()
    end.paragraph_format.keep_with_next = True
    _runs(end, "{%p endif %}", size=SIGNATURE_SIZE)


def _signatures(doc: Any) -> None:
    table = doc.add_table(rows=0, cols=2)
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    width = TEXT_WIDTH // 2
    for column in table.columns:
        column.width = width
    start = table.add_row()
    _cell_text(start.cells[0], "{%tr for row in signatory_rows %}")
    body = table.add_row()
    _mark_row(body)
    body.height, body.height_rule = Cm(5), WD_ROW_HEIGHT_RULE.AT_LEAST
    for index, cell in enumerate(body.cells):
        cell.width = width
        _signature_cell(cell, index)
    end = table.add_row()
    _cell_text(end.cells[0], "{%tr endfor %}")
    for row in (start, end):
        for cell in row.cells:
            cell.width = width


_KEEP_STYLES = {"Normal", "Title", "Heading1", "Heading2", "ListBullet", "TableGrid",
                "TableNormal", "DefaultParagraphFont", "NoList", "Header", "Footer"}
_DROP_PARTS = ("stylesWithEffects", "customXml", "webSettings", "thumbnail")


def _slim(doc: Any) -> None:
    """Drop what the stock python-docx document carries and the convention never uses
    (800 kB of unused styles): each rendered document is smaller and faster to write."""
    root = doc.styles.element
    by_id = {s.get(qn("w:styleId")): s for s in root.findall(qn("w:style"))}
    keep: set[str] = set()
    todo = [name for name in _KEEP_STYLES if name in by_id]
    while todo:
        style_id = todo.pop()
        if style_id in keep:
            continue
        keep.add(style_id)
        based = by_id[style_id].find(qn("w:basedOn"))
        if based is not None:
            todo.append(based.get(qn("w:val")))
    for style_id, style in by_id.items():
        if style_id not in keep:
            root.remove(style)
            continue
        for ref in ("w:link", "w:next"):
            element = style.find(qn(ref))
            if element is not None and element.get(qn("w:val")) not in keep:
                style.remove(element)
    latent = root.find(qn("w:latentStyles"))
    if latent is not None:
        root.remove(latent)
    for owner in (doc.part, doc.part.package):
        for r_id, rel in list(owner.rels.items()):
            if any(name in rel.reltype or name in str(rel.target_ref) for name in _DROP_PARTS):
                owner.rels.pop(r_id)


def build(out: Path = OUT) -> Path:
    """Write the template to ``out`` and return the path."""
    doc = Document()
    _slim(doc)
    _styles(doc)
    _language(doc)
    _page(doc)
    props = doc.core_properties
    props.title, props.author = "Convention fifty-fifty", "Commune"
    props.subject, props.comments = "Convention de partenariat citoyen", ""
    props.language, props.identifier = "fr-FR", ""
    # The article on signatures keeps with its table: heading, sentence and boxes on one
    # page (rows never split and every paragraph of the boxes keeps with the next).
    signing_from = len(CLAUSES) - len(SIGNATURES)
    for part in (TITLE_PAGE, VISAS, PARTIES, PREAMBLE, CLAUSES):
        for index, item in enumerate(part):
            if isinstance(item, Block):
                _table(doc, item)
            elif item == "@signatures":
                _signatures(doc)
            elif item == "@pagebreak":
                doc.add_page_break()
            else:
                paragraph = _paragraph(doc, item)
                # A sentence that announces a list or a table stays with it.
                if (part is CLAUSES and index >= signing_from) or item.endswith(" :"):
                    paragraph.paragraph_format.keep_with_next = True
    doc.save(out)
    return out


if __name__ == "__main__":
    print(build(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT))
