"""The patterns real registry text uses, each on real-shaped wording: a criterion is judged
"not met" only when every clinically meaningful part of it was understood."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from file_modules import load_module
from myelonav.trials.criteria import Section, parse_criteria, parse_criterion
from myelonav.trials.criteria.models import (
    AgeAtom,
    ExposureAtom,
    IntervalAtom,
    LabAtom,
    OtherAtom,
    PerformanceAtom,
    PriorLinesAtom,
    TimeSinceAtom,
)
from myelonav.trials.criteria.sections import split_sections
from myelonav.trials.matching import Result, Verdict

# the patient builders of test_matching.py
_h = load_module("_matching_helpers", Path(__file__).with_name("test_matching.py"))
judge, never_treated, post_car_t, result = _h.judge, _h.never_treated, _h.post_car_t, _h.result


def excl(text: str) -> str:
    return (
        "Inclusion Criteria:\n* Relapsed or refractory multiple myeloma.\n"
        f"Exclusion Criteria:\n* {text}\n"
    )


def incl(text: str) -> str:
    return f"Inclusion Criteria:\n* {text}\n"


# ------------------------------------------------------------- exceptions and carve-outs


@pytest.mark.parametrize(
    "text",
    [
        "Prior BCMA-directed therapy. Prior BCMA CAR-T is not excluded in Cohort B.",
        "Prior treatment with a BCMA-targeted agent; participants in Part 2 who received "
        "ide-cel more than 6 months earlier are allowed",
        "Previous BCMA-directed CAR T-cell therapy, unless the participant achieved a response "
        "lasting 6 months or longer",
        "Prior BCMA-directed therapy with the exception of those enrolled in the retreatment arm",
    ],
)
def test_an_exclusion_with_an_exception_never_fails(text: str) -> None:
    m = judge(post_car_t(), excl(text))
    c = m.by_id("E1")
    assert c.result is Result.unknown, c.patient_fact
    assert "not understood" in c.patient_fact
    assert m.verdict is not Verdict.likely_ineligible


def test_a_structured_carve_out_still_excludes_what_it_does_not_carve() -> None:
    # "other than" naming a class is understood: the patient's BCMA CAR T is not carved out
    m = judge(post_car_t(), excl("Prior CAR T-cell therapy other than GPRC5D-directed CAR T"))
    assert result(m, "E1") is Result.not_met
    c = parse_criterion(
        "Prior CAR T-cell therapy other than GPRC5D-directed CAR T", Section.exclusion, "E1"
    )
    assert c.unaccounted == ()


def test_conditional_limit_is_not_failed() -> None:
    record = post_car_t(ecog=[post_car_t().ecog[0].model_copy(update={"score": 3})])
    m = judge(record, incl("ECOG performance status <= 2, or <= 3 if due to myeloma bone disease"))
    assert result(m, "I1") is Result.unknown
    assert "if due to" in m.by_id("I1").patient_fact


def test_country_note_is_not_applied_as_a_general_exclusion() -> None:
    m = judge(post_car_t(), excl("France specific: participants older than 60 years."))
    assert result(m, "E1") in (Result.unknown, Result.ask, Result.met)
    assert m.verdict is not Verdict.likely_ineligible


# ------------------------------------------------------------- examples and procedures


def test_examples_are_not_requirements() -> None:
    # the patient had carfilzomib, not bortezomib... and bortezomib too; use a PI-only-by-class
    c = parse_criterion(
        "Prior exposure to a proteasome inhibitor, e.g., bortezomib or carfilzomib",
        Section.inclusion,
        "I1",
    )
    assert isinstance(c.tree, ExposureAtom)
    assert c.tree.groups == (("proteasome_inhibitor",),) and c.tree.drugs == ()


@pytest.mark.parametrize(
    "text",
    [
        "Able to receive lymphodepletion with fludarabine and cyclophosphamide",
        "Negative pregnancy test before receiving cyclophosphamide and fludarabine",
        "Candidate for conditioning with high-dose melphalan",
    ],
)
def test_procedural_drug_mentions_are_not_prior_exposure(text: str) -> None:
    c = parse_criterion(text, Section.inclusion, "I1")
    assert not any(isinstance(a, ExposureAtom) for a in _atoms(c.tree)), c.tree
    m = judge(never_treated(), incl(text))
    assert result(m, "I1") is not Result.not_met


# ------------------------------------------------------------- refractoriness and windows


def test_refractoriness_is_judged_on_the_therapy_not_on_days_since_today() -> None:
    text = (
        "Refractory to lenalidomide, defined as progression on or within 60 days of the "
        "last dose of lenalidomide"
    )
    c = parse_criterion(text, Section.inclusion, "I1")
    assert not any(isinstance(a, TimeSinceAtom) for a in _atoms(c.tree))
    # lenalidomide stopped in 2021 for progression (refractory): met, though years ago
    assert result(judge(post_car_t(), incl(text)), "I1") is Result.met


def test_event_anchored_window_is_not_a_days_since_today_failure() -> None:
    # CAR T in Sept 2025, progression June 2026 (9 months later): the registry window is
    # infusion → progression, not infusion → today
    m = judge(post_car_t(), excl("Progression within 6 months after BCMA CAR T infusion"))
    assert result(m, "E1") is not Result.not_met


def test_target_qualified_exposure() -> None:
    # a GPRC5D exclusion does not exclude a BCMA CAR T patient
    assert result(judge(post_car_t(), excl("Prior GPRC5D-directed therapy")), "E1") is Result.met
    # any one BCMA-directed modality meets the requirement
    m = judge(
        post_car_t(),
        incl("Received at least one BCMA-directed therapy (CAR T, bispecific, or ADC)"),
    )
    assert result(m, "I1") is Result.met
    # an unknown target is not read as "any CAR T"
    m = judge(post_car_t(), excl("Prior CD19-directed CAR T-cell therapy"))
    assert result(m, "E1") is Result.unknown


# ------------------------------------------------------------- numbers and ranges


def test_two_bound_range_of_lines() -> None:
    c = parse_criterion(
        "Received at least 1 and no more than 4 prior lines of therapy", Section.inclusion, "I1"
    )
    assert c.tree == PriorLinesAtom(min_lines=1, max_lines=4)


def test_tilde_range() -> None:
    c = parse_criterion("ECOG 0~1", Section.inclusion, "I1")
    assert c.tree == PerformanceAtom(max_ecog=1)


def test_off_scale_value_is_flagged_not_guessed() -> None:
    c = parse_criterion("ECOG 0-8", Section.inclusion, "I1")
    assert isinstance(c.tree, OtherAtom)
    assert any("off its scale" in u for u in c.unaccounted)


# ------------------------------------------------------------- layout


def test_escaped_markdown_and_headings_in_any_wording() -> None:
    text = (
        "General Key Inclusion Criteria:\n\n1\\. ANC \\>= 1.0 x 10\\^9/L\n2\\. Age 18 years or "
        "older\n\nGeneral Key Exclusion Criteria:\n\n1\\. Prior GPRC5D-directed therapy\n"
    )
    parsed = parse_criteria(text)
    assert [c.id for c in parsed.criteria] == ["I1", "I2", "E1"]
    assert parsed.criteria[0].kind.value == "lab"
    assert "\\" not in parsed.criteria[0].text


def test_run_on_single_paragraph_list_is_split() -> None:
    text = (
        "Inclusion Criteria: 1. Age 18 years or older. 2. ECOG performance status 0-1. "
        "3. Relapsed or refractory multiple myeloma after at least 3 prior lines of therapy "
        "including a proteasome inhibitor, an immunomodulatory drug and an anti-CD38 antibody. "
        "Exclusion Criteria: 1. Prior GPRC5D-directed therapy. 2. Active CNS involvement. "
        "3. Known active hepatitis B or C infection."
    )
    split = split_sections(text)
    sections = [i.section for i in split.items]
    assert sections.count(Section.inclusion) == 3
    assert sections.count(Section.exclusion) == 3


def _atoms(node: object) -> list[object]:
    items = getattr(node, "items", None)
    if items is None:
        return [node]
    return [a for item in items for a in _atoms(item)]


def test_country_note_applies_only_in_that_country() -> None:
    text = "France specific: participants have failed at least 4 prior lines of therapy"
    c = parse_criterion(text, Section.inclusion, "I1")
    assert c.region == "FR"
    demo = post_car_t().demographics
    one_line = [post_car_t().therapy_lines[0]]
    in_us = post_car_t(
        demographics=demo.model_copy(update={"country": "US"}), therapy_lines=one_line
    )
    in_france = post_car_t(
        demographics=demo.model_copy(update={"country": "FR"}), therapy_lines=one_line
    )
    assert result(judge(in_us, incl(text)), "I1") is Result.met
    assert result(judge(in_france, incl(text)), "I1") is Result.not_met
    assert result(judge(post_car_t(therapy_lines=one_line), incl(text)), "I1") is Result.unknown


def test_event_anchored_window_is_measured_between_the_events() -> None:
    # ide-cel infused 2025-09-02, progression 2026-06-01: 272 days after infusion
    c = parse_criterion(
        "Progression within 12 months after BCMA CAR T infusion", Section.exclusion, "E1"
    )
    assert c.tree == IntervalAtom(start="car_t_infusion", op="lt", days=360, target="BCMA")
    assert (
        result(judge(post_car_t(), excl("Progression within 12 months after CAR T infusion")), "E1")
        is Result.not_met
    )
    assert (
        result(judge(post_car_t(), excl("Relapse within 6 months of CAR-T infusion")), "E1")
        is Result.met
    )
    m = judge(post_car_t(), incl("Disease progression within 12 months of CAR T-cell therapy"))
    assert result(m, "I1") is Result.met
    assert "272 days after CAR T infusion" in m.by_id("I1").patient_fact
    assert (
        result(judge(never_treated(), incl("Progression within 12 months of CAR T")), "I1")
        is Result.not_met
    )


@pytest.mark.parametrize(
    ("text", "has_it"),
    [
        ("Patients who received prior GPRC5D-directed therapy are ineligible", False),
        ("Patients with known CNS involvement are not eligible", False),
        ("Patients who received prior BCMA-directed CAR T are not eligible", True),
    ],
)
def test_exclusion_written_inside_the_inclusion_list(text: str, has_it: bool) -> None:
    c = parse_criterion(text, Section.inclusion, "I1")
    assert c.excludes and c.section is Section.inclusion
    got = result(judge(post_car_t(), incl(text)), "I1")
    assert got is (Result.not_met if has_it else Result.met)


def test_or_equal_written_out() -> None:
    c = parse_criterion(
        "Patients must have adequate renal function, as defined by serum creatinine < or = 3.0 "
        "mg/dl.",
        Section.inclusion,
        "I1",
    )
    assert isinstance(c.tree, LabAtom) and c.tree.op == "le" and c.tree.value == 3.0


def test_supportive_treatment_is_not_any_prior_therapy() -> None:
    m = judge(post_car_t(), excl("Previous treatment with bisphosphonates"))
    assert result(m, "E1") is not Result.not_met


def test_investigational_washout_does_not_read_as_any_therapy() -> None:
    text = (
        "Participation in another clinical study with an investigational drug within 12 weeks "
        "of study entry"
    )
    recent = post_car_t(car_t=[])  # the last line ended 2025-06; give a recent standard line
    line = recent.therapy_lines[-1].model_copy(
        update={"start": dt.date(2026, 9, 1), "end": dt.date(2026, 10, 15)}
    )
    m = judge(
        recent.model_copy(update={"therapy_lines": [*recent.therapy_lines[:-1], line]}), excl(text)
    )
    assert result(m, "E1") is not Result.not_met


def test_age_alternatives_are_not_an_empty_range() -> None:
    c = parse_criterion(
        "Not a candidate for transplant due to: age - subject is 65 years or older or in subjects "
        "less than 65 years of age, presence of important comorbid conditions",
        Section.inclusion,
        "I1",
    )
    assert not any(
        isinstance(a, AgeAtom) and (a.min_years or 0) > (a.max_years or 200) for a in _atoms(c.tree)
    )


def test_progressed_while_receiving_is_refractoriness() -> None:
    c = parse_criterion(
        "Patient progressed while receiving VELCADE previously in a clinical trial.",
        Section.exclusion,
        "E1",
    )
    assert any(isinstance(a, ExposureAtom) and a.refractory for a in _atoms(c.tree))
