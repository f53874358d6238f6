"""Recognisers: time windows (washout, since CAR T, since transplant) and transplants."""

from __future__ import annotations

import re
from typing import Literal

from myelonav.trials.criteria import lexicon as lx
from myelonav.trials.criteria.models import (
    Group,
    Node,
    OtherAtom,
    Section,
    TimeSinceAtom,
    TransplantAtom,
)
from myelonav.trials.criteria.recognisers.mentions import _Target
from myelonav.trials.criteria.recognisers.negation import _negated

# "≥ 6 months from lymphodepleting chemotherapy": dated by the CAR T infusion it preceded
_LYMPHODEPLETION = re.compile(
    r"\blympho[\s-]?deplet\w*(?:\s+(?:chemotherapy|therapy|regimen|conditioning))?", re.I
)


def _time_windows(
    seg: str, section: Section, targets: list[_Target]
) -> tuple[list[Node], set[int]]:
    """Time windows with their events; returns atoms and the targets they consumed."""
    windows = list(lx.TIME_WINDOW.finditer(seg))
    if not windows:
        return [], set()
    events: list[
        tuple[int, int, str, tuple[tuple[str, ...], ...], tuple[str, ...], int | None]
    ] = []
    for i, t in enumerate(targets):
        classes = {c for g in t.groups for c in g}
        if "car_t" in classes:
            events.append((t.start, t.end, "car_t_infusion", (), (), i))
            rest = tuple(g for g in t.groups if "car_t" not in g)
            if rest or t.drugs:
                events.append((t.start, t.end, "exposure", rest, tuple(t.drugs), i))
        else:
            events.append((t.start, t.end, "exposure", tuple(t.groups), tuple(t.drugs), i))
    for pattern, name in (
        (_LYMPHODEPLETION, "lymphodepletion"),
        (lx.ALLO, "allogeneic_transplant"),
        (lx.AUTO, "autologous_transplant"),
        (lx.RADIOTHERAPY, "radiotherapy"),
        (lx.ANY_THERAPY, "last_therapy"),
    ):
        for m in pattern.finditer(seg):
            if not any(s <= m.start() < e for s, e, *_ in events):
                events.append((m.start(), m.end(), name, (), (), None))
    if not any(e[2] in {"allogeneic_transplant", "autologous_transplant"} for e in events):
        for m in lx.TRANSPLANT.finditer(seg):
            events.append((m.start(), m.end(), "any_transplant", (), (), None))
    if not events:
        return [], set()
    events.sort(key=lambda e: e[0])
    atoms: list[Node] = []
    used: set[int] = set()
    prev_end = 0
    for w in windows:
        if not _window_cue(seg, w):
            continue
        amount = w.group(2)
        n = float(amount) if amount[0].isdigit() else float(lx.NUMBER_WORDS.get(amount.lower(), 12))
        days = round(n * lx.UNIT_DAYS[w.group(3)[0].lower()])
        before = seg[max(0, w.start() - 12) : w.start()]
        prefix = w.group(0).lower()
        after_text = seg[w.end() : w.end() + 20].lower()
        if (
            w.group(1) in {"<", "<="}
            or prefix.startswith("within")
            or re.search(r"\bin the (?:past|last)\s*$", before, re.I)
        ):
            op = "lt"
        elif w.group(1) in {">", ">="} or re.match(r"\s*or (?:more|longer|greater)", after_text):
            op = "ge"
        else:
            op = "lt" if section is Section.exclusion else "ge"
        near = [e for e in events if prev_end <= e[0] < w.start()]
        if not near:
            near = [e for e in events if e[0] >= w.end()][:1]
        if not near:
            near = [e for e in events if e[0] < w.start()][-1:]
        prev_end = w.end()
        for start, end, event, groups, drugs, ti in near:
            if event == "exposure" and not groups and not drugs:
                continue
            if "transplant" in event and _FITNESS_FOR.search(seg[max(0, start - 30) : start]):
                continue  # "organ function to undergo a PBSC transplant": fitness, not history
            gap = seg[end : w.start()] if end <= w.start() else seg[w.end() : start]
            if lx.TEST_WORDS.search(gap):
                # "... expresses BCMA on a biopsy within 60 days": the window dates the test
                continue
            negate = _negated(seg, start, end) or _negated(seg, w.start())
            atoms.append(
                TimeSinceAtom(
                    event=event, op=op, days=days, groups=groups, drugs=drugs, negate=negate
                )
            )
            if ti is not None:
                used.add(ti)
    return atoms, used


