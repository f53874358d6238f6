"""What a parsed criterion did not account for: the clinically meaningful words that no
recogniser consumed (exceptions, permissions, conditional limits, region notes, qualifiers on a
target or a time anchor).

Safety by construction: the matcher may call a criterion *not met* only when this list is
empty. Anything listed turns a would-be "not met" into "unknown: ask the study team", and the
words are shown. The cues are plain alternations of literal words (no nested quantifiers), so
matching is linear in the text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from myelonav.trials.criteria.models import (
    ExposureAtom,
    FeatureAtom,
    Group,
    MeasurableAtom,
    Node,
    OtherAtom,
    PriorLinesAtom,
    Section,
    TimeSinceAtom,
    TransplantAtom,
)
from myelonav.trials.criteria.recognisers.labs import (
    GILBERT_NOTE,
    SUPPORT_NOTES,
    SUPPORT_PATTERNS,
    gilbert_spans,
    support_spans,
)
from myelonav.trials.criteria.recognisers.response import RESPONSE as RESPONSE_PATTERN
from myelonav.trials.criteria.recognisers.response import RESPONSE_NOTE

_I = re.IGNORECASE

# A carve-out the parser could not turn into an exception group, or a permission inside an
# exclusion ("… is not excluded in cohort B", "… are allowed", "may be enrolled if …").
_PERMISSION = re.compile(
    r"\bnot\s+(?:be\s+)?excluded\b|\b(?:is|are|will\s+be|may\s+be|can\s+be)\s+"
    r"(?:allowed|permitted|acceptable|eligible|included|enrolled)\b|\ballowed\b|\bpermitted\b|"
    r"\bmay\s+(?:participate|enrol|enroll|be\s+considered)\b|\bwith\s+the\s+exception\b|"
    r"\bexcept\b|\bunless\b|\bother\s+than\b|\bprovided\s+(?:that\b)?|\bexempt\w*\b|"
    r"\bwith\s+the\s+exclusion\s+of\b",
    _I,
)
# A limit that depends on a condition ("<= 2, or <= 3 if due to myeloma bone disease").
_CONDITIONAL = re.compile(
    r"\bif\s+(?:due|related|attributable|secondary|caused|considered|clinically|deemed|"
    r"approved|agreed|the\s+investigator|documented|confirmed|resolved|stable)\b|"
    r"\bunless\b|\bat\s+the\s+(?:discretion|investigator)\b|\bper\s+investigator\b|"
    r"\bbecause\s+of\b(?!\s+(?:the\s+)?(?:disease\s+)?progress)|\bafter\s+discussion\s+with\b|\bin\s+consultation\s+with\b|\bcase[\s-]by[\s-]case\b|"
    r"\bwhichever\s+is\s+(?:shorter|less|earlier)\b|\b(?:subjects|patients|participants)\s+in\s+whom\b|"
    r"\bfor\s+(?:subjects|patients|participants)\s+(?:who\s+(?:have|has|are)|whose)\b|"
    r"\bif\b(?!\s+(?:any|applicable|available|known|needed|necessary|required|present)\b)|\b(?:responsive|response|responded|responding)\s+"
    r"(?:\(\w+\s+or\s+better\)\s+)?to\b|\bother\s+circumstances\b|"
    r"\bfor\s+(?:patients|participants|subjects|those)\s+(?:with|who)\b|"
    r"\bidentified\s+by\s+(?:the\s+)?(?:treating\s+|clinical\s+)?(?:doctors?|physicians?|clinicians?)\b|"
    r"\b(?:can|could|may)\s+be\s+attributed\s+to\b|\battributable\s+to\b",
    _I,
)
# A requirement for some patients only ("participants who have received only 1 line of prior
# therapy must be lenalidomide refractory"): read as applying to all, it fails the others.
_ONLY_IF_LINES = re.compile(
    r"\b(?:participants|patients|subjects)\s+(?:who\s+)?(?:have\s+)?(?:received|had)\s+only\s+"
    r"(?:\d|one|two|a\s+single)\b[^.;]{0,80}?\bmust\b",
    _I,
)
# A note for one country or region ("France specific:", "For patients in Japan only").
_REGION = re.compile(
    r"\b(?:country|region|site)[\s-]specific\b|\b[A-Z][a-z]+[\s-]+specific\s*:|"
    r"\b(?:in|for)\s+(?:the\s+)?(?:US|USA|UK|EU|EEA|France|Germany|Japan|China|Spain|Italy|"
    r"Canada|Korea|Taiwan|Australia|Netherlands|Belgium|Sweden|Denmark|Norway|Poland|Israel|"
    r"United\s+States|United\s+Kingdom)\s+only\b|\bonly\s+(?:in|for)\s+(?:the\s+)?"
    r"(?:US|USA|UK|EU|France|Germany|Japan|China|Spain|Italy|Canada|Korea|Taiwan|"
    r"United\s+States|United\s+Kingdom)\b|"
    r"\(\s*(?:in\s+|for\s+)?(?:US|USA|UK|EU|France|Germany|Japan|China|Spain|Italy|Canada|Korea|"
    r"Taiwan|Australia|United\s+States|United\s+Kingdom)\s+only\s*\)",
)
# A time window measured from an event other than today ("progression within 12 months after
# CAR T infusion", "relapse within 60 days of the last dose"): an interval between two events.
_EVENT_INTERVAL = re.compile(
    r"\b(?:progress\w*|relaps\w*|refractor\w*|respon\w*|PD)\b[^.;]{0,60}?"
    r"\b(?:within|after|before|<=?|>=?)\s*\d+\s*(?:days?|weeks?|months?|years?)\s+"
    r"(?:of|after|from|following|since|post)\b",
    _I,
)
# An exposure counted from another event or qualified by dose ("after discontinuing from
# study X", "> 10 mg/day prednisone"): the exposure recogniser reads neither.
_EXPOSURE_QUALIFIER = re.compile(
    r"\bafter\s+(?:discontinu\w+|completing|completion|stopping|leaving|enrol\w*|"
    r"registration|randomi[sz]ation)\b|\b\d+(?:\.\d+)?\s*(?:mg|mcg|ug|g)\s*(?:/\s*(?:day|d|m\^?2|kg|"
    r"week|wk)|per\s+(?:day|week))|\b(?:cumulative|total)\s+dose\b|"
    r"\b(?:months?|weeks?|years?|cycles?)\s+of\s+(?:prior\s+)?[\w-]+\s+(?:exposure|therapy|treatment)\b",
    _I,
)
# Two alternatives read as one requirement ("≥ 70 years of age, OR age 18 to 69 years with
# comorbid conditions", "≥ 65 years or younger but non-transplant eligible", "previously
# untreated … or have received no more than one cycle"): either reading can be wrong.
_ALTERNATIVE = re.compile(
    r"\b(?:years?|yrs?)(?:\s+of\s+age|\s+old)?\s*,?\s*or\s+(?:aged?\s+)?\d{1,3}\s*(?:-|to)\s*"
    r"\d{1,3}\b|\bor\s+younger\s+(?:but|if|with|who)\b|\bor\s+older\s+(?:but|if)\b|"
    r"\bor\s+(?:have\s+|has\s+)?(?:received|had)\s+(?:no\s+more\s+than|not\s+more\s+than|"
    r"at\s+most|up\s+to|<=?|fewer\s+than|less\s+than)\s*(?:one|two|three|a\s+single|\d)\s+cycles?\b|"
    r"(?-i:\bOR)\s*;",  # sub-items joined by "OR" ("due to any of the following: …, OR; …")
    _I,
)
# A change from an earlier value ("definitive increase in the size of existing plasmacytomas",
# "decrease in hemoglobin of > 2 g/dL"), not a current level or feature.
_CHANGE = re.compile(
    r"\b(?:increase|decrease|rise|drop|fall|reduction)\s+in\s+(?:the\s+)?(?:size|h(?:a)?emoglobin|"
    r"(?:serum\s+)?creatinine)\b",
    _I,
)
# A treatment plan or decision the record does not hold ("the treating physician has made the
# decision to initiate isatuximab", "due to start any anti-myeloma treatment").
_PLAN = re.compile(
    r"\b(?:decision|decided)\s+to\s+(?:initiate|start|begin|treat|use)\b|"
    r"\bdue\s+to\s+(?:start|begin|initiate|receive)\b",
    _I,
)
# A fact the record does not hold that decides the population ("newly diagnosed myeloma who
# have frailty score of 1 or higher").
_MISSING_FACT = re.compile(r"\bfrailty\s+(?:score|index|status)\b|\bfrail\b", _I)
# A moment after an event ("no CMV infection by 20 days ± 3 days after transplantation") or
# a window from the start of a therapy ("within 2-13 months of the first dose of initial
# therapy"), not a window counted back from today.
_AFTER_EVENT = re.compile(
    r"\b(?:by|on|at)\s+(?:day\s+)?\+?\d+\s*(?:days?\s*)?(?:\u00b1\s*\d+\s*days?\s*)?(?:after|post)\b|"
    r"\u00b1\s*\d+\s*days?\s+(?:after|post)\b|"
    r"\bwithin\s+\d+(?:\s*(?:-|\u2013|to)\s*\d+)?\s*(?:days?|weeks?|months?)\s+(?:of|from|after)\s+"
    r"(?:the\s+)?(?:first\s+dose|start|initiation|beginning)\s+of\s+(?:the\s+)?"
    r"(?:initial|induction|first[\s-]line)\b",
    _I,
)
# A washout counted from one class of therapy or from another event ("6 months from prior
# anti-BCMA therapy", "≥ 6 months from lymphodepleting chemotherapy"): read as "since the last
# therapy", which is a different date.
_WINDOW_FROM_CLASS = re.compile(
    r"\b(?:from|since|after|of)\s+(?:the\s+)?(?:last\s+|prior\s+|previous\s+|most\s+recent\s+)?"
    r"(?:dose\s+of\s+(?:any\s+)?)?(?:anti[\s-]?[A-Za-z0-9]{2,9}|[A-Za-z0-9]{2,9}[\s-]directed|"
    r"lymphodeplet\w*|bridging)\b",
    _I,
)
# A limit for one group of patients ("patients over 75 years must have ECOG 0-1").
_SUBGROUP = re.compile(
    r"\b(?:patients|participants|subjects|those)\s+(?:(?:who\s+are\s+)?(?:over|above|under|"
    r"older\s+than|younger\s+than|aged)\s*(?:[<>]=?\s*)?|[<>]=?\s*)\d{1,3}\s*(?:years?\s*)?(?:of\s+age\s*)?"
    r"(?:old\s*)?(?:must|should|need|will\s+need|are\s+required)\b",
    _I,
)
# A count of therapies ("more than 1 prior CAR T-cell therapy", ">= 2 prior BCMA-directed
# therapies"): the exposure recogniser reads "any".
_COUNT = re.compile(
    r"(?:>=\s*(?:[2-9]|two|three)|>\s*(?:[1-9]|one|two)|\bmore\s+than\s+(?:one|two|[1-9])|"
    r"\bat\s+least\s+(?:two|three|[2-9]))\s+(?:or\s+more\s+)?|\b(?:two|three|[2-9])\s+or\s+more\s+|"
    r"\bmultiple\s+(?!myeloma|MM\b)|\bsecond\s+(?!primary)|\bre-?treat\w*",
    _I,
)
_COUNTED = re.compile(
    r"\s*(?:prior\s+|previous\s+|different\s+|distinct\s+|separate\s+)?(?:[\w-]+\s+){0,3}?"
    r"(?:CAR|therap|treatment|infusion|product|agent|drug|course|bispecific|antibod|autologous|"
    r"allogeneic|stem|transplant|SCT|ASCT|HSCT|HCT)",
    _I,
)
_WITHOUT_MEASURABLE = re.compile(
    r"\b(?:without|no|absence\s+of|lack\s+of|lacking)\s+(?:\w+\s+)?measurable\b", _I
)
# Lines counted from an event ("no more than 2 lines of therapy after CAR T"): the line count
# is the whole history.
_LINES_AFTER = re.compile(
    r"\blines?\s+(?:of\s+(?:therapy|treatment)\s+|of\s+anti-?myeloma\s+(?:therapy|treatment)\s+)?"
    r"(?:after|since|following|post)\b",
    _I,
)
# A size on a disease site ("soft tissue plasmacytoma > 5 cm"): the feature recogniser reads
# presence only.
_SIZE = re.compile(r"\b\d+(?:\.\d+)?\s*(?:cm|mm|centimet\w*|millimet\w*)\b", _I)
# Treatment now, not ever ("currently receiving any other anti-myeloma therapy", "concurrent
# treatment with teclistamab"): the exposure recogniser reads any prior exposure.
_CURRENT = re.compile(
    r"\b(?:currently|presently|concurrent(?:ly)?|concomitant(?:ly)?|ongoing|simultaneous(?:ly)?)\s+"
    r"(?:(?:being\s+)?(?:receiving|treated|taking|on|using|given)\b|(?:use|treatment|therapy|"
    r"administration|receipt)\b)|\bis\s+receiving\b|\bare\s+receiving\b",
    _I,
)
# A vague limit the recognisers cannot measure ("inadequate washout from prior therapy").
_VAGUE = re.compile(
    r"\b(?:in)?(?:adequate|sufficient)\s+(?:washout|wash-out|recovery|interval|time)\b|"
    r"\bappropriate\s+(?:washout|wash-out|interval)\b|\bwashout\s+period\s+as\b",
    _I,
)
# Exposure limited to investigational agents or to a clinical trial: the record does not say
# which of the patient's therapies were investigational.
_INVESTIGATIONAL = re.compile(
    r"\binvestigational\b|\bexperimental\s+(?:agent|drug|therap)|\bin\s+(?:a|another)\s+"
    r"clinical\s+(?:trial|study)\b|\bclinical\s+(?:trial|study)\s+with\b",
    _I,
)
_ANY_SOURCE = re.compile(
    r"\b(?:commercial|approved|standard[\s-]of[\s-]care)\s+or\s+investigational\b|"
    r"\binvestigational\s+or\s+(?:commercial|approved|standard)\b",
    _I,
)
# A target qualifier on a therapy: "CD19-directed", "anti-SLAMF7", "targeting CD70".
_TARGETED = re.compile(
    r"\b([A-Za-z][A-Za-z0-9]{1,9})[\s-]+(?:directed|targeted|redirected)\b|"
    r"\banti[\s-]([A-Za-z][A-Za-z0-9]{1,9})\b|\btargeting\s+([A-Za-z][A-Za-z0-9]{1,9})\b",
    _I,
)
_ANTI_GLUED = re.compile(r"\banti([A-Z0-9]{2,9})\b")  # "antiCD19" (case-sensitive)
# "CD19 CAR T", "with CD19 target" (the antigen named before the modality, or as "target")
_TARGET_BEFORE = re.compile(r"\b((?:CD|[A-Z]{2,5})\d{0,3}[A-Z]?)[\s-]+(?:CAR\b|chimeric\b)")
_WITH_TARGET = re.compile(r"\bwith\s+(?:an?\s+|the\s+)?([A-Za-z][A-Za-z0-9]{1,9})\s+target\b", re.I)
# Where the product came from ("manufactured at an academic site", "commercial CAR T"): the
# record does not always say.
_SOURCE = re.compile(
    r"\b(?:academic|commercial(?:ly)?|manufactured|point[\s-]of[\s-]care|in[\s-]house)\b", re.I
)
# Targets the recognisers understand (lexicon.TARGETS); other names stay unaccounted.
_KNOWN_TARGETS = frozenset(
    {
        "bcma",
        "gprc5d",
        "fcrh5",
        "fcrl5",
        "cd38",
        "cd3",
        "slamf7",
        "cs1",
        "myeloma",
        "cancer",
        "tumor",
        "tumour",
        "neoplastic",
        "drug",
        "infective",
        "infectives",
        "coagulant",
        "coagulants",
        "coagulation",
        "hypertensive",
        "hypertensives",
        "platelet",
        "inflammatory",
        "epileptic",
        "viral",
        "retroviral",
        "hbv",
        "hcv",
        "hbc",
        "hbs",
        "hiv",
        "bacterial",
        "fungal",
        "il6",
        "pd1",
        "emetic",
        "emetics",
        "arrhythmic",
        "arrhythmics",
        "depressant",
        "depressants",
        "psychotic",
        "psychotics",
        "thrombotic",
        "convulsant",
        "convulsants",
        "diabetic",
        "rheumatic",
        "angiogenic",
        "cd20",
        "protocol",
        "study",
        "disease",
        "organ",
        "sex",
        "age",
        "gender",
        "antigen",
        "cell",
        "cells",
        "therapy",
        "therapies",
        "treatment",
        "treatments",
        "agent",
        "agents",
        "antibody",
        "antibodies",
        "drugs",
        "product",
        "products",
        "any",
        "the",
        "a",
        "an",
        "other",
        "immune",
        "immunotherapy",
        "plasma",
        "therapeutic",
        "previously",
        "specifically",
        "also",
        "receptor",
        "car",
        "t",
        "cluster",
    }
)


# A number off its scale ("ECOG 0-8", "Karnofsky 150"): a registry slip, flagged, not guessed.
_OFF_SCALE = re.compile(
    r"\b(?:ECOG|Zubrod)\b[^.;\d]{0,40}(?:\d\s*(?:-|to|or|,)\s*)*[6-9]\b|"
    r"\b(?:Karnofsky|KPS)\b[^.;\d]{0,30}(?:[1-9]\d{3,}|[2-9]\d\d|1[1-9]\d|10[1-9])\b",
    _I,
)
# A required response to earlier therapy ("responsive (≥ 25 % decrease) to at least one line",
# "achieved MR or better to at least 1 prior therapy"): the record does not hold responses,
# so the criterion can be wrong either way.
_RESPONSE = RESPONSE_PATTERN
# A response named as part of the exposure ("BCMA therapy with best response of progressive
# disease", "primary refractory to …"): responses are not in the record.
_BEST_RESPONSE = re.compile(
    r"\bbest\s+(?:overall\s+)?response\b|\bprimary\s+(?:refractory|resistan\w*|progress\w*)\b|"
    r"\bnever\s+(?:achieved|responded)\b|\bno\s+response\s+to\b",
    _I,
)
_LONGER = re.compile(r"\bwhichever\s+is\s+(?:longer|greater|later)\b", _I)
_DEFINED_AS = re.compile(
    r"\bdefined\s+as\s+(?:an?\s+)?(?:initial\s+)?$|"
    # "defined as: a) relapsed refractory: no response to salvage therapy …; b) primary
    # refractory: never achieved MR or above response to any treatment": labelled definitions
    r"\b(?:relapsed|refractory)\s*:\s*[^.;:]{0,45}$",
    _I,
)
# An exposure that must sit in one particular line ("as part of their immediate last
# treatment", "refractory … to the last anti-myeloma regimen used just prior to study entry"):
# the exposure recogniser reads any line, so a "met" can be wrong too.
_LAST_LINE = re.compile(
    r"\bas\s+part\s+of\s+(?:the(?:ir)?\s+|his\s+or\s+her\s+)?(?:immedi\w*\s+)?"
    r"(?:last|most\s+recent|latest)\b|"
    r"\bimmedi\w*\s+(?:last|prior|preceding|previous)\s+(?:line|treatment|regimen|therapy)\b|"
    r"\bas\s+(?:the(?:ir)?\s+|his\s+or\s+her\s+)?(?:last|most\s+recent|latest|current)\s+"
    r"(?:line|regimen|treatment|therapy)\b|"
    r"\brefractory\b[^.;]{0,100}?\b(?:last|most\s+recent|latest)\s+(?:[\w-]+\s+){0,3}?"
    r"(?:line|regimen|treatment|therapy)\b|"
    r"\b(?:PD|progress\w*)\b[^.;]{0,40}?\bwithin\s+\d+\s+days\b[^.;]{0,100}?"
    r"\b(?:last|most\s+recent|latest)\s+(?:[\w-]+\s+){0,3}?(?:line|regimen|treatment|therapy)\b",
    _I,
)
# A class the exposure recogniser does not know, read as "any therapy" ("a monoclonal antibody
# drug within 30 days", "anti-CD3 mAb"): the window or requirement may concern fewer drugs.
_UNMAPPED_CLASS = re.compile(
    r"\bmonoclonal\s+antibod\w*|\bmAbs?\b|\bantibody\s+(?:drugs?|therap\w*|treatments?)\b|"
    # "prior therapy with any CDK inhibitor": a class the lexicon does not know
    r"\b(?!proteasome\b)[A-Za-z][\w-]{1,11}\s+inhibitors?\b",
    _I,
)
# High-dose alkylator therapy given as transplant conditioning (melphalan before an autologous
# transplant) is not listed among the patient's therapies.
_HIGH_DOSE_ALKYLATOR = re.compile(r"\bhigh[\s-]dose\b|\bconditioning\b", _I)
# Which residues can also make a "met" wrong (the others only ever widen eligibility).
REGION = "applies to one country or region"
RESPONSE = "response to earlier therapy (not in the record)"
_URINE = re.compile(r"\burin\w*\s+(?:M[\s-]?protein|monoclonal|paraprotein|light\s+chain)", _I)
_FLC = re.compile(r"\bfree\s+light\s+chains?\b|\bFLC\b", _I)
RUN_ON = "several criteria in one item"
ALTERNATIVE = "alternatives read as one requirement"
PLAN = "a treatment plan or decision (not in the record)"
MISSING_FACT = "a fact the record does not hold"
BOTH_WAYS = (
    "time measured from an event",
    "target:",
    "value off its scale",
    RESPONSE,
    ALTERNATIVE,
    PLAN,
    MISSING_FACT,
    RUN_ON,
)
# A whole run-on list read as one measurable-disease definition ("Age 18 years or above. …
# at least 3 prior lines … Serum M protein >= 1 g/dL … ECOG 0~1 … neutrophils >= 1.0"): the
# other limits in it were not read, so the measurable-disease result decides nothing.
_OTHER_TOPIC = (
    (
        re.compile(r"\b(?:ECOG|performance\s+status|Karnofsky)\b", _I),
        ("ecog", "perform", "karnofsky"),
        "performance",
    ),
    (
        re.compile(r"\b(?:neutrophil\w*|ANC|platelet\w*|lymphocyte\s+count)\b", _I),
        ("neutro", "anc", "platelet", "lymphocyte"),
        "lab",
    ),
    (
        re.compile(r"\b(?:prior\s+lines?|lines?\s+of\s+(?:treatment|therapy))\b", _I),
        ("line",),
        "prior_lines",
    ),
)


# Country names as registries write them in country notes → ISO 3166-1 alpha-2.
COUNTRIES = {
    "us": "US",
    "usa": "US",
    "united states": "US",
    "uk": "GB",
    "united kingdom": "GB",
    "france": "FR",
    "germany": "DE",
    "japan": "JP",
    "china": "CN",
    "spain": "ES",
    "italy": "IT",
    "canada": "CA",
    "korea": "KR",
    "taiwan": "TW",
    "australia": "AU",
    "netherlands": "NL",
    "belgium": "BE",
    "sweden": "SE",
    "denmark": "DK",
    "norway": "NO",
    "poland": "PL",
    "israel": "IL",
}
_COUNTRY_NOTE = re.compile(
    r"^\W*(?:for\s+)?(united\s+states|united\s+kingdom|[A-Z][a-z]+|US|USA|UK)"
    r"(?:[\s-]+(?:specific|only))\s*(?:criteri\w*\s*)?:",
)
# "Prior exposure to belantamab mafodotin (France only)"
_COUNTRY_ONLY = re.compile(
    r"\(\s*(?:in\s+|for\s+)?(united\s+states|united\s+kingdom|[A-Z][a-z]+|US|USA|UK)\s+only\s*\)"
)


def region_of(text: str) -> str | None:
    """The country a "France specific: …" note applies to (ISO alpha-2), if it is one."""
    m = _COUNTRY_NOTE.match(text) or _COUNTRY_ONLY.search(text)
    if m is None:
        return None
    return COUNTRIES.get(m.group(1).lower())


def _lines_condition_read(node: Node) -> bool:
    """The parser turned "those with only N lines must …" into "more than N lines, or …"."""
    if not isinstance(node, Group):
        return False
    if node.op == "or" and any(
        isinstance(i, PriorLinesAtom) and i.max_lines is None for i in node.items
    ):
        return True
    return any(_lines_condition_read(i) for i in node.items)


def _atoms(node: Node) -> Iterable[Node]:
    if isinstance(node, Group):
        for item in node.items:
            yield from _atoms(item)
    else:
        yield node


def _scan(
    pattern: re.Pattern[str], keywords: tuple[str, ...], lower: str, text: str
) -> Iterable[re.Match[str]]:
    """``pattern``'s matches, skipping the scan when none of its literal keywords occurs
    (a substring test is far cheaper than a case-insensitive alternation)."""
    if any(k in lower for k in keywords):
        return pattern.finditer(text)
    return ()


def _snippet(text: str, m: re.Match[str]) -> str:
    start = max(0, m.start() - 30)
    end = min(len(text), m.end() + 40)
    prefix = "…" if start else ""
    suffix = "…" if end < len(text) else ""
    return f"{prefix}{text[start:end].strip()}{suffix}"


def unaccounted(
    text: str,
    section: Section,
    tree: Node,
    leftover_exceptions: Iterable[str],
    structured_exceptions: bool,
) -> tuple[str, ...]:
    """Parts of ``text`` (normalised, examples removed) the criterion's tree does not express.

    ``leftover_exceptions``: exception clauses the parser cut out but could not structure;
    ``structured_exceptions``: some clause became an exposure carve-out (accounted for).
    """
    atoms = list(_atoms(tree))
    notes = {a.text for a in atoms if isinstance(a, OtherAtom)} & SUPPORT_NOTES
    if notes:
        # carve-outs the lab recogniser structured (transfusion or growth factor support,
        # Gilbert's syndrome) are accounted for: blank them before looking for leftovers
        spans = support_spans(text) + (gilbert_spans(text) if GILBERT_NOTE in notes else [])
        chars = list(text)
        for a, b in spans:
            chars[a:b] = " " * (b - a)
        text = "".join(chars)
        leftover_exceptions = [
            e
            for e in leftover_exceptions
            if not (GILBERT_NOTE in notes and "gilbert" in e.lower())
            and not any(p.fullmatch(e.strip(" ().")) for p in SUPPORT_PATTERNS)
            and e.strip()
        ]
    if structured_exceptions and not any(isinstance(a, ExposureAtom) for a in atoms):
        structured_exceptions = False  # the carve-out names a drug no part of the tree is about
    found: list[str] = [f"exception: {e}" for e in leftover_exceptions]
    lower = text.lower()
    if "gilbert" in lower and GILBERT_NOTE not in notes:
        found.append("exception: Gilbert's syndrome (not recorded)")
    for measurable in (x for x in atoms if isinstance(x, MeasurableAtom)):
        # an alternative the definition names but whose limit was not read ("urine M-protein
        # level veing as defined", "free light chain isease dL"): not measurable by the
        # options read is not "not measurable"
        options: tuple[tuple[float | None, re.Pattern[str], tuple[str, ...]], ...] = (
            (measurable.urine_mg_24h, _URINE, ("urin",)),
            (measurable.flc_mg_dl, _FLC, ("light chain", "flc")),
        )
        for limit, option, cues in options:
            hit = next(iter(_scan(option, cues, lower, text)), None)
            if limit is None and hit is not None:
                found.append(f"measurable-disease option not read: {_snippet(text, hit)}")
                break
    if any(isinstance(a, MeasurableAtom) for a in atoms):
        read = {getattr(a, "type", "") for a in atoms}
        for pattern, keys, atom_type in _OTHER_TOPIC:
            if atom_type in read:
                continue
            m = next(iter(_scan(pattern, keys, lower, text)), None)
            if m is not None:
                found.append(f"{RUN_ON}: {_snippet(text, m)}")
                break
    exposure = any(isinstance(a, ExposureAtom | TimeSinceAtom) for a in atoms)
    permissive_exposure = any(isinstance(a, ExposureAtom) and a.allowed for a in atoms)
    if not (structured_exceptions or permissive_exposure) or section is Section.exclusion:
        for m in _scan(
            _PERMISSION,
            (
                "exclud",
                "exclusion",
                "allow",
                "permit",
                "accept",
                "eligib",
                "includ",
                "enrol",
                "particip",
                "consider",
                "except",
                "unless",
                "other than",
                "provided",
                "exempt",
            ),
            lower,
            text,
        ):
            if structured_exceptions and re.match(
                r"except|other|unless|with|not\s+(?:be\s+)?excluded", m.group(0), re.I
            ):
                continue
            found.append(f"exception or permission: {_snippet(text, m)}")
            break
    for m in _scan(
        _CONDITIONAL,
        (
            "if",
            "unless",
            "discretion",
            "investigator",
            "discussion",
            "consultation",
            "case",
            "because",
            "respon",
            "whichever",
            "who",
            "whom",
            "circumstance",
            "attribut",
            "identified",
            "for patients",
            "for participants",
            "for subjects",
            "for those",
        ),
        lower,
        text,
    ):
        if _DEFINED_AS.search(text[max(0, m.start() - 60) : m.start()]):
            continue  # "relapse is defined as an initial response to prior treatment, …"
        found.append(f"condition: {_snippet(text, m)}")
        break
    if not _lines_condition_read(tree):
        for m in _scan(_ONLY_IF_LINES, ("only",), lower, text):
            found.append(f"condition: {_snippet(text, m)}")
            break
    # a required earlier response already read as its own (unknown) part accounts for the words
    response_read = any(isinstance(a, OtherAtom) and a.text == RESPONSE_NOTE for a in atoms)
    if not response_read and any(isinstance(a, ExposureAtom) for a in atoms):
        for m in _scan(_BEST_RESPONSE, ("best", "primary", "never", "response"), lower, text):
            found.append(f"{RESPONSE}: {_snippet(text, m)}")
            break
    if not response_read:
        for m in _scan(_RESPONSE, ("respon", "achieved"), lower, text):
            found.append(f"{RESPONSE}: {_snippet(text, m)}")
            break
    for m in _scan(
        _CHANGE, ("increase", "decrease", "rise", "drop", "fall", "reduction"), lower, text
    ):
        found.append(
            f"time measured from an event: a change from an earlier value: {_snippet(text, m)}"
        )
        break
    for m in _scan(_ALTERNATIVE, ("or ", "or;"), lower, text):
        found.append(f"{ALTERNATIVE}: {_snippet(text, m)}")
        break
    for m in _scan(_MISSING_FACT, ("frail",), lower, text):
        found.append(f"{MISSING_FACT}: {_snippet(text, m)}")
        break
    for m in _scan(_PLAN, ("decision", "decided", "due to"), lower, text):
        found.append(f"{PLAN}: {_snippet(text, m)}")
        break
    for m in _scan(_AFTER_EVENT, ("after", "post", "within"), lower, text):
        found.append(f"time measured from an event: {_snippet(text, m)}")
        break
    for m in _scan(_SUBGROUP, ("must", "should", "need", "required"), lower, text):
        found.append(f"condition: for one group of patients: {_snippet(text, m)}")
        break
    if any(
        (isinstance(a, ExposureAtom) and a.min_agents == 1) or isinstance(a, TransplantAtom)
        for a in atoms
    ) and not any(isinstance(a, PriorLinesAtom) for a in atoms):
        for m in _COUNT.finditer(text):
            if _COUNTED.match(text, m.end()):
                found.append(f"target: a number of therapies: {_snippet(text, m)}")
                break
    if any(isinstance(a, PriorLinesAtom) for a in atoms):
        for m in _scan(_LINES_AFTER, ("after", "since", "following", "post"), lower, text):
            found.append(f"time measured from an event: lines since an event: {_snippet(text, m)}")
            break
    if any(isinstance(a, MeasurableAtom) and not a.negate for a in atoms):
        # "plasmacytoma only, without measurable disease in blood or urine": measurable disease
        # is named as what the patient must NOT have, or for a subgroup only
        for m in _scan(_WITHOUT_MEASURABLE, ("measurable",), lower, text):
            found.append(f"condition: {_snippet(text, m)}")
            break
    if any(isinstance(a, FeatureAtom) for a in atoms):
        for m in _scan(_SIZE, ("cm", "mm", "centimet", "millimet"), lower, text):
            found.append(f"condition: a size limit: {_snippet(text, m)}")
            break
    for m in _scan(_VAGUE, ("wash", "recovery", "interval", "time"), lower, text):
        found.append(f"vague limit: {_snippet(text, m)}")
        break
    for m in _scan(_OFF_SCALE, ("ecog", "zubrod", "karnofsky", "kps"), lower, text):
        found.append(f"value off its scale: {_snippet(text, m)}")
        break
    for m in _scan(_REGION, ("specific", "only", "country", "region"), lower, text):
        found.append(f"{REGION}: {_snippet(text, m)}")
        break
    if any(isinstance(a, TimeSinceAtom) for a in atoms):
        windows = [a for a in atoms if isinstance(a, TimeSinceAtom)]
        # several windows in one item: which window goes with which therapy is not certain
        if any(a.event == "last_therapy" for a in windows) or len(windows) > 1:
            for m in _scan(
                _WINDOW_FROM_CLASS, ("anti", "direct", "lymphodeplet", "bridging"), lower, text
            ):
                found.append(f"time measured from an event: from one therapy: {_snippet(text, m)}")
                break
        for m in _scan(_LONGER, ("whichever",), lower, text):
            found.append(f"time measured from an event: window may be longer: {_snippet(text, m)}")
            break
        for m in _scan(
            _EVENT_INTERVAL, ("progress", "relaps", "refractor", "respon", "pd"), lower, text
        ):
            found.append(f"time measured from an event: {_snippet(text, m)}")
            break
    if any(
        (isinstance(a, ExposureAtom) and a.any_therapy)
        or (isinstance(a, TimeSinceAtom) and a.event == "last_therapy")
        for a in atoms
    ):
        for m in _scan(_UNMAPPED_CLASS, ("antibod", "mab", "inhibitor"), lower, text):
            found.append(f"target: a drug class read as any therapy: {_snippet(text, m)}")
            break
    if any(isinstance(a, ExposureAtom) and any("alkylator" in g for g in a.groups) for a in atoms):
        for m in _scan(_HIGH_DOSE_ALKYLATOR, ("high", "conditioning"), lower, text):
            found.append(f"condition: transplant conditioning counts: {_snippet(text, m)}")
            break
    if any(isinstance(a, ExposureAtom) for a in atoms):
        for m in _scan(
            _CURRENT,
            (
                "current",
                "present",
                "concurrent",
                "concomitant",
                "ongoing",
                "simultaneous",
                "receiving",
            ),
            lower,
            text,
        ):
            found.append(
                f"time measured from an event: current treatment only: {_snippet(text, m)}"
            )
            break
    if exposure:
        for m in _scan(
            _LAST_LINE,
            ("part of", "immedi", "refractor", "within", "as the", "as their", "as his"),
            lower,
            text,
        ):
            found.append(f"time measured from an event: one line only: {_snippet(text, m)}")
            break
        for m in _scan(
            _INVESTIGATIONAL, ("investigational", "experimental", "clinical"), lower, text
        ):
            if _ANY_SOURCE.search(text):
                break  # "commercial or investigational": every source counts
            found.append(f"target: investigational or trial agents only: {_snippet(text, m)}")
            break
        for m in _scan(
            _EXPOSURE_QUALIFIER,
            ("after", "mg", "mcg", "ug", "g", "dose", "month", "week", "year", "cycle"),
            lower,
            text,
        ):
            found.append(f"time measured from an event or dose: {_snippet(text, m)}")
            break
    if exposure:
        for m in (
            *_scan(_TARGETED, ("direct", "target", "anti"), lower, text),
            *_scan(_ANTI_GLUED, ("anti",), lower, text),
            *_scan(_TARGET_BEFORE, ("car", "chimeric"), lower, text),
            *_scan(_WITH_TARGET, ("target",), lower, text),
        ):
            name = next((g for g in m.groups() if g), "").lower()
            if name and name not in _KNOWN_TARGETS:
                found.append(f"target: {_snippet(text, m)}")
                break
        if not _ANY_SOURCE.search(text):
            for m in _scan(
                _SOURCE, ("academic", "commercial", "manufactur", "point", "house"), lower, text
            ):
                found.append(f"target: where the product came from: {_snippet(text, m)}")
                break
    return tuple(dict.fromkeys(found))


__all__ = [
    "ALTERNATIVE",
    "BOTH_WAYS",
    "COUNTRIES",
    "MISSING_FACT",
    "PLAN",
    "REGION",
    "RESPONSE",
    "RUN_ON",
    "region_of",
    "unaccounted",
]
