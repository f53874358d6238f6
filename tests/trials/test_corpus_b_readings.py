"""Readings fixed on the second batch of real registry records (CD38 antibodies in relapse and
after transplant, belantamab, iberdomide, selinexor, radiotherapy, allogeneic transplant,
MRD-guided, AL amyloidosis, newly diagnosed), each on the record's own wording: nothing
misread is judged "not met", and what the record cannot answer is unknown, not "met"."""

from __future__ import annotations

from pathlib import Path

import pytest

from file_modules import load_module
from myelonav.trials.criteria import Section, parse_criterion
from myelonav.trials.criteria.models import (
    AgeAtom,
    ExposureAtom,
    MeasurableAtom,
    Node,
    PriorLinesAtom,
)
from myelonav.trials.matching import Result

# the patient builders of test_matching.py
_h = load_module("_matching_helpers_b", Path(__file__).with_name("test_matching.py"))
judge, never_treated, post_car_t, result = _h.judge, _h.never_treated, _h.post_car_t, _h.result


def incl(text: str) -> str:
    return f"Inclusion Criteria:\n* {text}\n"


def excl(text: str) -> str:
    return f"Inclusion Criteria:\n* Multiple myeloma.\nExclusion Criteria:\n* {text}\n"


def _atoms(node: Node) -> list[Node]:
    items = getattr(node, "items", None)
    if items is None:
        return [node]
    return [a for item in items for a in _atoms(item)]


def atoms_of(text: str, section: Section = Section.inclusion) -> list[Node]:
    return _atoms(parse_criterion(text, section, "I1").tree)


def test_a_second_phrase_gives_the_upper_bound_on_lines() -> None:
    # NCT99000015 (isatuximab SC with Kd): 4 prior lines do not fit "no more than 3"
    text = (
        "Participants with relapsed and/or refractory MM with at least 1 prior line of therapy "
        "and no more than 3 prior lines of therapy."
    )
    assert PriorLinesAtom(min_lines=1, max_lines=3) in atoms_of(text)
    assert result(judge(post_car_t(), incl(text)), "I1") is Result.not_met


def test_the_donors_age_is_not_the_patients() -> None:
    # NCT04320303 (NK cells after haploidentical transplant)
    assert not any(isinstance(a, AgeAtom) for a in atoms_of("Donor age 16-65 years"))
    assert result(judge(post_car_t(), incl("Donor age 16-65 years")), "I1") is not Result.not_met


def test_measurable_mrd_is_not_measurable_disease() -> None:
    # NCT03477539: residual disease in the marrow; the record does not hold it
    text = "Measurable MRD in bone marrow within 28 days prior to registration (MPF method)"
    assert not any(isinstance(a, MeasurableAtom) for a in atoms_of(text))
    assert result(judge(post_car_t(), incl(text)), "I1") is Result.unknown


def test_no_limit_on_measurable_disease_is_not_a_requirement() -> None:
    # NCT99000018 (EMILIA, AL amyloidosis)
    text = (
        "AL amyloidosis with organ disease requiring therapy: NOTE: Disease requiring therapy is "
        "referred to the time of diagnosis. There are no limitations in baseline measurable "
        "disease parameters"
    )
    assert not any(isinstance(a, MeasurableAtom) for a in atoms_of(text))


def test_urine_in_a_24_hour_collection_is_an_alternative() -> None:
    # NCT04764942 (SCOPE): serum 0.4 g/dL fails, but the urine alternative is not recorded
    text = (
        "Measurable disease by IMWG criteria as defined by at least one of the following: "
        "Serum M-protein >= 0.5 g/dL; Urine M-protein >= 200 mg in a 24-hour collection"
    )
    measurable = [a for a in atoms_of(text) if isinstance(a, MeasurableAtom)]
    assert measurable and measurable[0].urine_mg_24h == 200.0


