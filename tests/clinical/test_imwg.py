"""IMWG 2016 response criteria (Kumar et al., Lancet Oncol 2016): worked examples and edges."""

from __future__ import annotations

import datetime as dt

import pytest

from myelonav.clinical.imwg import (
    Assessment,
    Missing,
    Path,
    assessments_from_record,
    build_baseline,
    evaluate,
    new_lesion_dates,
)
from myelonav.errors import CalculationError
from myelonav.patient.models import (
    Analyte,
    DiseaseSite,
    DiseaseSiteKind,
    LabResult,
    LightChain,
    PatientRecord,
    Qualitative,
    ResponseCategory,
)

D = dt.date(2025, 1, 1)
PD, SD, MR, PR = (ResponseCategory.PD, ResponseCategory.SD, ResponseCategory.MR,
                  ResponseCategory.PR)
VGPR, CR, SCR, NE = (ResponseCategory.VGPR, ResponseCategory.CR, ResponseCategory.sCR,
                     ResponseCategory.NE)


def day(n: int) -> dt.date:
    return D + dt.timedelta(days=n)


def serum_series(*values: float) -> list[Assessment]:
    return [Assessment(day(30 * i), serum_m=v) for i, v in enumerate(values)]


def cats(result: object) -> list[str]:
    return [a.category.value for a in result.assessments]  # type: ignore[attr-defined]


def test_measurable_disease_thresholds() -> None:
    assert build_baseline([Assessment(D, serum_m=1.0)]).path is Path.m_protein
    assert build_baseline([Assessment(D, serum_m=0.9)]).path is Path.none
    assert build_baseline([Assessment(D, urine_m=200)]).path is Path.m_protein
    assert build_baseline([Assessment(D, urine_m=199)]).path is Path.none
    # involved FLC >= 10 mg/dL (100 mg/L) with an abnormal ratio
    flc = build_baseline([Assessment(D, kappa=100, lambda_=10)])
    assert flc.path is Path.flc and flc.involved is LightChain.kappa and flc.dflc == 90
    assert build_baseline([Assessment(D, kappa=99, lambda_=10)]).path is Path.none
    # 100 mg/L but a normal ratio (100/70 = 1.43) is not measurable
    assert build_baseline([Assessment(D, kappa=100, lambda_=70)]).path is Path.none
    assert build_baseline([Assessment(D, marrow_pc=30)]).path is Path.marrow


def test_response_levels_on_serum() -> None:
    r = evaluate(serum_series(4.0, 3.0, 2.9, 2.0, 1.9, 0.4, 0.39))
    # 25% -> MR; 27.5% MR; 50% PR; 52.5% PR; 90% VGPR; 90.25% VGPR
    assert cats(r) == ["MR", "MR", "PR", "PR", "VGPR", "VGPR"]
    assert r.best_response is VGPR
    assert r.progression_date is None


def test_vgpr_when_m_spike_gone_but_immunofixation_positive() -> None:
    items = [*serum_series(2.0, 0.0), Assessment(day(30), serum_ife=True)]
    r = evaluate(items)
    assert r.assessments[0].category is VGPR
    assert r.assessments[0].rule == "vgpr"


def test_cr_needs_negative_immunofixation_and_marrow() -> None:
    base = Assessment(D, serum_m=3.0, urine_m=50)
    ife_only = Assessment(day(30), serum_m=0.0, urine_m=0, serum_ife=False, urine_ife=False)
    r = evaluate([base, ife_only])
    a = r.assessments[0]
    assert a.category is VGPR  # CR not proven without marrow
    assert a.missing & Missing.MARROW
    full = Assessment(day(30), serum_m=0.0, urine_m=0, serum_ife=False, urine_ife=False,
                      marrow_pc=2)
    r = evaluate([base, full])
    a = r.assessments[0]
    assert a.category is CR and a.rule == "cr"
    assert a.missing & Missing.FLC and a.missing & Missing.CLONALITY  # what sCR still needs


def test_scr_needs_normal_ratio_and_no_clonal_cells() -> None:
    base = Assessment(D, serum_m=3.0, urine_m=50)
    scr = Assessment(day(30), serum_m=0.0, urine_m=0, serum_ife=False, urine_ife=False,
                     marrow_pc=1, kappa=12, lambda_=10, marrow_clonal=False)
    assert evaluate([base, scr]).assessments[0].category is SCR
    abnormal = Assessment(day(30), serum_m=0.0, urine_m=0, serum_ife=False, urine_ife=False,
                          marrow_pc=1, kappa=30, lambda_=10, marrow_clonal=False)
    a = evaluate([base, abnormal]).assessments[0]
    assert a.category is CR and not a.missing & Missing.FLC