_I = re.IGNORECASE
INELIGIBLE_NOTE = "considered ineligible for transplant (not in the record)"
_UNDERGONE_OR_INELIGIBLE = re.compile(
    r"\b(?:undergone|received|had|prior|previous|relapsed\s+after|after)\b[^.;]{0,60}?"
    r"\b(?:transplant\w*|SCT|ASCT|HCT|HSCT)\b[^.;]{0,15}?\bor\b[^.;]{0,40}?"
    r"\b(?:transplant[\s-]+ineligible|ineligible\s+for|"
    r"not\s+(?:be\s+)?(?:eligible|(?:a\s+)?candidates?)\s+for)\b",
    _I,
)
# "induction with or without transplant", "registration prior to or after transplant",
# "induction therapy prior to autologous transplantation": the transplant is context
_POST_EVENT_THERAPY = re.compile(
    r"(?<=post-)[\w-]+\s+(?:consolidation|maintenance|therapy|treatment)\b|"
    r"(?<=post\s)[\w-]+\s+(?:consolidation|maintenance|therapy|treatment)\b",
    _I,
)
_WITH_OR_WITHOUT = re.compile(
    # "with/without consolidative chemotherapy and/or HDT/ASCT": an optional transplant
    r"\b(?:with\s*(?:\s+or\s+|/)\s*without\s+(?:[\w-]+[\s/]+){0,5}|"
    r"(?:prior\s+to\s+or\s+after|before\s+or\s+after|prior\s+to|before)\s+(?:[\w-]+\s+){0,3})$",
    _I,
)
_FITNESS_FOR = re.compile(
    r"\b(?:to\s+undergo|eligible\s+for|candidates?\s+for|fit\s+for)\s+(?:an?\s+)?(?:[\w-]+\s+){0,2}$",
    re.IGNORECASE,
)
_WASHOUT_OF = re.compile(
    r"\bwash[\s-]?out\s+(?:period\s+|interval\s+)?(?:of\s+)?(?:at\s+least\s+|>=\s*)?$", re.I
)
_CUE_AFTER = re.compile(
    r"^\s*(?:or (?:more|longer|greater)\s*)?(?:\b(?:since|after|from|before|prior to|preceding|"
    r"of (?:the )?(?:first|start|initiation|enrol|randomi|screening|study)|ago|post)\b)",
    re.IGNORECASE,
)


def _window_cue(seg: str, w: re.Match[str]) -> bool:
    """A duration is a time window only when worded as one ("within 14 days", "90 days since")."""
    if re.search(r"\d\s*-\s*$", seg[: w.start()]) or re.match(
        r"\s*(?:of age|old)\b", seg[w.end() :], re.I
    ):
        return False
    if re.search(r"\b(?:aged?|ages)\b[^.;\d]{0,15}$", seg[max(0, w.start() - 30) : w.start()], _I):
        return False  # "aged >= 65 years who were transplant-ineligible": an age, not a window
    sentence = re.split(r"[.;]\s", seg[: w.start()])[-1]
    if re.search(r"\bdefined\s+as\b", sentence, re.I) and re.search(
        r"\b(?:relaps\w*|refractor\w*|progress\w*|PD|respon\w*)\b", sentence, re.I
    ):
        return False  # "relapse is defined as PD > 60 days after cessation": a definition
    if w.group(1) or w.group(0).lower().startswith("within"):
        return True
    if _WASHOUT_OF.search(seg[max(0, w.start() - 40) : w.start()]):
        return True  # "a washout period of 6 months is required from prior anti-BCMA therapy"
    return bool(_CUE_AFTER.match(seg[w.end() : w.end() + 40])) or bool(
        re.search(
            r"\b(?:in the (?:past|last)|for)\s*$", seg[max(0, w.start() - 15) : w.start()], re.I
        )
    )


