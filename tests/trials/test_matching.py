"""Patient × criteria: results, facts and verdicts, in both directions."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from myelonav.patient.models import (
    Analyte,
    AntigenStatus,
    CarTEpisode,
    CytogeneticAbnormality,
    CytogeneticFinding,
    Demographics,
    Diagnosis,
    DiseaseSite,
    DiseaseSiteKind,
    EcogAssessment,
    Isotype,
    LabResult,
    PatientRecord,
    StopReason,
    TherapyLine,
    Transplant,
    TransplantKind,
)
from myelonav.trials.criteria import parse_criteria
from myelonav.trials.matching import Result, TrialMatch, Verdict, match_study, matcher_for
from myelonav.trials.models import Study

AS_OF = dt.date(2026, 11, 1)


def lab(
    analyte: Analyte, value: float, when: dt.date = dt.date(2026, 10, 20), **kw: Any
) -> LabResult:
    return LabResult(analyte=analyte, date=when, value=value, **kw)


def post_car_t(**changes: Any) -> PatientRecord:
    """A patient whose disease came back after ide-cel (BCMA CAR T)."""
    base: dict[str, Any] = dict(
        id="test-post-cart",
        demographics=Demographics(birth_date=dt.date(1961, 8, 19), sex="female"),
        diagnosis=Diagnosis(
            date=dt.date(2018, 10, 15), isotype=Isotype(heavy_chain="IgG", light_chain="kappa")
        ),
        cytogenetics=[
            CytogeneticFinding(
                abnormality=CytogeneticAbnormality.gain_1q, date=dt.date(2018, 10, 20)
            )
        ],
        therapy_lines=[
            TherapyLine(
                agents=["bortezomib", "lenalidomide", "dexamethasone"],
                start=dt.date(2018, 11, 1),
                end=dt.date(2019, 4, 1),
                stop_reason=StopReason.completed,
            ),
            TherapyLine(
                agents=["lenalidomide"],
                start=dt.date(2019, 7, 15),
                end=dt.date(2021, 9, 1),
                stop_reason=StopReason.progression,
                refractory=True,
            ),
            TherapyLine(
                agents=["daratumumab", "pomalidomide", "dexamethasone"],
                start=dt.date(2021, 9, 15),
                end=dt.date(2023, 8, 1),
                stop_reason=StopReason.progression,
                refractory=True,
            ),
            TherapyLine(
                agents=["isatuximab", "carfilzomib", "dexamethasone"],
                start=dt.date(2023, 8, 15),
                end=dt.date(2025, 6, 1),
                stop_reason=StopReason.progression,
                refractory=True,
            ),
        ],
        transplants=[Transplant(kind=TransplantKind.autologous, date=dt.date(2019, 5, 20))],
        car_t=[
            CarTEpisode(
                product="idecabtagene vicleucel",
                target_antigen="BCMA",
                infusion_date=dt.date(2025, 9, 2),
                progression_date=dt.date(2026, 6, 1),
                antigen_status_at_relapse=AntigenStatus.positive,
            )
        ],
        ecog=[EcogAssessment(date=dt.date(2026, 10, 22), score=1)],
        labs=[
            lab(Analyte.anc, 1.7),
            lab(Analyte.platelets, 88),
            lab(Analyte.hemoglobin, 10.4),
            lab(Analyte.creatinine, 0.8),
            lab(Analyte.body_weight, 68),
            lab(Analyte.bilirubin, 0.5),
            lab(Analyte.ast, 22),
            lab(Analyte.alt, 19),
            lab(Analyte.serum_m_protein, 1.6, dt.date(2026, 10, 10)),
        ],
    )
    base.update(changes)
    return PatientRecord(**base)


def never_treated() -> PatientRecord:
    return post_car_t(therapy_lines=[], car_t=[], transplants=[])


def study(
    criteria: str, conditions: tuple[str, ...] = ("Multiple Myeloma",), **extra: Any
) -> Study:
    record: dict[str, Any] = {
        "protocolSection": {
            "identificationModule": {"nctId": "NCT99999901", "briefTitle": "Test study"},
            "statusModule": {"overallStatus": "RECRUITING"},
            "conditionsModule": {"conditions": list(conditions)},
            "designModule": {"phases": ["PHASE2"]},
            "eligibilityModule": {"eligibilityCriteria": criteria, **extra},
        }
    }
    return Study.from_v2(record)


def judge(record: PatientRecord, criteria: str, **kw: Any) -> TrialMatch:
    s = study(criteria, **kw)
    return match_study(matcher_for(record, AS_OF), s, parse_criteria(s.eligibility.criteria_text))


def result(m: TrialMatch, cid: str) -> Result:
    return m.by_id(cid).result


# ------------------------------------------------------------------ the CAR T / BCMA rules

EXCLUDES_CAR_T = """Inclusion Criteria:
* Age >= 18 years.
* Relapsed or refractory multiple myeloma after at least 3 prior lines of therapy.
Exclusion Criteria:
* Prior treatment with chimeric antigen receptor T-cell (CAR-T) therapy directed at any target.
"""
EXCLUDES_BCMA = """Inclusion Criteria:
* Relapsed or refractory multiple myeloma.
Exclusion Criteria:
* Any prior BCMA-directed therapy, including BCMA CAR T-cell therapy, BCMA bispecific \
antibodies and belantamab mafodotin.
"""
REQUIRES_BCMA = """Inclusion Criteria:
* Prior exposure to at least one BCMA-directed therapy (CAR T, bispecific antibody or \
antibody-drug conjugate), with progression after it.
* At least 6 months since any prior CAR T infusion.
Exclusion Criteria:
* Prior GPRC5D-directed therapy.
"""
EXCLUDES_BISPECIFIC = """Inclusion Criteria:
* Prior BCMA-directed antibody-drug conjugate or CAR T-cell therapy.
Exclusion Criteria:
* Any prior BCMA x CD3 bispecific antibody.
"""


def test_trial_excluding_prior_car_t_is_never_eligible_after_car_t() -> None:
    m = judge(post_car_t(), EXCLUDES_CAR_T)
    assert m.verdict is Verdict.likely_ineligible
    assert result(m, "E1") is Result.not_met
    assert "idecabtagene vicleucel" in m.by_id("E1").patient_fact


def test_trial_excluding_prior_car_t_is_fine_without_car_t() -> None:
    m = judge(post_car_t(car_t=[]), EXCLUDES_CAR_T)
    assert result(m, "E1") is Result.met
    assert m.verdict is Verdict.likely_eligible


def test_trial_excluding_bcma_therapy() -> None:
    assert judge(post_car_t(), EXCLUDES_BCMA).verdict is Verdict.likely_ineligible
    # a GPRC5D CAR T alone is not BCMA-directed
    gprc5d = [
        CarTEpisode(
            product="arlocabtagene autoleucel",
            target_antigen="GPRC5D",
            infusion_date=dt.date(2025, 9, 2),
        )
    ]
    m = judge(post_car_t(car_t=gprc5d), EXCLUDES_BCMA)
    assert result(m, "E1") is Result.met


def test_trial_requiring_bcma_exposure_in_both_directions() -> None:
    m = judge(post_car_t(), REQUIRES_BCMA)
    assert result(m, "I1") is Result.met
    assert result(m, "I2") is Result.met  # 425 days since infusion
    assert result(m, "E1") is Result.met
    assert m.verdict is Verdict.likely_eligible
    naive = judge(post_car_t(car_t=[]), REQUIRES_BCMA)
    assert result(naive, "I1") is Result.not_met
    assert naive.verdict is Verdict.likely_ineligible


def test_bispecific_exclusion_after_car_t_and_after_bispecific() -> None:
    assert judge(post_car_t(), EXCLUDES_BISPECIFIC).verdict is Verdict.likely_eligible
    with_tec = post_car_t(
        therapy_lines=[
            *post_car_t().therapy_lines,
            TherapyLine(
                agents=["teclistamab"],
                start=dt.date(2026, 1, 10),
                end=dt.date(2026, 6, 1),
                stop_reason=StopReason.progression,
                refractory=True,
                after_car_t=True,
            ),
        ]
    )
    m = judge(with_tec, EXCLUDES_BISPECIFIC)
    assert result(m, "E1") is Result.not_met
    assert "teclistamab" in m.by_id("E1").patient_fact


def test_car_t_window_too_recent() -> None:
    recent = [
        CarTEpisode(
            product="ciltacabtagene autoleucel",
            target_antigen="BCMA",
            infusion_date=dt.date(2026, 9, 1),
        )
    ]
    m = judge(
        post_car_t(car_t=recent),
        "Exclusion Criteria:\n* Less than 90 days since CAR T-cell infusion.",
    )
    assert result(m, "E1") is Result.not_met
    assert "61 days" in m.by_id("E1").patient_fact


def test_car_t_exception_is_honoured() -> None:
    text = "Exclusion Criteria:\n* Prior BCMA-directed therapy, other than CAR T-cell therapy."
    assert result(judge(post_car_t(), text), "E1") is Result.met
    with_bela = post_car_t(
        therapy_lines=[
            *post_car_t().therapy_lines,
            TherapyLine(
                agents=["belantamab mafodotin"],
                start=dt.date(2026, 7, 1),
                end=dt.date(2026, 8, 1),
                stop_reason=StopReason.progression,
            ),
        ]
    )
    assert result(judge(with_bela, text), "E1") is Result.not_met


def test_unparsed_text_naming_a_received_therapy_is_unknown_not_ignored() -> None:
    text = (
        "Exclusion Criteria:\n"
        "* Grade 3 or higher neurotoxicity or any parkinsonism after prior CAR T-cell therapy."
    )
    m = judge(post_car_t(), text)
    assert result(m, "E1") is Result.unknown
    assert m.verdict is Verdict.possibly_eligible
    # for someone who never had CAR T it is just a question for the study team
    assert result(judge(post_car_t(car_t=[]), text), "E1") is Result.ask


# ------------------------------------------------------------------ unknowns are never met


def test_missing_facts_are_unknown() -> None:
    text = """Inclusion Criteria:
