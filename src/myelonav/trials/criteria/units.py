"""Numbers, comparators and units in criteria text, converted to the matcher's canonical units.

Counts (ANC, platelets) → 10⁹/L; haemoglobin → g/dL; creatinine and bilirubin → mg/dL;
creatinine clearance and eGFR → mL/min. "× ULN" stays a multiple of the upper limit of normal.
Conversion factors: 1 /µL = 1 /mm³ = 10⁶/L = 0.001 × 10⁹/L; haemoglobin 1 mmol/L = 1.611 g/dL
(monomer, 16.11 g/mmol ÷ 10); creatinine 88.4 µmol/L = 1 mg/dL; bilirubin 17.1 µmol/L = 1 mg/dL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NORMALISE = (
    ("≥", ">="),
    ("≧", ">="),
    ("=>", ">="),
    ("≤", "<="),
    ("≦", "<="),
    ("=<", "<="),
    ("×", "x"),
    ("µ", "u"),
    ("μ", "u"),
    ("–", "-"),
    ("—", "-"),
    ("−", "-"),
    ("’", "'"),
    ("⁹", "^9"),
    ("³", "^3"),
    ("\u00a0", " "),
    ("ï", "i"),
)
_WORD_OPS = (
    (r"\b(?:greater|more|higher)\s+than\s+or\s+equal\s+to\b", ">="),
    (r"\b(?:less|lower|fewer)\s+than\s+or\s+equal\s+to\b", "<="),
    (r"\bequal\s+to\s+or\s+(?:greater|more|higher)\s+than\b", ">="),
    (r"\bequal\s+to\s+or\s+(?:less|lower)\s+than\b", "<="),
    (r"\b(?:no|not)\s+(?:less|lower|fewer)\s+than\b", ">="),
    (r"\b(?:no|not)\s+(?:greater|more|higher)\s+than\b", "<="),
    (r"\bof\s+at\s+least\b", ">="),
    (r"\bat\s+least\b", ">="),
    (r"\ba\s+minimum\s+of\b", ">="),
    (r"\bminimum\b", ">="),
    (r"\b(?:greater|more|higher)\s+than\b", ">"),
    (r"\b(?:less|lower|fewer)\s+than\b", "<"),
    (r"\bat\s+most\b", "<="),
    (r"\bup\s+to\b", "<="),
    (r"\bmaximum\s+of\b", "<="),
    (r"\bbelow\b", "<"),
    (r"\babove\b", ">"),
)
_WORD_OPS_RE = re.compile("|".join(f"({p})" for p, _ in _WORD_OPS), re.IGNORECASE)
_WORD_OPS_SYMBOL = [s for _, s in _WORD_OPS]


_OR_EQUAL = re.compile(r"([<>])\s*or\s*(?:=|equal(?:\s+to)?\b)", re.IGNORECASE)
_TILDE_RANGE = re.compile(r"(\d)\s*[~～〜]\s*(\d)")


def normalise(text: str) -> str:
    """Symbols and word comparators to ASCII (">=", "<="), whitespace collapsed."""
    for a, b in _NORMALISE:
        text = text.replace(a, b)
    text = _TILDE_RANGE.sub(r"\1-\2", text)
    text = _OR_EQUAL.sub(
        lambda m: m.group(1) + "=", text
    )  # "< or = 3.0", "> or equal 3 weeks"  # "ECOG 0~1": a range, as written in CJK registries
    return re.sub(r"\s+", " ", text).strip()


# Every word comparator contains one of these: ASCII text without any cannot match (the
# case-insensitive alternation is the slowest pattern per character the parser runs).
_WORD_OP_KEYS = ("than", "least", "minimum", "most", "up", "maximum", "below", "above")
_SPACES = re.compile(r"\s+")


def normalise_ops(text: str) -> str:
    def symbol(m: re.Match[str]) -> str:
        assert m.lastindex is not None
        return f" {_WORD_OPS_SYMBOL[m.lastindex - 1]} "

    if text.isascii():  # non-ASCII letters can fold onto ASCII ones: always scan those
        lower = text.lower()
        if not any(k in lower for k in _WORD_OP_KEYS):
            return _SPACES.sub(" ", text)
    return _SPACES.sub(" ", _WORD_OPS_RE.sub(symbol, text))


NUMBER = r"(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?|\.\d+)"
OP = r"(>=|<=|>|<|=)"
_UNIT = (
    r"(x\s*10\s*\^?\s*\(?\s*9\s*\)?\s*/\s*L|x\s*10\s*\^?\s*\(?\s*3\s*\)?\s*/\s*(?:uL|mm\^?3|mcL)"
    r"|x\s*10\s*e\s*9\s*/\s*L|x\s*109\s*/\s*L|x\s*103\s*/\s*(?:uL|mm3)|G/L|/\s*nL"
    r"|(?:cells\s*)?/\s*(?:uL|mm\^?3|mcL|cumm)|/\s*L"
    r"|g/dL|g/L|mg/dL|mg/L|mmol/L|umol/L|mL/min(?:\s*/\s*1\.73\s*m\^?2?)?|mL/minute"
    r"|x\s*(?:the\s+)?(?:institutional\s+)?(?:ULN|upper\s+limit\s+(?:of\s+)?(?:the\s+)?normal(?:\s+range)?)"
    r"|times\s+(?:the\s+)?(?:institutional\s+)?(?:ULN|upper\s+limit\s+(?:of\s+)?normal)"
    r"|%|U/L|IU/L)?"
)
COMPARISON = re.compile(OP + r"\s*" + NUMBER + r"\s*" + _UNIT, re.IGNORECASE)
ULN_ALONE = re.compile(
    r"(<=|<|within)\s*(?:the\s+)?(?:institutional\s+)?(?:ULN|upper\s+limit\s+of\s+normal)\b",
    re.IGNORECASE,
)


def to_float(number: str) -> float:
    return float(number.replace(",", ""))


@dataclass(frozen=True)
class Comparison:
    op: str  # ge gt le lt eq
    value: float
    unit: str  # folded unit, "" when none
    start: int
    end: int

    @property
    def is_uln(self) -> bool:
        return "uln" in self.unit or "upper" in self.unit or "times" in self.unit


_OPS = {">=": "ge", ">": "gt", "<=": "le", "<": "lt", "=": "eq"}


def comparisons(text: str) -> list[Comparison]:
    """Every "op number unit" in already-normalised text."""
    found: list[Comparison] = []
    for m in COMPARISON.finditer(text):
        unit = re.sub(r"\s+", "", (m.group(3) or "")).lower()
        found.append(Comparison(_OPS[m.group(1)], to_float(m.group(2)), unit, m.start(), m.end()))
    for m in ULN_ALONE.finditer(text):
        found.append(Comparison("le", 1.0, "xuln", m.start(), m.end()))
    return sorted(found, key=lambda c: c.start)


def count_to_1e9_per_l(value: float, unit: str, *, platelets: bool) -> float:
    """Cell count to 10⁹/L. Without a unit, a large number is read as per µL."""
    u = unit.replace("^", "").replace("(", "").replace(")", "")
    if u in {"x109/l", "x10e9/l", "g/l", "/nl", "x103/ul", "x103/mm3", "x103/mcl"}:
        return value
    if u in {"/ul", "/mm3", "/mcl", "/cumm", "cells/ul", "cells/mm3", "cells/mcl"}:
        return value / 1000.0
    if u == "/l":
        return value / 1e9
    threshold = 1000.0 if platelets else 100.0
    return value / 1000.0 if value >= threshold else value


def hemoglobin_g_dl(value: float, unit: str) -> float:
    if unit == "g/l":
        return value / 10.0
    if unit == "mmol/l":
        return value * 1.611
    if unit == "" and value > 30:
        return value / 10.0
    return value


def creatinine_mg_dl(value: float, unit: str) -> float:
    return value / 88.4 if unit == "umol/l" else value


def bilirubin_mg_dl(value: float, unit: str) -> float:
    return value / 17.1 if unit == "umol/l" else value


__all__ = [
    "COMPARISON",
    "NUMBER",
    "OP",
    "Comparison",
    "bilirubin_mg_dl",
    "comparisons",
    "count_to_1e9_per_l",
    "creatinine_mg_dl",
    "hemoglobin_g_dl",
    "normalise",
    "normalise_ops",
    "to_float",
]
