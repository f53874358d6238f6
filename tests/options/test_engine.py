from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from myelonav.options.engine import Assessment, Status, assess
from myelonav.options.render import render
from myelonav.options.report import options_report
from myelonav.patient.models import AntigenStatus, TrialInterest
from myelonav.samples import SAMPLE_AS_OF, sample_profile

BCMA_BISPECIFICS = ("teclistamab", "elranatamab", "linvoseltamab")


def _by_id(sample_id: str, **changes: object) -> dict[str, Assessment]:
    record = sample_profile(sample_id)
    for path, value in changes.items():
        target: object = record
        *parents, leaf = path.split("__")
        for part in parents:
            target = getattr(target, part)
            if isinstance(target, list):
                target = target[-1]
        setattr(target, leaf, value)
    _, results = assess(record, SAMPLE_AS_OF, "clinician")
    return {a.id: a for a in results}


def test_t11_14_patient_sees_venetoclax_as_a_fit() -> None:
    options = _by_id("sample-late-idecel-t1114")
    assert options["venetoclax_t11_14"].status is Status.fits
    assert any(
        r.result == "met" and r.rule == "requires_t_11_14"
        for r in options["venetoclax_t11_14"].reasons
    )


def test_without_t11_14_venetoclax_does_not_fit() -> None:
    options = _by_id("sample-refractory-cart-tec")
    assert options["venetoclax_t11_14"].status is Status.unlikely


def test_progressed_on_teclistamab_excludes_every_bcma_bispecific() -> None:
    options = _by_id("sample-refractory-cart-tec")
    for option_id in BCMA_BISPECIFICS:
        assert options[option_id].status is Status.unlikely, option_id
        assert any(
            r.rule == "refractory_to_bcma_bispecific" and r.result == "fired"
            for r in options[option_id].reasons
        )


def test_bcma_bispecifics_after_bcma_car_t_are_cautious_not_excluded() -> None:
    options = _by_id("sample-late-idecel-t1114")
    for option_id in BCMA_BISPECIFICS:
        assert options[option_id].status is Status.caution, option_id


def test_talquetamab_is_favoured_after_bcma_failure() -> None:
    for sample_id in ("sample-late-idecel-t1114", "sample-early-cilta-emd"):
        options = _by_id(sample_id)
        talq = options["talquetamab"]
        assert talq.status is Status.fits
        assert any(r.effect == "favours" for r in talq.reasons)


def test_extramedullary_disease_is_reflected() -> None:
    options = _by_id("sample-early-cilta-emd")
    taltec = options["talquetamab_teclistamab"]
    assert any(r.rule == "extramedullary_disease" and r.result == "fired" for r in taltec.reasons)
    # a record that does not mention EMD does not get that reason (it is unknown, not "no")
    without = _by_id("sample-late-idecel-t1114")["talquetamab_teclistamab"]
    assert not any(
        r.rule == "extramedullary_disease" and r.result == "fired" for r in without.reasons
    )


def test_painful_lesion_brings_radiation_forward() -> None:
    with_lesion = _by_id("sample-early-cilta-emd")["radiation"]
    without = _by_id("sample-late-idecel-t1114")["radiation"]
    assert any(r.rule == "painful_bone_lesion" for r in with_lesion.reasons)
    assert with_lesion.score > without.score


def test_bcma_loss_excludes_bcma_directed_options() -> None:
    options = _by_id(
        "sample-late-idecel-t1114", car_t__antigen_status_at_relapse=AntigenStatus.negative
    )
    for option_id in (*BCMA_BISPECIFICS, "car_t_retreatment", "belantamab_mafodotin"):
        assert options[option_id].status is Status.unlikely, option_id
    assert options["talquetamab"].status is Status.fits


def test_unknown_bcma_status_is_named_as_missing_information() -> None:
    options = _by_id("sample-early-cilta-emd")
    tec = options["teclistamab"]
    assert any("BCMA" in item for item in tec.missing_information)
    assert tec.status is not Status.unlikely


def test_retreatment_is_never_a_plain_fit_after_car_t() -> None:
    for sample_id in (
        "sample-late-idecel-t1114",
        "sample-early-cilta-emd",
        "sample-refractory-cart-tec",
    ):
        assert _by_id(sample_id)["car_t_retreatment"].status is not Status.fits


def test_declining_trials_excludes_the_trial_option() -> None:
    options = _by_id("sample-late-idecel-t1114", preferences__trial_interest=TrialInterest.no)
    assert options["clinical_trial"].status is Status.unlikely


def test_post_car_t_evidence_comes_first() -> None:
    talq = _by_id("sample-late-idecel-t1114")["talquetamab"]
    rank = {"yes": 0, "partial": 1, "not_reported": 2, "no": 3}
    order = [rank[e.post_bcma_car_t] for e in talq.evidence]
    assert order == sorted(order)
    assert talq.evidence[0].post_bcma_car_t in ("yes", "partial")
    assert all(e.citation for e in talq.evidence if e.figures)


def test_ranking_is_deterministic_and_supportive_care_comes_last() -> None:
    record = sample_profile("sample-refractory-cart-tec")
    first = [a.id for a in assess(record, SAMPLE_AS_OF)[1]]
    second = [a.id for a in assess(record, SAMPLE_AS_OF)[1]]
    assert first == second
    assert first[-1] == "supportive_palliative_care"


def test_report_json_shape() -> None:
    report = options_report(sample_profile("sample-early-cilta-emd"), SAMPLE_AS_OF)
    assert report["sample"] is True
    for option in report["options"]:
        assert {
            "id",
            "name",
            "category",
            "status",
            "reasons",
            "evidence",
            "missing_information",
        } <= set(option)
    assert report["car_t_failure"]["car_t"]["relapse_class"] == "early"
    assert "about 5 months later" in report["car_t_failure"]["car_t"]["summary"]
    ids = [e["id"] for e in report["car_t_failure"]["explanations"]]
    assert "early_relapse" in ids and "bcma_unknown" in ids
    assert all(e["citations"] for e in report["car_t_failure"]["explanations"])


@pytest.mark.parametrize(
    "sample_id",
    ["sample-early-cilta-emd", "sample-late-idecel-t1114", "sample-refractory-cart-tec"],
)
def test_patient_voice_reads_at_grade_eight_or_nine(
    sample_id: str, fk_grade: Callable[[str], float]
) -> None:
    report = options_report(sample_profile(sample_id), dt.date(2026, 11, 25), "patient")
    texts = [o["summary"] for o in report["options"]]
    texts += [r["text"] for o in report["options"] for r in o["reasons"] if r["result"] == "fired"]
    texts += [e["text"] for e in report["car_t_failure"]["explanations"]]
    texts.append(report["car_t_failure"]["car_t"]["summary"])
    grade = fk_grade(" ".join(texts))
    assert grade <= 9.0, grade
    clinician = options_report(sample_profile(sample_id), dt.date(2026, 11, 25), "clinician")
    assert all(
        c["summary"] != p["summary"]
        for c, p in zip(clinician["options"], report["options"], strict=True)
    )
    assert render(report, "patient").count("not medical advice") == 2


def test_two_voices_share_the_same_facts() -> None:
    record = sample_profile("sample-late-idecel-t1114")
    patient = options_report(record, SAMPLE_AS_OF, "patient")
    clinician = options_report(record, SAMPLE_AS_OF, "clinician")
    assert [o["id"] for o in patient["options"]] == [o["id"] for o in clinician["options"]]
    assert [o["status"] for o in patient["options"]] == [o["status"] for o in clinician["options"]]
    assert patient["facts"] == clinician["facts"]
