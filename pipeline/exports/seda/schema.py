"""The official SEDA 2.1 schema, loaded from the files shipped with the project, offline.

``seda-2.1-main.xsd`` imports the W3C ``xml.xsd`` and ``xlink.xsd`` by URL. The
``xmlschema`` library ships its own copies of both and uses them as fallbacks; the schema
is loaded with ``allow="local"`` (local files only: any ``http(s)`` address is refused)
and a URL mapper that turns the two W3C addresses into the library's local copies, so
nothing ever reaches the network, even if a schema file were edited to point elsewhere.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.core.errors import ConfigError
from pipeline.core.i18n import _

if TYPE_CHECKING:
    import xmlschema

log = logging.getLogger(__name__)

SEDA_NS = "fr:gouv:culture:archivesdefrance:seda:v2.1"
"""The SEDA 2.1 target namespace."""
MAIN_XSD = "seda-2.1-main.xsd"
_W3C = {
    "http://www.w3.org/2001/xml.xsd": "xml.xsd",
    "http://www.w3.org/1999/xlink.xsd": "xlink.xsd",
}
_LOCK = threading.Lock()


@dataclass(frozen=True)
class SchemaProblem:
    """One reason a manifest does not conform to SEDA 2.1."""

    path: str
    """XPath of the offending element (``/ArchiveTransfer/DataObjectPackage/...``)."""
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


def xsd_folder() -> Path:
    """The folder of the shipped SEDA 2.1 schema files."""
    return Path(str(resources.files("pipeline.exports.seda") / "xsd"))


def _w3c_copies() -> dict[str, str]:
    import xmlschema

    base = Path(xmlschema.__file__).parent / "schemas"
    found: dict[str, str] = {}
    for url, name in _W3C.items():
        hits = sorted(base.rglob(name))
        if not hits:
            raise ConfigError(_("The xmlschema library has no local copy of {url}.").format(
                url=url))
        found[url] = hits[0].as_uri()
    return found


@cache
def seda_schema() -> xmlschema.XMLSchema10:
    """The SEDA 2.1 schema (built once per process: about a second)."""
    import xmlschema

    with _LOCK:
        copies = _w3c_copies()

        def mapper(url: str) -> str:
            return copies.get(url, url)

        try:
            return xmlschema.XMLSchema10(
                str(xsd_folder() / MAIN_XSD), uri_mapper=mapper, allow="local",
                base_url=str(xsd_folder()), defuse="always")
        except (xmlschema.XMLSchemaException, OSError) as exc:
            raise ConfigError(_("The SEDA 2.1 schema cannot be loaded: {error}").format(
                error=exc)) from exc


def validate_manifest(xml: bytes, *, limit: int = 20) -> list[SchemaProblem]:
    """Every reason (at most ``limit``) ``xml`` is not a valid SEDA 2.1 message."""
    import xmlschema

    schema = seda_schema()
    problems: list[SchemaProblem] = []
    try:
        errors: Any = schema.iter_errors(xml.decode("utf-8"))
        for err in errors:
            problems.append(SchemaProblem(str(err.path or "/"), str(err.reason or err.message)))
            if len(problems) >= limit:
                break
    except (xmlschema.XMLSchemaException, ValueError, SyntaxError) as exc:
        problems.append(SchemaProblem("/", f"not well-formed XML ({exc})"))
    return problems


__all__ = ["MAIN_XSD", "SEDA_NS", "SchemaProblem", "seda_schema", "validate_manifest",
           "xsd_folder"]
