"""Every message of the back-office has its French form, and the compiled catalog agrees."""

from __future__ import annotations

import gettext
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from paths import PROJECT_ROOT

from pipeline.web.agents import labels

LOCALE = PROJECT_ROOT / "pipeline" / "locale" / "fr" / "LC_MESSAGES"
SHARED = {"Conventions of the commune"}  # in the frame's own domain (web-base)


def _wrapped() -> set[str | tuple[str, str]]:
    method_map = [("pipeline/web/agents/**.py", "python"), ("pipeline/imports.py", "python"),
                  ("pipeline/web/templates/agents/**.html", "jinja2")]
    found: set[str | tuple[str, str]] = set()
    for _file, _line, message, _comments, _ctx in extract_from_dir(
            PROJECT_ROOT, method_map, keywords={"_": None, "ngettext": (1, 2)}):
        found.add(message if isinstance(message, str) else (message[0], message[1]))
    for table in (labels.STATUS_LABELS, labels.DOCUMENT_LABELS, labels.JOB_LABELS,
                  labels.SEVERITY_LABELS, labels.EVENT_LABELS):
        found.update(table.values())
    return found - SHARED


def test_every_back_office_message_is_translated() -> None:
    with (LOCALE / "web-agents.po").open("rb") as fh:
        catalog = read_po(fh)
    assert catalog.plural_forms == "nplurals=2; plural=(n > 1);"
    translated = {m.id if isinstance(m.id, str) else tuple(m.id): m.string
                  for m in catalog if m.id}
    wrapped = _wrapped()
    assert len(wrapped) > 150
    missing = [m for m in wrapped if not translated.get(m)]
    assert not missing, missing
    assert all(all(s) for s in translated.values() if isinstance(s, tuple))


def test_the_compiled_catalog_matches_the_po() -> None:
    with (LOCALE / "web-agents.po").open("rb") as fh:
        catalog = read_po(fh)
    with Path(LOCALE / "web-agents.mo").open("rb") as fh:
        compiled = gettext.GNUTranslations(fh)
    for message in catalog:
        if not message.id:
            continue
        if isinstance(message.id, str):
            assert compiled.gettext(message.id) == message.string, message.id
        else:
            assert isinstance(message.string, tuple)
            assert compiled.ngettext(message.id[0], message.id[1], 2) == message.string[1]
