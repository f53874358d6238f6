"""Safe XML reading for C-CDA: no DTD, no entities, no external references, bounded size/depth.

A C-CDA document never needs a DTD, so any ``<!DOCTYPE`` is refused before an entity can be
declared: billion-laughs and external-entity documents fail in microseconds, not after the
expansion. Depth is counted while parsing (expat itself does not recurse), so a document nested
100,000 levels deep is refused at level ``MAX_DEPTH`` without building it.
"""

from __future__ import annotations

import io
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from myelonav.errors import ImportError_

NS = "urn:hl7-org:v3"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
MAX_BYTES = 20 * 1024 * 1024
MAX_DEPTH = 200
MAX_ELEMENTS = 500_000


def tag(name: str) -> str:
    """The namespaced tag of an HL7 v3 element."""
    return f"{{{NS}}}{name}"


def local(element: Element) -> str:
    name = element.tag
    return name.rsplit("}", 1)[-1] if isinstance(name, str) else ""


def parse_xml(raw: bytes, source: str) -> Element:
    """Parse ``raw`` as XML with defused settings; any problem is an ``ImportError_``."""
    if len(raw) > MAX_BYTES:
        raise ImportError_(
            f"the document is larger than {MAX_BYTES // (1024 * 1024)} MB", location=source
        )
    depth = 0
    count = 0
    root: Element | None = None
    try:
        events = iterparse(
            io.BytesIO(raw),
            events=("start", "end"),
            forbid_dtd=True,
            forbid_entities=True,
            forbid_external=True,
        )
        for event, element in events:
            if event == "start":
                depth += 1
                count += 1
                if root is None:
                    root = element
                if depth > MAX_DEPTH:
                    raise ImportError_(
                        f"XML nested deeper than {MAX_DEPTH} levels; refused", location=source
                    )
                if count > MAX_ELEMENTS:
                    raise ImportError_(
                        f"XML has more than {MAX_ELEMENTS} elements; refused", location=source
                    )
            else:
                depth -= 1
    except DefusedXmlException as exc:
        raise ImportError_(
            f"XML refused: {type(exc).__name__} (DTDs, entities and external references "
            "are not allowed in a C-CDA document)",
            location=source,
        ) from None
    except ParseError as exc:
        line, column = getattr(exc, "position", (0, 0))
        raise ImportError_(
            f"not well-formed XML (line {line}, column {column})", location=source
        ) from None
    except LookupError:
        raise ImportError_(
            "the XML declaration names an encoding that does not exist", location=source
        ) from None
    except (UnicodeError, ValueError, RecursionError, MemoryError) as exc:
        raise ImportError_(f"not readable XML: {type(exc).__name__}", location=source) from None
    if root is None:
        raise ImportError_("the document is empty", location=source)
    return root


def looks_like_xml(raw: bytes) -> bool:
    """True when a file's first non-blank bytes open an XML document (after an optional BOM)."""
    head = raw[:512].lstrip(b"\xef\xbb\xbf").lstrip()
    return head.startswith(b"<")


__all__ = ["MAX_BYTES", "MAX_DEPTH", "NS", "XSI", "local", "looks_like_xml", "parse_xml", "tag"]
