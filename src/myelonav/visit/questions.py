"""Questions for the next visit: the core ones always, the rest when their rule is true.

The rules are data (``data/questions.yaml``: all/any/not over facts, evaluated by
``myelonav.logic``). They read the clinical picture's facts as the options report carries them
and a few facts only the visit knows (current labs against common trial thresholds, options
that need more information, the symptom diary). Each question says which facts put it on
the list.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from myelonav.clinical.thresholds import FEVER_C
from myelonav.knowledge.cost import cost_help
from myelonav.logic import UNKNOWN, Truth, deciding_facts, evaluate
from myelonav.options.report import options_report
from myelonav.patient.models import Analyte, PatientRecord
from myelonav.patient.summary import CURRENT_LAB_DAYS
from myelonav.picture import ClinicalPicture, clinical_picture
from myelonav.support.diary import Diary
from myelonav.visit.content import question_content
from myelonav.visit.labs import LabCheck, lab_checks
from myelonav.visit.schemas import QuestionTemplate, Trigger
from myelonav.visit.trials import TrialRow

MAX_TRIAL_QUESTIONS = 3
MAX_COST_QUESTIONS = 2
_STALE_WATCH = (
    Analyte.anc,
    Analyte.platelets,
    Analyte.hemoglobin,
    Analyte.creatinine,
    Analyte.serum_m_protein,
    Analyte.kappa_flc,
    Analyte.lambda_flc,
)


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    why: str
    topic: str
    trigger: str
    citations: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class _Context:
    record: PatientRecord
    as_of: dt.date
    report: dict[str, Any]
    picture: ClinicalPicture
    labs: list[LabCheck]
    trials: Sequence[TrialRow]
    diary: Diary | None

    def fact(self, name: str) -> dict[str, Any]:
        facts: dict[str, dict[str, Any]] = self.report.get("facts", {})
        return facts.get(name, {"value": None, "known": False, "source": f"{name} not known"})

    def is_true(self, name: str) -> str | None:
        f = self.fact(name)
        return str(f["source"]) if f["known"] and f["value"] is True else None

    def options(self, status: str) -> list[str]:
        return [o["name"] for o in self.report.get("options", []) if o.get("status") == status]


def _join(names: Sequence[str], limit: int = 4) -> str:
    shown = list(names[:limit])
    more = len(names) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


# --------------------------------------------------------------------------- core questions


def _core_fact(qid: str, c: _Context) -> str:
    if qid == "core_options_fit":
        fits = c.options("fits")
        return (
            f"myelonav lists {len(fits)} that may fit: {_join(fits)}."
            if fits
            else "myelonav found no option that clearly fits yet."
        )
    if qid == "core_trials":
        open_rows = [t for t in c.trials if t.verdict != "likely_ineligible"]
        if open_rows:
            samples = all(t.is_sample for t in open_rows)
            sample = " (sample studies, not real trials)" if samples else ""
            return f"myelonav found {len(open_rows)} trials that may fit{sample}."
        return f"Your interest in trials: {c.fact('trial_interest')['value'] or 'not recorded'}."
    if qid == "core_newer_treatment":
        classes = c.fact("prior_classes")
        if classes["known"] and "bispecific" in (classes["value"] or []):
            return "You have had a bispecific antibody before."
        if classes["known"]:
            return "The record shows no bispecific antibody so far."
        return "Your past treatments are not in the record."
    if qid == "core_timing":
        car_t = (c.report.get("car_t_failure") or {}).get("car_t") or {}
        if car_t.get("summary"):
            return f"After your CAR T: {car_t['summary']}."
        return str(c.fact("lines_of_therapy")["source"]) + "."
    return f"Your myeloma type is {c.record.diagnosis.isotype.label()}."


# --------------------------------------------------------------------------- rule facts


def _low_counts(c: _Context) -> str | None:
    low = [
        f"{x.label.lower()} {x.shown}"
        for x in c.labs
        if x.id in ("anc", "platelets", "hemoglobin") and x.status in ("meets_none", "meets_some")
    ]
    return "; ".join(low) if low else None


def _low_crcl(c: _Context) -> str | None:
    low = [x.shown for x in c.labs if x.id == "crcl" and x.status in ("meets_none", "meets_some")]
    return low[0] if low else None


def _labs_not_current(c: _Context) -> str | None:
    stale = []
    for analyte in _STALE_WATCH:
        lab = c.picture.stale_labs.get(analyte)
        if lab is not None:
            age = (c.as_of - lab.date).days
            stale.append(f"{analyte.value.replace('_', ' ')} ({lab.date}, {age} days old)")
    if stale:
        return "Not current: " + _join(stale, 3)
    if not any(c.picture.lab(a) for a in _STALE_WATCH):
        return "The record has no blood counts or myeloma tests"
    return None


def _need_information(c: _Context) -> str | None:
    names = c.options("need more information")
    return f"myelonav needs more information to judge: {_join(names)}" if names else None


def _infection_in_diary(c: _Context) -> str | None:
    if c.diary is None:
        return None
    since = c.as_of - dt.timedelta(days=CURRENT_LAB_DAYS)
    for entry in reversed(c.diary.entries):
        if not since <= entry.date <= c.as_of:
            continue
        r = entry.report
        if r.temperature_c is not None and r.temperature_c >= FEVER_C:
            return f"Your diary notes a fever of {r.temperature_c:g} °C on {entry.date}"
        signs = [
            name
            for name, on in (
                ("chills", r.chills),
                ("cough", r.cough),
                ("burning when passing urine", r.burning_urination),
                ("a red wound", r.wound_redness),
            )
            if on
        ]
        if signs:
            return f"Your diary notes {', '.join(signs)} on {entry.date}"
    return None


# What the visit knows beyond the clinical picture: each returns the phrase when true. A
# missing input (no diary) leaves the fact unknown, which never fires a rule.
_VISIT_FACTS: dict[str, Callable[[_Context], str | None]] = {
    "low_counts": _low_counts,
    "low_crcl": _low_crcl,
    "labs_not_current": _labs_not_current,
    "options_need_information": _need_information,
    "diary_infection_signs": _infection_in_diary,
}


def _rule_facts(c: _Context) -> tuple[dict[str, Any], dict[str, str]]:
    """(values, phrases) for rule evaluation: the report's facts plus the visit's own."""
    values: dict[str, Any] = {}
    phrases: dict[str, str] = {}
    for name, f in c.report.get("facts", {}).items():
        values[name] = f["value"] if f["known"] else UNKNOWN
        phrases[name] = str(f["source"])
    for name, compute in _VISIT_FACTS.items():
        if name == "diary_infection_signs" and c.diary is None:
            values[name], phrases[name] = UNKNOWN, "no symptom diary"
            continue
        phrase = compute(c)
        values[name] = phrase is not None
        phrases[name] = phrase or ""
    return values, phrases


def _capitalise(text: str) -> str:
    # "myelonav ..." and "t(11;14) ..." keep their case.
    if text.startswith("myelonav") or (len(text) > 1 and text[1] == "("):
        return text
    return text[0].upper() + text[1:]


def _make(t: QuestionTemplate, fact: str, detail: str = "", suffix: str = "") -> Question:
    fact = fact.rstrip(". ")
    why = t.why.replace("{fact}", fact).strip()
    return Question(
        id=t.id + suffix,
        text=t.text.replace("{detail}", detail),
        why=_capitalise(why),
        topic=t.topic,
        trigger=t.trigger.value,
        citations=[x.short() for x in t.citations],
    )


def _fitting_treatments(report: dict[str, Any]) -> list[tuple[str, str]]:
    """(id, name) of the treatments that may fit, best first (supportive care is not priced)."""
    return [
        (o["id"], o["name"])
        for o in report.get("options", [])
        if o.get("status") in ("fits", "consider with caution")
        and o.get("category") != "supportive_care"
    ]


def _cost_fact(option_id: str, shown: str) -> str:
    found = cost_help(option_id)
    if found is None or not found.help:
        return ""
    names = _join([h.name for h in found.help], 3)
    stay = f"{found.hospital_stay.rstrip('. ')}. " if found.hospital_stay else ""
    return f"{stay}Help that exists for {shown}: {names}"


def _trial_fact(row: TrialRow) -> str:
    parts = [f"myelonav rates you {row.verdict_text} for {row.nct_id}"]
    if row.is_sample:
        parts.append("it is a SAMPLE study, not a real trial")
    if row.to_check:
        parts.append(f"{row.to_check} item(s) to check with the study team")
    if row.nearest_site and row.miles is not None:
        parts.append(f"nearest open site {row.nearest_site}, {row.miles:.0f} miles away")
    return "; ".join(parts)


def build_questions(
    record: PatientRecord,
    as_of: dt.date,
    *,
    report: dict[str, Any] | None = None,
    trials: Sequence[TrialRow] = (),
    diary: Diary | None = None,
    picture: ClinicalPicture | None = None,
) -> list[Question]:
    """The personalised list, core questions first; never two with the same id or text."""
    picture = picture or clinical_picture(record, as_of)
    if report is None:
        report = options_report(record, as_of, "patient", picture)
    ctx = _Context(record, as_of, report, picture, lab_checks(picture), trials, diary)
    values, phrases = _rule_facts(ctx)
    out: list[Question] = []
    for t in question_content().questions:
        if t.trigger is Trigger.always:
            out.append(_make(t, _core_fact(t.id, ctx)))
        elif t.trigger is Trigger.fitting_option:
            for option_id, name in _fitting_treatments(report)[:MAX_COST_QUESTIONS]:
                shown = name[0].lower() + name[1:] if name.startswith(("A ", "An ")) else name
                help_text = _cost_fact(option_id, shown)
                if help_text:
                    out.append(_make(t, help_text, shown, f":{option_id}"))
        elif t.trigger is Trigger.matched_trial:
            rows = [r for r in trials if r.verdict != "likely_ineligible"]
            for row in rows[:MAX_TRIAL_QUESTIONS]:
                out.append(_make(t, _trial_fact(row), row.nct_id, f":{row.nct_id}"))
        elif evaluate(t.when, values) is Truth.true:
            fired = "; ".join(p for f in deciding_facts(t.when, values) if (p := phrases[f]))
            out.append(_make(t, fired))
    seen_ids: set[str] = set()
    seen_text: set[str] = set()
    unique = []
    for q in out:
        if q.id in seen_ids or q.text in seen_text:
            continue
        seen_ids.add(q.id)
        seen_text.add(q.text)
        unique.append(q)
    return unique


def render_markdown(questions: Sequence[Question], *, sample: bool = False) -> str:
    lines = ["# Questions for my next visit", ""]
    if sample:
        lines += ["**SAMPLE** - a fictional patient written for myelonav.", ""]
    for i, q in enumerate(questions, start=1):
        lines.append(f"{i}. **{q.text}**  ")
        lines.append(f"   _Why:_ {q.why}")
        for c in q.citations:
            lines.append(f"   _Source:_ {c}")
    return "\n".join(lines) + "\n"


def render_text(questions: Sequence[Question], *, sample: bool = False) -> str:
    lines = ["Questions for my next visit"]
    if sample:
        lines.append("[SAMPLE - a fictional patient written for myelonav]")
    for i, q in enumerate(questions, start=1):
        lines.append(f"{i:>2}. {q.text}")
        lines.append(f"    why: {q.why}")
    return "\n".join(lines) + "\n"


__all__ = ["Question", "build_questions", "render_markdown", "render_text"]
