"""The ``ArchiveTransfer`` message (SEDA 2.1) of a transfer package, as XML bytes.

Plain data in (:class:`TransferMessage`: agencies, rules and one :class:`UnitSpec` per
convention with its :class:`PackedFile` entries), XML out; nothing here reads files or the
registry. The layout, in schema order::

    ArchiveTransfer
      Comment, Date, MessageIdentifier, ArchivalAgreement, CodeListVersions
      DataObjectPackage
        DataObjectGroup*          one per file, holding its BinaryDataObject
        DescriptiveMetadata
          ArchiveUnit             one per convention (DescriptionLevel File)
            Management            AppraisalRule (Rule, StartDate, FinalAction), AccessRule
            Content               title, identifiers, description, keywords, agencies,
                                  holders as addressees, dates, one Event per signature
            ArchiveUnit*          one per document (Item), amendment, evidence
        ManagementMetadata        originating and submission agencies
      ArchivalAgency, TransferringAgency
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import date, datetime

from pipeline.exports.seda.formats import FileFormat
from pipeline.exports.seda.schema import SEDA_NS

_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
ET.register_namespace("", SEDA_NS)


@dataclass(frozen=True)
class PackedFile:
    """One file of the package."""

    object_id: str
    """XML id of its BinaryDataObject (``BDO_1``); its group is ``DOG_1``."""
    uri: str
    """Path inside the ZIP (``content/FF_2026_001/FF_2026_001.pdf``)."""
    filename: str
    sha512: str
    size: int
    fmt: FileFormat
    modified: datetime


@dataclass(frozen=True)
class SignatureEvent:
    """A signature recorded in the registry, shown as an ``Event`` of the unit."""

    when: datetime
    signatory: str
    """The signatory's key and name (``holder-1 Camille Dupré``)."""


@dataclass(frozen=True)
class UnitSpec:
    """An ArchiveUnit: a convention (level File) or one of its parts (level Item)."""

    unit_id: str
    title: str
    level: str = "Item"
    identifier: str | None = None
    description: str | None = None
    keywords: tuple[str, ...] = ()
    addressees: tuple[str, ...] = ()
    """Holders' names (legal entities and people: the package is not public)."""
    start: date | None = None
    end: date | None = None
    files: tuple[PackedFile, ...] = ()
    signatures: tuple[SignatureEvent, ...] = ()
    children: tuple[UnitSpec, ...] = ()
    appraisal_rule: str | None = None
    appraisal_start: date | None = None
    final_action: str = "Keep"
    """``Keep`` or ``Destroy``."""
    access_rule: str | None = None
    access_start: date | None = None


@dataclass(frozen=True)
class TransferMessage:
    """Everything the manifest says."""

    message_id: str
    date: datetime
    comment: str
    archival_agreement: str | None
    archival_agency: str
    transferring_agency: str
    originating_agency: str
    originating_agency_name: str
    submission_agency: str
    units: tuple[UnitSpec, ...] = field(default_factory=tuple)


def _q(tag: str) -> str:
    return f"{{{SEDA_NS}}}{tag}"


def _clean(text: str) -> str:
    return _XML_ILLEGAL.sub("", text)


def _add(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, _q(tag), attrs)
    if text is not None:
        el.text = _clean(text)
    return el


def _stamp(value: datetime) -> str:
    return value.replace(microsecond=0, tzinfo=None).isoformat()


def _binary(parent: ET.Element, f: PackedFile) -> None:
    group = _add(parent, "DataObjectGroup", id=f"DOG_{f.object_id}")
    bdo = _add(group, "BinaryDataObject", id=f.object_id)
    _add(bdo, "DataObjectVersion", "BinaryMaster_1")
    _add(bdo, "Uri", f.uri)
    _add(bdo, "MessageDigest", f.sha512, algorithm="SHA-512")
    _add(bdo, "Size", str(f.size))
    ident = _add(bdo, "FormatIdentification")
    _add(ident, "FormatLitteral", f.fmt.literal)
    _add(ident, "MimeType", f.fmt.mime)
    if f.fmt.puid:
        _add(ident, "FormatId", f.fmt.puid)
    info = _add(bdo, "FileInfo")
    _add(info, "Filename", f.filename)
    _add(info, "LastModified", _stamp(f.modified))


