"""An M-protein reported as absent is a measurement of 0, not a missing result.

Laboratories report a serum or urine M-protein (SPEP/UPEP M-spike) that is not there as text
("not detected", "none seen", "no M-spike", "below detection"), as a coded value, as an
interpretation code (ND/NEG) or with a ``dataAbsentReason`` whose text says so. IMWG 2016
(Kumar et al., Lancet Oncol 2016;17:e328-46) grades that as an M-protein not detectable on
electrophoresis, so for response it is 0. A result that says the protein is present but too
small to quantify is not 0 and is not matched here.
"""

from __future__ import annotations

import re
from typing import Any

from myelonav.patient.models import Analyte

M_PROTEIN_ANALYTES = frozenset({Analyte.serum_m_protein, Analyte.urine_m_protein})

# Alternatives of plain words only (linear matching, no nested quantifiers).
_ABSENT = re.compile(
    r"\b(?:not detected|not seen|none seen|none detected|no m[- ]?spike|no m[- ]?protein"
    r"|no monoclonal|no paraprotein|no abnormal band|below detection|below the detection"
    r"|below limit of detection|undetectable|absent|negative(?!-))\b",
    re.IGNORECASE,
)
_PRESENT = re.compile(r"\b(?:too small|trace|faint|quantify|quantitate)\b", re.IGNORECASE)
_ABSENT_CODES = frozenset({"ND", "NEG", "260415000", "260385009"})  # HL7 ND/NEG; SNOMED


def _texts(value: Any) -> list[str]:
    """Text and coding display/code strings of a CodeableConcept-like dict (defensive)."""
    if not isinstance(value, dict):
        return [value] if isinstance(value, str) else []
    out: list[str] = []
    if isinstance(value.get("text"), str):
        out.append(value["text"])
    codings = value.get("coding")
    for coding in codings if isinstance(codings, list) else []:
        if isinstance(coding, dict):
            out += [coding[k] for k in ("display", "code") if isinstance(coding.get(k), str)]
    return out


def _says_absent(texts: list[str]) -> bool:
    return any(
        t.strip().upper() in _ABSENT_CODES or (_ABSENT.search(t) and not _PRESENT.search(t))
        for t in texts
    )


def absent_m_protein(analyte: Analyte, obs: dict[str, Any]) -> bool:
    """True when ``obs`` (a FHIR Observation without a number) reports ``analyte``, a serum or
    urine M-protein, as not detected."""
    if analyte not in M_PROTEIN_ANALYTES:
        return False
    texts = _texts(obs.get("valueString")) + _texts(obs.get("valueCodeableConcept"))
    texts += _texts(obs.get("dataAbsentReason"))
    interpretations = obs.get("interpretation")
    if isinstance(interpretations, list):
        for interp in interpretations:
            texts += _texts(interp)
    return _says_absent(texts)


__all__ = ["M_PROTEIN_ANALYTES", "absent_m_protein"]