# "NDMM eligible for high-dose chemotherapy (melphalan) and ASCT": fitness for a transplant to
# come, which the record does not hold (a missing fact, not a transplant history).
_ELIGIBLE_FOR = re.compile(
    r"\b(?:eligible|candidates?|fit)\s+for\s+(?:an?\s+)?[^.;]{0,60}?"
    r"\b(?:transplant\w*|ASCT|SCT|HCT|HSCT)\b",
    _I,
)
TRANSPLANT_ELIGIBLE_NOTE = "eligible for a transplant (fitness not in the record)"
# "Not suitable for HSCT (auto/allo-HSCT)": whether a transplant is suitable, not one received.
_UNSUITABLE_FOR = re.compile(
    r"\b(?:not\s+suitable|unsuitable|not\s+(?:fit|eligible)|ineligible)\s+for\s+"
    r"(?:an?\s+)?(?:[\w-]+\s+){0,3}(?:transplant\w*|SCT|HCT|HSCT)\b",
    _I,
)
# "Relapse or no remission after HSCT or cell immunotherapy": the transplant is one of several
# events a relapse is counted from, not a required (or excluded) history of its own.
_RELAPSE_AFTER_EITHER = re.compile(
    r"\b(?:relaps\w*|remission|progress\w*)\s+after\s+(?:[\w-]+\s+){0,3}"
    r"(?:transplant\w*|SCT|HCT|HSCT)\s+or\b",
    _I,
)


def _transplants(seg: str) -> list[Node]:
    if _ELIGIBLE_FOR.search(seg) and not _UNSUITABLE_FOR.search(seg):
        return [OtherAtom(text=TRANSPLANT_ELIGIBLE_NOTE)]
    if not lx.EXPOSURE_CONTEXT.search(seg) and not re.search(
        r"\bundergone\b|\brecipients?\b", seg, re.I
    ):
        return []
    if _UNSUITABLE_FOR.search(seg) or _RELAPSE_AFTER_EITHER.search(seg):
        return []
    atoms: list[Node] = []
    for pattern, kind in ((lx.ALLO, "allogeneic"), (lx.AUTO, "autologous")):
        m = pattern.search(seg)
        if m is not None and _WITH_OR_WITHOUT.search(seg[max(0, m.start() - 60) : m.start()]):
            continue  # "induction with or without autologous transplant … is one line"
        if m is not None and _POST_EVENT_THERAPY.match(seg, m.start()):
            continue  # "post-ASCT consolidation therapy": the therapy is the object
        if m is not None and re.search(r"transplant|SCT|HCT|stem cell", seg, re.I):
            atoms.append(TransplantAtom(kind=kind, negate=_negated(seg, m.start())))
    either = _UNDERGONE_OR_INELIGIBLE.search(seg)
    if either is not None:
        # "has undergone stem cell transplant or is considered transplant ineligible"
        which: Literal["autologous", "any"] = "autologous" if lx.AUTO.search(seg) else "any"
        return [Group(op="or", items=(TransplantAtom(kind=which), OtherAtom(text=INELIGIBLE_NOTE)))]
    if not atoms:
        m = lx.TRANSPLANT.search(seg)
        if (
            m is not None
            and not re.search(r"\beligible\b|\bineligible\b|\bcandidate\b", seg, re.I)
            and not _WITH_OR_WITHOUT.search(seg[max(0, m.start() - 60) : m.start()])
            and not _FITNESS_FOR.search(seg[max(0, m.start() - 30) : m.start()])
        ):
            atoms.append(TransplantAtom(kind="any", negate=_negated(seg, m.start())))
    return atoms
