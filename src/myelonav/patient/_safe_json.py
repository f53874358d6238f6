"""JSON read with limits, and text made safe to store: the first line of defence of every importer.

Limits (size, nesting depth, integer digits) keep a hostile or broken file from exhausting
memory or time before any field is looked at. Text is cleaned of what the profile formats cannot
hold (lone UTF-16 surrogates, U+FFFE/U+FFFF and other characters YAML refuses): such a character
is replaced by its escape written out as text (``\\uffff``), so nothing the source said is lost
and every saved profile can be read back by every command.
"""

from __future__ import annotations

import json
import re
from typing import Any

from myelonav.errors import ImportError_

MAX_JSON_BYTES = 64 * 1024 * 1024
MAX_DEPTH = 64
# FHIR integers are 32-bit and decimals have at most 18 significant digits; a longer integer
# literal is read as a float (so it is reported as too large) rather than handed to int(), whose
# cost grows with the square of the digits and which refuses more than 4,300 of them.
MAX_INT_DIGITS = 18
# the largest magnitude any number in a record may have before conversion
MAX_ABS_NUMBER = 1e12

# what PyYAML's reader accepts (YAML 1.1 printable characters); everything else is escaped
_UNSAFE = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


_PLAIN = frozenset({int, float, bool, type(None)})


def _parse_int(text: str) -> int | float:
    digits = len(text) - (text[0] == "-")
    return int(text) if digits <= MAX_INT_DIGITS else float(text)


def _escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group(0)):04x}"


def clean_text(text: str) -> str:
    """``text`` with every character a profile cannot hold written out as its ``\\uXXXX`` escape."""
    if _UNSAFE.search(text) is None:
        return text
    return _UNSAFE.sub(_escape, text)


def number_too_large(value: float) -> bool:
    """True for numbers no record field can hold: non-finite, or beyond ``MAX_ABS_NUMBER``."""
    return not -MAX_ABS_NUMBER <= value <= MAX_ABS_NUMBER  # NaN compares false: too large


def loads_limited(raw: str | bytes, source: str, *, what: str = "JSON") -> Any:
    """Parse JSON within the size, depth and integer-digit limits; errors name ``source``."""
    if len(raw) > MAX_JSON_BYTES:
        raise ImportError_(
            f"the file is larger than {MAX_JSON_BYTES // (1024 * 1024)} MB", location=source
        )
    try:
        return json.loads(raw, parse_int=_parse_int)
    except json.JSONDecodeError as exc:
        raise ImportError_(
            f"not valid {what}: {exc.msg} (line {exc.lineno}, column {exc.colno})",
            location=source,
        ) from None
    except RecursionError:
        raise ImportError_(
            f"not valid {what}: nested deeper than {MAX_DEPTH} levels", location=source
        ) from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise ImportError_(f"not valid {what}: {type(exc).__name__}", location=source) from None


def _deep_path(data: Any, limit: int) -> str:
    """The path of the first node nested ``limit`` levels deep (only computed for the error)."""
    stack: list[tuple[Any, str, int]] = [(data, "", 0)]
    while stack:
        node, path, depth = stack.pop()
        if depth >= limit:
            return path or "(root)"
        if isinstance(node, dict):
            stack.extend((v, f"{path}.{k}" if path else str(k), depth + 1) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend((v, f"{path}[{i}]", depth + 1) for i, v in enumerate(node))
    return "(root)"


def sanitize(data: Any, source: str) -> Any:
    """Check the nesting depth of ``data`` and clean every string value in it, in place.

    Iterative, so a deeply nested document is refused with its path instead of exhausting the
    stack. Returns ``data`` (a new string when the root itself is a string). Keys are not
    cleaned: no key reaches a record.
    """
    if isinstance(data, str):
        return clean_text(data)
    if not isinstance(data, dict | list):
        return data
    stack: list[tuple[Any, int]] = [(data, 0)]
    pop, push = stack.pop, stack.append
    while stack:
        node, depth = pop()
        if depth >= MAX_DEPTH:
            where = _deep_path(data, MAX_DEPTH)
            raise ImportError_(
                f"nested deeper than {MAX_DEPTH} levels", location=f"{source}: {where}"
            )
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, value in items:
            kind = type(value)
            if kind is str:
                # printable text is always safe; only the rest goes through the full check
                if not value.isprintable() and _UNSAFE.search(value) is not None:
                    node[key] = clean_text(value)
            elif kind is dict or kind is list:
                push((value, depth + 1))
            elif kind in _PLAIN:
                continue
            elif isinstance(value, str):  # a subclass: rare, so checked last
                node[key] = clean_text(value)
            elif isinstance(value, dict | list):
                push((value, depth + 1))
    return data


__all__ = [
    "MAX_ABS_NUMBER",
    "MAX_DEPTH",
    "MAX_INT_DIGITS",
    "MAX_JSON_BYTES",
    "clean_text",
    "loads_limited",
    "number_too_large",
    "sanitize",
]
