"""The polars cohort engine agrees with the scalar IMWG engine on every generated case."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from myelonav.clinical.cohort import MEASURES, category_of, evaluate_cohort
from myelonav.clinical.imwg import Assessment, ResponseResult, evaluate
from myelonav.patient.models import LightChain

D0 = dt.date(2024, 1, 1)


def _maybe(strategy: st.SearchStrategy[Any], p_none: float = 0.4) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy) if p_none else strategy


_serum = st.one_of(st.integers(0, 80).map(lambda i: i / 10), st.floats(0, 12, allow_nan=False))
_urine = st.one_of(st.integers(0, 40).map(lambda i: i * 50.0), st.floats(0, 3000))
_flc = st.one_of(st.integers(0, 400).map(lambda i: i * 5.0), st.floats(0, 5000))
_flag = st.sampled_from([True, False])


@st.composite
def assessment(draw: st.DrawFn, day: int, rich: bool) -> Assessment:
    return Assessment(
        date=D0 + dt.timedelta(days=day),
        serum_m=draw(_maybe(_serum, 0.3)),
        urine_m=draw(_maybe(_urine, 0.6)),
        kappa=draw(_maybe(_flc, 0.5)),
        lambda_=draw(_maybe(_flc, 0.5)),
        flc_ratio=draw(_maybe(st.floats(0.01, 50), 0.9)) if rich else None,
        serum_ife=draw(_maybe(_flag, 0.5)),
        urine_ife=draw(_maybe(_flag, 0.6)),
        marrow_pc=draw(_maybe(st.integers(0, 90).map(float), 0.7)),
        marrow_clonal=draw(_maybe(_flag, 0.7)) if rich else None,
        plasmacytoma_spd=draw(_maybe(st.integers(0, 40).map(lambda i: i / 2), 0.8))
        if rich
        else None,
        new_lesion=draw(_maybe(st.sampled_from([False, False, True]), 0.8)) if rich else None,
    )


@st.composite
def patient_case(
    draw: st.DrawFn,
) -> tuple[list[Assessment], dt.date | None, LightChain | None]:
    days = sorted(draw(st.sets(st.integers(0, 900), min_size=1, max_size=9)))
    rich = draw(st.booleans())
    items = [draw(assessment(d, rich)) for d in days]
    baseline = draw(st.one_of(st.none(), st.sampled_from(days).map(lambda d: D0 + dt.timedelta(d))))
    involved = draw(st.sampled_from([None, LightChain.kappa, LightChain.lambda_]))
    return items, baseline, involved


_FIELDS = {
    "serum_m": "serum_m",
    "urine_m": "urine_m",
    "kappa": "kappa",
    "lambda_": "lambda",
    "flc_ratio": "flc_ratio",
    "serum_ife": "serum_ife",
    "urine_ife": "urine_ife",
    "marrow_pc": "marrow_pc",
    "marrow_clonal": "marrow_clonal",
    "plasmacytoma_spd": "plasmacytoma_spd",
    "new_lesion": "new_lesion",
}


def to_long(
    cases: list[tuple[list[Assessment], dt.date | None, LightChain | None]],
) -> tuple[pl.DataFrame, pl.DataFrame]:
    rows: list[tuple[int, dt.date, str, float]] = []
    bases: list[tuple[int, dt.date, str | None]] = []
    for pid, (items, baseline, involved) in enumerate(cases):
        for a in items:
            for attr, measure in _FIELDS.items():
                value = getattr(a, attr)
                if value is not None:
                    rows.append((pid, a.date, measure, float(value)))
        first = min(a.date for a in items)
        bases.append((pid, baseline or first, involved.value if involved else None))
    long = pl.DataFrame(
        rows,
        schema={"patient": pl.Int64, "date": pl.Date, "measure": pl.String, "value": pl.Float64},
        orient="row",
    )
    base = pl.DataFrame(
        bases,
        schema={"patient": pl.Int64, "baseline_date": pl.Date, "involved": pl.String},
        orient="row",
    )
    return long, base


def _same(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=0, abs_tol=1e-12)


def assert_agree(scalar: ResponseResult, rows: pl.DataFrame, summary: dict[str, Any]) -> None:
    assert rows.height == len(scalar.assessments)
    for got, want in zip(rows.iter_rows(named=True), scalar.assessments, strict=True):
        assert got["date"] == want.date
        assert got["category"] == want.category.value, (got, want)
        assert got["rule"] == want.rule, (got, want)
        assert got["missing"] == want.missing, (got, want)
        assert got["relapse_from_cr"] == want.relapse_from_cr
        assert _same(got["nadir_serum"], want.nadir_serum)
        assert _same(got["nadir_urine"], want.nadir_urine)
        assert _same(got["nadir_dflc"], want.nadir_dflc)
    assert summary["path"] == scalar.baseline.path.value
    assert category_of(summary["best_rank"]) == scalar.best_response
    assert summary["best_response_date"] == scalar.best_response_date
    assert category_of(summary["best_unconfirmed_rank"]) == scalar.best_unconfirmed
    assert summary["progression_date"] == scalar.progression_date
    assert summary["pending_progression_date"] == scalar.pending_progression_date
    assert summary["relapse_from_cr_date"] == scalar.relapse_from_cr_date
    assert _same(summary["nadir_serum"], scalar.nadir_serum)
    assert _same(summary["nadir_urine"], scalar.nadir_urine)
    assert _same(summary["nadir_dflc"], scalar.nadir_dflc)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(patient_case(), min_size=1, max_size=6))
def test_cohort_agrees_with_scalar(
    cases: list[tuple[list[Assessment], dt.date | None, LightChain | None]],
) -> None:
    long, base = to_long(cases)
    rows, summary = evaluate_cohort(long, base)
    by_patient = {r["patient"]: r for r in summary.iter_rows(named=True)}
    for pid, (items, baseline, involved) in enumerate(cases):
        if all(a.is_empty() for a in items):
            assert rows.filter(pl.col("patient") == pid).height == 0
            continue
        scalar = evaluate(items, baseline or min(a.date for a in items), involved)
        assert_agree(scalar, rows.filter(pl.col("patient") == pid), by_patient[pid])


def test_default_baseline_is_first_date_and_involved_is_inferred() -> None:
    items = [
        Assessment(D0, serum_m=3.0),
        Assessment(D0 + dt.timedelta(30), serum_m=1.0),
        Assessment(D0 + dt.timedelta(60), serum_m=0.9),
    ]
    long, _ = to_long([(items, None, None)])
    rows, summary = evaluate_cohort(long)
    assert rows["category"].to_list() == ["PR", "PR"]
    assert summary["best_rank"][0] == 4  # PR confirmed on two assessments


def test_missing_column_is_named() -> None:
    import pytest

    from myelonav.errors import InputError

    with pytest.raises(InputError, match="measure"):
        evaluate_cohort(pl.DataFrame({"patient": [1], "date": [D0], "value": [1.0]}))


@st.composite
def long_patient_case(
    draw: st.DrawFn,
) -> tuple[list[Assessment], dt.date | None, LightChain | None]:
    """Up to 40 dates, so the nadir scan needs several doubling passes."""
    days = sorted(draw(st.sets(st.integers(0, 2000), min_size=1, max_size=40)))
    rich = draw(st.booleans())
    items = [draw(assessment(d, rich)) for d in days]
    involved = draw(st.sampled_from([None, LightChain.kappa, LightChain.lambda_]))
    return items, None, involved


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.one_of(patient_case(), long_patient_case()), min_size=1, max_size=8),
    st.integers(0, 2**32 - 1),
    st.sampled_from([1, 2, 3, 7, 1 << 20]),
)
def test_unsorted_rows_and_small_blocks_agree_with_scalar(
    cases: list[tuple[list[Assessment], dt.date | None, LightChain | None]],
    seed: int,
    block: int,
) -> None:
    """Rows in any order (the engine sorts them) and any block size give the scalar answer."""
    import myelonav.clinical.cohort._runs as runs

    long, base = to_long(cases)
    long = long.sample(fraction=1.0, shuffle=True, seed=seed)
    saved = runs.BLOCK
    runs.BLOCK = block
    try:
        rows, summary = evaluate_cohort(long, base)
    finally:
        runs.BLOCK = saved
    by_patient = {r["patient"]: r for r in summary.iter_rows(named=True)}
    for pid, (items, baseline, involved) in enumerate(cases):
        if all(a.is_empty() for a in items):
            assert rows.filter(pl.col("patient") == pid).height == 0
            continue
        scalar = evaluate(items, baseline or min(a.date for a in items), involved)
        assert_agree(scalar, rows.filter(pl.col("patient") == pid), by_patient[pid])


def test_same_day_repeat_takes_the_later_row_like_the_scalar_engine() -> None:
    items = [
        Assessment(D0, serum_m=3.0),
        Assessment(D0 + dt.timedelta(30), serum_m=1.0),
        Assessment(D0 + dt.timedelta(30), serum_m=2.9),  # later entry wins: no PR
        Assessment(D0 + dt.timedelta(60), serum_m=0.4),
        Assessment(D0 + dt.timedelta(60), serum_m=1.2),
    ]
    long, base = to_long([(items, None, None)])
    rows, summary = evaluate_cohort(long, base)
    scalar = evaluate(items, D0)
    assert [a.category.value for a in scalar.assessments] == ["SD", "PR"]
    assert_agree(scalar, rows, summary.row(0, named=True))


def test_null_value_means_not_measured() -> None:
    long = pl.DataFrame(
        {
            "patient": [1, 1, 1, 1],
            "date": [D0, D0 + dt.timedelta(9), D0 + dt.timedelta(9), D0 + dt.timedelta(20)],
            "measure": ["serum_m", "serum_m", "urine_m", "serum_m"],
            "value": [3.0, None, None, 1.0],
        }
    )
    rows, _ = evaluate_cohort(long)
    # The day with only nulls is not an assessment, as an empty Assessment is not one.
    assert rows["date"].to_list() == [D0 + dt.timedelta(20)]
    assert rows["category"].cast(pl.String).to_list() == ["PR"]


def test_measure_dtype_does_not_change_the_answer() -> None:
    items = [
        Assessment(D0, serum_m=3.0, kappa=400.0, lambda_=8.0),
        Assessment(D0 + dt.timedelta(30), serum_m=1.0, kappa=90.0, lambda_=8.0),
        Assessment(D0 + dt.timedelta(60), serum_m=2.0, serum_ife=True),
    ]
    long, _ = to_long([(items, None, None)])
    want, want_summary = evaluate_cohort(long)
    for dtype in (pl.Categorical, pl.Enum(list(MEASURES))):
        got, got_summary = evaluate_cohort(long.with_columns(pl.col("measure").cast(dtype)))
        assert got.equals(want)
        assert got_summary.equals(want_summary)


def test_bad_long_table_values_are_named() -> None:
    import pytest

    from myelonav.errors import InputError

    def one(measure: str | None, value: float) -> pl.DataFrame:
        return pl.DataFrame(
            {"patient": [1], "date": [D0], "measure": [measure], "value": [value]},
            schema={
                "patient": pl.Int64,
                "date": pl.Date,
                "measure": pl.String,
                "value": pl.Float64,
            },
        )

    with pytest.raises(InputError, match="unknown measure 'serum_mm'"):
        evaluate_cohort(one("serum_mm", 1.0))
    with pytest.raises(InputError, match="without a measure"):
        evaluate_cohort(one(None, 1.0))
    with pytest.raises(InputError, match="NaN"):
        evaluate_cohort(one("serum_m", float("nan")))


def test_bad_baselines_are_named() -> None:
    import pytest

    from myelonav.errors import InputError

    long, _ = to_long([([Assessment(D0, serum_m=3.0)], None, None)])
    twice = pl.DataFrame({"patient": [0, 0], "baseline_date": [D0, D0]})
    with pytest.raises(InputError, match="patient 0 twice"):
        evaluate_cohort(long, twice)
    odd = pl.DataFrame({"patient": [0], "baseline_date": [D0], "involved": ["kapa"]})
    with pytest.raises(InputError, match="'kapa'"):
        evaluate_cohort(long, odd)


def test_patient_in_baselines_without_assessments_is_reported_not_graded() -> None:
    long, _ = to_long(
        [
            (
                [Assessment(D0, serum_m=3.0), Assessment(D0 + dt.timedelta(30), serum_m=1.0)],
                None,
                None,
            )
        ]
    )
    base = pl.DataFrame({"patient": [0, 7], "baseline_date": [D0, D0]})
    rows, summary = evaluate_cohort(long, base)
    assert rows["patient"].to_list() == [0]
    assert summary["patient"].to_list() == [0, 7]
    assert summary["path"].cast(pl.String).to_list() == ["m_protein", "none"]
    assert summary["best_unconfirmed_rank"].to_list() == [4, None]


def test_very_uneven_visit_counts_agree_with_scalar() -> None:
    """One long-followed patient among short ones (the nadir scan's row-doubling fallback)."""
    long_series = [
        Assessment(
            D0 + dt.timedelta(days=30 * i),
            serum_m=round(4.0 - 0.3 * i + 0.5 * (i % 3), 1),
            urine_m=None if i % 4 else 300.0 + 10 * i,
        )
        for i in range(60)
    ]
    short = [
        [Assessment(D0, serum_m=2.0), Assessment(D0 + dt.timedelta(40), serum_m=float(k))]
        for k in range(6)
    ]
    cases: list[tuple[list[Assessment], dt.date | None, LightChain | None]] = [
        (items, None, None) for items in [short[0], long_series, *short[1:]]
    ]
    long, base = to_long(cases)
    rows, summary = evaluate_cohort(long, base)
    by_patient = {r["patient"]: r for r in summary.iter_rows(named=True)}
    for pid, (items, _, _) in enumerate(cases):
        scalar = evaluate(items, min(a.date for a in items))
        assert_agree(scalar, rows.filter(pl.col("patient") == pid), by_patient[pid])


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.one_of(patient_case(), long_patient_case()), min_size=1, max_size=8),
    st.booleans(),
    st.booleans(),
)
def test_kernel_and_polars_stages_give_identical_frames(
    cases: list[tuple[list[Assessment], dt.date | None, LightChain | None]],
    with_baselines: bool,
    string_ids: bool,
) -> None:
    """The compiled one-pass kernel and the staged polars engine return equal frames."""
    import pytest

    from myelonav.clinical.cohort import _kernel

    if not _kernel.HAVE_NUMBA:
        pytest.skip("numba is not installed: only the polars stages run")
    long, base = to_long(cases)
    if string_ids:
        long = long.with_columns(pl.format("p{}", pl.col("patient")).alias("patient"))
        base = base.with_columns(pl.format("p{}", pl.col("patient")).alias("patient"))
    kernel = evaluate_cohort(long, base if with_baselines else None, engine="kernel")
    stages = evaluate_cohort(long, base if with_baselines else None, engine="polars")
    assert kernel[0].equals(stages[0]), (kernel[0], stages[0])
    assert kernel[1].equals(stages[1]), (kernel[1], stages[1])
    assert kernel[0].schema == stages[0].schema
    assert kernel[1].schema == stages[1].schema


