"""Property tests for the scalar IMWG engine: monotonic series, noise and missing values."""

from __future__ import annotations

import datetime as dt
import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from myelonav.clinical.imwg import Assessment, Missing, evaluate
from myelonav.patient.models import RESPONSE_ORDER, ResponseCategory

D = dt.date(2025, 1, 1)
_values = st.floats(0, 10, allow_nan=False, allow_infinity=False)


def series(values: list[float]) -> list[Assessment]:
    return [Assessment(D + dt.timedelta(days=30 * i), serum_m=v) for i, v in enumerate(values)]


@settings(max_examples=200, deadline=None)
@given(st.floats(1, 10), st.lists(_values, min_size=1, max_size=10))
def test_falling_serum_never_progresses_and_never_gets_worse(
    base: float, rest: list[float]
) -> None:
    values = [base, *sorted((min(v, base) for v in rest), reverse=True)]
    r = evaluate(series(values))
    ranks = [RESPONSE_ORDER[a.category] for a in r.assessments]
    assert ResponseCategory.PD not in [a.category for a in r.assessments]
    assert ranks == sorted(ranks)
    assert r.progression_date is None


@settings(max_examples=200, deadline=None)
@given(st.floats(1, 10), st.lists(st.floats(0, 5), min_size=2, max_size=10))
def test_rising_serum_is_never_a_response(base: float, steps: list[float]) -> None:
    values = [base]
    for step in steps:
        values.append(values[-1] + step)
    r = evaluate(series(values))
    assert all(a.category in (ResponseCategory.SD, ResponseCategory.PD) for a in r.assessments)
    # a rise of >= 0.5 g/dL and >= 25% over baseline (the nadir) is always PD
    for a, v in zip(r.assessments, values[1:], strict=True):
        if v - base >= max(0.5, 0.25 * base) + 1e-6:
            assert a.category is ResponseCategory.PD


@settings(max_examples=200, deadline=None)
@given(st.floats(1, 10), st.lists(_values, min_size=1, max_size=10), st.data())
def test_dropping_the_serum_value_gives_ne_unless_other_measures_decide(
    base: float, rest: list[float], data: st.DataObject
) -> None:
    items = series([base, *rest])
    i = data.draw(st.integers(1, len(items) - 1))
    items[i] = Assessment(items[i].date, serum_ife=True)
    r = evaluate(items)
    row = r.assessments[i - 1]
    assert row.category is ResponseCategory.NE
    assert row.missing == Missing.SERUM_M


@settings(max_examples=300, deadline=None)
@given(st.floats(1, 10), st.lists(st.one_of(st.none(), _values), min_size=1, max_size=12))
def test_summary_invariants_on_noisy_series_with_gaps(
    base: float, rest: list[float | None]
) -> None:
    items = [Assessment(D, serum_m=base)] + [
        Assessment(D + dt.timedelta(days=30 * (i + 1)), serum_m=v, serum_ife=True)
        for i, v in enumerate(rest)
    ]
    r = evaluate(items)
    rows = r.assessments
    evaluable = [a for a in rows if a.category is not ResponseCategory.NE]
    if r.progression_date is not None:
        i = next(k for k, a in enumerate(evaluable) if a.date == r.progression_date)
        assert evaluable[i].category is ResponseCategory.PD
        assert evaluable[i + 1].category is ResponseCategory.PD
        assert not any(
            a.category is ResponseCategory.PD and b.category is ResponseCategory.PD
            for a, b in itertools.pairwise(evaluable[: i + 1])
        )
    if r.best_response is not None:
        assert r.best_response_date is not None
        assert r.progression_date is None or r.best_response_date < r.progression_date
        assert r.best_unconfirmed is not None
        assert RESPONSE_ORDER[r.best_response] <= RESPONSE_ORDER[r.best_unconfirmed]
    for a in rows:
        assert a.nadir_serum is not None and a.nadir_serum <= base
        assert (a.category is ResponseCategory.NE) == (a.missing == Missing.SERUM_M)
    observed = [x for x in rest if x is not None]
    assert r.nadir_serum is not None and r.nadir_serum <= base
    assert r.nadir_serum >= min([base, *observed])
