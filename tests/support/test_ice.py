"""ICE self-check: the 10 published points, ASTCT bands, and triage of any drop."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from myelonav.errors import InputError
from myelonav.support.ice import ice_spec, score_ice
from myelonav.support.triage import Urgency

FULL = {"orientation": 4, "naming": 3, "commands": 1, "writing": 1, "attention": 1}


def test_items_are_the_published_ice_points() -> None:
    points = {i.id: i.points for i in ice_spec().items}
    assert points == FULL
    assert sum(points.values()) == 10


def test_full_score_is_no_impairment() -> None:
    r = score_ice(FULL)
    assert r.score == 10
    assert r.band.astct_icans_grade is None
    assert r.triage.urgency is Urgency.mention_next_visit


@pytest.mark.parametrize(
    ("score_drop", "grade", "urgency"),
    [
        (1, 1, Urgency.call_team_now),
        (3, 1, Urgency.call_team_now),
        (4, 2, Urgency.emergency),
        (7, 2, Urgency.emergency),
        (8, 3, Urgency.emergency),
    ],
)
def test_bands_follow_astct(score_drop: int, grade: int, urgency: Urgency) -> None:
    answers = dict(FULL)
    left = score_drop
    for key in ("orientation", "naming", "commands", "writing", "attention"):
        take = min(left, answers[key])
        answers[key] -= take
        left -= take
    r = score_ice(answers)
    assert r.score == 10 - score_drop
    assert r.band.astct_icans_grade == grade
    assert r.triage.urgency is urgency


def test_missing_and_out_of_range_items_are_named() -> None:
    with pytest.raises(InputError, match="attention"):
        score_ice({k: v for k, v in FULL.items() if k != "attention"})
    with pytest.raises(InputError, match="orientation"):
        score_ice({**FULL, "orientation": 5})
    with pytest.raises(InputError, match="unknown ICE item"):
        score_ice({**FULL, "mood": 1})


@given(
    o=st.integers(0, 4),
    n=st.integers(0, 3),
    c=st.integers(0, 1),
    w=st.integers(0, 1),
    a=st.integers(0, 1),
)
def test_any_score_below_ten_is_never_next_visit(o: int, n: int, c: int, w: int, a: int) -> None:
    r = score_ice({"orientation": o, "naming": n, "commands": c, "writing": w, "attention": a})
    assert r.score == o + n + c + w + a
    assert r.band.min_score <= r.score <= r.band.max_score
    if r.score < 10:
        assert r.triage.urgency >= Urgency.call_team_now


def test_bands_agree_with_the_clinical_calculator() -> None:
    from myelonav.clinical.astct import ice_grade

    for score in range(11):
        band = next(b for b in ice_spec().bands if b.min_score <= score <= b.max_score)
        assert (band.astct_icans_grade or 0) == ice_grade(score), score


def test_fever_threshold_is_the_clinical_one() -> None:
    from myelonav.clinical.thresholds import FEVER_C
    from myelonav.support.content import triage_rules

    fever_rules = [r for r in triage_rules().rules if r.when.temperature_c_at_least is not None]
    assert fever_rules
    assert {r.when.temperature_c_at_least for r in fever_rules} == {FEVER_C}
