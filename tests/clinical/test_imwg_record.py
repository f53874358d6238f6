"""IMWG 2016 from real records (Kumar S, et al. Lancet Oncol 2016;17:e328-46, PMID 27511158).

Each test is written from the definition, not from the engine's output:

* response needs two consecutive assessments; bone-marrow results need not be repeated;
* CR = negative serum and urine immunofixation, < 5 % marrow plasma cells and disappearance of
  any soft-tissue plasmacytoma;
* VGPR includes M-protein detectable on immunofixation but not on electrophoresis (0);
* PD includes a new bone lesion or plasmacytoma, or >= 50 % growth of a plasmacytoma;
* relapse from CR (reappearance on immunofixation) is used for disease-free survival and is
  not PD by itself;
* responses are assessed before the institution of any new therapy.
"""

from __future__ import annotations

import datetime as dt

from myelonav.clinical.car_t import RelapseClass, car_t_facts
from myelonav.clinical.imwg import (
    evaluate_record,
    group_windows,
    m_protein_value,
    plasmacytoma_growth_dates,
)
from myelonav.patient._m_protein import absent_m_protein
from myelonav.patient.lines import count_prior_lines, imwg_lines, is_car_t_supportive_care
from myelonav.patient.models import (
    Analyte,
    CarTEpisode,
    DiseaseSite,
    DiseaseSiteKind,
    HeavyChain,
    Isotype,
    LabResult,
    LightChain,
    PatientRecord,
    Qualitative,
    ResponseCategory,
    TherapyLine,
)

D = dt.date
START = D(2025, 1, 10)  # treatment start / infusion
AS_OF = D(2026, 6, 1)
IGG_KAPPA = {"isotype": Isotype(heavy_chain=HeavyChain.IgG, light_chain=LightChain.kappa)}


def lab(analyte: Analyte, day: dt.date, value: float | str) -> LabResult:
    if isinstance(value, str):
        return LabResult(analyte=analyte, date=day, qualitative=Qualitative(value))
    return LabResult(analyte=analyte, date=day, value=value)


def make(
    labs: list[LabResult],
    *,
    sites: list[DiseaseSite] | None = None,
    lines: list[TherapyLine] | None = None,
    car_t: bool = True,
) -> PatientRecord:
    return PatientRecord.model_validate(
        {
            "id": "r1",
            "diagnosis": IGG_KAPPA,
            "labs": labs,
            "disease_sites": sites or [],
            "therapy_lines": lines or [],
            "car_t": [CarTEpisode(product="idecabtagene vicleucel", infusion_date=START)]
            if car_t
            else [],
        }
    )


S, SIFE, UIFE, BM = (
    Analyte.serum_m_protein,
    Analyte.serum_immunofixation,
    Analyte.urine_immunofixation,
    Analyte.marrow_plasma_cells,
)


def spep_series(*values: tuple[dt.date, float | str]) -> list[LabResult]:
    return [lab(S, day, v) for day, v in values]


def test_one_marrow_with_two_negative_ife_assessments_confirms_cr() -> None:
    # serum 2.0 -> 0 with negative serum and urine IFE twice; one marrow (< 5 %) at the first.
    d1, d2 = D(2025, 3, 1), D(2025, 4, 1)
    labs = spep_series((D(2025, 1, 5), 2.0), (d1, 0.0), (d2, 0.0))
    labs += [lab(SIFE, d, "negative") for d in (d1, d2)]
    labs += [lab(UIFE, d, "negative") for d in (d1, d2)]
    labs.append(lab(BM, d1, 2.0))
    result = evaluate_record(make(labs), treatment_start=START, end=AS_OF)
    assert result is not None
    assert [r.category for r in result.assessments] == [ResponseCategory.CR] * 2
    assert result.best_response is ResponseCategory.CR
    assert any("need not be repeated" in n for n in result.notes)


def test_marrow_at_the_confirming_assessment_also_confirms_cr() -> None:
    d1, d2 = D(2025, 3, 1), D(2025, 4, 1)
    labs = spep_series((D(2025, 1, 5), 2.0), (d1, 0.0), (d2, 0.0))
    labs += [lab(SIFE, d, "negative") for d in (d1, d2)]
    labs += [lab(UIFE, d, "negative") for d in (d1, d2)]
    labs.append(lab(BM, d2, 1.0))
    result = evaluate_record(make(labs), treatment_start=START, end=AS_OF)
    assert result is not None and result.best_response is ResponseCategory.CR


