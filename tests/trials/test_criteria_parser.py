"""Criteria text → structure, on real-shaped ClinicalTrials.gov wording."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from myelonav.trials.criteria import CriterionKind, ParsedCriteria, Section, parse_criteria
from myelonav.trials.criteria.models import (
    AgeAtom,
    AntigenAtom,
    CytogeneticAtom,
    DiseaseStateAtom,
    ExposureAtom,
    FeatureAtom,
    Group,
    LabAtom,
    MeasurableAtom,
    Node,
    OtherAtom,
    PerformanceAtom,
    PriorLinesAtom,
    ScreeningAtom,
    TimeSinceAtom,
    TransplantAtom,
)
from myelonav.trials.criteria.parser import parse_criterion


def atoms(node: Node) -> list[Node]:
    if isinstance(node, Group):
        return [a for item in node.items for a in atoms(item)]
    return [node]


def inc(text: str) -> list[Node]:
    return atoms(parse_criterion(text, Section.inclusion, "I1").tree)


def exc(text: str) -> list[Node]:
    return atoms(parse_criterion(text, Section.exclusion, "E1").tree)


# ----------------------------------------------------------------------------- labs and units


@pytest.mark.parametrize(
    ("text", "analyte", "value"),
    [
        ("ANC >= 1.0 x 10^9/L", "anc", 1.0),
        ("Absolute neutrophil count ≥ 1,000/µL", "anc", 1.0),
        ("ANC ≥1.0 × 109/L without growth factor support", "anc", 1.0),
        ("Platelet count ≥75,000/mm3", "platelets", 75.0),
        ("Platelets ≥ 50 × 10⁹/L", "platelets", 50.0),
        ("Platelet count of at least 30 x 10^3/uL", "platelets", 30.0),
        ("Hemoglobin ≥ 8 g/dL", "hemoglobin", 8.0),
        ("Haemoglobin ≥ 80 g/L", "hemoglobin", 8.0),
        ("Creatinine clearance ≥ 40 mL/min (Cockcroft-Gault)", "crcl", 40.0),
        ("Estimated CrCl greater than or equal to 30 mL/min", "crcl", 30.0),
        ("eGFR ≥ 45 mL/min/1.73 m2", "egfr", 45.0),
        ("Serum creatinine ≤ 2.0 mg/dL", "creatinine", 2.0),
    ],
)
def test_lab_thresholds_in_canonical_units(text: str, analyte: str, value: float) -> None:
    labs = [a for a in inc(text) if isinstance(a, LabAtom)]
    assert len(labs) == 1
    assert labs[0].analyte == analyte
    assert labs[0].value == pytest.approx(value)


def test_uln_multiples_share_a_comparison() -> None:
    labs = [
        a
        for a in inc("AST and ALT ≤ 2.5 × ULN; total bilirubin ≤ 1.5 x ULN")
        if isinstance(a, LabAtom)
    ]
    assert {(a.analyte, a.op, a.uln_multiple) for a in labs} == {
        ("ast", "le", 2.5),
        ("alt", "le", 2.5),
        ("bilirubin", "le", 1.5),
    }
    worded = inc("Total bilirubin less than or equal to 1.5 times the upper limit of normal")
    assert worded == [LabAtom(analyte="bilirubin", op="le", uln_multiple=1.5)]


def test_lab_alternatives_are_or() -> None:
    tree = parse_criterion(
        "Serum creatinine ≤ 2 mg/dL or creatinine clearance ≥ 40 mL/min", Section.inclusion, "I1"
    ).tree
    assert isinstance(tree, Group) and tree.op == "or"


# ----------------------------------------------------------------------------- simple kinds


def test_age_forms() -> None:
    assert inc("Age ≥ 18 years") == [AgeAtom(min_years=18)]
    assert inc("Age 18-75 years") == [AgeAtom(min_years=18, max_years=75)]
    assert inc("Age >= 18 years and <= 75 years.") == [AgeAtom(min_years=18, max_years=75)]
    assert inc("Men and women 18 years of age or older") == [AgeAtom(min_years=18)]


def test_performance_status_forms() -> None:
    assert inc("ECOG performance status 0 or 1") == [PerformanceAtom(max_ecog=1)]
    assert inc("ECOG 0-2.") == [PerformanceAtom(max_ecog=2)]
    assert inc("ECOG performance status ≤ 2") == [PerformanceAtom(max_ecog=2)]
    assert inc("Karnofsky performance status ≥ 70%") == [PerformanceAtom(min_karnofsky=70)]
    # "ECOG 3 or higher" in an exclusion is the negation of ECOG <= 2
    assert exc("ECOG performance status of 3 or higher") == [
        PerformanceAtom(max_ecog=2, negate=True)
    ]


def test_measurable_disease_thresholds() -> None:
    text = (
        "Measurable disease, defined as at least one of: serum M-protein ≥ 0.5 g/dL; "
        "urine M-protein ≥ 200 mg/24 hours; or involved serum free light chain ≥ 10 mg/dL "
        "with an abnormal kappa/lambda ratio."
    )
    assert inc(text) == [MeasurableAtom(serum_g_dl=0.5, urine_mg_24h=200, flc_mg_dl=10)]
    assert inc("Serum M-protein ≥ 10 g/L or FLC ≥ 100 mg/L; measurable disease required") == [
        MeasurableAtom(serum_g_dl=1.0, urine_mg_24h=None, flc_mg_dl=10.0)
    ]
    # without thresholds: the IMWG 2016 definition
    assert inc("Measurable disease per IMWG") == [
        MeasurableAtom(serum_g_dl=1.0, urine_mg_24h=200, flc_mg_dl=10)
    ]


def test_prior_lines() -> None:
    assert PriorLinesAtom(min_lines=3) in inc("At least 3 prior lines of therapy")
    assert PriorLinesAtom(min_lines=1, max_lines=3) in inc("1 to 3 prior lines of therapy")
    assert PriorLinesAtom(min_lines=4) in inc("Received four or more prior lines of therapy")
    assert PriorLinesAtom(max_lines=3, regimens=True) in inc("No more than 3 prior regimens")


# ----------------------------------------------------------------------------- exposures


def test_triple_class_and_listed_classes() -> None:
    listed = inc(
        "At least 3 prior lines including a proteasome inhibitor, an immunomodulatory "
        "drug, and an anti-CD38 monoclonal antibody"
    )
    groups = {a.groups for a in listed if isinstance(a, ExposureAtom)}
    assert groups == {(("proteasome_inhibitor",),), (("imid",),), (("anti_cd38",),)}
    refractory = [a for a in inc("Triple-class refractory disease") if isinstance(a, ExposureAtom)]
    assert len(refractory) == 3 and all(a.refractory for a in refractory)
    penta = [a for a in inc("Penta-refractory myeloma") if isinstance(a, ExposureAtom)]
    assert {(a.groups[0][0], a.min_agents) for a in penta} == {
        ("proteasome_inhibitor", 2),
        ("imid", 2),
        ("anti_cd38", 1),
    }


def test_relapsed_or_refractory_is_a_state_not_refractoriness() -> None:
    found = inc(
        "Relapsed or refractory multiple myeloma after at least 3 prior lines, "
        "which must have included a proteasome inhibitor"
    )
    assert DiseaseStateAtom(states=("rrmm",)) in found
    assert ExposureAtom(groups=(("proteasome_inhibitor",),)) in found


@pytest.mark.parametrize(
    ("text", "groups"),
    [
        ("Prior BCMA-directed therapy.", (("bcma_directed",),)),
        ("Prior GPRC5D-targeted therapy.", (("gprc5d_directed",),)),
        ("Any prior BCMA x CD3 bispecific antibody.", (("bcma_directed", "bispecific"),)),
        ("Prior treatment with a bispecific antibody of any target", (("bispecific",),)),
        ("Prior CAR T-cell therapy", (("car_t",),)),
        (
            "Prior BCMA-directed antibody-drug conjugate or CAR T-cell therapy.",
            (("adc", "bcma_directed"), ("bcma_directed", "car_t")),
        ),
    ],
)
def test_exclusion_targets(text: str, groups: tuple[tuple[str, ...], ...]) -> None:
    found = [a for a in exc(text) if isinstance(a, ExposureAtom)]
    assert len(found) == 1
    assert found[0].groups == groups
    assert not found[0].negate and not found[0].allowed


def test_required_allowed_and_naive() -> None:
    required = inc("Prior BCMA-directed therapy (CAR T or bispecific) with subsequent progression.")
    assert any(
        isinstance(a, ExposureAtom) and ("bcma_directed",) in a.groups and not a.negate
        for a in required
    )
    allowed = inc(
        "Prior BCMA-directed therapies (including CAR T and bispecific antibodies) are "
        "allowed; at least 90 days since CAR T infusion."
    )
    assert ExposureAtom(groups=(("bcma_directed",),), allowed=True) in allowed
    assert TimeSinceAtom(event="car_t_infusion", op="ge", days=90) in allowed
    naive = inc("BCMA-naive disease")
    assert naive == [ExposureAtom(groups=(("bcma_directed",),), negate=True)]
    no_prior = inc("No prior CAR T-cell therapy")
    assert no_prior == [ExposureAtom(groups=(("car_t",),), negate=True)]
    not_allowed = inc("Prior teclistamab or talquetamab is not allowed.")
    assert not_allowed == [ExposureAtom(drugs=("teclistamab", "talquetamab"), negate=True)]


def test_exception_carves_out_a_class() -> None:
    found = exc("Prior BCMA-directed therapy, other than CAR T-cell therapy")
    assert found == [ExposureAtom(groups=(("bcma_directed",),), except_groups=(("car_t",),))]


def test_specific_drugs_resolve_through_the_vocabulary() -> None:
    assert exc("Prior iberdomide or mezigdomide.") == [
        ExposureAtom(drugs=("iberdomide", "mezigdomide"))
    ]
    assert exc("Previous treatment with Blenrep") == [ExposureAtom(drugs=("belantamab mafodotin",))]


def test_toxicity_after_car_t_is_not_an_exposure_exclusion() -> None:
    found = exc(
        "Grade 3 or higher neurotoxicity or any parkinsonism after prior CAR T-cell therapy."
    )
    assert all(isinstance(a, OtherAtom) for a in found)


# ----------------------------------------------------------------------------- time windows


def test_windows() -> None:
    assert exc("Less than 90 days since CAR T-cell infusion.") == [
        TimeSinceAtom(event="car_t_infusion", op="lt", days=90)
    ]
    assert inc("At least 6 months since any prior CAR T infusion.") == [
        TimeSinceAtom(event="car_t_infusion", op="ge", days=180)
    ]
    washout = exc(
        "Any anti-myeloma therapy (including investigational agents) within 14 days "
        "before the first study dose, or radiotherapy within 14 days (palliative "
        "radiotherapy to a single lesion is allowed)."
    )
    assert set(washout) == {
        TimeSinceAtom(event="last_therapy", op="lt", days=14),
        TimeSinceAtom(event="radiotherapy", op="lt", days=14),
    }
    asct = exc("Autologous stem cell transplant within 12 weeks before the first dose")
    assert asct == [TimeSinceAtom(event="autologous_transplant", op="lt", days=84)]
    neg = inc("No other anti-myeloma therapy within 28 days.")
    assert neg == [TimeSinceAtom(event="last_therapy", op="lt", days=28, negate=True)]


def test_a_duration_that_is_not_a_window_is_ignored() -> None:
    # "64 years" is an age, not a window before a transplant
    found = inc("18-64 years with comorbidities precluding transplant")
    assert not any(isinstance(a, TimeSinceAtom) for a in found)


def test_or_branch_with_a_qualifier_stays_open() -> None:
    c = parse_criterion(
        "Age >= 65 years, or 18-64 years with comorbidities precluding transplant.",
        Section.inclusion,
        "I1",
    )
    assert isinstance(c.tree, Group) and c.tree.op == "or"
    assert any(isinstance(a, OtherAtom) for a in atoms(c.tree))


# ----------------------------------------------------------------------------- disease features


def test_disease_features_and_transplant() -> None:
    assert exc("Known active central nervous system involvement by myeloma") == [
        FeatureAtom(feature="cns")
    ]
    assert exc("Active plasma cell leukemia (circulating plasma cells >= 5% of leukocytes)") == [
        FeatureAtom(feature="pcl")
    ]
    assert exc("Paraskeletal or extramedullary plasmacytoma") == [
        FeatureAtom(feature="extramedullary", paraskeletal=True)
    ]
    assert exc("Non-secretory myeloma") == [FeatureAtom(feature="non_secretory")]
    assert exc("Prior allogeneic stem cell transplant.") == [TransplantAtom(kind="allogeneic")]
    assert inc("No known CNS involvement") == [FeatureAtom(feature="cns", negate=True)]


def test_antigen_cytogenetics_and_states() -> None:
    assert inc("BCMA expression on myeloma cells documented after the most recent relapse.") == [
        AntigenAtom(antigen="BCMA", after_latest_relapse=True)
    ]
    assert exc("BCMA-negative disease on the most recent biopsy.") == [
        AntigenAtom(antigen="BCMA", negate=True)
    ]
    assert inc("t(11;14) by FISH on bone marrow plasma cells.") == [
        CytogeneticAtom(abnormality="t(11;14)")
    ]
    assert inc("Newly diagnosed multiple myeloma, with no prior systemic therapy") == [
        DiseaseStateAtom(states=("ndmm",)),
        ExposureAtom(any_therapy=True, negate=True),
    ]
    assert inc(
        "High-risk smoldering multiple myeloma per IMWG, without myeloma-defining events"
    ) == [
        DiseaseStateAtom(states=("smoldering",)),
        DiseaseStateAtom(states=("active_mm",), negate=True),
    ]


# ----------------------------------------------------------------------------- screening / other


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("Able to understand and willing to sign a written informed consent document.", "consent"),
        (
            "Pregnant or breastfeeding, or planning to become pregnant during the study.",
            "contraception",
        ),
        ("Known active hepatitis B or hepatitis C infection, or HIV infection", "serology"),
        (
            "Active uncontrolled bacterial, viral or fungal infection requiring treatment",
            "infection",
        ),
        (
            "Clinically significant cardiovascular disease within 6 months before enrollment",
            "cardiac",
        ),
        (
            "Another malignancy within 3 years, except adequately treated basal cell carcinoma",
            "other_malignancy",
        ),
    ],
)
def test_screening_items(text: str, topic: str) -> None:
    assert exc(text) == [ScreeningAtom(topic=topic)]


def test_screening_kinds_for_infection_and_other_cancer() -> None:
    p = parse_criteria("Exclusion Criteria:\n* Active infection\n* Prior malignancy within 2 years")
    assert [c.kind for c in p.criteria] == [CriterionKind.infection, CriterionKind.other_malignancy]


def test_unknown_text_is_other() -> None:
    c = parse_criterion(
        "Willing to live within one hour of the treating center", Section.inclusion, "I1"
    )
    assert c.kind in (CriterionKind.screening, CriterionKind.other)
    c = parse_criterion("Adequate pulmonary function per investigator", Section.inclusion, "I2")
    assert c.kind is CriterionKind.other


# ----------------------------------------------------------------------------- whole documents


DOC = """Inclusion Criteria:

