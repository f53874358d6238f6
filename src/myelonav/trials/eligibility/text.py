"""Text the parser did not structure (ask the study team) and routine screening items."""

from __future__ import annotations

import datetime as dt
import re

from myelonav.logic import Truth
from myelonav.patient.vocabulary import vocabulary
from myelonav.trials._facts import PatientFacts
from myelonav.trials.criteria.models import (
    OtherAtom,
    ScreeningAtom,
)
from myelonav.trials.criteria.recognisers.labs import ALC_NOTE, SUPPORT_NOTES
from myelonav.trials.criteria.recognisers.response import RESPONSE_NOTE
from myelonav.trials.criteria.recognisers.unread import UNREAD_REQUIREMENT
from myelonav.trials.criteria.recognisers.windows import INELIGIBLE_NOTE, TRANSPLANT_ELIGIBLE_NOTE
from myelonav.trials.eligibility.values import Value, Why

_OTHER_TERMS = re.compile(r"\bBCMA\b|\bGPRC5D\b|\bCAR[\s-]?T\b|\bbispecific\b|\bFcRH5\b", re.I)


# A fact the record does not hold that decides eligibility (a disease stage, bone lesions,
# menopausal status, a tissue type): a missing fact, not a routine question.
_STAGING = re.compile(
    r"\bSalmon[\s-]+Durie\b|\b(?:R-?)?ISS\b(?:\s+stage)?|\bstage\s+(?:I{1,3}|[123])\b|"
    r"\b(?:osteo)?lytic\b|\bbone\s+lesions?\b|\bpost-?menopausal\b|\bHLA-?[A-Z]\b|\bNY-ESO-1\b|"
    # a painful bone lesion, transplant eligibility or a planned transplant, residual disease
    r"\bbone\s+metastas[ie]s\b|\btransplant[\s-]+eligib\w*|\beligible\s+(?:for|to)\s+(?:an?\s+)?"
    r"(?:ASCT|autologous|transplant\w*)\b|\bplanned\s+(?:standard[\s-]of[\s-]care\s+)?"
    r"(?:ASCT|autologous|allogeneic|transplant\w*)\b|\bMRD\b|\bminimal\s+residual\s+disease\b",
    re.I,
)


# Parts a recogniser set aside because the record cannot answer them (a carve-out that may
# widen a lab limit, a required response, transplant ineligibility): unknown, not "ask".
_NOTES = frozenset(
    {*SUPPORT_NOTES, RESPONSE_NOTE, INELIGIBLE_NOTE, ALC_NOTE, TRANSPLANT_ELIGIBLE_NOTE}
)
# Progression timed against the last treatment ("PD within 60 days of the most recent
# treatment"): the matcher does not time it for text it could not structure.
_PROGRESSION_TIMING = re.compile(
    r"\b(?:progress\w*|PD|relaps\w*)\b[^.;]{0,40}?\bwithin\s+\d+\s+(?:days?|months?)\s+"
    r"(?:of|after|from)\s+(?:the\s+)?(?:most\s+recent|last|recent)\b",
    re.I,
)
# Progression on the last line ("documented evidence of PD … on or after the last regimen"):
# met when the record shows the most recent treatment ended in progression, else unknown.
_PD_ON_LAST = re.compile(
    r"\b(?:PD|progressive\s+disease|disease\s+progression|progression)\b[^.;]{0,160}?"
    r"\b(?:on|after|during|following)\s+(?:or\s+after\s+)?(?:the(?:ir)?\s+|his\s+or\s+her\s+)?"
    r"(?:last|most\s+recent|latest)\s+(?:line|regimen|therapy|treatment|anti-?myeloma)\b",
    re.I,
)
_INDUCTION_WITHIN = re.compile(
    r"\binitiated\s+induction\s+(?:therapy\s+|treatment\s+)?within\s+(\d{1,2})\s+months\b", re.I
)
# A population of women only ("Postmenopausal female, defined as …", "Women only"); not
# "Female patients of childbearing potential must …", which concerns contraception.
_FEMALE_ONLY = re.compile(
    r"^\W*(?:post-?menopausal\s+(?:females?|women)\b|(?:females?|women)\s+only\b)", re.I
)


def _reads_text(text: str) -> bool:
    """Whether a text rule below reads this wording itself (so its judgement cannot be shared
    with other text that merely names the same drugs)."""
    if text.startswith(UNREAD_REQUIREMENT):
        text = text[len(UNREAD_REQUIREMENT) :]
    return text in _NOTES or any(
        rx.search(text) is not None
        for rx in (_FEMALE_ONLY, _INDUCTION_WITHIN, _PROGRESSION_TIMING, _PD_ON_LAST, _STAGING)
    )


