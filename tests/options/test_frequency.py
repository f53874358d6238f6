"""The one natural-frequency formatter: never "0 in 10" for a positive rate, rounding that is
the same everywhere, and the study size always shown (or said to be missing)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from myelonav.options.frequency import (
    SMALL_GROUP,
    in_ten,
    median_words,
    natural_frequency,
    patient_figures,
)

PCT = st.floats(min_value=0, max_value=100, allow_nan=False)
SIZES = st.one_of(st.none(), st.integers(min_value=1, max_value=5000))
DESIGNS = st.sampled_from([None, "phase_1", "phase_2", "phase_3", "retrospective", "case_series"])


@given(PCT, SIZES, DESIGNS)
def test_a_positive_rate_is_never_none_or_zero(
    pct: float, n: int | None, design: str | None
) -> None:
    text = natural_frequency(pct, n, design=design)
    if pct > 0:
        assert " 0 in 10" not in text and not text.startswith("0 ")
        assert "about 0 " not in text and not text.startswith("none")
    if pct < 100:
        assert "10 in 10" not in text and not text.startswith("all")


@given(PCT, SIZES, DESIGNS)
def test_the_study_size_is_always_shown(pct: float, n: int | None, design: str | None) -> None:
    text = natural_frequency(pct, n, design=design)
    if n is None:
        assert "did not report how many" in text
    else:
        assert f"{n:,} people" in text or (n == 1 and "1 person" in text)


@given(PCT)
def test_rounding_is_half_up_and_consistent(pct: float) -> None:
    k = in_ten(pct)
    if 5 <= pct < 95:
        assert k == math.floor(pct / 10 + 0.5)
        assert f"about {k} in 10 of 200 people" == natural_frequency(pct, 200)
    assert in_ten(pct) == k  # the same answer every time it is asked


@given(PCT, PCT)
def test_more_is_never_fewer(a: float, b: float) -> None:
    low, high = sorted((a, b))
    assert in_ten(low) <= in_ten(high)


@given(st.floats(min_value=0.01, max_value=99.99), st.integers(1, SMALL_GROUP - 1))
def test_small_groups_are_counts_with_a_hedge(pct: float, n: int) -> None:
    text = natural_frequency(pct, n)
    assert "in 10" not in text and "less certain" in text


def test_examples() -> None:
    assert natural_frequency(58, 190) == "about 6 in 10 of 190 people"
    assert natural_frequency(65, 190) == "about 7 in 10 of 190 people"
    assert natural_frequency(3, 190) == "fewer than 1 in 10 of 190 people"
    assert natural_frequency(72.2, None, what="responded") == (
        "about 7 in 10 people responded (the study did not report how many took part)"
    )
    assert natural_frequency(54, 24, what="responded") == (
        "about 13 of 24 people responded (a small group, so the result is less certain)"
    )
    with pytest.raises(ValueError):
        in_ten(101)


def test_medians_in_words() -> None:
    assert median_words("median_pfs_months", 7.7) == (
        "half of people were still free of progression (the myeloma had not grown) at 7.7 months"
    )
    assert "when the study last checked" in median_words("median_os_months", "not_reached")
    with pytest.raises(ValueError):
        median_words("median_os_months", "soon")


def test_survival_only_when_asked() -> None:
    figures: dict[str, float | str] = {"orr_pct": 72.2, "median_os_months": 17.9}
    without = patient_figures(figures, 190, "phase_2", survival=False)
    assert without == ["about 7 in 10 of 190 people responded"]
    assert any("alive" in line for line in patient_figures(figures, 190, None, survival=True))
    assert not any("_" in line or "pct" in line for line in without)