@pytest.mark.parametrize(
    "text",
    [
        # NCT99000014 (BRd vs DRd): three alternatives for transplant ineligibility
        "Newly diagnosed and not considered candidate for high-dose chemotherapy with "
        "autologous stem cell transplant (ASCT) due to any of the following: \u226570 years of "
        "age, OR; Age 18 to 69 years with presence of comorbid condition(s) likely to have a "
        "negative impact on tolerability of high-dose chemotherapy with ASCT, OR; Who refuse "
        "high-dose chemotherapy with ASCT as an initial treatment.",
        # NCT05527340 (iberdomide, transplant-ineligible newly diagnosed)
        "Newly diagnosed multiple myeloma patient \u226565 years or younger but non-transplant "
        "eligible who requires start active treatment according to the IMWG published in 2014.",
        # NCT05392946: untreated, or at most one cycle
        "Previously untreated active/symptomatic multiple myeloma or have received no more "
        "than one cycle of any anti-myeloma treatment regimen for active/symptomatic myeloma",
    ],
)
def test_alternatives_never_fail_an_untreated_patient(text: str) -> None:
    c = judge(never_treated(), incl(text)).by_id("I1")
    assert c.result is not Result.not_met, c.patient_fact
    assert c.result is not Result.met, c.patient_fact


def test_a_treatment_decision_is_not_a_washout() -> None:
    # NCT04458831 (isatuximab observational study)
    text = (
        "Patients for whom the treating physician has made the decision to initiate "
        "isatuximab per routine practice and independently of the purpose of the study; for "
        "retrospectively enrolled patients, exposure to isatuximab treatment for a maximum of "
        "three months prior to study enrollment"
    )
    assert result(judge(post_car_t(), incl(text)), "I1") is Result.unknown


@pytest.mark.parametrize(
    "text",
    [
        "No CMV infection by 20 days \u00b1 3 days after transplantation",
        "No active acute GVHD by 20 days \u00b1 3 days after transplantation",
    ],
)
def test_a_moment_after_the_study_transplant_is_not_days_since_any_transplant(
    text: str,
) -> None:
    # NCT04320303: the patients' own transplants were years ago
    for patient in (post_car_t(), never_treated()):
        assert result(judge(patient, incl(text)), "I1") is not Result.not_met


def test_a_change_from_an_earlier_value_is_unknown_not_a_level() -> None:
    # NCT99000016: IMWG clinical relapse events ("decrease in hemoglobin of > 2 g/dL")
    text = (
        "Patients must meet one or more of the following IMWG clinical relapse criteria as "
        "direct indicator of progressive disease and/or end-organ dysfunction: Definitive "
        "increase in the size of existing plasmacytomas or bone lesions; Hypercalcemia (>11 "
        "mg/dL); Decrease in hemoglobin of >2 g/dL not related to therapy or other non-myeloma "
        "related conditions; Hyperviscosity related to serum protein."
    )
    assert result(judge(post_car_t(), incl(text)), "I1") is Result.unknown


def test_ongoing_treatment_with_the_exclusion_of_steroids_never_fails() -> None:
    # NCT04683393: the steroid named is the exception, and "ongoing" is not "prior"
    text = (
        "Patients receiving ongoing treatment for MM with the exclusion of steroids (maximal "
        "dose of Dexamethasone 160 mg in last 2 weeks or equivalent) and radiotherapy for "
        "spinal cord compression (SCC)."
    )
    assert result(judge(post_car_t(), excl(text)), "E1") is Result.unknown


@pytest.mark.parametrize(
    "text",
    [
        "Painful bone metastasis (index lesion) that has a radiographic correlate",  # NCT03858205
        "Considered transplant eligible",  # NCT03477539
        "Patients with planned standard of care ASCT using melphalan 200 mg/m^2",  # NCT03346135
    ],
)
def test_facts_the_record_does_not_hold_are_unknown_not_a_routine_question(text: str) -> None:
    # "ask the study team" does not stop "likely eligible"; a missing deciding fact must
    assert result(judge(post_car_t(), incl(text)), "I1") is Result.unknown


def test_with_or_without_is_optional_not_absent() -> None:
    # NCT99000017 (short-course daratumumab): a response after first-line induction
    text = (
        "A very good partial response (VGPR) or better after induction therapy with/without "
        "consolidative chemotherapy and/or HDT/ASCT."
    )
    atoms = atoms_of(text)
    assert not any(isinstance(a, ExposureAtom) and a.negate for a in atoms)
    assert PriorLinesAtom(min_lines=1, max_lines=1) in atoms
    # four lines and a CAR T are not "after induction"; nor is no treatment at all
    assert result(judge(post_car_t(), incl(text)), "I1") is Result.not_met
    assert result(judge(never_treated(), incl(text)), "I1") is Result.not_met


