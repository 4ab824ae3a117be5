"""Empty signature fields added to a document that has no form yet (what LibreOffice
writes), with pyHanko's PDF objects only.

pyHanko's own field functions live in ``pyhanko.sign``, whose import loads the whole
signing stack (a fifth of a second, on every run, while LibreOffice starts). For a
document without a form, adding a field is simple; this writes the objects pyHanko's
``append_signature_field`` writes, in the same order (the tests compare the two), and
:func:`.sigfields.append_fields` uses pyHanko's for every other document.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.content import RawContent
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.layout import BoxConstraints

__all__ = ["LOCKED_PRINTED", "add_to_formless"]

LOCKED_PRINTED = 0b10000100
"""Annotation flags of a visible field: printed, locked (as pyHanko sets them)."""


def add_to_formless(writer: IncrementalPdfFileWriter, names: Sequence[str],
                    pages: Sequence[int],
                    rects: Sequence[tuple[float, float, float, float]]) -> None:
    """Give the form-less document of ``writer`` a form with one empty signature field
    per name, each a widget of its page (0-based) at its rectangle."""
    out: Any = writer
    pdf: Any = generic  # pyHanko's object constructors are untyped
    name: Any = pdf.pdf_name
    form = pdf.DictionaryObject()
    out.root[name("/AcroForm")] = writer.add_object(form)
    fields = pdf.ArrayObject()
    form[name("/Fields")] = fields
    out.update_root()
    for field_name, page, rect in zip(names, pages, rects, strict=True):
        page_ref = out.find_page_for_modification(page)[0]
        field = pdf.DictionaryObject({name("/FT"): name("/Sig"),
                                          name("/T"): pdf.pdf_string(field_name)})
        field[name("/Type")] = name("/Annot")
        field[name("/Subtype")] = name("/Widget")
        field[name("/F")] = pdf.NumberObject(LOCKED_PRINTED)
        field[name("/Rect")] = pdf.ArrayObject(
            pdf.FloatObject(round(v, 4)) for v in rect)
        field[name("/P")] = page_ref
        field_ref = writer.add_object(field)
        fields.append(field_ref)
        out.register_annotation(page_ref, field_ref)
        form.setdefault(name("/SigFlags"), pdf.NumberObject(1))
        width, height = abs(rect[2] - rect[0]), abs(rect[3] - rect[1])
        appearance = pdf.DictionaryObject()
        field[name("/AP")] = appearance
        empty = RawContent(b"", box=BoxConstraints(width=width, height=height))
        appearance[name("/N")] = writer.add_object(empty.as_form_xobject())
