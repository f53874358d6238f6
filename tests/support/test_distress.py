"""Distress screens are scored as published; 988 always comes first for self-harm."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from myelonav.errors import InputError
from myelonav.support.content import distress_spec
from myelonav.support.distress import assess, score_items


@pytest.mark.parametrize(
    ("answers", "positive"), [([0, 0], False), ([1, 1], False), ([2, 1], True), ([3, 3], True)]
)
def test_phq2_and_gad2_cutoff_is_three(answers: list[int], positive: bool) -> None:
    assert score_items("phq2", answers).positive is positive
    assert score_items("gad2", answers).positive is positive


@pytest.mark.parametrize(("score", "positive"), [(0, False), (3, False), (4, True), (10, True)])
def test_distress_thermometer_cutoff_is_four(score: int, positive: bool) -> None:
    assert score_items("distress_thermometer", [score]).positive is positive


def test_bad_answers_name_the_screen() -> None:
    with pytest.raises(InputError, match="phq2"):
        score_items("phq2", [1])
    with pytest.raises(InputError, match="gad2"):
        score_items("gad2", [1, 4])
    with pytest.raises(InputError, match="distress_thermometer"):
        score_items("distress_thermometer", [11])
    with pytest.raises(InputError, match="problem"):
        assess(problems=["boredom"])


def test_positive_screen_matches_counseling() -> None:
    r = assess(phq2=[2, 2])
    ids = [x.id for x in r.resources]
    assert "lifeline_988" not in ids
    assert ids[0] in {"cancercare", "csc_helpline"}


def test_problem_areas_and_caregiver_route_to_the_right_help() -> None:
    practical = [x.id for x in assess(problems=["practical"]).resources]
    assert practical[0] == "cancercare"  # practical + financial
    assert "lls_information_specialists" in practical
    physical = [x.id for x in assess(problems=["physical"]).resources]
    assert physical[0] == "palliative_care"
    caregiver = assess(caregiver=True).resources
    assert all("caregiver" in r.tags or "information" in r.tags for r in caregiver)
    assert "caregiver" in caregiver[0].tags


def test_problem_list_covers_nccn_areas() -> None:
    ids = {a.id for a in distress_spec().problem_areas}
    assert {"physical", "practical", "family", "emotional", "spiritual"} <= ids


@given(
    phq=st.none() | st.lists(st.integers(0, 3), min_size=2, max_size=2),
    gad=st.none() | st.lists(st.integers(0, 3), min_size=2, max_size=2),
    dt_score=st.none() | st.integers(0, 10),
    problems=st.lists(st.sampled_from([a.id for a in distress_spec().problem_areas]), unique=True),
    caregiver=st.booleans(),
    self_harm=st.booleans(),
)
def test_988_first_exactly_when_self_harm_is_reported(
    phq: list[int] | None,
    gad: list[int] | None,
    dt_score: int | None,
    problems: list[str],
    caregiver: bool,
    self_harm: bool,
) -> None:
    r = assess(
        thermometer=dt_score,
        phq2=phq,
        gad2=gad,
        problems=problems,
        caregiver=caregiver,
        self_harm=self_harm,
    )
    ids = [x.id for x in r.resources]
    if self_harm:
        assert ids[0] == "lifeline_988"
        assert r.to_dict()["messages"][0].startswith("If you are having thoughts of harming")
    else:
        assert "lifeline_988" not in ids
    assert ids, "there is always someone to call"
