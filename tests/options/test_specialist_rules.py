"""The rules a myeloma specialist writes, pinned on realistic post-CAR T profiles.

Each profile starts from the computed facts of a real sample record (late relapse after
ide-cel, fit, counts fine) and changes only the facts the profile is about. Facts the clinical
picture will compute (heart failure, IgG, active infection ...) are set directly here, so the
rules are pinned before that module lands; left unknown, they must never make an option
"unlikely to fit".
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from myelonav.knowledge.loader import bundled_options
from myelonav.knowledge.schema import PICTURE_FACTS, Option
from myelonav.options.engine import Assessment, Status, assess_option
from myelonav.options.facts import Facts, compute_facts
from myelonav.options.rules import UNKNOWN
from myelonav.samples import SAMPLE_AS_OF, sample_profile

OPTIONS: dict[str, Option] = dict(bundled_options())
BASE_SAMPLE = "sample-late-idecel-t1114"
T_CELL_ENGAGERS = (
    "teclistamab",
    "elranatamab",
    "linvoseltamab",
    "talquetamab",
    "talquetamab_teclistamab",
    "teclistamab_daratumumab",
    "cevostamab",
)
BENIGN_PICTURE: dict[str, Any] = {
    "heart_failure": False,
    "lvef_pct": 60,
    "peripheral_neuropathy_grade": 0,
    "eye_disease": False,
    "active_infection": False,
    "igg_mg_dl": 700,
    "transfusion_dependent": False,
    "movement_disorder_after_car_t": False,
    "secondary_malignancy": False,
    "cord_compression": False,
    # looked for and not found (a PET-CT, a blood smear): the record says "no", not silence
    "extramedullary_disease": False,
    "cns_disease": False,
    "plasma_cell_leukemia": False,
    "triple_class_exposed": True,
    "triple_class_refractory": True,
    "penta_refractory": False,
    "stopped_working_agents": frozenset(),
    "rapid_progression": False,
    "donor_available": False,
    "months_since_last_therapy": 2,
}


def profile(**changes: Any) -> Facts:
    """The base sample's facts with the clinical picture filled in benignly, then changed."""
    facts = compute_facts(sample_profile(BASE_SAMPLE), SAMPLE_AS_OF)
    for name, value in {**BENIGN_PICTURE, **changes}.items():
        if value is UNKNOWN:
            facts.unknown(name, f"{name} unknown (test)")
            continue
        shown = frozenset(value) if isinstance(value, set | list | tuple) else value
        facts.set(name, shown, _describe(name, shown))
    return facts


def _describe(name: str, value: Any) -> str:
    if isinstance(value, frozenset):
        return f"{name.replace('_', ' ')}: {', '.join(sorted(value)) or 'none'}"
    return f"{name.replace('_', ' ')}: {value}"


def judge(facts: Facts, *option_ids: str) -> dict[str, Assessment]:
    ids = option_ids or tuple(OPTIONS)
    return {i: assess_option(OPTIONS[i], facts, "clinician") for i in ids}


def fired(assessment: Assessment) -> dict[str, str]:
    return {r.rule: r.result for r in assessment.reasons if r.result in ("fired", "not_met")}


def history(prior: Iterable[str], refractory: Iterable[str]) -> dict[str, Any]:
    from myelonav.patient.vocabulary import vocabulary

    vocab = vocabulary()
    prior_set, refr_set = set(prior), set(refractory)
    return {
        "prior_agents": prior_set,
        "refractory_agents": refr_set,
        "prior_classes": set(vocab.classes_of(prior_set)),
        "refractory_classes": set(vocab.classes_of(refr_set)),
    }


BASE_HISTORY = [
    "bortezomib",
    "lenalidomide",
    "dexamethasone",
    "idecabtagene vicleucel",
]


# --------------------------------------------------------------------------- indications


def test_radiation_needs_a_target() -> None:
    none = judge(profile(painful_bone_lesion=False, single_site_progression=False), "radiation")
    assert none["radiation"].status is Status.unlikely
    assert fired(none["radiation"])["needs_a_target"] == "not_met"
    lesion = judge(profile(painful_bone_lesion=True), "radiation")["radiation"]
    assert lesion.status in (Status.fits, Status.caution)
    cord = judge(profile(cord_compression=True, painful_bone_lesion=False), "radiation")
    assert "cord_compression" in fired(cord["radiation"])


def test_radiation_with_an_unknown_target_asks_instead_of_refusing() -> None:
    facts = profile(painful_bone_lesion=False, single_site_progression=False)
    facts.unknown("cord_compression", "not computed yet")
    assert judge(facts, "radiation")["radiation"].status is Status.need_info