def test_marrow_is_not_carried_across_a_positive_immunofixation() -> None:
    d1, d2, d3 = D(2025, 3, 1), D(2025, 4, 1), D(2025, 5, 1)
    labs = spep_series((D(2025, 1, 5), 2.0), (d1, 0.0), (d2, 0.0), (d3, 0.0))
    labs += [lab(SIFE, d1, "negative"), lab(SIFE, d2, "positive"), lab(SIFE, d3, "negative")]
    labs += [lab(UIFE, d, "negative") for d in (d1, d2, d3)]
    labs.append(lab(BM, d1, 2.0))
    result = evaluate_record(make(labs), treatment_start=START, end=AS_OF)
    assert result is not None
    assert result.assessments[2].category is ResponseCategory.VGPR  # its run has no marrow
    assert result.best_response is ResponseCategory.VGPR


def test_spep_ife_and_marrow_on_different_days_form_one_assessment() -> None:
    labs = spep_series((D(2025, 1, 5), 2.0), (D(2025, 3, 1), 0.0), (D(2025, 4, 1), 0.0))
    labs += [lab(SIFE, D(2025, 3, 4), "negative"), lab(UIFE, D(2025, 3, 6), "negative")]
    labs += [lab(BM, D(2025, 3, 10), 1.0)]
    labs += [lab(SIFE, D(2025, 4, 3), "negative"), lab(UIFE, D(2025, 4, 2), "negative")]
    result = evaluate_record(make(labs), treatment_start=START, end=AS_OF)
    assert result is not None
    assert [r.date for r in result.assessments] == [D(2025, 3, 1), D(2025, 4, 1)]
    assert result.best_response is ResponseCategory.CR


def test_windows_close_at_the_treatment_start() -> None:
    days = [D(2025, 1, 5), D(2025, 1, 10), D(2025, 1, 12), D(2025, 1, 30)]
    anchors = group_windows(days, 14, breaks=[D(2025, 1, 10)])
    assert anchors[D(2025, 1, 10)] == D(2025, 1, 5)  # the start day is pre-treatment
    assert anchors[D(2025, 1, 12)] == D(2025, 1, 12)  # after it, a new window
    assert anchors[D(2025, 1, 30)] == D(2025, 1, 30)


def test_m_protein_not_detected_is_zero_not_missing() -> None:
    labs = spep_series(
        (D(2025, 1, 5), 2.0), (D(2025, 3, 1), "negative"), (D(2025, 4, 1), "negative")
    )
    labs += [lab(SIFE, D(2025, 3, 1), "positive"), lab(SIFE, D(2025, 4, 1), "positive")]
    result = evaluate_record(make(labs), treatment_start=START, end=AS_OF)
    assert result is not None
    # only on immunofixation, not on electrophoresis: VGPR (never NE for a "missing" serum M)
    assert result.best_response is ResponseCategory.VGPR
    assert m_protein_value(lab(S, D(2025, 3, 1), "low")) == 0.0  # "below detection"
    assert m_protein_value(lab(Analyte.igg, D(2025, 3, 1), "low")) is None


def test_fhir_m_protein_reported_absent() -> None:
    def obs(**kw: object) -> dict[str, object]:
        return dict(kw)

    assert absent_m_protein(S, obs(valueString="None seen"))
    assert absent_m_protein(S, obs(valueString="M-spike not detected"))
    assert absent_m_protein(S, obs(dataAbsentReason={"text": "below detection limit"}))
    assert absent_m_protein(
        Analyte.urine_m_protein, obs(interpretation=[{"coding": [{"code": "ND"}]}])
    )
    assert not absent_m_protein(S, obs(valueString="M-spike present, too small to quantify"))
    assert not absent_m_protein(S, obs(dataAbsentReason={"coding": [{"code": "not-performed"}]}))
    assert not absent_m_protein(Analyte.kappa_flc, obs(valueString="not detected"))


def test_new_bone_lesion_is_progression_with_flat_labs_and_no_car_t() -> None:
    labs = spep_series(*((D(2025, m, 1), 1.5) for m in range(1, 9)))
    sites = [
        DiseaseSite(kind=DiseaseSiteKind.bone_lesion, location="L2", date=D(2024, 12, 1)),
        DiseaseSite(kind=DiseaseSiteKind.bone_lesion, location="left femur", date=D(2025, 5, 20)),
    ]
    record = make(labs, sites=sites, car_t=False)
    result = evaluate_record(record, treatment_start=D(2025, 1, 2), end=AS_OF)
    assert result is not None
    assert result.progression_date == D(2025, 5, 20)  # imaging PD needs no second assessment
    assert result.best_response is ResponseCategory.SD


