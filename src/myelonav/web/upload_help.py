"""What to try instead when an uploaded file cannot be read, in plain words.

The importer's own message says what was wrong (with the place in the file); this adds what
a person can do next, chosen from what the file looks like (its first bytes, then its name).
"""

from __future__ import annotations

from pathlib import Path

TYPE_IT = (
    'type the numbers from it into the questions instead (<a href="/intake">Answer questions</a>)'
)
PORTAL = (
    'or, in your patient portal, look for "Download my record" (or "Visit summary") and '
    "upload the XML (C-CDA) or FHIR JSON file it gives you"
)


def _kind(raw: bytes, filename: str) -> str:
    head = raw[:16]
    suffix = Path(filename).suffix.lower()
    if head.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8")) or head[4:12] in (
        b"ftypheic",
        b"ftypheix",
        b"ftypmif1",
    ):
        return "image"
    if head.startswith(b"RIFF") and raw[8:12] == b"WEBP":
        return "image"
    if suffix in (".png", ".jpg", ".jpeg", ".heic", ".gif", ".webp", ".tif", ".tiff"):
        return "image"
    if head.startswith(b"%PDF") or suffix == ".pdf":
        return "pdf"
    if head.startswith(b"PK\x03\x04") or suffix in (".zip", ".docx", ".doc"):
        return "archive"
    stripped = raw.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"<") or suffix == ".xml":
        return "xml"
    if stripped.startswith((b"{", b"[")) or suffix == ".json":
        return "json"
    return "other"


ADVICE: dict[str, str] = {
    "image": (
        "This looks like a photo or a scan. We cannot read pictures of reports: "
        f"{TYPE_IT}, {PORTAL}."
    ),
    "pdf": f"This is a PDF. We cannot read PDF files: {TYPE_IT}, {PORTAL}.",
    "archive": (
        "This is a compressed (.zip) or Word file. If your portal gave you a .zip, open it "
        "and upload the .xml or .json file inside; otherwise "
        f"{TYPE_IT}."
    ),
    "xml": (
        "This XML file is not a health record we can read. We read C-CDA documents (the "
        '"Download my record" file from most US patient portals). Check that you chose the '
        f"whole record, not a stylesheet or index file; otherwise {TYPE_IT}."
    ),
    "json": (
        "This JSON file is not a FHIR health record or a myelonav profile we can read. A "
        'FHIR record starts with "resourceType": "Bundle". '
        f"If your portal offers another download, {PORTAL.removeprefix('or, ')}; otherwise "
        f"{TYPE_IT}."
    ),
    "other": (
        "We could not tell what kind of file this is. We read FHIR JSON, C-CDA XML and "
        f"myelonav profiles (JSON or YAML). You can also {TYPE_IT}."
    ),
}


def upload_advice(raw: bytes, filename: str) -> str:
    """What to try next for a file that could not be read (HTML with one safe link)."""
    return ADVICE[_kind(raw, filename)]


__all__ = ["ADVICE", "upload_advice"]
