"""Terminology maps: LOINC → analyte, SNOMED / ICD-10 → diagnoses and procedures.

Codes come from ``shared/reference/terminology.md`` (grades V/S) and the LOINC entries used
by mCODE 4.0.0. Records from the wild often carry only text, so each concept also has text
patterns; a code always wins over text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

from myelonav.patient.models import Analyte, CytogeneticAbnormality

LOINC: Final = "http://loinc.org"
SNOMED: Final = "http://snomed.info/sct"
ICD10CM: Final = "http://hl7.org/fhir/sid/icd-10-cm"
ICD10: Final = "http://hl7.org/fhir/sid/icd-10"
RXNORM: Final = "http://www.nlm.nih.gov/research/umls/rxnorm"
UCUM: Final = "http://unitsofmeasure.org"
MCODE: Final = "http://hl7.org/fhir/us/mcode/StructureDefinition/"

LOINC_TO_ANALYTE: Final[dict[str, Analyte]] = {
    "718-7": Analyte.hemoglobin,
    "751-8": Analyte.anc,
    "26499-4": Analyte.anc,
    "753-4": Analyte.anc,
    "777-3": Analyte.platelets,
    "26515-7": Analyte.platelets,
    "6690-2": Analyte.wbc,
    "26464-8": Analyte.wbc,
    "731-0": Analyte.lymphocytes,
    "26474-7": Analyte.lymphocytes,
    "2160-0": Analyte.creatinine,
    "38483-4": Analyte.creatinine,
    "14682-9": Analyte.creatinine,
    "1975-2": Analyte.bilirubin,
    "14631-6": Analyte.bilirubin,
    "1920-8": Analyte.ast,
    "30239-8": Analyte.ast,
    "1742-6": Analyte.alt,
    "1743-4": Analyte.alt,
    "17861-6": Analyte.calcium,
    "49765-1": Analyte.calcium,
    "1751-7": Analyte.albumin,
    "61151-7": Analyte.albumin,
    "1952-1": Analyte.beta2_microglobulin,
    "2532-0": Analyte.ldh,
    "14804-9": Analyte.ldh,
    "2465-3": Analyte.igg,
    "29463-7": Analyte.body_weight,
    "3141-9": Analyte.body_weight,
    "8302-2": Analyte.body_height,
    "33358-3": Analyte.serum_m_protein,
    "42482-0": Analyte.urine_m_protein,
    "32730-5": Analyte.urine_m_protein,
    "36916-5": Analyte.kappa_flc,
    "104544-2": Analyte.kappa_flc,
    "33944-0": Analyte.lambda_flc,
    "48378-4": Analyte.flc_ratio,
    "104546-7": Analyte.flc_ratio,
    "25700-6": Analyte.serum_immunofixation,
    "11118-7": Analyte.marrow_plasma_cells,
}

ECOG_LOINC: Final = "89247-1"

# Text patterns, tried in order; the first match names the analyte. "a, then later b" is checked
# by searching b from where a ended (``_seq``), never with ``a.*b``: that form backtracks over
# the whole text for every a, which is quadratic (cubic for a.*b.*c) on long hostile text.
_Matcher = Callable[[str], bool]


def _re(pattern: str) -> _Matcher:
    compiled = re.compile(pattern, re.I)
    return lambda text: compiled.search(text) is not None


def _seq(*parts: str) -> _Matcher:
    """True when each part occurs after the end of the previous one (the linear ``a.*b``)."""
    compiled = [re.compile(p, re.I) for p in parts]

    def match(text: str) -> bool:
        pos = 0
        for part in compiled:
            found = part.search(text, pos)
            if found is None:
                return False
            pos = found.end()
        return True

    return match


def _any(*matchers: _Matcher) -> _Matcher:
    return lambda text: any(m(text) for m in matchers)


_M_PROTEIN = r"m[- ]?protein|monoclonal protein|m[- ]?spike|upep"
_URINE = r"urine|24 ?h"

_TEXT_PATTERNS: Final[list[tuple[_Matcher, Analyte]]] = [
    (
        _any(_seq("immunofixation", "urine"), _seq("urine", "immunofixation"), _re(r"\buife\b")),
        Analyte.urine_immunofixation,
    ),
    (_re(r"immunofixation|\bife\b"), Analyte.serum_immunofixation),
    (
        _any(
            _seq(_M_PROTEIN, _URINE),
            _seq(_URINE, r"m[- ]?protein|monoclonal"),
            _re(r"\bupep\b"),
        ),
        Analyte.urine_m_protein,
    ),
    (_re(r"m[- ]?protein|monoclonal protein|m[- ]?spike|\bspep\b"), Analyte.serum_m_protein),
    (
        _any(
            _seq("kappa", "lambda", "ratio"),
            _re(r"k/l ratio|flc ratio|free light chain ratio"),
        ),
        Analyte.flc_ratio,
    ),
    (
        _any(_seq("kappa", "free"), _seq("free", "kappa"), _re(r"kappa flc|kappa light chain")),
        Analyte.kappa_flc,
    ),
    (
        _any(_seq("lambda", "free"), _seq("free", "lambda"), _re(r"lambda flc|lambda light chain")),
        Analyte.lambda_flc,
    ),
    (
        _any(_re(r"circulating plasma cells"), _seq("plasma cells", "blood")),
        Analyte.circulating_plasma_cells,
    ),
    (
        _any(_seq("plasma cells", "marrow"), _seq("marrow", "plasma cells")),
        Analyte.marrow_plasma_cells,
    ),
    (
        _re(r"beta[- ]?2[- ]?microglobulin|β2[- ]?microglobulin|\bb2m\b"),
        Analyte.beta2_microglobulin,
    ),
    (_re(r"lactate dehydrogenase|\bldh\b"), Analyte.ldh),
    (_re(r"^h(a)?emoglobin|\bhgb\b"), Analyte.hemoglobin),
    (_re(r"neutrophils?\b|\banc\b"), Analyte.anc),
    (_re(r"platelets?|\bplt\b"), Analyte.platelets),
    (_re(r"^creatinine\b"), Analyte.creatinine),
    (_re(r"bilirubin"), Analyte.bilirubin),
    (_re(r"aspartate aminotransferase|\bast\b"), Analyte.ast),
    (_re(r"alanine aminotransferase|\balt\b"), Analyte.alt),
    (_re(r"^calcium\b"), Analyte.calcium),
    (_re(r"^albumin\b"), Analyte.albumin),
    (_re(r"\bigg\b|immunoglobulin g\b"), Analyte.igg),
    (_re(r"body weight|^weight$"), Analyte.body_weight),
    (_re(r"body height|^height$"), Analyte.body_height),
]


def analyte_from_text(text: str) -> Analyte | None:
    for matches, analyte in _TEXT_PATTERNS:
        if matches(text):
            return analyte
    return None


# ------------------------------------------------------------------ diagnoses

MYELOMA_SNOMED: Final = frozenset({"109989006", "94703004", "413389003"})
PCL_SNOMED: Final = frozenset({"188768003", "91860006"})
EMD_SNOMED: Final = frozenset({"254829002"})
SMOLDERING_SNOMED: Final = frozenset({"447656001"})

_MYELOMA_TEXT = re.compile(r"multiple myeloma|plasma cell myeloma|\bmyelomatosis\b", re.I)
_PCL_TEXT = re.compile(r"plasma[- ]cell leuk(a)?emia", re.I)
_EMD_TEXT = re.compile(r"extramedullary|plasmacytoma", re.I)
_PARASKELETAL_TEXT = re.compile(r"paraskeletal|paraosseous|para-osseous", re.I)
_CNS_TEXT = re.compile(r"\bcns\b|central nervous system|leptomeningeal|intracranial", re.I)
_BONE_TEXT = re.compile(r"lytic|bone lesion|osteolytic|skeletal lesion", re.I)


def icd10_kind(code: str) -> str | None:
    """'myeloma', 'pcl', 'emd' or 'solitary' for an ICD-10(-CM) code of C90.x, else None."""
    c = code.upper().replace(".", "")
    if c.startswith("C900"):
        return "myeloma"
    if c.startswith("C901"):
        return "pcl"
    if c.startswith("C902"):
        return "emd"
    if c.startswith("C903"):
        return "solitary"
    return None


def condition_kind(codes: list[tuple[str, str]], text: str) -> str | None:
    """Classify a Condition by its (system, code) pairs and text.

    Returns 'myeloma', 'pcl', 'emd', 'paraskeletal', 'cns', 'bone_lesion', 'solitary' or None.
    """
    for system, code in codes:
        if system in (ICD10CM, ICD10) or "icd" in system.lower():
            kind = icd10_kind(code)
            if kind:
                return kind
        if system == SNOMED:
            if code in MYELOMA_SNOMED:
                return "myeloma"
            if code in PCL_SNOMED:
                return "pcl"
            if code in EMD_SNOMED:
                return "emd"
    if _PCL_TEXT.search(text):
        return "pcl"
    if _PARASKELETAL_TEXT.search(text):
        return "paraskeletal"
    if _EMD_TEXT.search(text):
        return "emd"
    if _CNS_TEXT.search(text) and "myeloma" in text.lower():
        return "cns"
    if _BONE_TEXT.search(text):
        return "bone_lesion"
    if _MYELOMA_TEXT.search(text) and not re.search(r"smoldering|smouldering", text, re.I):
        return "myeloma"
    return None


# ------------------------------------------------------------------ procedures

CAR_T_SNOMED: Final = frozenset({"1156961008"})
AUTO_SCT_SNOMED: Final = frozenset({"709115004"})
ALLO_SCT_SNOMED: Final = frozenset({"709116003", "58776007"})
SCT_SNOMED: Final = frozenset({"234336002"})
RADIATION_SNOMED: Final = frozenset({"108290001", "1217123003", "33195004"})

_CAR_T_TEXT = re.compile(r"\bcar[- ]?t\b|chimeric antigen receptor", re.I)
_AUTO_TEXT = re.compile(r"autologous|\basct\b|auto[- ]?sct|auto[- ]?hct", re.I)
_ALLO_TEXT = re.compile(r"allogeneic|\ballo[- ]?(sct|hct|transplant)", re.I)
_SCT_TEXT = re.compile(r"stem cell transplant|\bhsct\b|\bhct\b|bone marrow transplant", re.I)
_RADIATION_TEXT = re.compile(r"radiation|radiotherapy|\bxrt\b|\bsbrt\b", re.I)


def procedure_kind(codes: list[tuple[str, str]], text: str) -> str | None:
    """'car_t', 'auto_sct', 'allo_sct', 'sct' (type unknown), 'radiation' or None."""
    for system, code in codes:
        if system != SNOMED:
            continue
        if code in CAR_T_SNOMED:
            return "car_t"
        if code in AUTO_SCT_SNOMED:
            return "auto_sct"
        if code in ALLO_SCT_SNOMED:
            return "allo_sct"
        if code in RADIATION_SNOMED:
            return "radiation"
        if code in SCT_SNOMED:
            return (
                "auto_sct"
                if _AUTO_TEXT.search(text)
                else ("allo_sct" if _ALLO_TEXT.search(text) else "sct")
            )
    if _CAR_T_TEXT.search(text):
        return "car_t"
    if _ALLO_TEXT.search(text):
        return "allo_sct"
    if _AUTO_TEXT.search(text):
        return "auto_sct"
    if _SCT_TEXT.search(text):
        return "sct"
    if _RADIATION_TEXT.search(text):
        return "radiation"
    return None


# ------------------------------------------------------------------ cytogenetics

_CYTO_PATTERNS: Final[list[tuple[re.Pattern[str], CytogeneticAbnormality]]] = [
    (re.compile(r"t\(\s*4\s*;\s*14\s*\)", re.I), CytogeneticAbnormality.t_4_14),
    (re.compile(r"t\(\s*14\s*;\s*16\s*\)", re.I), CytogeneticAbnormality.t_14_16),
    (re.compile(r"t\(\s*14\s*;\s*20\s*\)", re.I), CytogeneticAbnormality.t_14_20),
    (re.compile(r"t\(\s*11\s*;\s*14\s*\)", re.I), CytogeneticAbnormality.t_11_14),
    (re.compile(r"t\(\s*6\s*;\s*14\s*\)", re.I), CytogeneticAbnormality.t_6_14),
    (
        re.compile(
            r"del\s*(?:\(\s*)?17\s*p|17p\s*(deletion|del)|monosomy 17|"
            r"tp53 deletion",
            re.I,
        ),
        CytogeneticAbnormality.del_17p,
    ),
    (
        re.compile(r"tp53 (mutation|mutated)|mutated tp53", re.I),
        CytogeneticAbnormality.tp53_mutation,
    ),
    (
        re.compile(r"amp\s*(?:\(\s*)?1\s*q|1q\s*amplification|≥\s*4 copies of 1q", re.I),
        CytogeneticAbnormality.amp_1q,
    ),
    (
        re.compile(r"gain\s*(?:\(\s*)?1\s*q|\+1q\b|1q\s*gain|1q21\s*(gain|\+)", re.I),
        CytogeneticAbnormality.gain_1q,
    ),
    (
        re.compile(r"del\s*(?:\(\s*)?1\s*p|1p\s*(deletion|del)", re.I),
        CytogeneticAbnormality.del_1p,
    ),
    (
        re.compile(r"del\s*(?:\(\s*)?13|monosomy 13|13q\s*deletion", re.I),
        CytogeneticAbnormality.del_13q,
    ),
    (re.compile(r"hyperdiploid", re.I), CytogeneticAbnormality.hyperdiploidy),
]
_NEGATED = re.compile(r"not detected|negative|absent|\bno\b|\bnormal\b|without", re.I)


_PARENTHESISED = re.compile(r"\([^()]*\)")
_CLAUSE_BREAK = re.compile(r"[,;\n]|\band\b")


def _clauses(text: str) -> list[str]:
    """Split at commas, newlines, "and" and semicolons outside parentheses ("t(4;14)" stays)."""
    shielded = _PARENTHESISED.sub(lambda m: m.group(0).replace(";", "\x00"), text)
    return [c.replace("\x00", ";") for c in _CLAUSE_BREAK.split(shielded)]


def cytogenetics_from_text(text: str) -> list[tuple[CytogeneticAbnormality, bool]]:
    """Abnormalities named in a result text, each with detected (True) or tested-absent."""
    found: list[tuple[CytogeneticAbnormality, bool]] = []
    for clause in _clauses(text):
        negated = bool(_NEGATED.search(clause))
        for pattern, abnormality in _CYTO_PATTERNS:
            if pattern.search(clause) and all(a != abnormality for a, _ in found):
                found.append((abnormality, not negated))
    return found


__all__ = [
    "ECOG_LOINC",
    "LOINC",
    "LOINC_TO_ANALYTE",
    "MCODE",
    "RXNORM",
    "SNOMED",
    "UCUM",
    "analyte_from_text",
    "condition_kind",
    "cytogenetics_from_text",
    "icd10_kind",
    "procedure_kind",
]