def test_positive_immunofixation_blocks_cr_without_asking_for_more() -> None:
    base = Assessment(D, serum_m=3.0, urine_m=50)
    a = evaluate([base, Assessment(day(30), serum_m=0.0, urine_m=0, serum_ife=True)])
    row = a.assessments[0]
    assert row.category is VGPR and not row.missing & Missing.MARROW


def test_progression_needs_25_percent_and_half_gram_from_nadir() -> None:
    # nadir 1.0: +0.4 (40%) is not PD (below 0.5 g/dL); +0.5 is PD
    r = evaluate(serum_series(4.0, 1.0, 1.4, 1.5, 1.6))
    assert cats(r) == ["PR", "PR", "PD", "PD"]
    assert r.progression_date == day(90)
    assert r.assessments[2].rule == "pd_serum"
    assert r.assessments[2].nadir_serum == 1.0


def test_progression_from_a_high_nadir_needs_only_1_g_dl() -> None:
    # nadir 6 g/dL: +1.0 g/dL (17%) is PD although under 25%
    r = evaluate(serum_series(8.0, 6.0, 7.0, 7.1))
    assert cats(r)[1:] == ["PD", "PD"]
    assert r.assessments[1].rule == "pd_serum_high_nadir"
    # nadir 4.9 g/dL: +1.0 (20%) is not PD
    r = evaluate(serum_series(8.0, 4.9, 5.9))
    assert cats(r)[1] != "PD"


def test_unconfirmed_pd_is_pending_not_progression() -> None:
    r = evaluate(serum_series(3.0, 1.0, 1.6, 1.0, 1.0))
    assert cats(r) == ["PR", "PD", "PR", "PR"]
    assert r.progression_date is None and r.pending_progression_date is None
    r = evaluate(serum_series(3.0, 1.0, 1.0, 1.6))
    assert r.progression_date is None and r.pending_progression_date == day(90)


def test_best_response_needs_two_consecutive_assessments() -> None:
    r = evaluate(serum_series(4.0, 0.3, 0.7, 0.7))
    assert cats(r) == ["VGPR", "PR", "PR"]
    assert r.best_unconfirmed is VGPR
    assert r.best_response is PR
    # responses after confirmed progression do not count
    r = evaluate(serum_series(2.0, 0.9, 0.9, 1.5, 1.6, 0.1, 0.1))
    assert r.progression_date == day(90)
    assert r.best_response is PR


def test_missing_urine_when_urine_is_measurable_gives_ne() -> None:
    items = [Assessment(D, serum_m=2.0, urine_m=600), Assessment(day(30), serum_m=0.5)]
    a = evaluate(items).assessments[0]
    assert a.category is NE and a.rule == "ne_missing" and a.missing == Missing.URINE_M


def test_missing_urine_does_not_hide_serum_progression() -> None:
    items = [Assessment(D, serum_m=2.0, urine_m=600), Assessment(day(30), serum_m=2.6)]
    assert evaluate(items).assessments[0].category is PD


def test_urine_progression() -> None:
    items = [Assessment(D, urine_m=1000), Assessment(day(30), urine_m=100),
             Assessment(day(60), urine_m=299), Assessment(day(90), urine_m=300)]
    r = evaluate(items)
    # 299 is 70% down and >= 200 mg/24 h: MR (+199 is not PD); +200 (and 200%) is PD
    assert cats(r) == ["PR", "MR", "PD"]


def test_urine_never_measured_allows_vgpr_on_serum_and_says_so() -> None:
    a = evaluate(serum_series(3.0, 0.2)).assessments[0]
    assert a.category is VGPR and a.missing & Missing.URINE_M


def test_light_chain_only_path() -> None:
    items = [
        Assessment(D, kappa=8, lambda_=1000),
        Assessment(day(30), kappa=8, lambda_=400),  # dFLC 992 -> 392: 60% down
        Assessment(day(60), kappa=8, lambda_=80),  # 92.7% down
        Assessment(day(90), kappa=8, lambda_=180),  # +100 mg/L: not > 10 mg/dL
        Assessment(day(120), kappa=8, lambda_=181),  # +101 and >= 25%: PD
        Assessment(day(150), kappa=8, lambda_=300),
    ]
    r = evaluate(items, involved=LightChain.lambda_)
    assert r.baseline.path is Path.flc
    assert cats(r) == ["PR", "VGPR", "PR", "PD", "PD"]
    assert r.assessments[3].rule == "pd_dflc"
    assert r.progression_date == day(120)
    assert r.nadir_dflc == 72


def test_flc_cr_needs_normal_ratio() -> None:
    items = [
        Assessment(D, kappa=8, lambda_=1000),
        Assessment(day(30), kappa=8, lambda_=40, serum_ife=False, urine_ife=False, marrow_pc=1),
    ]
    a = evaluate(items, involved=LightChain.lambda_).assessments[0]
    assert a.category is VGPR  # ratio 8/40 = 0.2 is still abnormal
    items[1] = Assessment(day(30), kappa=8, lambda_=12, serum_ife=False, urine_ife=False,
                          marrow_pc=1)
    assert evaluate(items, involved=LightChain.lambda_).assessments[0].category is CR


