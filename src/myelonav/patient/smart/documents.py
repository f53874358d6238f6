"""DocumentReference from the portal: C-CDA documents merge into the record, others are listed.

A C-CDA attachment (inline base64 ``data``, or a ``url`` to a Binary on the same FHIR server)
goes through the C-CDA importer's converter (``patient.ccda``: the same defused XML parsing and
limits) and its FHIR resources join the portal's own before the one import. A resource the
portal already gave (same type, codes, date and value) is not added twice, so a CCD that
repeats the portal's labs does not double them, and medications do not make extra lines. A
document that cannot be read, is not C-CDA (a PDF letter, a scanned report), or is stored
elsewhere is listed as not mapped, with its title and date, never silently dropped.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from myelonav.errors import ImportError_, MyelonavError
from myelonav.patient.ccda import looks_like_xml, to_bundle
from myelonav.patient.fhir_import import ImportReport, import_bundle
from myelonav.patient.models import UnmappedItem
from myelonav.patient.smart.fhir import FhirReader

MAX_DOCUMENTS = 20
MAX_DOCUMENT_BYTES = 8 * 1024 * 1024
CCDA_TYPES = frozenset(
    {"application/xml", "text/xml", "application/hl7-v3+xml", "application/cda+xml"}
)
CCDA_FORMAT_PREFIX = "urn:hl7-org:sdwg:ccda"
_MAX_TITLE = 200


@dataclass
class PortalDocuments:
    """C-CDA documents read (id, converted entries, their C-CDA locations) and what was not."""

    merged: list[tuple[str, list[dict[str, Any]], list[str]]] = field(default_factory=list)
    unmapped: list[UnmappedItem] = field(default_factory=list)
    read: int = 0


def _title(doc: dict[str, Any], attachment: dict[str, Any]) -> str:
    for value in (
        attachment.get("title"),
        doc.get("description"),
        (doc.get("type") or {}).get("text") if isinstance(doc.get("type"), dict) else None,
    ):
        if isinstance(value, str) and value.strip():
            return value.strip()[:_MAX_TITLE]
    return "untitled document"


def _date(doc: dict[str, Any]) -> str | None:
    for key in ("date",):
        value = doc.get(key)
        if isinstance(value, str) and value[:4].isdigit():
            return value[:10]
    context = doc.get("context")
    period = context.get("period") if isinstance(context, dict) else None
    start = period.get("start") if isinstance(period, dict) else None
    return start[:10] if isinstance(start, str) and start[:4].isdigit() else None


def _is_ccda(attachment: dict[str, Any], fmt: str | None) -> bool:
    content_type = str(attachment.get("contentType") or "").split(";", 1)[0].strip().lower()
    return content_type in CCDA_TYPES or (fmt or "").startswith(CCDA_FORMAT_PREFIX)


def _format_code(content: dict[str, Any]) -> str | None:
    fmt = content.get("format")
    code = fmt.get("code") if isinstance(fmt, dict) else None
    return code if isinstance(code, str) else None


def _inline(data: Any) -> bytes:
    if not isinstance(data, str):
        raise ImportError_("attachment data is not base64 text", location="attachment.data")
    if len(data) > MAX_DOCUMENT_BYTES * 4 // 3 + 4:
        raise ImportError_(
            f"the document is larger than {MAX_DOCUMENT_BYTES // (1024 * 1024)} MB",
            location="attachment.data",
        )
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise ImportError_(
            "attachment data is not valid base64", location="attachment.data"
        ) from None


def _binary(reader: FhirReader, url: str) -> bytes:
    """The document behind ``url``: a Binary on the portal's own FHIR server, bounded."""
    if not url.startswith(("http://", "https://")):
        url = f"{reader.base}/{url.lstrip('/')}"
    if not url.startswith(reader.base + "/"):
        raise ImportError_("the document is stored on another server; not fetched", location="url")
    response = reader.get(
        url, accept="application/xml, application/fhir+json;q=0.5", max_bytes=MAX_DOCUMENT_BYTES * 2
    )
    if response.status_code != 200:
        raise ImportError_(f"the portal answered HTTP {response.status_code}", location="url")
    body = response.content
    kind = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if kind in ("application/fhir+json", "application/json"):
        try:
            binary = json.loads(body)
        except ValueError:
            raise ImportError_("the Binary is not JSON", location="url") from None
        if not isinstance(binary, dict) or binary.get("resourceType") != "Binary":
            raise ImportError_("the document link did not return a Binary", location="url")
        return _inline(binary.get("data"))
    if len(body) > MAX_DOCUMENT_BYTES:
        raise ImportError_(
            f"the document is larger than {MAX_DOCUMENT_BYTES // (1024 * 1024)} MB",
            location="url",
        )
    return body


