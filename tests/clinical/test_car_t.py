"""Derived CAR T facts: best response, progression, TTP, DOR, relapse class."""

from __future__ import annotations

import datetime as dt

from myelonav.clinical.car_t import RelapseClass, add_months, car_t_facts, months_between
from myelonav.patient.models import (
    Analyte,
    CarTEpisode,
    Diagnosis,
    HeavyChain,
    Isotype,
    LabResult,
    LightChain,
    PatientRecord,
    Qualitative,
    ResponseCategory,
    TherapyLine,
)

INFUSION = dt.date(2025, 9, 2)
AS_OF = dt.date(2026, 11, 25)


def record(
    mprotein: dict[str, float],
    *,
    best: ResponseCategory | None = None,
    progression: dt.date | None = None,
    next_line: dt.date | None = None,
) -> PatientRecord:
    labs = [
        LabResult(analyte=Analyte.serum_m_protein, date=dt.date.fromisoformat(d), value=v)
        for d, v in mprotein.items()
    ]
    labs += [
        LabResult(analyte=Analyte.serum_immunofixation, date=dt.date(2026, 2, 1),
                  qualitative=Qualitative.positive)
    ]
    lines = [TherapyLine(agents=["talquetamab"], start=next_line)] if next_line else []
    return PatientRecord(
        id="c1",
        diagnosis=Diagnosis(isotype=Isotype(heavy_chain=HeavyChain.IgG,
                                            light_chain=LightChain.kappa)),
        car_t=[CarTEpisode(product="idecabtagene vicleucel", infusion_date=INFUSION,
                           best_response=best, progression_date=progression)],
        therapy_lines=lines,
        labs=labs,
    )


D1 = {"2025-08-25": 1.9, "2025-10-01": 0.6, "2025-12-01": 0.2, "2026-02-01": 0.1,
      "2026-04-01": 0.1, "2026-06-01": 0.7, "2026-07-01": 1.0, "2026-10-10": 1.6}


def test_late_relapse_after_vgpr() -> None:
    r = record(D1)
    facts = car_t_facts(r, r.car_t[0], as_of=AS_OF)
    assert facts.best_response is ResponseCategory.VGPR
    assert facts.progression_date == dt.date(2026, 6, 1)
    assert facts.progression_source == "computed"
    assert facts.relapse_class is RelapseClass.late_relapse  # 9 months after infusion
    assert facts.time_to_progression_months == 8.9  # 272 days
    assert facts.first_response_date == dt.date(2025, 10, 1)
    assert facts.duration_of_response_months == 8.0
    assert any("no progression date" in d for d in facts.disagreements)


def test_recorded_values_are_reported_and_disagreement_named() -> None:
    r = record(D1, best=ResponseCategory.CR, progression=dt.date(2026, 7, 1))
    facts = car_t_facts(r, r.car_t[0], as_of=AS_OF)
    assert facts.best_response_recorded is ResponseCategory.CR
    assert facts.progression_date_recorded == dt.date(2026, 7, 1)
    assert len(facts.disagreements) == 2


def test_early_relapse_and_configurable_cutoff() -> None:
    series = {"2025-08-25": 2.0, "2025-10-01": 0.8, "2025-11-01": 0.8, "2026-01-15": 1.5,
              "2026-02-01": 1.8}
    r = record(series)
    facts = car_t_facts(r, r.car_t[0], as_of=AS_OF)
    assert facts.best_response is ResponseCategory.PR
    assert facts.progression_date == dt.date(2026, 1, 15)
    assert facts.relapse_class is RelapseClass.early_relapse
    assert car_t_facts(r, r.car_t[0], as_of=AS_OF, early_relapse_months=4).relapse_class is (
        RelapseClass.late_relapse
    )


def test_primary_refractory() -> None:
    series = {"2025-08-25": 2.0, "2025-10-01": 1.8, "2025-11-01": 2.6, "2025-12-01": 3.0}
    r = record(series)
    facts = car_t_facts(r, r.car_t[0], as_of=AS_OF)
    assert facts.progression_date == dt.date(2025, 11, 1)
    assert facts.relapse_class is RelapseClass.primary_refractory
    assert facts.duration_of_response_months is None


def test_labs_after_next_therapy_are_not_counted() -> None:
    r = record(D1, next_line=dt.date(2026, 5, 1))
    facts = car_t_facts(r, r.car_t[0], as_of=AS_OF)
    assert facts.progression_date is None
    assert facts.relapse_class is RelapseClass.no_progression
    assert facts.window_end == dt.date(2026, 5, 1)


def test_no_baseline_falls_back_to_recorded() -> None:
    r = record({"2026-01-01": 0.5, "2026-02-01": 0.4}, best=ResponseCategory.VGPR,
               progression=dt.date(2026, 3, 1))
    facts = car_t_facts(r, r.car_t[0], as_of=AS_OF)
    assert facts.response is None and any("baseline" in n for n in facts.notes)
    assert facts.progression_source == "recorded"
    assert facts.relapse_class is RelapseClass.early_relapse  # 6 months minus a day


def test_month_helpers() -> None:
    assert add_months(dt.date(2025, 8, 31), 6) == dt.date(2026, 2, 28)
    assert months_between(dt.date(2025, 1, 1), dt.date(2026, 1, 1)) == 12.0
