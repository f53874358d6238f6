from __future__ import annotations

import datetime as dt

from myelonav.knowledge.schema import FACTS
from myelonav.options.facts import compute_facts
from myelonav.options.rules import UNKNOWN
from myelonav.patient.models import Analyte, LabResult, PatientRecord
from myelonav.samples import SAMPLE_AS_OF, sample_profile


def test_every_fact_is_decided_for_every_sample() -> None:
    for sample_id in (
        "sample-early-cilta-emd",
        "sample-late-idecel-t1114",
        "sample-refractory-cart-tec",
    ):
        facts = compute_facts(sample_profile(sample_id), SAMPLE_AS_OF)
        assert set(facts.values) == set(FACTS)
        for name in FACTS:
            assert facts.describe(name), name


def test_sample_facts() -> None:
    late = compute_facts(sample_profile("sample-late-idecel-t1114"), SAMPLE_AS_OF).values
    assert late["t_11_14"] is True
    assert late["crcl_ml_min"] == 34.9  # (140-71) * 60 / (72 * 1.4) * 0.85
    assert late["car_t_relapse_class"] == "late"
    assert late["bcma_status_at_relapse"] == "positive"
    assert late["lines_of_therapy"] == 4
    assert "BCMA" in late["exposed_to_target"] and "CD38" in late["exposed_to_target"]
    tec = compute_facts(sample_profile("sample-refractory-cart-tec"), SAMPLE_AS_OF).values
    assert tec["car_t_relapse_class"] == "primary_refractory"
    assert "teclistamab" in tec["refractory_agents"]
    assert tec["platelets"] == 48 and tec["anc"] == 0.9
    assert tec["painful_bone_lesion"] is True
    assert tec["bcma_status_at_relapse"] is UNKNOWN
    emd = compute_facts(sample_profile("sample-early-cilta-emd"), SAMPLE_AS_OF).values
    assert emd["extramedullary_disease"] is True
    assert emd["car_t_relapse_class"] == "early"


def test_stale_labs_are_unknown_not_normal() -> None:
    record = PatientRecord(
        id="p", labs=[LabResult(analyte=Analyte.platelets, date=dt.date(2026, 1, 1), value=200)]
    )
    facts = compute_facts(record, dt.date(2026, 11, 1))
    assert facts.values["platelets"] is UNKNOWN
    assert "days old" in facts.describe("platelets")
    assert compute_facts(record, dt.date(2026, 2, 1)).values["platelets"] == 200


def test_empty_record_is_unknown_everywhere_it_should_be() -> None:
    facts = compute_facts(PatientRecord(id="p"), dt.date(2026, 11, 1)).values
    for name in (
        "prior_agents",
        "lines_of_therapy",
        "car_t_relapse_class",
        "t_11_14",
        "age",
        "crcl_ml_min",
        "max_travel_miles",
    ):
        assert facts[name] is UNKNOWN, name