def test_kernel_takes_datetime_dates_and_unlisted_patients() -> None:
    """Datetime dates, a patient listed without rows and one with rows but not listed."""
    items = [
        Assessment(D0, serum_m=3.0, kappa=400.0, lambda_=8.0),
        Assessment(D0 + dt.timedelta(30), serum_m=1.0, kappa=90.0, lambda_=8.0),
        Assessment(D0 + dt.timedelta(60), serum_m=2.0, serum_ife=True),
    ]
    long, _ = to_long([(items, None, None), (items, None, None)])
    long = long.with_columns(pl.col("date").cast(pl.Datetime("us")))
    base = pl.DataFrame(
        {
            "patient": [0, 5],
            "baseline_date": [dt.datetime(2024, 1, 1)] * 2,
            "involved": [None, "kappa"],
        }
    )
    for baselines in (None, base):
        want = evaluate_cohort(long, baselines, engine="polars")
        got = evaluate_cohort(long, baselines)
        assert got[0].equals(want[0]) and got[1].equals(want[1])


def test_without_numba_the_polars_stages_run(monkeypatch: Any) -> None:
    import pytest

    from myelonav.clinical.cohort import _kernel
    from myelonav.errors import InputError

    items = [Assessment(D0, serum_m=3.0), Assessment(D0 + dt.timedelta(30), serum_m=1.0)]
    long, _ = to_long([(items, None, None)])
    want = evaluate_cohort(long, engine="polars")
    monkeypatch.setattr(_kernel, "HAVE_NUMBA", False)
    got = evaluate_cohort(long)
    assert got[0].equals(want[0]) and got[1].equals(want[1])
    with pytest.raises(InputError, match="numba"):
        evaluate_cohort(long, engine="kernel")
