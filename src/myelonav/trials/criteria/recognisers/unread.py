"""Recogniser: inclusion text the parser could not structure that states a clinical requirement.

An inclusion item about the disease, prior therapy, response, labs, organ function,
cytogenetics or measurable disease that was not understood is a requirement we cannot say the
patient meets: it makes the trial "possibly eligible" (unknown), never "likely eligible". Routine
items (consent, willing or able to comply, contraception, life expectancy, able to swallow,
"as per investigator") stay questions for the study team and do not lower the verdict.

The cues are plain alternations of literal words (no nested quantifiers): linear in the text.
"""

from __future__ import annotations

import re

from myelonav.trials.criteria.models import Group, Node, OtherAtom
from myelonav.trials.criteria.recognisers.labs import SUPPORT_NOTES
from myelonav.trials.criteria.recognisers.response import RESPONSE_NOTE
from myelonav.trials.criteria.recognisers.windows import INELIGIBLE_NOTE

# Marks an ``OtherAtom`` whose text is an unread clinical requirement of an inclusion item;
# the evaluator judges it unknown (``eligibility/text.py``) and shows the text after the mark.
UNREAD_REQUIREMENT = "unread requirement: "

# The recognisers' own notes (already judged unknown, with their own explanation).
OWN_NOTES = frozenset({*SUPPORT_NOTES, RESPONSE_NOTE, INELIGIBLE_NOTE})

_CLINICAL = re.compile(
    r"\b(?:myeloma|MM|RRMM|disease|relaps\w*|refractor\w*|progress\w*|therap\w*|treat\w*|"
    r"regimens?|lines?|prior|previous\w*|respon\w*|remission|sCR|CR|VGPR|PR|MRD|measurable|"
    r"M[\s-]?(?:protein|spike|component)|paraprotein|light[\s-]chains?|FLC|immunofixation|"
    r"plasma[\s-]?cells?|marrow|biopsy|cytogenetic\w*|FISH|del|amplification|gain|BCMA|GPRC5D|"
    r"FcRH5|CD38|CAR|bispecific|antibod\w*|transplant\w*|SCT|HSCT|ASCT|ECOG|Karnofsky|"
    r"performance|creatinine|clearance|e?GFR|CrCl|renal|kidney|hepatic|liver|bilirubin|AST|ALT|"
    r"transaminases?|neutrophils?|ANC|platelets?|ha?emoglobin|lymphocytes?|leukocytes?|counts?|"
    r"cardiac|LVEF|ejection|echocardiogra\w*|oxygen|SpO2|saturation|pulmonary|FEV1?|DLCO|"
    r"organ|extramedullary|plasmacytomas?|lesions?|PET|MRI|expression|expressing|stage|ISS|"
    r"risk|diagnos\w*|histolog\w*|cytolog\w*|amyloid\w*|calcium|albumin|coagulation|INR|aPTT|"
    r"apheresis|leukapheresis|ULN|g/dL|mL/min|10\^9|x\s*10|microglobulin|urin\w*|proteinuria|"
    r"hyperviscosity|FVC|monoclonal|immunoglobulin|laboratory|fibrinogen|HLA|ha?ematolog\w*|"
    r"neuropathy|myelomatosis|SPEP|UPEP)\b",
    re.IGNORECASE,
)
_ROUTINE = re.compile(
    r"\b(?:consent\w*|comply|compliance|compliant|willing\w*|able\s+to\s+(?:understand|swallow|"
    r"comply|read|attend|give)|contracept\w*|pregnan\w*|childbearing|child[\s-]bearing|"
    r"breast[\s-]?feed\w*|lactat\w*|life\s+expectancy|agrees?|sign(?:s|ed|ing)?\b|signature|geographic\w*|"
    r"follow[\s-]up\s+visits?|study\s+(?:visits|procedures|schedule)|"
    r"(?:opinion|judge?ment|discretion)\s+of\s+(?:the\s+)?(?:treating\s+)?investigator|"
    r"investigator'?s?\s+(?:opinion|judge?ment|discretion)|(?:as\s+)?per\s+(?:the\s+)?"
    r"investigator|in\s+the\s+(?:opinion|judge?ment)\b|"
    r"(?:are|is)\s+(?:also\s+)?eligible|also\s+be\s+eligible|allowed|permitted|"
    r"may\s+(?:use|receive|have)|not\s+an\s+inclusion|registered|registration|"
    r"history\s+and\s+physical|"
    r"adverse\s+events?\b[^.;]{0,80}\bresolved|toxicit\w*\b[^.;]{0,80}\b(?:resolved|recovered))",
    re.IGNORECASE,
)
# What every patient this product serves already meets: a confirmed diagnosis of myeloma, the
# IMWG diagnostic criteria. Set aside before looking for a clinical requirement.
_GIVEN = re.compile(
    r"\b(?:(?:histologically|cytologically|pathologically|clinically)\s+(?:(?:or|and|and/or)\s+"
    r"\w+\s+)?)?(?:confirmed|documented|established|proven)\s+diagnosis\s+of\s+"
    r"(?:multiple\s+myeloma|MM)\b|\bmeets?\s+(?:all\s+)?(?:the\s+)?IMWG\b[^.;]{0,80}|"
    r"\baccording\s+to\s+the\s+(?:international|IMWG)\b[^.;]{0,80}",
    re.IGNORECASE,
)
# Not a requirement at all: "Not specified Renal:", "See Disease Characteristics", a heading
# ("DISEASE CHARACTERISTICS:", "Requirements:"), a definition ("… will be considered to have
# been discontinued when …", "Refractory was defined as: …").
_NO_REQUIREMENT = re.compile(
    r"^\W*(?:[Nn]ot\s+specified|[Ss]ee\s+[A-Z])|^[A-Z][A-Z\s/&-]{3,60}:?\s*$|^\W*(?:\w+\s+){0,3}\w+\s*:\s*$|"
    r"\b(?:will\s+be|is|are)\s+(?:not\s+)?considered\s+to\s+(?:have|be)\b|\b(?:was|were|is|are)\s+"
    r"defined\s+as\b",
)


