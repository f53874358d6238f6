"""Derived facts for one CAR T episode: how deep the response went and how long it held.

Response and progression follow IMWG 2016 (Kumar et al., Lancet Oncol 2016;17:e328-46) via
``myelonav.clinical.imwg.evaluate_record``: baseline = the latest response assessment on or
before the infusion (within ``baseline_lookback_days``); the assessments counted are those after
infusion up to and including the day the next therapy starts (IMWG: "before the institution of
any new therapy"; labs drawn that day are its pre-treatment assessment). CRS/ICANS treatment
(``patient.lines.is_car_t_supportive_care``) is not a next therapy.

Relapse class:

* ``primary_refractory`` — progression without ever reaching a confirmed PR or better;
* ``early_relapse`` — response >= PR, then progression less than ``early_relapse_months``
  (default ``thresholds.EARLY_RELAPSE_MONTHS`` = 6) after infusion;
* ``late_relapse`` — response >= PR, then progression at or after that cut-off;
* ``no_progression`` — no confirmed progression in the window; ``no_response_yet`` — no
  progression and no confirmed PR yet; ``undetermined`` — the data cannot say.

Not evaluable is never primary refractory: with no measurable disease at baseline, or when a
measure needed to grade the response (e.g. a measurable urine M-protein) was never repeated,
no response level is known, so the class is ``undetermined`` and ``not_evaluable`` says which
measurement is missing (unless the record states the best response).
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum

from myelonav.clinical import thresholds as t
from myelonav.clinical.imwg import Path, ResponseResult, evaluate_record, missing_labels
from myelonav.patient.lines import is_car_t_supportive_care
from myelonav.patient.models import (
    RESPONSE_ORDER,
    CarTEpisode,
    PatientRecord,
    ResponseCategory,
)

DAYS_PER_MONTH = 365.25 / 12


class RelapseClass(StrEnum):
    primary_refractory = "primary_refractory"
    early_relapse = "early_relapse"
    late_relapse = "late_relapse"
    no_progression = "no_progression"
    no_response_yet = "no_response_yet"
    undetermined = "undetermined"


@dataclass(frozen=True, slots=True)
class CarTFacts:
    product: str
    infusion_date: dt.date
    window_end: dt.date | None
    baseline_date: dt.date | None
    response: ResponseResult | None
    best_response: ResponseCategory | None
    best_response_recorded: ResponseCategory | None
    progression_date: dt.date | None
    progression_date_recorded: dt.date | None
    progression_source: str | None  # "computed" or "recorded"
    first_response_date: dt.date | None
    time_to_progression_months: float | None
    duration_of_response_months: float | None
    relapse_class: RelapseClass
    early_relapse_months: int
    disagreements: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    not_evaluable: str | None = None  # why the response cannot be graded, naming the measure
    relapse_from_cr_date: dt.date | None = None  # IFE/marrow back after CR; not PD by itself


def add_months(day: dt.date, months: int) -> dt.date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def months_between(start: dt.date, end: dt.date) -> float:
    return round((end - start).days / DAYS_PER_MONTH, 1)


def _next_therapy_start(record: PatientRecord, episode: CarTEpisode) -> dt.date | None:
    starts = [
        line.start
        for line in record.therapy_lines
        if line.start is not None
        and line.start > episode.infusion_date
        and not is_car_t_supportive_care(line, record)
    ]
    starts += [c.infusion_date for c in record.car_t if c.infusion_date > episode.infusion_date]
    return min(starts, default=None)


def car_t_facts(
    record: PatientRecord,
    episode: CarTEpisode,
    *,
    as_of: dt.date,
    early_relapse_months: int = t.EARLY_RELAPSE_MONTHS,
    baseline_lookback_days: int = 60,
) -> CarTFacts:
    """Best response, progression, TTP, DOR and relapse class for ``episode`` as of ``as_of``."""
    notes: list[str] = []
    next_start = _next_therapy_start(record, episode)
    if next_start is not None and next_start <= as_of:
        window_end = next_start
        notes.append(f"assessments after {next_start} follow the next therapy and are not counted")
    else:
        window_end = as_of
    response = evaluate_record(
        record,
        treatment_start=episode.infusion_date,
        end=window_end,
        lookback_days=baseline_lookback_days,
    )
    baseline_date: dt.date | None = None
    not_evaluable: str | None = None
    if response is None:
        notes.append(
            f"no response labs in the {baseline_lookback_days} days before infusion: "
            "no IMWG baseline, so response and progression are not computed"
        )
        not_evaluable = (
            f"no serum/urine M-protein, free light chains or marrow in the "
            f"{baseline_lookback_days} days before infusion"
        )
    else:
        baseline_date = response.baseline.date
        notes.extend(response.notes)
        not_evaluable = _not_evaluable(response)

    best = response.best_response if response else None
    computed_prog = response.progression_date if response else None
    recorded_prog = episode.progression_date
    if recorded_prog is not None and recorded_prog > as_of:
        recorded_prog = None
    disagreements: list[str] = []
    if episode.best_response is not None and best is not None and episode.best_response != best:
        disagreements.append(
            f"best response recorded as {episode.best_response.value}, computed "
            f"{best.value} from the labs"
        )
    if recorded_prog is not None and computed_prog is not None and recorded_prog != computed_prog:
        disagreements.append(
            f"progression recorded on {recorded_prog}, computed {computed_prog} "
            "(first of two consecutive PD assessments)"
        )
    elif recorded_prog is not None and computed_prog is None and response is not None:
        disagreements.append(
            f"progression recorded on {recorded_prog} but the labs do not show confirmed PD"
        )
    elif recorded_prog is None and computed_prog is not None and episode.progression_date is None:
        disagreements.append(
            f"the labs show progression on {computed_prog}; the profile records no progression date"
        )

    progression = computed_prog or recorded_prog
    source = "computed" if computed_prog else ("recorded" if recorded_prog else None)
    best_for_class = best if best is not None else episode.best_response
    responded = (
        best_for_class is not None
        and RESPONSE_ORDER[best_for_class] >= RESPONSE_ORDER[ResponseCategory.PR]
    )
    first_response: dt.date | None = None
    if response is not None:
        first_response = next(
            (
                r.date
                for r in response.assessments
                if RESPONSE_ORDER[r.category] >= RESPONSE_ORDER[ResponseCategory.PR]
                and (progression is None or r.date < progression)
            ),
            None,
        )
    ttp = months_between(episode.infusion_date, progression) if progression else None
    dor = (
        months_between(first_response, progression)
        if progression and first_response and responded
        else None
    )
    unconfirmed = response.best_unconfirmed if response else None
    glimpsed = unconfirmed is not None and (
        RESPONSE_ORDER[unconfirmed] >= RESPONSE_ORDER[ResponseCategory.PR]
    )
    if not_evaluable is not None and episode.best_response is None:
        relapse = RelapseClass.undetermined
        notes.append(f"response not evaluable: {not_evaluable}")
    elif progression is not None:
        if not responded and glimpsed:
            relapse = RelapseClass.undetermined
            notes.append("a response >= PR was seen once but not confirmed before progression")
        elif best_for_class is None and response is None:
            relapse = RelapseClass.undetermined
            notes.append("best response unknown: cannot tell refractory from relapse")
        elif not responded:
            relapse = RelapseClass.primary_refractory
        elif progression < add_months(episode.infusion_date, early_relapse_months):
            relapse = RelapseClass.early_relapse
        else:
            relapse = RelapseClass.late_relapse
    elif response is None and episode.best_response is None:
        relapse = RelapseClass.undetermined
    elif responded:
        relapse = RelapseClass.no_progression
    elif response is not None and response.pending_progression_date is not None:
        relapse = RelapseClass.undetermined
    else:
        relapse = RelapseClass.no_response_yet
    return CarTFacts(
        product=episode.product,
        infusion_date=episode.infusion_date,
        window_end=window_end,
        baseline_date=baseline_date,
        response=response,
        best_response=best,
        best_response_recorded=episode.best_response,
        progression_date=progression,
        progression_date_recorded=episode.progression_date,
        progression_source=source,
        first_response_date=first_response,
        time_to_progression_months=ttp,
        duration_of_response_months=dor,
        relapse_class=relapse,
        early_relapse_months=early_relapse_months,
        disagreements=disagreements,
        notes=notes,
        not_evaluable=not_evaluable,
        relapse_from_cr_date=response.relapse_from_cr_date if response else None,
    )


def _not_evaluable(response: ResponseResult) -> str | None:
    """Why no response level can be graded, or None when one can (or one was reached)."""
    b = response.baseline
    if not b.has_any:
        return "no baseline serum/urine M-protein, free light chains or marrow before infusion"
    if b.path is Path.none:
        return (
            "no measurable disease at baseline (serum M-protein < 1 g/dL, urine M-protein "
            "< 200 mg/24 h, involved free light chain < 100 mg/L, marrow plasma cells < 30 %)"
        )
    if response.best_response is not None:
        return None
    cut = response.progression_date
    before = [r for r in response.assessments if cut is None or r.date < cut]
    if not before or any(r.category is not ResponseCategory.NE for r in before):
        return None
    bits = 0
    for r in before:
        bits |= r.missing
    what = ", ".join(missing_labels(bits)) or "a measurement"
    return f"every assessment after infusion lacks {what} measured at baseline"


__all__ = ["CarTFacts", "RelapseClass", "add_months", "car_t_facts", "months_between"]