* ANC >= 1.0 x 10^9/L
* ECOG 0-1
* Creatinine clearance >= 40 mL/min
* BCMA expression documented after the most recent relapse
"""
    bare = post_car_t(
        labs=[],
        ecog=[],
        car_t=[CarTEpisode(product="idecabtagene vicleucel", infusion_date=dt.date(2025, 9, 2))],
    )
    m = judge(bare, text)
    assert [result(m, f"I{i}") for i in range(1, 5)] == [Result.unknown] * 4
    assert m.verdict is Verdict.possibly_eligible
    assert set(m.unknown) == {"I1", "I2", "I3", "I4"}


def test_stale_labs_are_unknown() -> None:
    old = post_car_t(labs=[lab(Analyte.anc, 2.0, dt.date(2026, 5, 1))])
    m = judge(old, "Inclusion Criteria:\n* ANC >= 1.0 x 10^9/L")
    assert result(m, "I1") is Result.unknown
    assert "more than 90 days" in m.by_id("I1").patient_fact


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(
        [
            "ANC >= 1.0 x 10^9/L",
            "Platelets >= 75,000/mm3",
            "Hemoglobin >= 8 g/dL",
            "Creatinine clearance >= 40 mL/min",
            "AST <= 3 x ULN",
            "Measurable disease per IMWG",
            "ECOG 0-1",
            "Age >= 18 years",
            "BCMA expression on myeloma cells",
            "t(11;14) by FISH",
            "Primary or secondary plasma cell leukemia",
        ]
    ),
    st.booleans(),
)
def test_an_empty_record_never_meets_an_inclusion(criterion: str, with_birth: bool) -> None:
    empty = PatientRecord(
        id="empty",
        demographics=Demographics(
            birth_date=dt.date(1960, 1, 1) if with_birth and "Age" not in criterion else None
        ),
    )
    m = judge(empty, f"Inclusion Criteria:\n* {criterion}")
    assert result(m, "I1") is not Result.met
    assert m.verdict is not Verdict.likely_eligible


# ------------------------------------------------------------------ labs and calculators


def test_labs_units_and_facts() -> None:
    text = """Inclusion Criteria:
