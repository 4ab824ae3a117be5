"""What each revision after the first signature changed, judged against the signing flow.

After the first signature, a revision may only be: the next expected signature (it fills
its own empty field and nothing else), validation data (the document security store,
DSS/VRI) or a document timestamp (an invisible field of its own). Anything else (a new
field, widget, annotation or page; a changed page, content stream or existing
appearance; a field filled out of order) is reported, one sentence per problem.

pyHanko's own difference analysis accepts a new signature field as "form filling"; this
check is stricter on purpose, because the expected fields are fixed at generation.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader

_CATALOG_FREE = {"/AcroForm", "/DSS", "/Perms", "/Extensions"}
_FIELD_FREE = {"/V", "/AP", "/Lock"}


def _canon(obj: Any, depth: int = 0) -> Any:
    """A comparable form of a PDF object: references by number, streams by content."""
    if depth > 20:
        return "…"
    if isinstance(obj, generic.IndirectObject):
        return ("R", obj.idnum, obj.generation)
    if isinstance(obj, generic.StreamObject):
        return ("S", _canon(dict(obj.items()), depth + 1), bytes(obj.encoded_data))
    if isinstance(obj, dict):
        return tuple(sorted((str(k), _canon(v, depth + 1)) for k, v in obj.items()))
    if isinstance(obj, list):
        return tuple(_canon(v, depth + 1) for v in obj)
    if isinstance(obj, generic.NullObject) or obj is None:
        return None
    return (type(obj).__name__, str(obj))


def _raw(container: Any, key: str) -> Any:
    return container.raw_get(key) if key in container else None


def _same(a: Any, b: Any) -> bool:
    """Equal as PDF objects (indirect references compared by number, not content)."""
    return bool(_canon(a) == _canon(b))


def _ref_key(obj: Any) -> tuple[int, int] | None:
    if isinstance(obj, generic.IndirectObject):
        return (obj.idnum, obj.generation)
    return None


def _pages(resolver: Any) -> list[Any]:
    out: list[Any] = []

    def walk(node_ref: Any, depth: int = 0) -> None:
        node = node_ref.get_object()
        if depth > 50:
            return
        if node["/Type"] == "/Pages":
            for kid in node["/Kids"]:
                walk(kid, depth + 1)
        else:
            out.append(node_ref)

    walk(resolver.root.raw_get("/Pages"))
    return out


def _fields(resolver: Any) -> dict[str, Any]:
    if "/AcroForm" not in resolver.root:
        return {}
    form = resolver.root["/AcroForm"]
    fields = form["/Fields"] if "/Fields" in form else []
    return {str(f.get_object()["/T"]): f for f in fields}


def _zero_rect(widget: Any) -> bool:
    rect = [float(x) for x in (widget["/Rect"] if "/Rect" in widget else [0, 0, 0, 0])]
    return rect[0] == rect[2] or rect[1] == rect[3]


class _Revision:
    """One revision's state and the objects it rewrote."""

    def __init__(self, reader: PdfFileReader, rev: int) -> None:
        self.rev = rev
        self.resolver = reader.get_historical_resolver(rev)
        self.changed = {(r.idnum, r.generation) for r in
                        reader.xrefs.explicit_refs_in_revision(rev)}
        self.pages = _pages(self.resolver)
        self.fields = _fields(self.resolver)


def revision_problems(reader: PdfFileReader, order_ok: Callable[[str, list[str]], str | None],
                      ) -> list[str]:
    """Problems of every revision after the first signature (empty when the flow fits).

    ``order_ok(field, already_signed)`` returns a problem sentence when ``field`` may not
    be signed after ``already_signed`` (the convention's order), else ``None``.
    """
    regular = {s.signed_revision: str(s.field_name) for s in reader.embedded_regular_signatures}
    stamps = {s.signed_revision: str(s.field_name) for s in reader.embedded_timestamp_signatures}
    if not regular:
        return []
    first = min(regular)
    total = reader.xrefs.total_revisions
    problems: list[str] = []
    signed: list[str] = []
    before = _Revision(reader, first - 1)
    for rev in range(first, total):
        after = _Revision(reader, rev)
        what = f"revision {rev + 1}"
        if rev in regular:
            field = regular[rev]
            why = order_ok(field, list(signed))
            if why:
                problems.append(f"{what}: {why}")
            problems += [f"{what}: {p}" for p in _compare(before, after, field, None, rev == first)]
            signed.append(field)
        elif rev in stamps:
            problems += [f"{what}: {p}" for p in _compare(before, after, None, stamps[rev], False)]
        else:
            problems += [f"{what}: {p}" for p in _compare(before, after, None, None, False)]
        before = after
    return problems


