"""Deterministic C-CDA mutations for fuzzing the importer (tests and ``benchmarks/fuzz_ccda.py``).

Each case is a seed document changed by one or more mutations drawn from a small grammar: XML
attacks (entity expansion, external entities and DTDs, deep nesting, huge attributes),
value attacks (numbers, dates, units, codes, nullFlavors, xsi:types) and structure attacks
(duplicated, dropped or swapped elements, truncation, byte flips). The same seed and index
always give the same case, so a failure can be replayed.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterator

_ATTR = re.compile(
    rb'(value|unit|code|codeSystem|nullFlavor|xsi:type|root|extension)="([^"]{0,200})"'
)
_ELEMENT = re.compile(
    rb"<(observation|substanceAdministration|procedure|act|entry|component|value|effectiveTime)\b"
)

_NUMBERS = [
    b"1" * 400,
    b"1e999",
    b"-0",
    b"NaN",
    b"Infinity",
    b"0x1F",
    b"1,5",
    b"",
    b" 7 ",
    b"9" * 20,
]
_DATES = [
    b"20241301",
    b"20240230",
    b"0000",
    b"99999999",
    b"2024-03-01",
    b"202",
    b"2024031",
    b"20240315250000",
    b"1850",
]
_UNITS = [b"", b"mg/dL/L", b"10^12/L", b"\xc2\xb5mol/L", b"%%", b"g/dL" * 50, b"[lb_av]", b"mmol/L"]
_CODES = [b"", b"C90.0" * 100, b"109989006", b"\xef\xbf\xbf", b"x" * 5000, b"1156961008", b"&amp;"]
_TYPES = [b"PQ", b"CD", b"ST", b"INT", b"IVL_PQ", b"BL", b"REAL", b"RTO", b"xs:nonsense", b""]
_TEXT = [
    b"\x7f",
    b"\xc2\x80\xc2\x9f",
    b"\xed\xa0\x80",
    b"\x00",
    b"\xef\xbf\xbe",
    b"kappa " * 3000 + b"lambda",
    b"9" * 3000 + b"Gy",
]


def _attack_entities(_rng: random.Random, _doc: bytes) -> bytes:
    defs = '<!ENTITY a0 "lol">' + "".join(
        f'<!ENTITY a{i} "{("&a" + str(i - 1) + ";") * 10}">' for i in range(1, 10)
    )
    return (
        f'<?xml version="1.0"?><!DOCTYPE ClinicalDocument [{defs}]>'
        '<ClinicalDocument xmlns="urn:hl7-org:v3"><title>&a9;</title></ClinicalDocument>'
    ).encode()


def _attack_quadratic(_rng: random.Random, _doc: bytes) -> bytes:
    big = "x" * 50_000
    return (
        f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY b "{big}">]>'
        '<ClinicalDocument xmlns="urn:hl7-org:v3"><title>'
        + "&b;" * 2000
        + "</title></ClinicalDocument>"
    ).encode()


def _attack_external(rng: random.Random, _doc: bytes) -> bytes:
    target = rng.choice(["file:///etc/passwd", "http://127.0.0.1:9/x.dtd", "/dev/zero"])
    if rng.random() < 0.5:
        return (
            f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "{target}">]>'
            '<ClinicalDocument xmlns="urn:hl7-org:v3"><title>&x;</title></ClinicalDocument>'
        ).encode()
    return (
        f'<?xml version="1.0"?><!DOCTYPE ClinicalDocument SYSTEM "{target}">'
        '<ClinicalDocument xmlns="urn:hl7-org:v3"/>'
    ).encode()


def _attack_deep(rng: random.Random, doc: bytes) -> bytes:
    depth = rng.choice([150, 250, 5_000, 100_000])
    inner = b"<component>" * depth + b"</component>" * depth
    return doc.replace(b"<structuredBody>", b"<structuredBody>" + inner, 1)


def _mutate_attribute(rng: random.Random, doc: bytes) -> bytes:
    matches = list(_ATTR.finditer(doc))
    if not matches:
        return doc
    m = rng.choice(matches)
    name = m.group(1)
    pool = {
        b"value": _NUMBERS + _DATES,
        b"unit": _UNITS,
        b"code": _CODES,
        b"codeSystem": _CODES,
        b"nullFlavor": [b"UNK", b"NI", b"OTH", b""],
        b"xsi:type": _TYPES,
    }.get(name, _CODES)
    return doc[: m.start(2)] + rng.choice(pool) + doc[m.end(2) :]


def _add_null_flavor(rng: random.Random, doc: bytes) -> bytes:
    matches = list(_ELEMENT.finditer(doc))
    if not matches:
        return doc
    m = rng.choice(matches)
    return (
        doc[: m.end()]
        + b' nullFlavor="'
        + rng.choice([b"UNK", b"NI", b"NA"])
        + b'"'
        + doc[m.end() :]
    )


def _duplicate_element(rng: random.Random, doc: bytes) -> bytes:
    name = rng.choice([b"entry", b"component", b"observation", b"value", b"effectiveTime"])
    start = doc.find(b"<" + name)
    if start < 0:
        return doc
    end = doc.find(b"</" + name + b">", start)
    if end < 0:
        return doc
    end += len(name) + 3
    chunk = doc[start:end]
    return doc[:end] + chunk * rng.randint(1, 50) + doc[end:]


def _drop_span(rng: random.Random, doc: bytes) -> bytes:
    if len(doc) < 10:
        return doc
    start = rng.randrange(len(doc))
    return doc[:start] + doc[start + rng.randint(1, 400) :]


def _truncate(rng: random.Random, doc: bytes) -> bytes:
    return doc[: rng.randrange(max(1, len(doc)))]


def _flip_bytes(rng: random.Random, doc: bytes) -> bytes:
    data = bytearray(doc)
    for _ in range(rng.randint(1, 8)):
        if data:
            data[rng.randrange(len(data))] = rng.randrange(256)
    return bytes(data)


def _insert_text(rng: random.Random, doc: bytes) -> bytes:
    spot = doc.find(b"<originalText>")
    if spot < 0:
        spot = doc.find(b"<title>")
    if spot < 0:
        return doc
    spot = doc.find(b">", spot) + 1
    return doc[:spot] + rng.choice(_TEXT) + doc[spot:]


def _huge_attribute(rng: random.Random, doc: bytes) -> bytes:
    return doc.replace(b'unit="', b'unit="' + b"m" * rng.choice([10_000, 1_000_000]), 1)


MUTATIONS: dict[str, Callable[[random.Random, bytes], bytes]] = {
    "entities": _attack_entities,
    "quadratic": _attack_quadratic,
    "external": _attack_external,
    "deep": _attack_deep,
    "attribute": _mutate_attribute,
    "null_flavor": _add_null_flavor,
    "duplicate": _duplicate_element,
    "drop": _drop_span,
    "truncate": _truncate,
    "flip": _flip_bytes,
    "text": _insert_text,
    "huge_attribute": _huge_attribute,
}
_ATTACKS = ("entities", "quadratic", "external", "deep")


def cases(seeds: list[bytes], count: int, seed: int = 17) -> Iterator[tuple[str, bytes]]:
    """``count`` (mutation names, document) pairs, the same for the same arguments."""
    rng = random.Random(seed)
    names = list(MUTATIONS)
    for index in range(count):
        doc = seeds[index % len(seeds)]
        if index % 25 == 0:  # every 25th case is a pure XML attack
            name = _ATTACKS[(index // 25) % len(_ATTACKS)]
            yield name, MUTATIONS[name](rng, doc)
            continue
        applied = []
        for _ in range(rng.randint(1, 3)):
            name = rng.choice(names[4:])
            applied.append(name)
            doc = MUTATIONS[name](rng, doc)
        yield "+".join(applied), doc


__all__ = ["MUTATIONS", "cases"]
