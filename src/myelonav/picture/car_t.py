"""How the most recent CAR T went, in the terms the options engine's facts use.

A thin view over ``clinical.car_t.car_t_facts`` (IMWG 2016 response and progression, relapse
class with the cited 6-month cut-off): it maps the relapse class to the knowledge base's
``car_t_relapse_class`` values and words the result for the fact's source line.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from myelonav.clinical.car_t import RelapseClass, car_t_facts
from myelonav.patient.models import CarTEpisode, PatientRecord, ResponseCategory

_CLASS_FACT = {
    RelapseClass.primary_refractory: "primary_refractory",
    RelapseClass.early_relapse: "early",
    RelapseClass.late_relapse: "late",
}
_UNDECIDED = {
    RelapseClass.no_progression: "no progression after CAR T is documented in the record",
    RelapseClass.no_response_yet: "no response and no confirmed progression yet after CAR T",
    RelapseClass.undetermined: "the response to CAR T cannot be judged from the record",
}


@dataclass(frozen=True)
class CarTOutcome:
    product: str
    infusion_date: dt.date
    best_response: ResponseCategory | None
    best_response_source: str
    progression_date: dt.date | None
    progression_source: str
    months_to_progression: float | None
    relapse_class: str | None  # primary_refractory | early | late | None when undecided
    explanation: str
    biochemical_progression: bool | None
    notes: list[str] = field(default_factory=list)


def car_t_outcome(record: PatientRecord, episode: CarTEpisode, as_of: dt.date) -> CarTOutcome:
    derived = car_t_facts(record, episode, as_of=as_of)
    best = derived.best_response or derived.best_response_recorded
    best_source = (
        "from labs (IMWG 2016)" if derived.best_response else "as recorded" if best else "unknown"
    )
    progression = derived.progression_date
    progression_source = {"computed": "from labs (IMWG 2016)", "recorded": "as recorded"}.get(
        derived.progression_source or "", "unknown"
    )
    relapse = _CLASS_FACT.get(derived.relapse_class)
    months = derived.time_to_progression_months
    if derived.relapse_class is RelapseClass.primary_refractory:
        explanation = (
            f"best response after {episode.product} was "
            f"{best.value if best else 'below PR'} ({best_source}), never a partial "
            "response: primary refractory"
        )
    elif relapse is not None:
        explanation = (
            f"progression {progression} ({progression_source}), {months:.1f} months "
            f"after the infusion on {episode.infusion_date}: {relapse} relapse "
            f"(cut-off {derived.early_relapse_months} months)"
        )
    elif derived.not_evaluable:
        explanation = f"the response to CAR T is not evaluable: {derived.not_evaluable}"
    else:
        explanation = _UNDECIDED.get(
            derived.relapse_class, "the response to CAR T cannot be judged from the record"
        )
    biochemical: bool | None = None
    if derived.response is not None:
        rows = [r for r in derived.response.assessments if r.category is not ResponseCategory.NE]
        if rows:
            biochemical = any(
                r.category is ResponseCategory.PD and "lesion" not in r.rule for r in rows[-2:]
            )
    return CarTOutcome(
        product=episode.product,
        infusion_date=episode.infusion_date,
        best_response=best,
        best_response_source=best_source,
        progression_date=progression,
        progression_source=progression_source,
        months_to_progression=round(months, 1) if months is not None else None,
        relapse_class=relapse,
        explanation=explanation,
        biochemical_progression=biochemical,
        notes=[*derived.disagreements, *derived.notes],
    )


__all__ = ["CarTOutcome", "car_t_outcome"]