# The next heading of an old NCI-style record glued to the end of an item ("Over 18
# Performance status:"): a label, not part of the requirement.
_TRAILING_HEADING = re.compile(
    r"\s+(?:PATIENT\s+CHARACTERISTICS|PRIOR\s+CONCURRENT\s+THERAPY|DISEASE\s+CHARACTERISTICS|"
    r"Performance\s+status|Life\s+expectancy|Hematopoietic|Hepatic|Renal|Cardiovascular|"
    r"Pulmonary|Other|Age|Biologic\s+therapy|Chemotherapy|Endocrine\s+therapy|Radiotherapy|"
    r"Surgery)\s*:?\s*$"
)


def clinical_requirement(text: str) -> bool:
    """Whether unread inclusion text states a clinical requirement (not a routine item)."""
    for _ in range(3):  # "… PATIENT CHARACTERISTICS: Age:" carries two
        text = _TRAILING_HEADING.sub("", text)
    if _NO_REQUIREMENT.search(text.strip()):
        return False
    text = _GIVEN.sub(" ", text)
    return _CLINICAL.search(text) is not None and _ROUTINE.search(text) is None


def mark_unread_requirements(tree: Node, skip: frozenset[str] = OWN_NOTES) -> Node:
    """``tree`` with each un-structured clinical text (not one of the recognisers' own notes in
    ``skip``) marked as an unread requirement. Only for an item that must hold (inclusion)."""
    if isinstance(tree, Group):
        items = tuple(mark_unread_requirements(i, skip) for i in tree.items)
        return tree if items == tree.items else tree.model_copy(update={"items": items})
    if (
        isinstance(tree, OtherAtom)
        and tree.text not in skip
        and not tree.text.startswith(UNREAD_REQUIREMENT)
        and clinical_requirement(tree.text)
    ):
        return tree.model_copy(update={"text": UNREAD_REQUIREMENT + tree.text})
    return tree


__all__ = ["OWN_NOTES", "UNREAD_REQUIREMENT", "clinical_requirement", "mark_unread_requirements"]