* ANC ≥ 1,000/µL
* Platelet count ≥ 75,000/mm3
* Creatinine clearance ≥ 40 mL/min (Cockcroft-Gault)
* AST/ALT ≤ 2.5 x ULN; total bilirubin ≤ 1.5 x ULN
"""
    m = judge(post_car_t(), text)
    assert [result(m, f"I{i}") for i in range(1, 5)] == [Result.met] * 4
    # (140-65) x 68 / (72 x 0.8) x 0.85 = 75.3
    assert "CrCl 75.3 mL/min" in m.by_id("I3").patient_fact
    low = post_car_t(labs=[lab(Analyte.platelets, 68), lab(Analyte.anc, 1.2)])
    m = judge(low, text)
    assert result(m, "I2") is Result.not_met
    assert "platelets 68" in m.by_id("I2").patient_fact


def test_uln_uses_the_lab_range_when_given_and_a_margin_when_not() -> None:
    text = "Inclusion Criteria:\n* AST <= 2.5 x ULN"
    with_uln = post_car_t(labs=[lab(Analyte.ast, 95, upper_limit_normal=35)])
    assert result(judge(with_uln, text), "I1") is Result.not_met  # 95 > 87.5
    # no ULN recorded: 2.5 x (30..80) = 75..200 U/L is too close to call
    near = post_car_t(labs=[lab(Analyte.ast, 95)])
    assert result(judge(near, text), "I1") is Result.unknown
    low = post_car_t(labs=[lab(Analyte.ast, 70)])
    assert result(judge(low, text), "I1") is Result.met
    far = post_car_t(labs=[lab(Analyte.ast, 300)])
    assert result(judge(far, text), "I1") is Result.not_met


def test_measurable_disease_routes() -> None:
    text = (
        "Inclusion Criteria:\n* Measurable disease, defined as at least one of: "
        "serum M-protein >= 0.5 g/dL; urine M-protein >= 200 mg/24 hours; "
        "or involved serum free light chain >= 10 mg/dL with an "
        "abnormal kappa/lambda ratio."
    )
    assert result(judge(post_car_t(), text), "I1") is Result.met
    light = post_car_t(
        diagnosis=Diagnosis(isotype=Isotype(light_chain="lambda")),
        labs=[lab(Analyte.lambda_flc, 1450), lab(Analyte.kappa_flc, 8)],
    )
    m = judge(light, text)
    assert result(m, "I1") is Result.met
    assert "lambda FLC 145 mg/dL" in m.by_id("I1").patient_fact
    low_serum_only = post_car_t(labs=[lab(Analyte.serum_m_protein, 0.2)])
    assert result(judge(low_serum_only, text), "I1") is Result.unknown
    all_low = post_car_t(
        labs=[
            lab(Analyte.serum_m_protein, 0.2),
            lab(Analyte.urine_m_protein, 50),
            lab(Analyte.kappa_flc, 30),
            lab(Analyte.lambda_flc, 12),
        ]
    )
    assert result(judge(all_low, text), "I1") is Result.not_met


# ------------------------------------------------------------------ history, features, state


def test_lines_counted_by_imwg_grouping() -> None:
    m = judge(post_car_t(), "Inclusion Criteria:\n* At least 4 prior lines of therapy")
    assert result(m, "I1") is Result.met
    assert "4 prior lines" in m.by_id("I1").patient_fact
    assert (
        result(judge(post_car_t(), "Inclusion Criteria:\n* 1 to 3 prior lines of therapy"), "I1")
        is Result.not_met
    )


def test_class_refractoriness() -> None:
    text = "Inclusion Criteria:\n* Triple-class refractory disease"
    assert result(judge(post_car_t(), text), "I1") is Result.met
    # Not recorded as refractory, but stopped because of progression: progression on therapy
    # is refractory by the IMWG definition, judged on the course itself.
    lines = [ln.model_copy(update={"refractory": None}) for ln in post_car_t().therapy_lines]
    assert result(judge(post_car_t(therapy_lines=lines), text), "I1") is Result.met
    # Nothing on the course says whether it stopped working: unknown, never "not refractory".
    silent = [
        ln.model_copy(
            update={"refractory": None, "stop_reason": StopReason.unknown, "best_response": None}
        )
        for ln in post_car_t().therapy_lines
    ]
    assert result(judge(post_car_t(therapy_lines=silent), text), "I1") is Result.unknown


def test_washout_with_ongoing_therapy() -> None:
    ongoing = post_car_t(
        therapy_lines=[
            *post_car_t().therapy_lines,
            TherapyLine(
                agents=["selinexor", "dexamethasone"],
                start=dt.date(2026, 10, 1),
                stop_reason=StopReason.ongoing,
            ),
        ]
    )
    text = "Exclusion Criteria:\n* Anti-myeloma therapy within 14 days before the first dose."
    assert result(judge(ongoing, text), "E1") is Result.not_met
    assert result(judge(post_car_t(), text), "E1") is Result.met


def test_transplant_history_and_timing() -> None:
    allo = "Exclusion Criteria:\n* Prior allogeneic stem cell transplant."
    assert result(judge(post_car_t(), allo), "E1") is Result.met
    with_allo = post_car_t(
        transplants=[Transplant(kind=TransplantKind.allogeneic, date=dt.date(2022, 1, 1))]
    )
    assert result(judge(with_allo, allo), "E1") is Result.not_met
    recent = post_car_t(
        transplants=[Transplant(kind=TransplantKind.autologous, date=dt.date(2026, 9, 1))]
    )
    timing = (
        "Exclusion Criteria:\n"
        "* Autologous stem cell transplant within 12 weeks before the first dose."
    )
    assert result(judge(recent, timing), "E1") is Result.not_met
    assert result(judge(post_car_t(), timing), "E1") is Result.met


def test_rare_features_absent_do_not_exclude_but_cannot_include() -> None:
    assert (
        result(judge(post_car_t(), "Exclusion Criteria:\n* Known CNS involvement by myeloma"), "E1")
        is Result.met
    )
    pcl_trial = "Inclusion Criteria:\n* Primary or secondary plasma cell leukemia"
    assert result(judge(post_car_t(), pcl_trial), "I1") is Result.unknown
    pcl = post_car_t(labs=[*post_car_t().labs, lab(Analyte.circulating_plasma_cells, 24)])
    assert result(judge(pcl, pcl_trial), "I1") is Result.met
    assert (
        result(judge(pcl, "Exclusion Criteria:\n* Active plasma cell leukemia"), "E1")
        is Result.not_met
    )
    emd = post_car_t(
        disease_sites=[
            DiseaseSite(kind=DiseaseSiteKind.extramedullary_plasmacytoma, location="liver")
        ]
    )
    assert (
        result(judge(emd, "Exclusion Criteria:\n* Extramedullary plasmacytoma"), "E1")
        is Result.not_met
    )


def test_antigen_must_follow_the_latest_relapse() -> None:
    text = (
        "Inclusion Criteria:\n"
        "* BCMA expression on myeloma cells documented after the most recent relapse."
    )
    assert result(judge(post_car_t(), text), "I1") is Result.met
    later = post_car_t(
        therapy_lines=[
            *post_car_t().therapy_lines,
            TherapyLine(
                agents=["elranatamab"],
                start=dt.date(2026, 7, 1),
                end=dt.date(2026, 10, 1),
                stop_reason=StopReason.progression,
            ),
        ]
    )
    m = judge(later, text)
    assert result(m, "I1") is Result.unknown
    assert "not re-tested" in m.by_id("I1").patient_fact


def test_cytogenetics_reported_panel() -> None:
    text = "Inclusion Criteria:\n* t(11;14) by FISH"
    assert result(judge(post_car_t(), text), "I1") is Result.not_met
    assert result(judge(post_car_t(cytogenetics=[]), text), "I1") is Result.unknown
    t1114 = post_car_t(
        cytogenetics=[CytogeneticFinding(abnormality=CytogeneticAbnormality.t_11_14)]
    )
    assert result(judge(t1114, text), "I1") is Result.met


@pytest.mark.parametrize(
    ("conditions", "treated", "verdict"),
    [
        (("Newly Diagnosed Multiple Myeloma",), True, Verdict.likely_ineligible),
        (("Smoldering Multiple Myeloma",), True, Verdict.likely_ineligible),
        (("Relapsed Refractory Multiple Myeloma",), True, Verdict.likely_eligible),
        (("Relapsed Refractory Multiple Myeloma",), False, Verdict.likely_ineligible),
        (("AL Amyloidosis",), True, Verdict.likely_ineligible),
        (("Breast Cancer",), True, Verdict.likely_ineligible),
        (("Multiple Myeloma",), True, Verdict.likely_eligible),
    ],
)
def test_condition_fit(conditions: tuple[str, ...], treated: bool, verdict: Verdict) -> None:
    record = post_car_t() if treated else never_treated()
    m = judge(record, "Inclusion Criteria:\n* Age >= 18 years.", conditions=conditions)
    assert m.verdict is verdict


def test_registry_age_limits_apply() -> None:
    m = judge(
        post_car_t(), "Inclusion Criteria:\n* Adults.", minimumAge="18 Years", maximumAge="64 Years"
    )
    assert result(m, "A1") is Result.not_met  # 65 on 2026-11-01


def test_screening_items_do_not_change_the_verdict() -> None:
    text = (
        "Inclusion Criteria:\n* Able to sign informed consent.\nExclusion Criteria:\n"
        "* Known active hepatitis B or C infection.\n* Pregnant or breastfeeding."
    )
    m = judge(post_car_t(), text)
    assert {c.result for c in m.criteria} == {Result.screening}
    assert m.verdict is Verdict.likely_eligible


def test_reported_lines_keep_an_intake_record_from_failing_a_line_count() -> None:
    """A web-intake record: ticked drugs as one undated regimen, plus CAR T. Without the
    reported count it has 2 lines and would fail ">= 4 prior lines"; with 4 reported before
    CAR T it has 5."""
    intake = PatientRecord(
        id="intake",
        therapy_lines=[TherapyLine(agents=["bortezomib", "lenalidomide", "daratumumab"])],
        car_t=[CarTEpisode(product="ciltacabtagene autoleucel", infusion_date=dt.date(2025, 5, 1))],
    )
    criteria = "Inclusion Criteria:\n* At least 4 prior lines of therapy"
    assert result(judge(intake, criteria), "I1") is Result.not_met
    told = intake.model_copy(update={"lines_before_car_t_reported": 4})
    assert result(judge(told, criteria), "I1") is Result.met
