"""Triage: red flags are never answered with "next visit"; urgency never drops when one is added."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from myelonav.errors import InputError, KnowledgeError
from myelonav.readability import fk_grade
from myelonav.support.content import triage_rules
from myelonav.support.schemas import Condition, TriageRule
from myelonav.support.triage import (
    NEURO_FLAGS,
    RECENT_CAR_T_DAYS,
    RED_FLAG_FLOORS,
    SYMPTOM_FLAGS,
    CareContext,
    SymptomReport,
    Urgency,
    check,
    check_rules,
    make_report,
    parse_temperature,
    phones,
    red_flags,
    tel_href,
    triage,
    with_context,
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
    "hypothermia_35": {"temperature_c": 35.0},
    "low_temperature_on_bispecific": {"temperature_c": 35.9, "on_bispecific": True},
    "cord_compression": {"back_pain": True, "leg_weakness_or_numbness": True},
    "leg_numbness": {"leg_weakness_or_numbness": True},
    "bladder_bowel": {"bladder_bowel_control": True},
    "bruising": {"bleeding_or_bruising": True},
    "heavy_bleeding": {"heavy_bleeding": True},
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
        ({"temperature_c": 35.0}, Urgency.call_team_now),
        ({"temperature_c": 35.9, "recent_car_t": True}, Urgency.call_team_now),
        ({"temperature_c": 36.0}, Urgency.mention_next_visit),
        ({"temperature_c": 35.5, "systolic_bp": 85}, Urgency.emergency),
        ({"back_pain": True}, Urgency.call_team_now),
        ({"back_pain": True, "leg_weakness_or_numbness": True}, Urgency.emergency),
        ({"leg_weakness_or_numbness": True}, Urgency.emergency),
        ({"bladder_bowel_control": True}, Urgency.emergency),
        ({"bleeding_or_bruising": True}, Urgency.call_team_now),
        ({"heavy_bleeding": True}, Urgency.emergency),
        ({"vomiting": True}, Urgency.call_team_now),
        ({"severe_headache": True}, Urgency.call_team_now),
        ({"severe_headache": True, "confusion": True}, Urgency.emergency),
    ],
)
def test_levels(fields: dict[str, Any], expected: Urgency) -> None:
    assert triage(SymptomReport(**fields)).urgency is expected


def test_normal_readings_say_no_warning_signs_plainly() -> None:
    d = check(SymptomReport(temperature_c=37.0, spo2=98)).to_dict()
    assert d["reasons"] == [] and d["red_flags"] == []
    assert d["headline"].startswith("No warning signs") and d["what_to_do"] == d["headline"]
    assert "not medical advice" in d["disclaimer"]


def test_an_empty_check_is_refused_not_no_warning_signs() -> None:
    with pytest.raises(InputError, match="Nothing was entered") as err:
        check(SymptomReport())
    assert err.value.location == "symptoms"
    # the treatment context alone is not a report either
    with pytest.raises(InputError):
        check(SymptomReport(on_bispecific=True, recent_car_t=True))


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


@pytest.mark.parametrize(
    "text", ["", "hot", "120", "55", "200F", "10C", "25", "25C", "50", "50C", "31C", "44C", "88F"]
)
def test_parse_temperature_refuses_to_guess(text: str) -> None:
    with pytest.raises(InputError, match="--temp"):
        parse_temperature(text)


def test_implausible_temperature_names_the_field_and_says_what_to_do() -> None:
    with pytest.raises(InputError, match="Measure again") as err:
        parse_temperature("25C", "temperature")
    assert err.value.location == "temperature"
    for value in (25.0, 50.0):
        with pytest.raises(InputError) as err:
            make_report(temperature_c=value)
        assert err.value.location == "temperature_c"


def test_35_c_is_a_warning_sign_not_no_warning_signs() -> None:
    result = check(make_report(temperature_c=parse_temperature("35")))
    d = result.to_dict()
    assert result.urgency is Urgency.call_team_now and "low_temperature" in d["red_flags"]
    assert not d["headline"].startswith("No warning") and "36 C" in d["reasons"][0]["why"]
    assert any(c.get("pmid") == "1303622" for c in d["citations"])


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


@settings(max_examples=200, deadline=None)
@given(report=reports)
def test_an_empty_report_is_refused_and_any_entry_is_answered(report: SymptomReport) -> None:
    measured = (report.temperature_c, report.systolic_bp, report.spo2, report.ice_score)
    ticked = any(getattr(report, f) for f in SYMPTOM_FLAGS)
    if all(v is None for v in measured) and not ticked:
        with pytest.raises(InputError):
            check(report)
    else:
        d = check(report).to_dict()
        assert d["headline"] and d["phones"]
        assert d["headline"].startswith("No warning") == (not d["reasons"] and not d["red_flags"])


# ------------------------------------------------------------------- profile context

CARE = CareContext(
    bispecifics=("teclistamab",),
    car_t_days_ago=400,
    care_team_phone="(555) 123-4567",
    after_hours_phone="555-987-6543",
)


def test_profile_bispecific_turns_a_fever_into_a_crs_warning() -> None:
    plain = check(SymptomReport(temperature_c=38.2))
    with_profile = check(SymptomReport(temperature_c=38.2), care=CARE)
    assert [r.id for r in plain.reasons] == ["fever"]
    assert [r.id for r in with_profile.reasons] == ["fever_on_t_cell_therapy"]
    d = with_profile.to_dict()
    assert d["current_bispecifics"] == ["teclistamab"]
    assert d["from_profile"] == ["Your profile says you are on teclistamab."]


def test_care_team_numbers_are_on_every_result_with_tel_links() -> None:
    for report in (SymptomReport(temperature_c=37.0), SymptomReport(seizure=True)):
        numbers = check(report, care=CARE).to_dict()["phones"]
        assert numbers[0] == {
            "label": "Your care team",
            "number": "(555) 123-4567",
            "tel": "tel:5551234567",
        }
        assert numbers[1]["tel"] == "tel:5559876543"
        assert {p["tel"] for p in numbers} >= {"tel:911", "tel:988"}
    assert [p["number"] for p in phones(None)] == ["911", "988"]


@pytest.mark.parametrize(
    ("number", "href"),
    [
        ("1-800-452-2873 (800-452-CURE)", "tel:18004522873"),
        ("988", "tel:988"),
        ("+1 (555) 123-4567", "tel:+15551234567"),
        ("call us", None),
    ],
)
def test_tel_href(number: str, href: str | None) -> None:
    assert tel_href(number) == href


def test_recent_car_t_window() -> None:
    assert CareContext(car_t_days_ago=RECENT_CAR_T_DAYS).recent_car_t
    assert not CareContext(car_t_days_ago=RECENT_CAR_T_DAYS + 1).recent_car_t
    assert not CareContext().recent_car_t


cares = st.builds(
    CareContext,
    bispecifics=st.sampled_from([(), ("teclistamab",), ("talquetamab", "elranatamab")]),
    car_t_days_ago=st.none() | st.integers(min_value=0, max_value=2000),
)


@settings(max_examples=200, deadline=None)
@given(report=reports, care=cares)
def test_a_profile_only_adds_context_and_never_lowers_urgency(
    report: SymptomReport, care: CareContext
) -> None:
    merged = with_context(report, care)
    assert merged.on_bispecific >= report.on_bispecific
    assert merged.recent_car_t >= report.recent_car_t
    assert triage(report, care=care).urgency >= triage(report).urgency


@pytest.mark.parametrize("rule", triage_rules().rules, ids=lambda r: r.id)
def test_every_rule_reads_at_grade_8_or_below(rule: TriageRule) -> None:
    assert fk_grade(rule.patient_text) <= 8.0, rule.id


def test_every_symptom_is_on_the_cli_and_the_web_form() -> None:
    from myelonav.commands.support import _FLAG_HELP
    from myelonav.web.pages.routes import SYMPTOM_LABELS

    assert set(SYMPTOM_LABELS) == set(SYMPTOM_FLAGS)
    assert set(SYMPTOM_FLAGS) <= set(_FLAG_HELP)
