"""The ``exports`` gettext domain: every message wrapped in the exports code has a French
form, and the compiled catalog matches the .po file."""

from __future__ import annotations

import gettext
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
PO = ROOT / "pipeline" / "locale" / "fr" / "LC_MESSAGES" / "exports.po"


def _wrapped() -> set[str]:
    found: set[str] = set()
    for folder, only in ((ROOT / "pipeline" / "exports", None),
                         (ROOT / "pipeline" / "cli", {"export_cmds.py", "publish_cmds.py"})):
        for name, _line, message, _comments, _ctx in extract_from_dir(
                str(folder), keywords={"_": None, "ngettext": (1, 2)}):
            if only is None or Path(name).name in only:
                found.add(message[0] if isinstance(message, tuple) else message)
    return found


def test_every_message_has_a_french_form() -> None:
    with open(PO, "rb") as fh:
        catalog = read_po(fh)
    translated = {m.id[0] if isinstance(m.id, tuple) else m.id: m.string for m in catalog
                  if m.id}
    wrapped = _wrapped()
    assert len(wrapped) > 40
    missing = sorted(m for m in wrapped if not translated.get(m))
    assert missing == []
    assert catalog.plural_forms == "nplurals=2; plural=(n > 1);"


def test_compiled_catalog_matches_the_po() -> None:
    with open(PO, "rb") as fh:
        catalog = read_po(fh)
    with open(PO.with_suffix(".mo"), "rb") as fh:
        compiled = gettext.GNUTranslations(fh)
    for m in catalog:
        if isinstance(m.id, str) and m.id:
            assert compiled.gettext(m.id) == m.string, m.id
        elif m.id:
            assert isinstance(m.string, tuple)
            assert compiled.ngettext(m.id[0], m.id[1], 2) == m.string[1], m.id