def test_plasmacytoma_growing_50_percent_is_progression() -> None:
    labs = spep_series(*((D(2025, m, 1), 1.5) for m in range(1, 9)))
    site = DiseaseSiteKind.extramedullary_plasmacytoma
    sites = [
        DiseaseSite(kind=site, location="chest wall", date=D(2025, 1, 3), size_cm=4.0),
        DiseaseSite(kind=site, location="chest wall", date=D(2025, 3, 15), size_cm=2.0),
        DiseaseSite(kind=site, location="Chest wall", date=D(2025, 6, 10), size_cm=3.0),
    ]
    assert plasmacytoma_growth_dates(make([], sites=sites)) == [D(2025, 6, 10)]  # 2 -> 3 cm
    result = evaluate_record(make(labs, sites=sites), treatment_start=START, end=AS_OF)
    assert result is not None and result.progression_date == D(2025, 6, 10)
    smaller = [*sites[:2], sites[2].model_copy(update={"size_cm": 2.9})]
    assert plasmacytoma_growth_dates(make([], sites=smaller)) == []


def _cr_labs() -> list[LabResult]:
    d1, d2 = D(2025, 3, 1), D(2025, 4, 1)
    labs = spep_series((D(2025, 1, 5), 2.0), (d1, 0.0), (d2, 0.0))
    labs += [lab(SIFE, d, "negative") for d in (d1, d2)]
    labs += [lab(UIFE, d, "negative") for d in (d1, d2)]
    labs += [lab(BM, d, 1.0) for d in (d1, d2)]
    return labs


def test_baseline_plasmacytoma_must_be_gone_for_cr() -> None:
    site = DiseaseSiteKind.paraskeletal_plasmacytoma
    present = [DiseaseSite(kind=site, location="T8", date=D(2024, 12, 20), size_cm=3.0)]
    result = evaluate_record(make(_cr_labs(), sites=present), treatment_start=START, end=AS_OF)
    assert result is not None
    assert result.best_response is ResponseCategory.VGPR
    assert all("plasmacytoma" in " ".join(r.missing_labels) for r in result.assessments)
    gone = [*present, DiseaseSite(kind=site, location="T8", date=D(2025, 2, 20), active=False)]
    result = evaluate_record(make(_cr_labs(), sites=gone), treatment_start=START, end=AS_OF)
    assert result is not None and result.best_response is ResponseCategory.CR


def test_labs_on_the_day_the_next_therapy_starts_belong_to_the_car_t_window() -> None:
    # PD on 2025-06-01 and again on 2025-07-01, the day talquetamab starts (its baseline).
    labs = spep_series(
        (D(2025, 1, 5), 2.0),
        (D(2025, 3, 1), 0.8),
        (D(2025, 4, 1), 0.7),
        (D(2025, 6, 1), 1.5),
        (D(2025, 7, 1), 1.9),
    )
    line = TherapyLine(agents=["talquetamab"], start=D(2025, 7, 1))
    record = make(labs, lines=[line])
    facts = car_t_facts(record, record.car_t[0], as_of=AS_OF)
    assert facts.progression_date == D(2025, 6, 1)
    assert facts.relapse_class is RelapseClass.early_relapse


def test_crs_icans_treatment_is_not_a_line_and_keeps_the_window_open() -> None:
    labs = spep_series(
        (D(2025, 1, 5), 2.0), (D(2025, 3, 1), 0.8), (D(2025, 4, 1), 0.7), (D(2025, 5, 1), 0.6)
    )
    toci = TherapyLine(agents=["tocilizumab"], start=START + dt.timedelta(days=2))
    dex = TherapyLine(agents=["dexamethasone"], start=START + dt.timedelta(days=6))
    dex_icans = TherapyLine(
        agents=["dexamethasone"], start=START + dt.timedelta(days=60), regimen="dex for ICANS"
    )
    record = make(labs, lines=[toci, dex, dex_icans])
    assert all(is_car_t_supportive_care(ln, record) for ln in record.therapy_lines)
    assert len(imwg_lines(record)) == 1 and count_prior_lines(record) == 1  # the CAR T only
    facts = car_t_facts(record, record.car_t[0], as_of=AS_OF)
    assert facts.best_response is ResponseCategory.PR
    assert facts.window_end == AS_OF
    # dexamethasone months later, for the myeloma, is a line
    late_dex = TherapyLine(agents=["dexamethasone"], start=D(2025, 9, 1))
    assert not is_car_t_supportive_care(late_dex, record)