def read_documents(
    reader: FhirReader, references: list[dict[str, Any]], patient: dict[str, Any]
) -> PortalDocuments:
    """Read the patient's DocumentReferences: convert C-CDA, list the rest.

    ``patient`` (the portal's Patient) stands in for the document's own header when a document
    is checked on its own, so a CCD without a birth date still merges.
    """
    found = PortalDocuments()
    listed = MAX_DOCUMENTS * 5
    if len(references) > listed:
        found.unmapped.append(
            UnmappedItem(
                path="DocumentReference",
                resource_type="DocumentReference",
                reason=f"{len(references) - listed} more documents were not looked at "
                f"(the first {listed} were); ask your care team if one matters",
            )
        )
    for doc in references[:listed]:
        doc_id = str(doc.get("id") or "?")[:64]
        path = f"DocumentReference/{doc_id}"
        if doc.get("status") == "entered-in-error":
            continue
        raw_contents = doc.get("content")
        contents: list[Any] = raw_contents if isinstance(raw_contents, list) else []
        attachments = [
            (c["attachment"], _format_code(c))
            for c in contents
            if isinstance(c, dict) and isinstance(c.get("attachment"), dict)
        ]
        ccda = next(((a, f) for a, f in attachments if _is_ccda(a, f)), None)
        title = _title(doc, attachments[0][0] if attachments else {})
        when = _date(doc)
        label = f"{title} ({when})" if when else title
        if ccda is None:
            kinds = sorted(
                {str(a.get("contentType") or "unknown type")[:60] for a, _ in attachments}
            )
            found.unmapped.append(
                UnmappedItem(
                    path=path,
                    resource_type="DocumentReference",
                    reason=f"document not read ({', '.join(kinds) or 'no attachment'}); "
                    "ask your care team about it or upload it if it matters",
                    text=label,
                )
            )
            continue
        if found.read >= MAX_DOCUMENTS:
            found.unmapped.append(
                UnmappedItem(
                    path=path,
                    resource_type="DocumentReference",
                    reason=f"more than {MAX_DOCUMENTS} C-CDA documents; this one was not read",
                    text=label,
                )
            )
            continue
        attachment, _fmt = ccda
        try:
            if "data" in attachment:
                raw = _inline(attachment["data"])
            elif isinstance(attachment.get("url"), str):
                raw = _binary(reader, attachment["url"])
            else:
                raise ImportError_("the attachment has neither data nor url", location=path)
            if not looks_like_xml(raw):
                raise ImportError_("the attachment is not XML", location=path)
            converted = to_bundle(raw, source=path)
            entries = [
                (e, loc)
                for e, loc in zip(converted.bundle["entry"], converted.locations, strict=True)
                if e["resource"].get("resourceType") != "Patient"
            ]
            # checked on its own first: one bad document must not stop the portal's import
            import_bundle(
                {
                    "resourceType": "Bundle",
                    "type": "collection",
                    "entry": [{"resource": patient}, *(e for e, _ in entries)],
                },
                source=path,
            )
        except MyelonavError as exc:
            found.unmapped.append(
                UnmappedItem(
                    path=path,
                    resource_type="DocumentReference",
                    reason=f"C-CDA document could not be read: {exc.message}"[:300],
                    text=label,
                )
            )
            continue
        found.read += 1
        found.merged.append((doc_id, [e for e, _ in entries], [loc for _, loc in entries]))
        found.unmapped.extend(
            UnmappedItem(path=f"{path}: {where}", resource_type="C-CDA", reason=reason, text=text)
            for where, reason, text in converted.unmapped
        )
    return found


def _codes(value: Any) -> tuple[str, ...]:
    if not isinstance(value, dict):
        return ()
    codings = value.get("coding")
    found = sorted(
        f"{c.get('system', '')}|{c.get('code', '')}"
        for c in (codings if isinstance(codings, list) else [])
        if isinstance(c, dict) and c.get("code")
    )
    return tuple(found) or (str(value.get("text", "")).strip().lower(),)


