"""Properties of IMWG 2016 read from a record (Kumar et al., Lancet Oncol 2016;17:e328-46).

* One assessment is the labs of one visit: moving SPEP, IFE, FLC and marrow around inside the
  visit's window never changes the best response.
* A lab drawn after progression was confirmed (or any non-response lab) never moves it.
"""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from myelonav.clinical.imwg import evaluate_record
from myelonav.clinical.thresholds import ASSESSMENT_WINDOW_DAYS
from myelonav.patient.models import (
    Analyte,
    HeavyChain,
    Isotype,
    LabResult,
    LightChain,
    PatientRecord,
    Qualitative,
    ResponseCategory,
)

START = dt.date(2025, 1, 10)
END = dt.date(2027, 1, 1)
SPACING = 2 * ASSESSMENT_WINDOW_DAYS  # visits this far apart never share a window

_MEASURES = (
    Analyte.serum_m_protein,
    Analyte.serum_immunofixation,
    Analyte.urine_immunofixation,
    Analyte.kappa_flc,
    Analyte.lambda_flc,
    Analyte.marrow_plasma_cells,
)


def _value(analyte: Analyte) -> st.SearchStrategy[float | Qualitative]:
    if analyte in (Analyte.serum_immunofixation, Analyte.urine_immunofixation):
        return st.sampled_from([Qualitative.positive, Qualitative.negative])
    if analyte is Analyte.serum_m_protein:
        return st.sampled_from([0.0, 0.1, 0.3, 0.6, 1.0, 1.5, 2.5, 4.0])
    if analyte is Analyte.marrow_plasma_cells:
        return st.sampled_from([0.0, 2.0, 4.0, 8.0, 20.0, 40.0])
    return st.sampled_from([5.0, 15.0, 40.0, 150.0, 400.0])


Visit = dict[Analyte, tuple[float | Qualitative, int]]  # value and day offset in the window


@st.composite
def visits(draw: st.DrawFn) -> list[Visit]:
    out: list[Visit] = []
    for _ in range(draw(st.integers(2, 7))):
        chosen = draw(st.lists(st.sampled_from(_MEASURES), min_size=1, max_size=6, unique=True))
        out.append(
            {a: (draw(_value(a)), draw(st.integers(0, ASSESSMENT_WINDOW_DAYS - 1))) for a in chosen}
        )
    return out


def _lab(analyte: Analyte, day: dt.date, value: float | Qualitative) -> LabResult:
    if isinstance(value, Qualitative):
        return LabResult(analyte=analyte, date=day, qualitative=value)
    return LabResult(analyte=analyte, date=day, value=value)


def _record(base: float, series: list[Visit], extra: list[LabResult] = ()) -> PatientRecord:  # type: ignore[assignment]
    labs = [_lab(Analyte.serum_m_protein, START - dt.timedelta(days=3), base)]
    labs += [_lab(Analyte.kappa_flc, START - dt.timedelta(days=3), 300.0)]
    labs += [_lab(Analyte.lambda_flc, START - dt.timedelta(days=3), 10.0)]
    for i, visit in enumerate(series):
        anchor = START + dt.timedelta(days=10 + SPACING * i)
        labs += [
            _lab(a, anchor + dt.timedelta(days=offset), value)
            for a, (value, offset) in visit.items()
        ]
    return PatientRecord(
        id="p",
        diagnosis={"isotype": Isotype(heavy_chain=HeavyChain.IgG, light_chain=LightChain.kappa)},
        labs=[*labs, *extra],
    )


@settings(max_examples=150, deadline=None)
@given(st.sampled_from([1.0, 2.0, 3.5, 6.0]), visits(), st.data())
def test_shuffling_dates_within_a_window_never_changes_the_best_response(
    base: float, series: list[Visit], data: st.DataObject
) -> None:
    shuffled: list[Visit] = []
    for visit in series:
        offsets = data.draw(st.permutations([offset for _, offset in visit.values()]))
        moved = data.draw(
            st.lists(
                st.integers(0, ASSESSMENT_WINDOW_DAYS - 1),
                min_size=len(visit),
                max_size=len(visit),
            )
            | st.just(offsets)
        )
        shuffled.append(
            {a: (value, new) for (a, (value, _)), new in zip(visit.items(), moved, strict=True)}
        )
    before = evaluate_record(_record(base, series), treatment_start=START, end=END)
    after = evaluate_record(_record(base, shuffled), treatment_start=START, end=END)
    assert before is not None and after is not None
    assert before.best_response == after.best_response
    assert [r.category for r in before.assessments] == [r.category for r in after.assessments]


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from([1.0, 2.0, 3.5, 6.0]),
    visits(),
    st.sampled_from(_MEASURES),
    st.data(),
)
def test_a_later_lab_never_moves_an_earlier_progression(
    base: float, series: list[Visit], analyte: Analyte, data: st.DataObject
) -> None:
    record = _record(base, series)
    first = evaluate_record(record, treatment_start=START, end=END)
    assert first is not None
    # a lab the response rules do not read, on any date, changes nothing
    day = START + dt.timedelta(days=data.draw(st.integers(-30, 400)))
    unrelated = _record(base, series, [_lab(Analyte.hemoglobin, day, 11.0)])
    again = evaluate_record(unrelated, treatment_start=START, end=END)
    assert again is not None and again.progression_date == first.progression_date
    if first.progression_date is None:
        return
    # a response lab drawn after the visit that confirmed progression does not move it
    dates = [r.date for r in first.assessments if r.category is not ResponseCategory.NE]
    confirming = next((d for d in dates if d > first.progression_date), first.progression_date)
    later = confirming + dt.timedelta(days=ASSESSMENT_WINDOW_DAYS + data.draw(st.integers(0, 200)))
    extra = _lab(analyte, later, data.draw(_value(analyte)))
    moved = evaluate_record(_record(base, series, [extra]), treatment_start=START, end=END)
    assert moved is not None and moved.progression_date == first.progression_date