def test_light_chain_urine_patient_falls_back_to_dflc_when_urine_missing() -> None:
    items = [
        Assessment(D, kappa=7, lambda_=1380, urine_m=1200),
        Assessment(day(30), kappa=8, lambda_=95),
    ]
    a = evaluate(items, involved=LightChain.lambda_).assessments[0]
    assert a.path == "flc_fallback" and a.category is VGPR and a.missing & Missing.URINE_M


def test_non_secretory_marrow_path() -> None:
    items = [Assessment(D, marrow_pc=60), Assessment(day(30), marrow_pc=25),
             Assessment(day(60), marrow_pc=40), Assessment(day(90), marrow_pc=2)]
    r = evaluate(items)
    assert r.baseline.path is Path.marrow
    assert cats(r) == ["PR", "PD", "PR"]
    assert r.assessments[0].rule == "pr_marrow"
    assert r.assessments[2].missing & Missing.SERUM_IFE  # CR would need immunofixation


def test_not_measurable_and_no_baseline() -> None:
    r = evaluate([Assessment(D, serum_m=0.4), Assessment(day(30), serum_m=0.2)])
    assert r.assessments[0].category is NE and r.assessments[0].rule == "ne_not_measurable"
    r = evaluate([Assessment(day(30), serum_m=1.2)], baseline_date=D)
    assert r.assessments[0].rule == "ne_no_baseline"
    with pytest.raises(CalculationError):
        build_baseline([])


def test_plasmacytoma_growth_new_lesion_and_relapse_from_cr() -> None:
    base = Assessment(D, serum_m=2.0, plasmacytoma_spd=10)
    r = evaluate([base, Assessment(day(30), serum_m=0.8, plasmacytoma_spd=6)])
    assert r.assessments[0].category is MR  # serum PR, but plasmacytoma only 40% smaller
    r = evaluate([base, Assessment(day(30), serum_m=0.8, plasmacytoma_spd=4),
                  Assessment(day(60), serum_m=0.8, plasmacytoma_spd=6)])
    assert cats(r) == ["PR", "PD"] and r.assessments[1].rule == "pd_plasmacytoma"
    cr = Assessment(day(30), serum_m=0, urine_m=0, serum_ife=False, urine_ife=False, marrow_pc=1)
    back = Assessment(day(60), serum_m=0, urine_m=0, serum_ife=True)
    r = evaluate([Assessment(D, serum_m=2.0, urine_m=10), cr, back])
    assert r.assessments[1].relapse_from_cr and r.relapse_from_cr_date == day(60)
    assert r.assessments[1].category is VGPR  # positive immunofixation alone is not PD
    r = evaluate([base, Assessment(day(30), serum_m=0.8, new_lesion=True)])
    assert r.assessments[0].rule == "pd_new_lesion"


def test_same_day_results_merge() -> None:
    items = [Assessment(D, serum_m=2.0), Assessment(day(30), serum_m=0.0),
             Assessment(day(30), serum_ife=True)]
    r = evaluate(items)
    assert len(r.assessments) == 1 and r.assessments[0].category is VGPR


def _lab(analyte: Analyte, when: dt.date, value: float | None = None,
         q: Qualitative | None = None) -> LabResult:
    return LabResult(analyte=analyte, date=when, value=value, qualitative=q)


def test_assessments_from_record_and_new_lesions() -> None:
    record = PatientRecord(
        id="t1",
        labs=[
            _lab(Analyte.serum_m_protein, D, 2.0),
            _lab(Analyte.serum_immunofixation, day(30), q=Qualitative.positive),
            _lab(Analyte.serum_m_protein, day(30), 0.0),
            _lab(Analyte.kappa_flc, day(30), 20),
            _lab(Analyte.hemoglobin, day(30), 11),
        ],
        disease_sites=[
            DiseaseSite(kind=DiseaseSiteKind.bone_lesion, location="L2", date=day(-10)),
            DiseaseSite(kind=DiseaseSiteKind.bone_lesion, location="L2", date=day(60)),
            DiseaseSite(kind=DiseaseSiteKind.extramedullary_plasmacytoma, location="chest",
                        date=day(60)),
        ],
    )
    items = assessments_from_record(record)
    assert [a.date for a in items] == [D, day(30)]
    assert items[1].serum_ife is True and items[1].kappa == 20
    assert new_lesion_dates(record, D) == [day(60)]
    with_lesions = assessments_from_record(record, lesions_after=D)
    assert with_lesions[-1].date == day(60) and with_lesions[-1].new_lesion is True
