"""Triage: red flags are never answered with "next visit"; urgency never drops when one is added."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from myelonav.errors import InputError, KnowledgeError
from myelonav.support.content import triage_rules
from myelonav.support.schemas import Condition, TriageRule
from myelonav.support.triage import (
    NEURO_FLAGS,
    RED_FLAG_FLOORS,
    SYMPTOM_FLAGS,
    SymptomReport,
    Urgency,
    check_rules,
    make_report,
    parse_temperature,
    red_flags,
    triage,
)

# Each red flag named in the brief, as the smallest report that shows it.
RED_FLAG_REPORTS: dict[str, dict[str, Any]] = {
    "fever_on_bispecific": {"temperature_c": 38.0, "on_bispecific": True},
    "fever_after_car_t": {"temperature_c": 38.4, "recent_car_t": True},
    "fever_off_therapy": {"temperature_c": 38.0},
    "hypotension": {"systolic_bp": 85},
    "dizziness": {"dizziness": True},
    "hypoxia_low": {"spo2": 90},
    "hypoxia_borderline": {"spo2": 94},
    "breathing_trouble": {"breathing_trouble": True},
    "seizure": {"seizure": True},
    **{f"neuro_{f}": {f: True} for f in sorted(NEURO_FLAGS)},
    **{f"neuro_{f}_on_bispecific": {f: True, "on_bispecific": True} for f in sorted(NEURO_FLAGS)},
    "ice_9": {"ice_score": 9},
    "ice_5": {"ice_score": 5},
}


@pytest.mark.parametrize("name", sorted(RED_FLAG_REPORTS))
def test_red_flag_is_never_next_visit(name: str) -> None:
    report = SymptomReport(**RED_FLAG_REPORTS[name])
    result = triage(report)
    assert result.urgency >= Urgency.call_team_now
    assert result.red_flags, "the code-level red flag list must see it too"


@pytest.mark.parametrize("name", sorted(RED_FLAG_REPORTS))
def test_data_rules_alone_already_escalate_red_flags(name: str) -> None:
    """The code floor is a safety net: the data file itself must not rely on it."""
    result = triage(SymptomReport(**RED_FLAG_REPORTS[name]))
    assert not result.floor_applied
    assert result.reasons


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"seizure": True}, Urgency.emergency),
        ({"breathing_trouble": True}, Urgency.emergency),
        ({"confusion": True}, Urgency.emergency),
        ({"speech_change": True}, Urgency.emergency),
        ({"trouble_staying_awake": True}, Urgency.emergency),
        ({"systolic_bp": 89}, Urgency.emergency),
        ({"spo2": 91}, Urgency.emergency),
        ({"temperature_c": 38.5, "systolic_bp": 88, "on_bispecific": True}, Urgency.emergency),
        ({"temperature_c": 38.5, "spo2": 93, "on_bispecific": True}, Urgency.emergency),
        ({"temperature_c": 38.0, "on_bispecific": True}, Urgency.call_team_now),
        ({"handwriting_change": True}, Urgency.call_team_now),
        ({"cough": True}, Urgency.call_team_now),
        ({"trouble_swallowing": True}, Urgency.call_team_now),
        ({"taste_change": True, "nail_change": True}, Urgency.mention_next_visit),
        ({"temperature_c": 37.9, "on_bispecific": True}, Urgency.mention_next_visit),
        ({"systolic_bp": 90, "spo2": 95}, Urgency.mention_next_visit),
        ({}, Urgency.mention_next_visit),
    ],
)
def test_levels(fields: dict[str, Any], expected: Urgency) -> None:
    assert triage(SymptomReport(**fields)).urgency is expected


def test_nothing_reported_says_so_plainly() -> None:
    d = triage(SymptomReport()).to_dict()
    assert d["reasons"] == [] and d["red_flags"] == []
    assert d["what_to_do"].startswith("No warning signs")
    assert "not medical advice" in d["disclaimer"]


def test_reasons_carry_astct_concept_and_citation() -> None:
    d = triage(SymptomReport(temperature_c=38.3, on_bispecific=True)).to_dict()
    assert d["urgency"] == "call_team_now"
    assert any("ASTCT" in r["clinical_concept"] for r in d["reasons"])
    assert any(c.get("pmid") == "30592986" for c in d["citations"])


def test_floor_applies_even_if_data_rule_is_softened() -> None:
    soft = TriageRule(
        id="soft_seizure",
        level="mention_next_visit",
        when=Condition(flags_any=["seizure"]),
        patient_text="A softened rule that should never win.",
        clinical_concept="Test rule that under-triages on purpose.",
        citations=triage_rules().rules[0].citations,
        last_reviewed=triage_rules().rules[0].last_reviewed,
    )
    result = triage(SymptomReport(seizure=True), rules=[soft])
    assert result.urgency is Urgency.emergency
    assert result.floor_applied


def test_unknown_flag_in_data_is_caught() -> None:
    bad = TriageRule(
        id="typo",
        level="call_team_now",
        when=Condition(flags_any=["confusoin"]),
        patient_text="Typo in the flag name here.",
        clinical_concept="Should fail validation at use.",
        citations=triage_rules().rules[0].citations,
        last_reviewed=triage_rules().rules[0].last_reviewed,
    )
    with pytest.raises(KnowledgeError, match="confusoin"):
        check_rules([bad])


@pytest.mark.parametrize(
    ("text", "celsius"),
    [
        ("38", 38.0),
        ("38.2C", 38.2),
        ("100.4F", 38.0),
        ("100.4 °F", 38.0),
        ("101", 38.3),
        ("37.9c", 37.9),
        ("99.5", 37.5),
    ],
)
def test_parse_temperature(text: str, celsius: float) -> None:
    assert parse_temperature(text) == celsius


@pytest.mark.parametrize("text", ["", "hot", "120", "55", "200F", "10C"])
def test_parse_temperature_refuses_to_guess(text: str) -> None:
    with pytest.raises(InputError, match="--temp"):
        parse_temperature(text)


def test_make_report_names_the_field() -> None:
    with pytest.raises(InputError, match="spo2"):
        make_report(spo2=140)


# ------------------------------------------------------------------ property tests

_BOOL_FLAGS = sorted(SYMPTOM_FLAGS)

reports = st.builds(
    SymptomReport,
    temperature_c=st.none() | st.floats(min_value=35.0, max_value=41.5).map(lambda x: round(x, 1)),
    systolic_bp=st.none() | st.integers(min_value=60, max_value=180),
    spo2=st.none() | st.integers(min_value=80, max_value=100),
    ice_score=st.none() | st.integers(min_value=0, max_value=10),
    on_bispecific=st.booleans(),
    recent_car_t=st.booleans(),
    **{f: st.booleans() for f in _BOOL_FLAGS},
)

RED_FLAG_EDITS: list[dict[str, Any]] = [
    {"temperature_c": 38.0},
    {"temperature_c": 39.5},
    {"systolic_bp": 80},
    {"spo2": 88},
    {"spo2": 94},
    {"ice_score": 7},
    {"ice_score": 2},
    *({f: True} for f in sorted(NEURO_FLAGS)),
    {"dizziness": True},
    {"breathing_trouble": True},
]


def _add(report: SymptomReport, edit: dict[str, Any]) -> SymptomReport:
    """Add a red flag: a flag turns on; a measurement only ever moves to a worse value."""
    data = report.model_dump()
    for key, value in edit.items():
        old = data[key]
        if key == "temperature_c" and old is not None:
            value = max(old, value)
        elif key in ("systolic_bp", "spo2", "ice_score") and old is not None:
            value = min(old, value)
        data[key] = value
    return SymptomReport(**data)


@settings(max_examples=300, deadline=None)
@given(report=reports, edit=st.sampled_from(RED_FLAG_EDITS))
def test_adding_a_red_flag_never_lowers_urgency(
    report: SymptomReport, edit: dict[str, Any]
) -> None:
    before = triage(report).urgency
    after = triage(_add(report, edit))
    assert after.urgency >= before
    assert after.urgency >= Urgency.call_team_now
    assert after.red_flags


@settings(max_examples=200, deadline=None)
@given(report=reports, flag=st.sampled_from(_BOOL_FLAGS))
def test_adding_any_symptom_never_lowers_urgency(report: SymptomReport, flag: str) -> None:
    before = triage(report).urgency
    after = triage(report.model_copy(update={flag: True})).urgency
    assert after >= before


@settings(max_examples=200, deadline=None)
@given(report=reports)
def test_any_red_flag_means_at_least_call_team(report: SymptomReport) -> None:
    result = triage(report)
    if red_flags(report):
        assert result.urgency >= Urgency.call_team_now
    assert result.urgency >= max(
        (f.floor for f in RED_FLAG_FLOORS if f.test(report)), default=Urgency.mention_next_visit
    )