def _management(parent: ET.Element, u: UnitSpec) -> None:
    if not (u.appraisal_rule or u.access_rule):
        return
    mgmt = _add(parent, "Management")
    if u.appraisal_rule:
        rule = _add(mgmt, "AppraisalRule")
        _add(rule, "Rule", u.appraisal_rule)
        if u.appraisal_start:
            _add(rule, "StartDate", u.appraisal_start.isoformat())
        _add(rule, "FinalAction", u.final_action)
    if u.access_rule:
        rule = _add(mgmt, "AccessRule")
        _add(rule, "Rule", u.access_rule)
        if u.access_start:
            _add(rule, "StartDate", u.access_start.isoformat())


def _unit(parent: ET.Element, u: UnitSpec, msg: TransferMessage) -> None:
    au = _add(parent, "ArchiveUnit", id=u.unit_id)
    _management(au, u)
    content = _add(au, "Content")
    _add(content, "DescriptionLevel", u.level)
    _add(content, "Title", u.title)
    if u.identifier:
        _add(content, "OriginatingAgencyArchiveUnitIdentifier", u.identifier)
    if u.description:
        _add(content, "Description", u.description)
    _add(content, "Language", "fr")
    _add(content, "DescriptionLanguage", "fr")
    for word in u.keywords:
        kw = _add(content, "Keyword")
        _add(kw, "KeywordContent", word)
        _add(kw, "KeywordType", "subject")
    if u.level == "File":
        agency = _add(content, "OriginatingAgency")
        _add(agency, "Identifier", msg.originating_agency)
    for name in u.addressees:
        agent = _add(content, "Addressee")
        _add(agent, "FullName", name)
    if u.start:
        _add(content, "StartDate", u.start.isoformat())
    if u.end:
        _add(content, "EndDate", u.end.isoformat())
    for sig in u.signatures:
        ev = _add(content, "Event")
        _add(ev, "EventType", "Signature")
        _add(ev, "EventDateTime", _stamp(sig.when))
        _add(ev, "EventDetail", f"Signature électronique de {sig.signatory}")
    for child in u.children:
        _unit(au, child, msg)
    for f in u.files:
        ref = _add(au, "DataObjectReference")
        _add(ref, "DataObjectGroupReferenceId", f"DOG_{f.object_id}")


def _all_files(units: tuple[UnitSpec, ...]) -> list[PackedFile]:
    out: list[PackedFile] = []
    for u in units:
        out.extend(u.files)
        out.extend(_all_files(u.children))
    return out


def build_manifest(msg: TransferMessage) -> bytes:
    """The ``manifest.xml`` of ``msg``, UTF-8, indented."""
    root = ET.Element(_q("ArchiveTransfer"))
    _add(root, "Comment", msg.comment)
    _add(root, "Date", _stamp(msg.date))
    _add(root, "MessageIdentifier", msg.message_id)
    if msg.archival_agreement:
        _add(root, "ArchivalAgreement", msg.archival_agreement)
    codes = _add(root, "CodeListVersions")
    _add(codes, "MessageDigestAlgorithmCodeListVersion", "MessageDigestAlgorithmCodeListVersion0")
    _add(codes, "MimeTypeCodeListVersion", "MimeTypeCodeListVersion0")
    _add(codes, "FileFormatCodeListVersion", "PRONOM")
    package = _add(root, "DataObjectPackage")
    for f in _all_files(msg.units):
        _binary(package, f)
    described = _add(package, "DescriptiveMetadata")
    for u in msg.units:
        _unit(described, u, msg)
    meta = _add(package, "ManagementMetadata")
    _add(meta, "OriginatingAgencyIdentifier", msg.originating_agency)
    _add(meta, "SubmissionAgencyIdentifier", msg.submission_agency)
    _add(_add(root, "ArchivalAgency"), "Identifier", msg.archival_agency)
    _add(_add(root, "TransferringAgency"), "Identifier", msg.transferring_agency)
    ET.indent(root)
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return body + b"\n"


__all__ = ["PackedFile", "SignatureEvent", "TransferMessage", "UnitSpec", "build_manifest"]