def test_no_measurable_disease_at_baseline_is_not_evaluable_never_primary_refractory() -> None:
    labs = spep_series((D(2025, 1, 5), 0.4), (D(2025, 3, 1), 0.9), (D(2025, 4, 1), 1.0))
    record = make(labs)
    facts = car_t_facts(record, record.car_t[0], as_of=AS_OF)
    assert facts.relapse_class is RelapseClass.undetermined
    assert facts.not_evaluable is not None and "no measurable disease" in facts.not_evaluable
    assert "serum M-protein < 1 g/dL" in facts.not_evaluable


def test_measurable_urine_never_repeated_is_not_evaluable() -> None:
    # light-chain disease followed by urine; serum creeps up (PD by serum rule), urine never
    # measured again: no response level can be judged, so not "primary refractory".
    labs = [lab(Analyte.urine_m_protein, D(2025, 1, 5), 800.0)]
    labs += spep_series(
        (D(2025, 1, 5), 0.2), (D(2025, 3, 1), 0.3), (D(2025, 4, 1), 0.8), (D(2025, 5, 1), 0.9)
    )
    record = make(labs)
    facts = car_t_facts(record, record.car_t[0], as_of=AS_OF)
    assert facts.relapse_class is not RelapseClass.primary_refractory
    assert facts.relapse_class is RelapseClass.undetermined
    assert facts.not_evaluable is not None and "24-hour urine M-protein" in facts.not_evaluable


def test_relapse_from_cr_is_reported_and_is_not_progression() -> None:
    labs = _cr_labs()
    labs += [lab(S, D(2025, 6, 1), 0.0), lab(SIFE, D(2025, 6, 1), "positive")]
    labs += [lab(S, D(2025, 7, 1), 0.0), lab(SIFE, D(2025, 7, 1), "positive")]
    record = make(labs)
    facts = car_t_facts(record, record.car_t[0], as_of=AS_OF)
    assert facts.relapse_from_cr_date == D(2025, 6, 1)
    assert facts.progression_date is None
    assert facts.best_response is ResponseCategory.CR
    assert facts.relapse_class is RelapseClass.no_progression
    assert facts.response is not None
    assert all(r.category is not ResponseCategory.PD for r in facts.response.assessments)
    assert any("relapse from CR" in n and "not progression" in n for n in facts.notes)


def test_fhir_m_protein_check_never_crashes_on_malformed_fields() -> None:
    for bad in (5, "x", None, [1, "ND"], {"coding": 3}, {"coding": [3, {"code": 4}]}):
        absent_m_protein(S, {"interpretation": bad, "valueCodeableConcept": bad})
        absent_m_protein(S, {"dataAbsentReason": bad, "valueString": bad})


def test_fhir_import_keeps_an_m_protein_reported_as_none_seen() -> None:
    from myelonav.patient.fhir_import import import_bundle

    def spep(oid: str, day: str, **value: object) -> dict[str, object]:
        return {
            "resourceType": "Observation",
            "id": oid,
            "status": "final",
            "code": {"text": "M-protein (serum protein electrophoresis)"},
            "effectiveDateTime": day,
            **value,
        }

    resources = [
        {"resourceType": "Patient", "id": "p1", "birthDate": "1960-01-01", "gender": "male"},
        {
            "resourceType": "Condition",
            "id": "c1",
            "code": {
                "coding": [{"system": "http://snomed.info/sct", "code": "109989006"}],
                "text": "Multiple myeloma",
            },
            "onsetDateTime": "2020-01-01",
        },
        spep("o1", "2025-03-01", valueString="None seen"),
        spep("o2", "2025-04-01", dataAbsentReason={"text": "below detection limit"}),
    ]
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": r} for r in resources],
    }
    record = import_bundle(bundle, as_of=D(2025, 6, 1)).record
    values = [(x.date, x.value) for x in record.series(S)]
    assert values == [(D(2025, 3, 1), 0.0), (D(2025, 4, 1), 0.0)]
