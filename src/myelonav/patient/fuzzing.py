"""A mutation grammar for fuzzing the FHIR importer, and the check each case must pass.

Used by ``tests/patient/test_fhir_fuzz.py`` (a quick deterministic slice) and by
``benchmarks/fuzz_import.py`` (100,000 cases). A case is a seed bundle, a few grammar mutations
(types, numbers, dates, units, codes, references, text, nesting, duplicates) and sometimes a
byte-level attack on the JSON text. The contract under test: any input gives a record whose
saved profile every reader gets back unchanged, or a ``MyelonavError`` naming where — never
another exception, never the importer's last-resort "internal" error, never a hang.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import random
import time
from dataclasses import dataclass
from typing import Any

from myelonav.errors import MyelonavError
from myelonav.patient import terminology as term
from myelonav.patient.fhir_import import INTERNAL_ERROR, import_bundle, load_json
from myelonav.patient.profile_io import (
    dump_profile,
    load_yaml,
    parse_profile_text,
    record_from_data,
)

AS_OF = dt.date(2026, 11, 25)

# JSON number literals json.dumps cannot write (or writes differently); spliced in as text
_NUMBER_LITERALS = [
    "1" * 400,
    "9" * 5000,
    "-" + "7" * 4301,
    "1e400",
    "-1e400",
    "1e-400",
    "0." + "0" * 3000 + "1",
    "123456789012345678901234567890",
    "NaN",
    "Infinity",
    "-Infinity",
    "-0",
    "1E+308",
]
_NUMBERS: list[Any] = [0, -1, 1, 2**31, -(2**63), 10**15 + 1, 1e12, 1.5e308, 5e-324, 0.1, 6, 31]
_DATES = [
    "2020-02-30",
    "2020-13-01",
    "0000-01-01",
    "1899-12-31",
    "9999-12-31",
    "2099-01-01",
    "2020",
    "2020-06",
    "2020-01-01T25:61:00Z",
    "2020-01-01T" + "9" * 200,
    "２０２０-01-01",
    "2020-W01-1",
    "20200101",
    " 2020-01-01 ",
    "2020-01-01\n",
    "",
    "-2020-01-01",
]
_UNITS = [
    "",
    "mg/dL",
    "mg/L",
    "g/dL",
    "10^9/L",
    "10*9/L",
    "x10E9/L",
    "µmol/L",
    "μmol/L",
    "%",
    "{ratio}",
    "bananas",
    "mg" * 500,
    "10" + "*" * 300,
    "\x00",
]
_SYSTEMS = [
    term.LOINC,
    term.SNOMED,
    term.ICD10CM,
    term.ICD10,
    term.RXNORM,
    term.UCUM,
    "",
    "urn:oid:2.16.840.1.113883.6.1",
    "http://example.org/" + "x" * 300,
]
_CODES = [
    *term.LOINC_TO_ANALYTE,
    term.ECOG_LOINC,
    *term.MYELOMA_SNOMED,
    *term.PCL_SNOMED,
    *term.EMD_SNOMED,
    *term.CAR_T_SNOMED,
    *term.RADIATION_SNOMED,
    *term.ALLO_SCT_SNOMED,
    "C90.00",
    "C90.10",
    "C90.2",
    "C90.3",
    "LA9622-7",
    "1" * 40,
    "",
    " ",
]
# hostile text: characters YAML cannot hold, lone surrogates, and tokens that made regexes slow
_TEXT_ATOMS = [
    "\ud800",
    "\udfff",
    "\ud83d",
    "\uffff",
    "\ufffe",
    "\x00",
    "\x1b[31m",
    "\x85",
    "\u2028",
    "\u202e",
    "e\u0301",
    "😀",
    "κ",
    "λ",
    "ß",
    "kappa ",
    "lambda ",
    "free ",
    "ratio",
    "immunofixation ",
    "urine ",
    "plasma cells ",
    "marrow ",
    "m-protein ",
    "1",
    "1.",
    " ",
    "\t",
    "Gy",
    "cm",
    "fx",
    ";",
    "(",
    ")",
    "del ",
    "line ",
    "best response ",
    "IgG ",
    "bridging ",
    "progression: ",
    "t(4;14)",
    "multiple myeloma",
    "CAR T",
    "ide-cel",
    "teclistamab",
    "grade ",
    "ECOG",
    "FISH",
    "bcma ",
    "loss",
]


def hostile_text(rng: random.Random, max_len: int = 4000) -> str:
    """Text from hostile atoms: a short mix, or one atom repeated up to ``max_len`` characters."""
    if rng.random() < 0.5:
        return "".join(rng.choice(_TEXT_ATOMS) for _ in range(rng.randint(1, 12)))
    atom = rng.choice(_TEXT_ATOMS)
    return atom * max(1, rng.randint(1, max_len) // len(atom)) + rng.choice(["", "x", "Gy", ")"])


def _nodes(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _nodes(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _nodes(value, (*path, i))
    return found


def _get(root: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        root = root[key]
    return root


def _set(root: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    _get(root, path[:-1])[path[-1]] = value
    return root


class _Case:
    """One case under construction: the bundle and the number literals to splice in."""

    def __init__(self, bundle: Any) -> None:
        self.bundle = bundle
        self.literals: dict[str, str] = {}

    def literal(self, rng: random.Random) -> str:
        token = f"@@num{len(self.literals)}@@"
        self.literals[token] = rng.choice(_NUMBER_LITERALS)
        return token


def _value_of_kind(rng: random.Random, case: _Case) -> Any:
    kind = rng.randrange(9)
    if kind == 0:
        return None
    if kind == 1:
        return rng.random() < 0.5
    if kind == 2:
        return rng.choice(_NUMBERS)
    if kind == 3:
        return case.literal(rng)
    if kind == 4:
        return hostile_text(rng)
    if kind == 5:
        return []
    if kind == 6:
        return {}
    if kind == 7:
        return [hostile_text(rng, 40)]
    return {"coding": rng.random() < 0.5, "text": 1}


def _mutate(case: _Case, rng: random.Random) -> None:
    paths = _nodes(case.bundle)
    path = rng.choice(paths)
    key = path[-1] if path else None
    op = rng.randrange(12)
    if op == 0:  # types
        case.bundle = _set(case.bundle, path, _value_of_kind(rng, case))
    elif op == 1:  # numbers, where numbers live
        numeric = [p for p in paths if p and p[-1] in ("value", "valueInteger")] or paths
        choice = rng.choice([rng.choice(_NUMBERS), case.literal(rng), str(rng.random())])
        case.bundle = _set(case.bundle, rng.choice(numeric), choice)
    elif op == 2:  # dates
        dated = [p for p in paths if p and isinstance(p[-1], str) and "ate" in p[-1]] or paths
        case.bundle = _set(case.bundle, rng.choice(dated), rng.choice(_DATES))
    elif op == 3:  # units
        units = [p for p in paths if p and p[-1] in ("unit", "code")] or paths
        case.bundle = _set(case.bundle, rng.choice(units), rng.choice(_UNITS))
    elif op == 4:  # codes and systems
        codes = [p for p in paths if p and p[-1] in ("code", "system")] or paths
        target = rng.choice(codes)
        pool = _SYSTEMS if target and target[-1] == "system" else _CODES
        case.bundle = _set(case.bundle, target, rng.choice(pool))
    elif op == 5:  # references
        refs = [p for p in paths if p and p[-1] in ("reference", "fullUrl", "id")] or paths
        ref = rng.choice(
            ["Patient/none", "urn:uuid:", "Procedure/" + "x" * 500, 7, None, "#", "Medication/"]
        )
        case.bundle = _set(case.bundle, rng.choice(refs), ref)
    elif op == 6:  # text
        texts = [p for p in paths if isinstance(_get(case.bundle, p), str)] or paths
        case.bundle = _set(case.bundle, rng.choice(texts), hostile_text(rng))
    elif op == 7:  # nesting
        value: Any = _get(case.bundle, path)
        for _ in range(rng.choice([2, 30, 63, 64, 200])):
            value = [value] if rng.random() < 0.5 else {"x": value}
        case.bundle = _set(case.bundle, path, value)
    elif op == 8:  # duplicates
        entries = case.bundle.get("entry") if isinstance(case.bundle, dict) else None
        if isinstance(entries, list) and entries:
            dup = copy.deepcopy(rng.choice(entries))
            if (
                rng.random() < 0.5
                and isinstance(dup, dict)
                and isinstance(dup.get("resource"), dict)
            ):
                dup["resource"]["id"] = "dup"
            entries.insert(rng.randrange(len(entries) + 1), dup)
    elif op == 9 and path:  # deletion
        parent = _get(case.bundle, path[:-1])
        del parent[key]
    elif op == 10:  # change a resource's type
        kinds = [p for p in paths if p and p[-1] == "resourceType"] or paths
        kind = rng.choice(["Patient", "Condition", "Observation", "Procedure", "Bundle", "", 1])
        case.bundle = _set(case.bundle, rng.choice(kinds), kind)
    else:  # shuffle entries
        entries = case.bundle.get("entry") if isinstance(case.bundle, dict) else None
        if isinstance(entries, list):
            rng.shuffle(entries)


def _byte_attack(raw: bytes, rng: random.Random) -> bytes:
    op = rng.randrange(10)
    if op == 0:
        return raw[: rng.randrange(len(raw) + 1)]
    if op == 1:
        at = rng.randrange(len(raw) + 1)
        return raw[:at] + bytes(rng.randrange(256) for _ in range(rng.randint(1, 8))) + raw[at:]
    if op == 2:
        return b"\xef\xbb\xbf" + raw
    if op == 3:
        return raw.decode("utf-8", "surrogatepass").encode("utf-16", "surrogatepass")
    if op == 4:  # a lone-surrogate or U+FFFF escape inside some string
        at = raw.find(b'"', rng.randrange(len(raw)))
        escape = rng.choice([b"\\ud800", b"\\udfff", b"\\uffff", b"\\u0000", b"\\ud83d\\u0041"])
        return raw if at < 0 else raw[: at + 1] + escape + raw[at + 1 :]
    if op == 5:
        depth = rng.choice([65, 1000, 100_000])
        return b"[" * depth + raw + b"]" * depth
    if op == 6:  # a duplicate key
        return raw.replace(b'"resourceType": "Bundle"', b'"resourceType": "Bundle", "entry": 1', 1)
    if op == 7:
        return raw.replace(b" ", b" " * rng.randint(2, 50))
    if op == 8:
        return b"\xff\xfe" + raw[1:]
    return raw.replace(b": ", b": " + rng.choice([b"NaN", b"-Infinity", b"1e999"]) + b', "_": ', 1)


def make_case(seeds: list[str], index: int, seed: int = 0) -> bytes:
    """Case ``index`` of the run ``seed`` from seed bundles (JSON text): deterministic, so a
    failure can be replayed."""
    rng = random.Random(seed * 1_000_003 + index)
    case = _Case(json.loads(rng.choice(seeds)))
    for _ in range(rng.choice([1, 1, 2, 3, 5])):
        _mutate(case, rng)
    text = json.dumps(case.bundle, ensure_ascii=rng.random() < 0.5)
    for token, literal in case.literals.items():
        text = text.replace(f'"{token}"', literal)
    raw = text.encode("utf-8", "surrogatepass")
    if rng.random() < 0.2:
        raw = _byte_attack(raw, rng)
    return raw


@dataclass
class Outcome:
    """What one case did: ``kind`` is imported, refused, uncaught, internal or unreadable."""

    kind: str
    seconds: float
    detail: str = ""


def run_case(raw: bytes) -> Outcome:
    """Import one case and, when it imports, save its profile and read it back every way."""
    start = time.perf_counter()
    try:
        report = import_bundle(load_json(raw, "case.json"), source="case.json", as_of=AS_OF)
    except MyelonavError as exc:
        kind = "internal" if INTERNAL_ERROR in exc.message else "refused"
        if not exc.location:
            kind, exc_text = "uncaught", f"error without a location: {exc}"
        else:
            exc_text = str(exc)[:300]
        return Outcome(kind, time.perf_counter() - start, exc_text)
    except Exception as exc:  # the contract under test: nothing else escapes
        return Outcome(
            "uncaught", time.perf_counter() - start, f"{type(exc).__name__}: {exc}"[:300]
        )
    record = report.record
    try:
        text = dump_profile(record)
        text.encode("utf-8")
        again = parse_profile_text(text, "saved.json")
        # JSON that is all ASCII is YAML that reads the same (json.dumps escapes control
        # characters); only other text needs the (slow, pure-Python) YAML reader's verdict
        via_yaml = record if text.isascii() else record_from_data(load_yaml(text), "saved.yaml")
        if again != record or via_yaml != record:
            detail = "profile read back differs from the record"
            return Outcome("unreadable", time.perf_counter() - start, detail)
    except Exception as exc:  # any failure to save or read back is the bug being counted
        detail = f"{type(exc).__name__}: {exc}"[:300]
        return Outcome("unreadable", time.perf_counter() - start, detail)
    return Outcome("imported", time.perf_counter() - start)


__all__ = ["AS_OF", "Outcome", "hostile_text", "make_case", "run_case"]