* Age >= 18 years.
* Relapsed or refractory multiple myeloma after at least 3 prior lines of therapy.
* ECOG 0-1.

Exclusion Criteria:

* Prior GPRC5D-directed therapy.
* Less than 90 days since CAR T-cell infusion.
"""


def test_document_ids_sections_and_json_round_trip() -> None:
    parsed = parse_criteria(DOC)
    assert [c.id for c in parsed.criteria] == ["I1", "I2", "I3", "E1", "E2"]
    assert [c.kind for c in parsed.exclusion] == [
        CriterionKind.prior_gprc5d,
        CriterionKind.car_t_timing,
    ]
    again = ParsedCriteria.model_validate_json(parsed.model_dump_json())
    assert again == parsed


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=300))
def test_parser_never_fails_and_round_trips(text: str) -> None:
    parsed = parse_criteria(text)
    assert ParsedCriteria.model_validate_json(parsed.model_dump_json()) == parsed
    assert all(c.kinds for c in parsed.criteria)


@settings(max_examples=100, deadline=None)
@given(
    st.integers(min_value=1, max_value=300).map(lambda n: n / 100),
    st.sampled_from(["x 10^9/L", "× 10⁹/L", "x10^9/L", "G/L"]),
)
def test_anc_threshold_recovered_exactly(value: float, unit: str) -> None:
    found = inc(f"ANC ≥ {value:g} {unit}")
    assert found == [LabAtom(analyte="anc", op="ge", value=value)]


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=10, max_value=300))
def test_platelet_units_agree(k: int) -> None:
    per_ul = inc(f"Platelets ≥ {k * 1000:,}/µL")
    si = inc(f"Platelets ≥ {k} x 10^9/L")
    assert per_ul == si == [LabAtom(analyte="platelets", op="ge", value=float(k))]
