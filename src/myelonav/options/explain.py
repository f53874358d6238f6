"""Why the CAR T may not have held: the computed outcome plus the curated explanations that
apply to this patient's facts (``knowledge/data/failure_explanations.yaml``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from myelonav.knowledge.explanations import bundled_explanations
from myelonav.options.engine import Audience, format_citation
from myelonav.options.facts import Facts
from myelonav.options.rules import Truth, evaluate
from myelonav.picture import CarTOutcome


def explain_failure(facts: Facts, audience: Audience = "patient") -> dict[str, Any]:
    """A JSON-ready account of how the most recent CAR T went and why it may have failed."""
    outcome = facts.car_t
    entries = []
    for entry in bundled_explanations().explanations:
        if evaluate(entry.applies_when, facts.values) is not Truth.true:
            continue
        entries.append(
            {
                "id": entry.id,
                "title": entry.title_patient,
                "text": entry.patient if audience == "patient" else entry.clinician,
                "citations": [format_citation(c) for c in entry.citations],
            }
        )
    if outcome is None:
        return {"car_t": None, "explanations": entries}
    said = _dates_as_given(facts)
    summary = outcome.explanation if audience == "clinician" else _plain_summary(outcome, said)
    return {
        "car_t": {
            "product": outcome.product,
            "infusion_date": outcome.infusion_date.isoformat(),
            "best_response": outcome.best_response.value if outcome.best_response else None,
            "best_response_source": outcome.best_response_source,
            "progression_date": outcome.progression_date.isoformat()
            if outcome.progression_date
            else None,
            "progression_source": outcome.progression_source,
            "months_to_progression": outcome.months_to_progression,
            "relapse_class": outcome.relapse_class,
            "summary": summary,
            "notes": outcome.notes,
        },
        "explanations": entries,
    }


def _day(day: dt.date) -> str:
    return f"{day:%B} {day.day}, {day.year}"


def _dates_as_given(facts: Facts) -> dict[str, str]:
    """Dates the person gave with less than a day's precision ("March 2026"), by intake
    field, so the plain summary never shows the stored middle of the month as known."""
    record = facts.picture.record if facts.picture is not None else None
    if record is None:
        return {}
    return {
        n.path.removeprefix("intake."): n.text
        for n in record.unmapped
        if n.path in ("intake.car_t_date", "intake.progression_date") and n.text
    }


def _when(day: dt.date, given: str | None) -> str:
    return f"in {given}" if given else f"on {_day(day)}"


def _plain_summary(outcome: CarTOutcome, said: dict[str, str] | None = None) -> str:
    """The CAR T course in plain words (the clinician voice keeps the IMWG wording)."""
    said = said or {}
    infused = (
        f"You had CAR T ({outcome.product}) {_when(outcome.infusion_date, said.get('car_t_date'))}."
    )
    if outcome.relapse_class == "primary_refractory":
        return f"{infused} Your myeloma did not shrink by half or more after it."
    if outcome.progression_date is not None and outcome.months_to_progression is not None:
        # a date told vaguely is shown as told; one computed from labs as its day
        recorded = outcome.progression_source == "as recorded"
        progressed = said.get("progression_date") if recorded else None
        months = round(outcome.months_to_progression)
        about = (
            "less than a month"
            if months < 1
            else ("about 1 month" if months == 1 else f"about {months} months")
        )
        return (
            f"{infused} Your blood tests or scans showed the myeloma growing again "
            f"{_when(outcome.progression_date, progressed)}, {about} later."
        )
    return f"{infused} Your record does not show when, or whether, the myeloma came back."


__all__ = ["explain_failure"]
