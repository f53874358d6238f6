"""C-CDA R2.1 import (CCD, Discharge Summary, Progress Note): the "Download my record" file.

The document is parsed with defused settings (``_xml``), moved into a FHIR R4 Bundle
(``_convert``) and imported by ``fhir_import.import_bundle``, so both formats share one set of
terminology, unit and chronology rules. Errors and unmapped items name the C-CDA location
(an XPath-ish path), not the intermediate bundle.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from myelonav.errors import ImportError_, MyelonavError
from myelonav.patient.ccda._convert import Converted, Converter
from myelonav.patient.ccda._xml import looks_like_xml, parse_xml
from myelonav.patient.fhir_import import ImportReport, import_bundle
from myelonav.patient.models import UnmappedItem

_ENTRY = re.compile(r"^entry\[(\d{1,7})\](?:\.resource)?\.?")


def to_bundle(raw: bytes, source: str = "document") -> Converted:
    """The FHIR Bundle a C-CDA document maps to (before the record is built)."""
    return Converter(parse_xml(raw, source), source).run()


def import_ccda(
    raw: bytes,
    *,
    source: str = "document",
    as_of: dt.date | None = None,
    record_id: str | None = None,
) -> ImportReport:
    """Import a C-CDA document. Raises ``ImportError_`` naming the C-CDA location on a problem."""
    converted = to_bundle(raw, source)
    try:
        report = import_bundle(converted.bundle, source=source, as_of=as_of, record_id=record_id)
    except MyelonavError as exc:
        exc.location = _relocate(exc.location, source, converted.locations)
        exc.args = (str(exc),)
        raise
    relocated = [
        item.model_copy(update={"path": _relocate_path(item.path, converted.locations)})
        for item in report.unmapped
    ]
    relocated += [
        UnmappedItem(path=path, resource_type="C-CDA", reason=reason, text=text)
        for path, reason, text in converted.unmapped
    ]
    record = report.record.model_copy(update={"unmapped": relocated})
    counts = dict(report.resource_counts)
    if converted.unmapped:
        counts["C-CDA entries not converted"] = len(converted.unmapped)
    return ImportReport(record, counts, report.mapped, relocated)


def import_ccda_file(
    path: str | Path, *, as_of: dt.date | None = None, record_id: str | None = None
) -> ImportReport:
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise ImportError_(f"cannot read file: {exc.strerror}", location=str(p)) from None
    return import_ccda(raw, source=str(p), as_of=as_of, record_id=record_id)


def _relocate_path(path: str, locations: list[str]) -> str:
    match = _ENTRY.match(path)
    if not match or int(match[1]) >= len(locations):
        return path
    rest = path[match.end() :]
    return locations[int(match[1])] + (f" (as FHIR {rest})" if rest else "")


def _relocate(location: str | None, source: str, locations: list[str]) -> str | None:
    prefix = f"{source}: "
    if location is None or not location.startswith(prefix):
        return location
    return prefix + _relocate_path(location[len(prefix) :], locations)


__all__ = ["import_ccda", "import_ccda_file", "looks_like_xml", "to_bundle"]