def _when(resource: dict[str, Any]) -> str:
    for key in (
        "effectiveDateTime",
        "performedDateTime",
        "authoredOn",
        "onsetDateTime",
        "recordedDate",
        "issued",
    ):
        value = resource.get(key)
        if isinstance(value, str):
            return value[:10]
    for key in ("effectivePeriod", "performedPeriod"):
        value = resource.get(key)
        if isinstance(value, dict) and isinstance(value.get("start"), str):
            return str(value["start"])[:10]
    return ""


def fingerprint(resource: dict[str, Any]) -> tuple[Any, ...]:
    """What makes two resources the same fact, whichever source sent them."""
    kind = resource.get("resourceType")
    code = _codes(resource.get("code") or resource.get("medicationCodeableConcept"))
    quantity = resource.get("valueQuantity")
    value: Any = None
    if isinstance(quantity, dict):
        value = (quantity.get("value"), str(quantity.get("unit") or quantity.get("code") or ""))
    elif "valueCodeableConcept" in resource:
        value = _codes(resource.get("valueCodeableConcept"))
    return (kind, code, _when(resource), json.dumps(value, sort_keys=True, default=str))


def merge_documents(
    bundle: dict[str, Any], documents: PortalDocuments
) -> tuple[dict[str, Any], dict[int, str]]:
    """The portal's bundle with the documents' resources added (facts it already has are not
    added twice), and the C-CDA location of each added entry by index."""
    entries = list(bundle["entry"])
    seen = {fingerprint(e["resource"]) for e in entries}
    locations: dict[int, str] = {}
    for doc_id, doc_entries, doc_locations in documents.merged:
        for entry, where in zip(doc_entries, doc_locations, strict=True):
            resource = dict(entry["resource"])
            key = fingerprint(resource)
            if key in seen:
                continue
            seen.add(key)
            # unique in the merged bundle whatever ids the document used
            resource["id"] = f"doc{len(entries)}-{doc_id}"[:64]
            locations[len(entries)] = f"DocumentReference/{doc_id}: {where}"
            entries.append({"fullUrl": f"urn:uuid:{resource['id']}", "resource": resource})
    return {**bundle, "entry": entries}, locations


def import_with_documents(
    bundle: dict[str, Any],
    documents: PortalDocuments,
    *,
    source: str,
    as_of: dt.date | None = None,
    record_id: str | None = None,
) -> ImportReport:
    """One import of the portal's resources and its C-CDA documents' resources."""
    merged, locations = merge_documents(bundle, documents)
    try:
        report = import_bundle(merged, source=source, as_of=as_of, record_id=record_id)
    except MyelonavError as exc:
        if not locations:
            raise
        # each document imported on its own; together with the portal's facts it does not:
        # the portal's own resources still import, the documents are listed
        report = import_bundle(bundle, source=source, as_of=as_of, record_id=record_id)
        documents = PortalDocuments(
            unmapped=[
                *documents.unmapped,
                *(
                    UnmappedItem(
                        path=f"DocumentReference/{doc_id}",
                        resource_type="DocumentReference",
                        reason=f"C-CDA document not merged: {exc.message}"[:300],
                    )
                    for doc_id, _, _ in documents.merged
                ),
            ]
        )
        locations = {}
    unmapped = [
        item.model_copy(update={"path": _relocate(item.path, locations)})
        for item in report.unmapped
    ] + documents.unmapped
    counts = dict(report.resource_counts)
    if documents.read:
        counts["C-CDA documents merged"] = documents.read
    record = report.record.model_copy(update={"unmapped": unmapped})
    return ImportReport(record, counts, report.mapped, unmapped)


def _relocate(path: str, locations: dict[int, str]) -> str:
    if not path.startswith("entry["):
        return path
    index, _, rest = path[len("entry[") :].partition("]")
    if not index.isdigit() or int(index) not in locations:
        return path
    rest = rest.removeprefix(".resource").lstrip(".")
    return locations[int(index)] + (f" (as FHIR {rest})" if rest else "")


__all__ = [
    "MAX_DOCUMENTS",
    "MAX_DOCUMENT_BYTES",
    "PortalDocuments",
    "fingerprint",
    "import_with_documents",
    "merge_documents",
    "read_documents",
]