def test_alkylator_salvage_fits_only_aggressive_disease() -> None:
    calm = judge(profile(extramedullary_disease=False), "alkylator_salvage")
    assert calm["alkylator_salvage"].status is Status.unlikely
    emd = judge(profile(extramedullary_disease=True), "alkylator_salvage")
    assert emd["alkylator_salvage"].status is not Status.unlikely
    rising = judge(profile(rapid_progression=True), "alkylator_salvage")
    assert rising["alkylator_salvage"].status is not Status.unlikely
    unknown = judge(profile(rapid_progression=UNKNOWN), "alkylator_salvage")
    assert unknown["alkylator_salvage"].status is Status.need_info


def test_allogeneic_transplant_needs_indication_fitness_and_donor() -> None:
    fit_high_risk = dict(
        high_risk_cytogenetics=True, age=55, ecog=1, crcl_ml_min=90, donor_available=True
    )
    ok = judge(profile(**fit_high_risk), "allogeneic_transplant")["allogeneic_transplant"]
    assert ok.status is not Status.unlikely
    old = judge(profile(**{**fit_high_risk, "age": 74}), "allogeneic_transplant")
    assert fired(old["allogeneic_transplant"])["fit_for_transplant"] == "not_met"
    standard_risk = judge(
        profile(
            **{**fit_high_risk, "high_risk_cytogenetics": False, "plasma_cell_leukemia": False}
        ),
        "allogeneic_transplant",
    )
    assert standard_risk["allogeneic_transplant"].status is Status.unlikely
    no_donor_known = judge(
        profile(**{**fit_high_risk, "donor_available": UNKNOWN}), "allogeneic_transplant"
    )
    assert no_donor_known["allogeneic_transplant"].status is Status.need_info


# --------------------------------------------------------------------------- prior exposure


def test_after_dara_pom_dex_pomalidomide_plans_are_unlikely_and_say_why() -> None:
    facts = profile(
        **history(
            [*BASE_HISTORY, "daratumumab", "pomalidomide"],
            ["lenalidomide", "daratumumab", "pomalidomide"],
        )
    )
    pom = judge(facts, "pomalidomide_combinations")["pomalidomide_combinations"]
    assert pom.status is Status.unlikely
    reason = next(r for r in pom.reasons if r.rule == "refractory_to_pomalidomide")
    used = {f.fact: f.value for f in reason.facts}
    assert "pomalidomide" in used["refractory_agents"]


def test_pomalidomide_exposure_without_refractoriness_is_a_caution() -> None:
    facts = profile(**history([*BASE_HISTORY, "pomalidomide"], ["lenalidomide"]))
    pom = judge(facts, "pomalidomide_combinations")["pomalidomide_combinations"]
    assert pom.status is Status.caution
    assert "prior_pomalidomide" in fired(pom)
    assert "lenalidomide_refractory_switch" in fired(pom)  # switch within class, with evidence
    cited = next(r for r in pom.reasons if r.rule == "lenalidomide_refractory_switch")
    assert cited.citations


def test_patient_reported_failure_counts_like_refractoriness() -> None:
    facts = profile(stopped_working_agents={"carfilzomib"})
    kd = judge(facts, "carfilzomib_combinations")["carfilzomib_combinations"]
    assert kd.status is Status.unlikely
    facts = profile(stopped_working_agents={"elranatamab"})
    for option in ("teclistamab", "elranatamab", "linvoseltamab"):
        assert judge(facts, option)[option].status is Status.unlikely


def test_carfilzomib_after_bortezomib_refractory_says_switch_within_class() -> None:
    facts = profile(**history(BASE_HISTORY, ["bortezomib", "lenalidomide"]))
    kd = judge(facts, "carfilzomib_combinations")["carfilzomib_combinations"]
    assert "bortezomib_refractory_switch" in fired(kd)
    assert kd.status is not Status.unlikely


def test_second_bcma_t_cell_therapy_after_car_t_and_bispecific_is_unlikely() -> None:
    facts = profile(
        **history([*BASE_HISTORY, "teclistamab"], ["lenalidomide", "teclistamab"]),
        car_t_target="BCMA",
    )
    results = judge(facts, "car_t_retreatment", "teclistamab", "elranatamab", "linvoseltamab")
    assert all(a.status is Status.unlikely for a in results.values())
    assert "after_bcma_car_t_and_bcma_bispecific" in fired(results["car_t_retreatment"])
    cells = judge(facts, "investigational_cell_therapy")["investigational_cell_therapy"]
    assert "bcma_after_car_t_and_bispecific" in fired(cells)  # GPRC5D cells may still fit
    assert judge(facts, "talquetamab")["talquetamab"].status is not Status.unlikely


