"""Ranking: verdict tiers first, then an explainable weighted score."""

from __future__ import annotations

import datetime as dt
from typing import Any

from myelonav.patient.models import (
    CarTEpisode,
    Demographics,
    PatientRecord,
    Preferences,
    TherapyLine,
)
from myelonav.trials._facts import PatientFacts
from myelonav.trials.criteria import parse_criteria
from myelonav.trials.geo import Point
from myelonav.trials.matching import Matcher, Verdict, match_study
from myelonav.trials.models import Study
from myelonav.trials.ranking import WEIGHTS, evidence_for, explain, rank, study_classes
from myelonav.trials.summary import summarize

AS_OF = dt.date(2026, 11, 1)
ATLANTA = Point(33.749, -84.388, "Atlanta")


def patient(max_miles: float | None = None) -> PatientRecord:
    return PatientRecord(
        id="rank-test",
        demographics=Demographics(birth_date=dt.date(1960, 1, 1)),
        therapy_lines=[
            TherapyLine(
                agents=["daratumumab", "pomalidomide", "dexamethasone"],
                start=dt.date(2022, 1, 1),
                end=dt.date(2024, 1, 1),
                stop_reason="progression",
                refractory=True,
            )
        ],
        car_t=[
            CarTEpisode(
                product="ciltacabtagene autoleucel",
                target_antigen="BCMA",
                infusion_date=dt.date(2024, 6, 1),
            )
        ],
        preferences=Preferences(max_travel_miles=max_miles),
    )


def study(
    nct: str,
    intervention: str,
    *,
    phases: list[str],
    status: str = "RECRUITING",
    criteria: str = "Inclusion Criteria:\n* Age >= 18 years.",
    site: tuple[float, float] | None = (33.79, -84.32),
    title: str | None = None,
) -> Study:
    record: dict[str, Any] = {
        "protocolSection": {
            "identificationModule": {"nctId": nct, "briefTitle": title or f"{intervention} study"},
            "statusModule": {"overallStatus": status},
            "conditionsModule": {"conditions": ["Multiple Myeloma"]},
            "designModule": {"phases": phases},
            "armsInterventionsModule": {"interventions": [{"type": "DRUG", "name": intervention}]},
            "eligibilityModule": {"eligibilityCriteria": criteria},
            "contactsLocationsModule": {
                "centralContacts": [{"name": "Study desk", "phone": "555-0100"}]
            },
        }
    }
    if site is not None:
        record["protocolSection"]["contactsLocationsModule"]["locations"] = [
            {
                "facility": "Test Cancer Center",
                "city": "Atlanta",
                "state": "Georgia",
                "status": "RECRUITING",
                "geoPoint": {"lat": site[0], "lon": site[1]},
            }
        ]
    return Study.from_v2(record)


def ranked(
    studies: list[Study], record: PatientRecord, origin: Point | None = ATLANTA
) -> list[Any]:
    facts = PatientFacts.build(record, AS_OF)
    matcher = Matcher(facts)
    pairs = [
        (match_study(matcher, s, parse_criteria(s.eligibility.criteria_text)), s) for s in studies
    ]
    return rank(pairs, facts, origin=origin)


def test_eligible_trials_come_before_ineligible_ones_whatever_their_score() -> None:
    good = study("NCT99990001", "Talquetamab", phases=["PHASE1"], status="NOT_YET_RECRUITING")
    excluded = study(
        "NCT99990002",
        "Talquetamab",
        phases=["PHASE3"],
        criteria="Exclusion Criteria:\n* Prior CAR T-cell therapy",
    )
    out = ranked([excluded, good], patient())
    assert [r.match.nct_id for r in out] == ["NCT99990001", "NCT99990002"]
    assert out[1].match.verdict is Verdict.likely_ineligible
    assert out[1].score > 0 and out[0].rank == 1 and out[1].rank == 2


def test_components_add_up_to_the_score() -> None:
    out = ranked([study("NCT99990003", "Talquetamab", phases=["PHASE2"])], patient())
    r = out[0]
    assert {c.name for c in r.components} == set(WEIGHTS)
    assert r.score == round(100 * sum(c.value * c.weight for c in r.components), 1)
    assert "talquetamab" in explain(r).lower() or "monumental" in explain(r).lower()


def test_new_target_after_bcma_car_t_beats_the_same_target() -> None:
    facts = PatientFacts.build(patient(), AS_OF)
    gprc5d = evidence_for(study("NCT99990004", "Talquetamab", phases=["PHASE2"]), facts)
    bcma = evidence_for(study("NCT99990005", "Teclistamab", phases=["PHASE2"]), facts)
    assert gprc5d.value > 0 and bcma.value > 0
    assert gprc5d.value > bcma.value
    assert "x0.6" in bcma.reason
    none = evidence_for(study("NCT99990006", "Aspirin", phases=["PHASE2"]), facts)
    assert none.value == 0 and "no post-CAR T" in none.reason


def test_class_words_in_intervention_names_count() -> None:
    s = study("NCT99990007", "GPRC5D-targeted CAR T cells", phases=["PHASE1"])
    assert {"gprc5d_directed", "car_t"} <= study_classes(s)


def test_distance_against_travel_preference() -> None:
    near = study("NCT99990008", "Talquetamab", phases=["PHASE2"])
    far = study("NCT99990009", "Talquetamab", phases=["PHASE2"], site=(42.36, -71.06))  # Boston
    out = ranked([far, near], patient(max_miles=100))
    assert out[0].match.nct_id == "NCT99990008"
    assert out[0].within_travel is True and out[1].within_travel is False
    assert out[1].nearest_site is not None and out[1].nearest_site.miles > 900
    unknown = ranked([near], patient(), origin=None)[0]
    dist = next(c for c in unknown.components if c.name == "distance")
    assert dist.value == 0.5 and "not known" in dist.reason


def test_summary_is_plain_and_complete() -> None:
    s = study(
        "NCT99990010",
        "Talquetamab",
        phases=["PHASE1"],
        criteria="Inclusion Criteria:\n* ANC >= 1.0 x 10^9/L",
    )
    r = ranked([s], patient())[0]
    summary = summarize(s, r.match, r)
    assert summary.fit.startswith("You might qualify")
    assert summary.to_find_out and "ANC" in summary.to_find_out[0]
    assert "GPRC5D" in summary.what_is_tested and "bispecific" in summary.what_is_tested
    assert any("phase 1" in a for a in summary.what_it_asks)
    assert "Test Cancer Center" in summary.where
    assert summary.contact == ["Study desk, 555-0100"]
    text = summary.as_text()
    assert "NCT99990010" in text and "care team" in text