def _compare(before: _Revision, after: _Revision, signed_field: str | None,
             stamp_field: str | None, first: bool) -> list[str]:
    problems: list[str] = []
    old_root, new_root = before.resolver.root, after.resolver.root
    free = _CATALOG_FREE if first else _CATALOG_FREE - {"/Perms"}
    for key in set(old_root) | set(new_root):
        if key not in free and not _same(old_root.raw_get(key) if key in old_root else None,
                                         new_root.raw_get(key) if key in new_root else None):
            problems.append(f"the document catalog's {key} was changed")
    # The form: only its field list and signature flags may change.
    if "/AcroForm" in old_root and "/AcroForm" in new_root:
        old_form, new_form = old_root["/AcroForm"], new_root["/AcroForm"]
        for key in ("/NeedAppearances", "/XFA", "/CO", "/DA", "/Q"):
            if not _same(_raw(old_form, key), _raw(new_form, key)):
                problems.append(f"the form's {key} was changed")
    # Fields: the same ones, plus only this revision's document timestamp.
    added = set(after.fields) - set(before.fields)
    removed = set(before.fields) - set(after.fields)
    if removed:
        problems.append(f"field(s) removed: {', '.join(sorted(removed))}")
    for name in sorted(added):
        field = after.fields[name].get_object()
        stamp_ok = name == stamp_field and _zero_rect(field) and "/V" in field
        if not stamp_ok:
            problems.append(f"a new field {name!r} was added after a signature")
    allowed: set[tuple[int, int] | None] = set()
    for name, ref in before.fields.items():
        key = _ref_key(ref)
        if name in after.fields and _ref_key(after.fields[name]) != key:
            problems.append(f"field {name!r} was replaced")
        if name == signed_field:
            allowed.add(key)
            old_f, new_f = ref.get_object(), after.fields[name].get_object()
            for k in set(old_f) | set(new_f):
                if k not in _FIELD_FREE and not _same(old_f.raw_get(k) if k in old_f else None,
                                                      new_f.raw_get(k) if k in new_f else None):
                    problems.append(f"signing {name!r} also changed its {k}")
    if signed_field is not None and signed_field not in before.fields:
        problems.append(f"{signed_field!r} is not one of the fields fixed at generation")
    # Pages: same pages, same dictionaries; /Annots may only gain the timestamp widget.
    if len(before.pages) != len(after.pages):
        problems.append(f"the number of pages changed ({len(before.pages)} → "
                        f"{len(after.pages)})")
    stamp_ref = _ref_key(after.fields[stamp_field]) if stamp_field in after.fields else None
    for n, (old_ref, new_ref) in enumerate(zip(before.pages, after.pages, strict=False), 1):
        old_p, new_p = old_ref.get_object(), new_ref.get_object()
        allowed.add(_ref_key(old_ref))
        for key in set(old_p) | set(new_p):
            if key != "/Annots" and not _same(old_p.raw_get(key) if key in old_p else None,
                                              new_p.raw_get(key) if key in new_p else None):
                problems.append(f"page {n}: its {key} was changed")
        old_a = [_ref_key(a) for a in (old_p["/Annots"] if "/Annots" in old_p else [])]
        new_a = [_ref_key(a) for a in (new_p["/Annots"] if "/Annots" in new_p else [])]
        if new_a[: len(old_a)] != old_a or any(a != stamp_ref for a in new_a[len(old_a):]):
            problems.append(f"page {n}: an annotation or widget was added or removed")
        if isinstance(old_p.raw_get("/Annots") if "/Annots" in old_p else None,
                      generic.IndirectObject):
            allowed.add(_ref_key(old_p.raw_get("/Annots")))
    # Any other object that existed before and was rewritten is a change of content.
    if "/Metadata" in old_root:  # XMP: pyHanko updates ModifyDate and Producer
        allowed.add(_ref_key(old_root.raw_get("/Metadata")))
    allowed |= {_ref_key(before.resolver.trailer_view.raw_get("/Root")),
                _ref_key(before.resolver.trailer_view.raw_get("/Info"))
                if "/Info" in before.resolver.trailer_view else None}
    if "/AcroForm" in old_root:
        allowed.add(_ref_key(old_root.raw_get("/AcroForm")))
        form = old_root["/AcroForm"]
        if "/Fields" in form:
            allowed.add(_ref_key(form.raw_get("/Fields")))
    allowed |= _dss_refs(before.resolver)
    existing = _existing(before)
    rewritten = sorted(r for r in after.changed if r in existing and r not in allowed)
    if rewritten:
        shown = ", ".join(f"{i} {g} R" for i, g in rewritten[:5])
        problems.append(f"existing objects were rewritten ({shown}): content or an "
                        "appearance changed after a signature")
    return problems


def _dss_refs(resolver: Any) -> set[tuple[int, int] | None]:
    """The DSS dictionary and its direct sub-objects (arrays, VRI): validation data."""
    root = resolver.root
    if "/DSS" not in root:
        return set()
    refs: set[tuple[int, int] | None] = {_ref_key(root.raw_get("/DSS"))}
    dss = root["/DSS"]
    for key in ("/Certs", "/OCSPs", "/CRLs", "/VRI"):
        if key in dss:
            refs.add(_ref_key(dss.raw_get(key)))
    return refs


def _existing(rev: _Revision) -> set[tuple[int, int]]:
    xrefs = rev.resolver.reader.xrefs
    out: set[tuple[int, int]] = set()
    for r in range(rev.rev + 1):
        out |= {(x.idnum, x.generation) for x in xrefs.explicit_refs_in_revision(r)}
    return out


def file_order(expected: Sequence[str]) -> Callable[[str, list[str]], str | None]:
    """For a bare file: any expected field, each once."""
    def check(field: str, signed: list[str]) -> str | None:
        if field not in expected:
            return f"{field!r} is not one of the signature fields fixed at generation"
        if field in signed:
            return f"{field!r} was signed twice"
        return None
    return check


__all__ = ["file_order", "revision_problems"]