def test_a_limit_for_patients_who_have_a_feature_is_conditional() -> None:
    # NCT03477539: a lower platelet limit with marrow plasmacytosis >= 50 %
    c = parse_criterion(
        "Platelets >= 50,000 cells/mm^3 for patients who have bone marrow plasmacytosis < 50% "
        "or >= 30,000 cells/mm^3 for patients who have bone marrow plasmacytosis of >= 50%, "
        "obtained =< 14 days prior to registration",
        Section.inclusion,
        "I1",
    )
    assert any(u.startswith("condition:") for u in c.unaccounted)


def test_an_example_with_its_own_parentheses_is_not_a_requirement() -> None:
    # NCT03763162: "(e.g. … autologous stem cell transplant (SCT) and then …)" is an example
    text = (
        "Participants with one to three lines of therapy for their disease with a prior therapy "
        "is defined as 2 or more cycles of therapy given as a treatment plan for multiple "
        "myeloma (MM) (e.g. a single-agent or combination therapy or a sequence of planned "
        "treatments such as induction therapy followed by autologous stem cell transplant (SCT) "
        "and then consolidation and/or maintenance therapy)"
    )
    assert atoms_of(text) == [PriorLinesAtom(min_lines=1, max_lines=3)]


def test_a_frailty_score_is_a_fact_the_record_does_not_hold() -> None:
    # NCT04223661: an untreated 60-year-old may or may not have a frailty score of 1 or more
    text = (
        "Newly diagnosed, symptomatic MM who have frailty score of 1 or higher; patients age = "
        "75 or younger patients with comorbidities (<75):"
    )
    assert result(judge(never_treated(), incl(text)), "I1") is Result.unknown


def test_18_or_older_with_a_diagnosis_is_one_requirement() -> None:
    # NCT02181413: "or older with" is not an age alternative
    c = parse_criterion(
        "Adult male or female participants 18 years or older with a confirmed diagnosis of "
        "symptomatic multiple myeloma according to standard criteria.",
        Section.inclusion,
        "I1",
    )
    assert not c.unaccounted


def test_post_transplant_consolidation_is_not_the_transplant() -> None:
    # NCT02181413: a patient with an ASCT and no consolidation meets it
    text = "Must have not received post-ASCT consolidation therapy."
    assert result(judge(post_car_t(), incl(text)), "I1") is not Result.not_met


@pytest.mark.parametrize(
    "text",
    [
        # NCT04371770 (ixazomib maintenance after initial therapy)
        "Has completed 6 to 12 months (\u00b1 2 weeks) of initial therapy, during which the "
        "participant was treated to best response, defined as the best response maintained "
        "for 2 cycles after the M-protein nadir is reached.",
        "Has documented major response [partial response (PR), very good partial response "
        "(VGPR), complete response (CR)] according to the international myeloma working group "
        "(IMWG) uniform response criteria, version 2011, after this initial therapy.",
    ],
)
def test_first_line_maintenance_needs_a_first_line(text: str) -> None:
    # an untreated patient has not completed initial therapy; a relapsed one is past it
    assert result(judge(never_treated(), incl(text)), "I1") is Result.not_met
    assert result(judge(post_car_t(), incl(text)), "I1") is Result.not_met


def test_a_window_from_the_first_dose_of_initial_therapy_is_not_from_today() -> None:
    # NCT03346135: "within 2-13 months of the first dose of initial therapy" cannot fail on
    # today's date; a lab's recency window from the start of study treatment still decides
    c = parse_criterion(
        "Received at least two cycles of any regimen as initial systemic therapy for multiple "
        "myeloma and are within 2-13 months of the first dose of initial therapy",
        Section.inclusion,
        "I1",
    )
    assert any(u.startswith("time measured from an event") for u in c.unaccounted)
    lab = parse_criterion(
        "Hemoglobin >= 8 g/dL within 14 days of the start of study treatment",
        Section.inclusion,
        "I1",
    )
    assert not lab.unaccounted
