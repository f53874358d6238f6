"""The options report arranged for a page a frightened person can read.

A short summary first (how many options may fit, need one more test or answer, are unlikely),
then one collapsed card per option with a one-line reason; inside, the reasons (never the
questions again), what we still need to know, and the studies in natural frequencies with the
study size. Survival figures sit behind "more detail" with framing. Every citation of the
report gets a number and is listed at the end, so a printout keeps them all.

The clinician voice uses the same report (the same facts); only the words differ.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from myelonav.options.frequency import (
    SURVIVAL_FIGURES,
    SURVIVAL_FRAMING,
    clinician_figures,
    median_words,
    patient_figures,
)

# (anchor id, heading in the patient's words, heading for clinicians)
GROUPS: tuple[tuple[str, str, str], ...] = (
    ("may-fit", "May fit you", "Fits / consider with caution"),
    ("need-info", "Needs one more test or answer", "Undecided: missing information"),
    ("unlikely", "Unlikely to fit you now", "Unlikely to fit"),
    ("supportive", "Care that goes alongside any treatment", "Supportive care"),
)

_STATUS_GROUP = {
    "fits": "may-fit",
    "consider with caution": "may-fit",
    "need more information": "need-info",
    "unlikely to fit": "unlikely",
}

STATUS_WORDS = {
    "fits": ("May fit you", "fits"),
    "consider with caution": ("May fit, with care", "consider with caution"),
    "need more information": ("We need to know more", "need more information"),
    "unlikely to fit": ("Unlikely to fit you now", "unlikely to fit"),
}

_DESIGN_WORDS = {
    "phase_1": "an early (phase 1) trial",
    "phase_1_2": "an early (phase 1/2) trial",
    "phase_2": "a phase 2 trial",
    "phase_3": "a large phase 3 trial comparing treatments",
    "retrospective": "a look back at people treated in clinics",
    "prospective_observational": "a study following people treated in clinics",
    "case_series": "a small series of reported cases",
    "pooled_analysis": "several studies pooled together",
    "guideline": "a guideline",
}

_PRIOR_CAR_T = {
    "yes": "everyone in it had BCMA CAR T before",
    "partial": "some people in it had BCMA CAR T before",
    "no": "no one in it had BCMA CAR T before",
    "not_reported": "it does not say whether people had CAR T before",
}


@dataclass
class Sources:
    """Every citation on the page, numbered in order of first use."""

    items: list[str] = field(default_factory=list)

    def number(self, citation: str | None) -> int | None:
        if not citation:
            return None
        if citation not in self.items:
            self.items.append(citation)
        return self.items.index(citation) + 1

    def numbers(self, citations: list[str]) -> list[int]:
        return [n for c in citations if (n := self.number(c)) is not None]


@dataclass
class StudyView:
    title: str
    about: str  # design, size and who took part, in words
    results: list[str]
    survival: list[str]
    source: int | None


@dataclass
class ReasonView:
    text: str
    facts: list[str]  # clinician voice: the facts the rule read and where they came from
    sources: list[int]


@dataclass
class Card:
    id: str
    name: str
    status: str
    status_words: str
    group: str
    headline: str
    summary: str
    why: list[ReasonView]
    missing: list[str]
    safety: str
    studies: list[StudyView]
    approval: list[str]
    last_reviewed: str


@dataclass
class OptionsView:
    cards: list[Card]
    groups: list[tuple[str, str, list[Card]]]
    counts: dict[str, int]
    failure: dict[str, Any]
    failure_sources: list[list[int]]
    data_quality: list[str]
    sources: list[str]
    survival_framing: str = SURVIVAL_FRAMING


def _why(
    report: dict[str, Any], option: dict[str, Any], patient: bool, sources: Sources
) -> list[ReasonView]:
    """The reasons that decided something: never the undecided ones, which are the
    "what we still need to know" list."""
    missing = set(option["missing_information"])
    out: list[ReasonView] = []
    for reason in option["reasons"]:
        if reason["result"] == "unknown" or reason["text"] in missing:
            continue
        if reason["result"] == "met" and patient:
            continue  # a requirement met is a checklist for clinicians, not a reason
        text = reason["text"]
        facts = [f"{f['fact'].replace('_', ' ')}: {f['source']}" for f in reason["facts"]]
        out.append(
            ReasonView(text, facts if not patient else [], sources.numbers(reason["citations"]))
        )
    return out


def first_sentence(text: str) -> str:
    """The first sentence of ``text`` (a closed card shows one line, the open card the rest)."""
    for i, char in enumerate(text):
        if char in ".!?" and (i + 1 == len(text) or text[i + 1] == " ") and i > 20:
            return text[: i + 1]
    return text


def _headline(option: dict[str, Any], why: list[ReasonView], patient: bool) -> str:
    """The one-line reason shown on the closed card."""
    return first_sentence(_reason_line(option, why, patient))


def _reason_line(option: dict[str, Any], why: list[ReasonView], patient: bool) -> str:
    status = option["status"]
    decided = {r["text"]: r for r in option["reasons"] if r["result"] != "unknown"}

    def first(*effects: str) -> str | None:
        for view in why:
            reason = decided.get(view.text)
            if (
                reason is not None
                and reason["effect"] in effects
                and reason["result"] in ("fired", "not_met")
            ):
                return view.text
        return None

    missing = option["missing_information"]
    if status == "unlikely to fit":
        return first("excludes", "requires") or option["summary"]
    if status == "need more information" and missing:
        more = len(missing) - 1
        head = "We need to know: " if patient else "Missing: "
        tail = f" (and {more} more)" if more else ""
        return f"{head}{missing[0]}{tail}"
    if status == "consider with caution":
        return first("caution") or option["summary"]
    return first("favours") or option["summary"]


def _study(e: dict[str, Any], patient: bool, sources: Sources) -> StudyView:
    title = e["study"] + (f", {e['cohort']}" if e.get("cohort") else "")
    n = e.get("n")
    figures = e.get("figures") or {}
    if patient:
        size = f"{n:,} people" if n else "size not reported"
        about = f"{_DESIGN_WORDS.get(e['design'], e['design'])}; {size}; " + _PRIOR_CAR_T.get(
            e["post_bcma_car_t"], _PRIOR_CAR_T["not_reported"]
        )
        results = patient_figures(figures, n, e["design"], survival=False)
        survival = [median_words(k, figures[k]) for k in SURVIVAL_FIGURES if k in figures]
    else:
        size = f"n={n}" if n else "n not reported"
        about = (
            f"{e['design'].replace('_', ' ')}; {size}; prior BCMA CAR T: "
            f"{e['post_bcma_car_t'].replace('_', ' ')}"
        )
        results = clinician_figures(figures)
        survival = []
    return StudyView(title, about, results, survival, sources.number(e.get("citation")))


def options_view(report: dict[str, Any]) -> OptionsView:
    """The report as cards, groups, counts and one numbered source list."""
    patient = report.get("audience", "patient") == "patient"
    sources = Sources()
    failure = report["car_t_failure"]
    failure_sources = [sources.numbers(e["citations"]) for e in failure["explanations"]]
    cards: list[Card] = []
    for option in report["options"]:
        why = _why(report, option, patient, sources)
        for reason in option["reasons"]:  # undecided rules' sources are listed too
            sources.numbers(reason["citations"])
        group = (
            "supportive"
            if option["category"] == "supportive_care"
            else _STATUS_GROUP.get(option["status"], "need-info")
        )
        words = STATUS_WORDS.get(option["status"], (option["status"], option["status"]))
        cards.append(
            Card(
                id=option["id"],
                name=option["name"],
                status=option["status"],
                status_words=words[0] if patient else words[1],
                group=group,
                headline=_headline(option, why, patient),
                summary=option["summary"],
                why=why,
                missing=list(option["missing_information"]),
                safety=option["safety"],
                studies=[_study(e, patient, sources) for e in option["evidence"]],
                approval=list(option["approval"]),
                last_reviewed=str(option["last_reviewed"]),
            )
        )
    groups = [
        (anchor, heading if patient else clinical, [c for c in cards if c.group == anchor])
        for anchor, heading, clinical in GROUPS
    ]
    counts = {anchor: len(items) for anchor, _, items in groups}
    notes = [n["plain"] if patient else n["message"] for n in report.get("data_quality", [])]
    return OptionsView(
        cards, [g for g in groups if g[2]], counts, failure, failure_sources, notes, sources.items
    )


def report_citations(report: dict[str, Any]) -> set[str]:
    """Every citation anywhere in an options report (what a printout must keep)."""
    found = {c for e in report["car_t_failure"]["explanations"] for c in e["citations"]}
    for option in report["options"]:
        found |= {c for r in option["reasons"] for c in r["citations"]}
        found |= {e["citation"] for e in option["evidence"] if e.get("citation")}
    return found


__all__ = ["GROUPS", "Card", "OptionsView", "StudyView", "options_view", "report_citations"]