def other_key(text: str) -> tuple[str | None, frozenset[str], bool]:
    """What the judgement of un-structured text reads from it: the wording itself when a text
    rule applies, the vocabulary drugs it names, and whether it names a therapy type (BCMA,
    GPRC5D, CAR T, bispecific, FcRH5). Every unread requirement is judged alike (unknown)."""
    if text.startswith(UNREAD_REQUIREMENT):
        read = _reads_text(text[len(UNREAD_REQUIREMENT) :])
        return (text if read else UNREAD_REQUIREMENT), frozenset(), False
    named = frozenset(d.id for d in vocabulary().find_in_text(text))
    return (text if _reads_text(text) else None), named, bool(_OTHER_TERMS.search(text))


_UNREAD_FACT = "not understood, so we cannot tell whether you meet it; ask the study team"


def _text_rule(f: PatientFacts, text: str) -> Value | None:
    if text.startswith(UNREAD_REQUIREMENT):
        # an inclusion requirement the parser could not read: a text rule below may still read
        # it; otherwise unknown, never "met"
        shown = text[len(UNREAD_REQUIREMENT) :]
        ruled = _text_rule(f, shown) if shown else None
        if ruled is not None:
            return ruled
        fact = f"{_UNREAD_FACT}: “{shown}”" if shown else _UNREAD_FACT
        return Truth.unknown, fact, Why.missing
    if text in _NOTES:
        return Truth.unknown, f"{text}; ask the study team", Why.missing
    if _FEMALE_ONLY.search(text) and f.record.demographics.sex.value == "male":
        return Truth.false, "male; this item is for women", None
    induction = _INDUCTION_WITHIN.search(text)
    if induction is not None:
        starts = sorted(t.start for t in f.record.therapy_lines if t.start is not None)
        if not f.record.therapy_lines:
            return Truth.false, "no induction therapy recorded", None
        if starts:
            months = (f.as_of.year - starts[0].year) * 12 + f.as_of.month - starts[0].month
            if months > int(induction.group(1)) + 1:
                return Truth.false, f"induction started {starts[0]} ({months} months ago)", None
        return Truth.unknown, "induction start date: ask the study team", Why.missing
    if _PROGRESSION_TIMING.search(text):
        return Truth.unknown, "progression timing not judged; ask the study team", Why.missing
    if _PD_ON_LAST.search(text):
        return _progressed_on_last(f)
    if _STAGING.search(text):
        return Truth.unknown, "not in the record; ask the study team", Why.missing
    return None


def _progressed_on_last(f: PatientFacts) -> Value:
    """Whether the most recent treatment (a line or a CAR T infusion) ended in progression:
    true when the record says so, otherwise unknown (never false: the record may be late)."""
    lines = [t for t in f.record.therapy_lines if t.start is not None and t.start <= f.as_of]
    last_line = max(lines, key=lambda t: t.start or dt.date.min, default=None)
    car_t = max(f.car_t, key=lambda c: c.infusion_date, default=None)
    if car_t is not None and (
        last_line is None or last_line.start is None or car_t.infusion_date >= last_line.start
    ):
        if car_t.progression_date is not None:
            return Truth.true, f"progression after CAR T ({car_t.progression_date})", None
    elif last_line is not None and (
        last_line.stop_reason.value == "progression" or last_line.refractory
    ):
        label = last_line.regimen or " + ".join(last_line.agents)
        return Truth.true, f"progression on the last treatment ({label})", None
    missing = "progression on the last treatment not recorded; ask the study team"
    return Truth.unknown, missing, Why.missing


def other_value(
    f: PatientFacts, text: str | None, named: frozenset[str], names_type: bool
) -> Value:
    """Text we could not structure. If it names something this patient has had, it matters."""
    if text is not None:
        ruled = _text_rule(f, text)
        if ruled is not None:
            return ruled
    had = sorted(named & {e.agent for e in f.exposures})
    if had:
        return (
            Truth.unknown,
            f"mentions {', '.join(had)}, which you have had; ask the study team",
            Why.missing,
        )
    if names_type and {c for e in f.exposures for c in e.classes} & {
        "bcma_directed",
        "gprc5d_directed",
        "car_t",
        "bispecific",
    }:
        return (
            Truth.unknown,
            "mentions a therapy type you have had; ask the study team",
            Why.missing,
        )
    return Truth.unknown, "ask the study team", Why.ask


def _other(f: PatientFacts, a: OtherAtom) -> Value:
    if a.text.startswith(UNREAD_REQUIREMENT):
        ruled = _text_rule(f, a.text)  # the fact shows the text not understood
        assert ruled is not None
        return ruled
    return other_value(f, *other_key(a.text))


def _screening(a: ScreeningAtom) -> Value:
    return Truth.unknown, "the study team will check", Why.screening