def test_dual_bispecific_after_both_drugs() -> None:
    both = history([*BASE_HISTORY, "teclistamab", "talquetamab"], ["lenalidomide"])
    tal_tec = judge(profile(**both), "talquetamab_teclistamab")["talquetamab_teclistamab"]
    assert "had_both_drugs" in fired(tal_tec)
    assert tal_tec.status is Status.caution
    refractory_both = history(
        [*BASE_HISTORY, "teclistamab", "talquetamab"], ["teclistamab", "talquetamab"]
    )
    assert (
        judge(profile(**refractory_both), "talquetamab_teclistamab")[
            "talquetamab_teclistamab"
        ].status
        is Status.unlikely
    )


# --------------------------------------------------------------------------- frailty


@pytest.mark.parametrize("option", T_CELL_ENGAGERS)
def test_frailty_reads_the_same_way_across_t_cell_engagers(option: str) -> None:
    cases = {
        "frail_ecog_3_or_more": dict(ecog=3),
        "active_infection": dict(active_infection=True),
        "low_igg": dict(igg_mg_dl=250),
        "transfusion_dependent": dict(transfusion_dependent=True),
        "cns_disease": dict(cns_disease=True),
        "recent_car_t": dict(months_since_car_t_infusion=1.5),
        "heart_failure": dict(heart_failure=True),
    }
    for rule_id, change in cases.items():
        result = judge(profile(**change), option)[option]
        assert rule_id in fired(result), f"{option}: {rule_id} did not fire"
        assert result.status in (Status.caution, Status.unlikely)


def test_low_counts_and_frailty_make_trial_entry_unlikely_with_reasons() -> None:
    frail = judge(profile(ecog=3), "clinical_trial")["clinical_trial"]
    assert "performance_status" in fired(frail)
    low = judge(profile(platelets=30, anc=0.6), "clinical_trial")["clinical_trial"]
    assert "trial_low_counts" in fired(low)
    cns = judge(profile(cns_disease=True), "clinical_trial")["clinical_trial"]
    assert "trial_cns_disease" in fired(cns)
    assert all(a.status is Status.caution for a in (frail, low, cns))


def test_trials_rank_first_after_bcma_car_t_for_a_fit_patient() -> None:
    results = judge(profile(car_t_target="BCMA", trial_interest="yes"))
    treatments = [a for a in results.values() if a.category != "supportive_care"]
    top = max(a.score for a in treatments)
    assert results["clinical_trial"].score == top
    assert "trials_first_after_bcma_car_t" in fired(results["clinical_trial"])


def test_active_infection_with_low_igg() -> None:
    facts = profile(active_infection=True, igg_mg_dl=180, car_t_target="BCMA")
    tec = judge(facts, "teclistamab")["teclistamab"]
    assert {"active_infection", "low_igg"} <= set(fired(tec))
    care = judge(facts, "supportive_palliative_care")["supportive_palliative_care"]
    assert "low_igg_ivig" in fired(care)
    trial = judge(facts, "clinical_trial")["clinical_trial"]
    assert "trial_active_infection" in fired(trial)


def test_heart_failure_reaches_carfilzomib_and_the_bispecifics() -> None:
    facts = profile(heart_failure=False, lvef_pct=30)
    for option in ("carfilzomib_combinations", "teclistamab", "alkylator_salvage"):
        assert "heart_failure" in fired(judge(facts, option)[option]), option


def test_eye_disease_and_neuropathy_reach_belantamab() -> None:
    blenrep = judge(
        profile(eye_disease=True, peripheral_neuropathy_grade=2), "belantamab_mafodotin"
    )
    assert {"eye_disease", "neuropathy"} <= set(fired(blenrep["belantamab_mafodotin"]))
    assert blenrep["belantamab_mafodotin"].status is not Status.fits


def test_cns_disease_is_a_radiation_target_and_a_caution_for_engagers() -> None:
    facts = profile(cns_disease=True, painful_bone_lesion=False, single_site_progression=False)
    assert judge(facts, "radiation")["radiation"].status is not Status.unlikely
    assert "cns_disease" in fired(judge(facts, "talquetamab")["talquetamab"])


# --------------------------------------------------------------------------- unknown facts


@settings(max_examples=40, deadline=None)
@given(st.sets(st.sampled_from(PICTURE_FACTS)))
def test_unknown_picture_facts_never_make_an_option_unlikely(unknown: set[str]) -> None:
    """An option is "unlikely to fit" only through a rule whose facts are all known."""
    facts = profile(**{name: UNKNOWN for name in unknown})
    for assessment in judge(facts).values():
        if assessment.status is not Status.unlikely:
            continue
        blocking = [
            r
            for r in assessment.reasons
            if r.effect in ("excludes", "requires") and r.result in ("fired", "not_met")
        ]
        assert blocking, assessment.id
        assert all(f.known for r in blocking for f in r.facts if f.fact in unknown), assessment.id
