"""The clinical picture: one reading of the record, unknown where the record cannot decide."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from myelonav.knowledge.schema import FACTS
from myelonav.logic import UNKNOWN
from myelonav.patient.models import (
    Analyte,
    CarTEpisode,
    Comorbidities,
    Demographics,
    DiseaseSite,
    DiseaseSiteKind,
    LabResult,
    PatientRecord,
    ResponseCategory,
    Sex,
    StopReason,
    TherapyLine,
)
from myelonav.picture import clinical_picture
from myelonav.picture.history import line_refractory
from myelonav.samples import SAMPLE_AS_OF, sample_profile

AS_OF = dt.date(2026, 11, 25)


def _labs(**values: float) -> list[LabResult]:
    return [
        LabResult(analyte=Analyte(name), date=dt.date(2026, 11, 20), value=v)
        for name, v in values.items()
    ]


def _patient(**update: object) -> PatientRecord:
    base = PatientRecord(
        id="p",
        demographics=Demographics(birth_date=dt.date(1960, 5, 1), sex=Sex.female),
        labs=_labs(creatinine=1.1, body_weight=70, platelets=150, anc=2.0, igg=350),
    )
    return base.model_copy(update=update)


def test_every_rule_fact_is_decided_for_every_sample() -> None:
    for sample_id in (
        "sample-early-cilta-emd",
        "sample-late-idecel-t1114",
        "sample-refractory-cart-tec",
    ):
        picture = clinical_picture(sample_profile(sample_id), SAMPLE_AS_OF)
        assert set(FACTS) <= set(picture.facts)
        for fact in picture:
            assert fact.clinical and fact.plain, fact.name


def test_implausible_values_become_unknown_with_a_note() -> None:
    record = _patient(
        labs=_labs(creatinine=0, body_weight=0, platelets=150),
        demographics=Demographics(birth_date=dt.date(2009, 1, 1), sex=Sex.unknown),
    )
    picture = clinical_picture(record, AS_OF)
    assert picture.value("crcl_ml_min") is UNKNOWN
    assert picture.value("egfr") is UNKNOWN
    assert picture.value("platelets") == 150
    fields = {n.field for n in picture.notes}
    assert {"labs.creatinine", "labs.body_weight", "demographics.birth_date"} <= fields
    assert "demographics.sex" in fields
    assert all(n.plain and n.message for n in picture.notes)


def test_a_bad_later_value_falls_back_to_the_last_plausible_one() -> None:
    labs = [
        LabResult(analyte=Analyte.creatinine, date=dt.date(2026, 11, 1), value=1.2),
        LabResult(analyte=Analyte.creatinine, date=dt.date(2026, 11, 20), value=0),
        *_labs(body_weight=80),
    ]
    picture = clinical_picture(_patient(labs=labs), AS_OF)
    assert picture.lab(Analyte.creatinine) is not None
    assert picture.lab(Analyte.creatinine).value == 1.2  # type: ignore[union-attr]
    assert isinstance(picture.value("crcl_ml_min"), float)


@settings(max_examples=150, deadline=None)
@given(
    analyte=st.sampled_from(list(Analyte)),
    value=st.one_of(
        st.floats(allow_nan=False, allow_infinity=False, min_value=0, max_value=1e12),
        st.just(0.0),
    ),
    age_years=st.integers(min_value=0, max_value=120),
    sex=st.sampled_from(list(Sex)),
)
def test_no_value_ever_breaks_the_picture(
    analyte: Analyte, value: float, age_years: int, sex: Sex
) -> None:
    record = _patient(
        labs=[LabResult(analyte=analyte, date=dt.date(2026, 11, 20), value=value)],
        demographics=Demographics(birth_date=dt.date(2026 - age_years, 1, 1), sex=sex),
    )
    picture = clinical_picture(record, AS_OF)
    assert set(FACTS) <= set(picture.facts)
    crcl = picture.value("crcl_ml_min")
    assert crcl is UNKNOWN or crcl > 0


def test_refractoriness_is_judged_on_each_course() -> None:
    def line(**kw: object) -> TherapyLine:
        return TherapyLine(
            agents=["lenalidomide"], start=dt.date(2020, 1, 1), end=dt.date(2020, 6, 1), **kw
        )

    assert line_refractory(line(best_response=ResponseCategory.SD), None)[0] is True
    assert line_refractory(line(stop_reason=StopReason.progression), None)[0] is True
    assert (
        line_refractory(line(refractory=False, stop_reason=StopReason.progression), None)[0]
        is False
    )
    # responded, stopped as planned, nothing needed for 4 months: not refractory
    done = line(best_response=ResponseCategory.VGPR, stop_reason=StopReason.completed)
    assert line_refractory(done, dt.date(2020, 10, 1))[0] is False
    # the next therapy started within 60 days: the record cannot say
    assert line_refractory(done, dt.date(2020, 7, 1))[0] is None
    assert line_refractory(line(), None)[0] is None


def test_triple_class_and_target_exposure() -> None:
    lines = [
        TherapyLine(
            agents=["bortezomib", "lenalidomide", "dexamethasone"],
            start=dt.date(2019, 1, 1),
            end=dt.date(2020, 1, 1),
            stop_reason=StopReason.progression,
        ),
        TherapyLine(
            agents=["daratumumab", "pomalidomide", "dexamethasone"],
            start=dt.date(2020, 2, 1),
            end=dt.date(2021, 1, 1),
            stop_reason=StopReason.progression,
        ),
        TherapyLine(
            agents=["teclistamab"],
            start=dt.date(2023, 1, 1),
            end=dt.date(2023, 6, 1),
            best_response=ResponseCategory.PR,
            stop_reason=StopReason.toxicity,
        ),
    ]
    picture = clinical_picture(_patient(therapy_lines=lines), AS_OF)
    assert picture.value("triple_class_exposed") is True
    assert picture.value("triple_class_refractory") is True
    assert (
        picture.value("penta_refractory") is False or picture.value("penta_refractory") is UNKNOWN
    )
    assert "BCMA" in picture.value("exposed_to_target")
    assert "BCMA" not in picture.value("refractory_to_target")
    assert "teclistamab" in picture.describe("exposed_to_target")
    assert picture.value("stopped_working_agents") >= {"lenalidomide", "pomalidomide"}


def test_car_t_progression_after_60_days_is_not_called_refractory() -> None:
    episode = CarTEpisode(
        product="ciltacabtagene autoleucel",
        target_antigen="BCMA",
        infusion_date=dt.date(2025, 1, 10),
        best_response=ResponseCategory.CR,
        progression_date=dt.date(2025, 12, 1),
    )
    picture = clinical_picture(_patient(car_t=[episode]), AS_OF)
    car_t = next(e for e in picture.exposures if e.source == "CAR T")
    assert car_t.refractory is None and car_t.stopped_for_progression
    early = episode.model_copy(
        update={"progression_date": dt.date(2025, 2, 20), "best_response": ResponseCategory.PR}
    )
    picture = clinical_picture(_patient(car_t=[early]), AS_OF)
    assert next(e for e in picture.exposures if e.source == "CAR T").refractory is True


@pytest.mark.parametrize(("active", "expected"), [(True, True), (False, False), (None, UNKNOWN)])
def test_lesion_activity_stays_three_valued(active: bool | None, expected: object) -> None:
    site = DiseaseSite(
        kind=DiseaseSiteKind.extramedullary_plasmacytoma,
        location="liver",
        date=dt.date(2026, 10, 1),
        active=active,
    )
    picture = clinical_picture(_patient(disease_sites=[site]), AS_OF)
    assert picture.value("extramedullary_disease") is expected


def test_comorbidities_are_unknown_until_recorded() -> None:
    picture = clinical_picture(_patient(), AS_OF)
    for name in (
        "heart_failure",
        "eye_disease",
        "active_infection",
        "lvef_pct",
        "peripheral_neuropathy_grade",
        "transfusion_dependent",
    ):
        assert picture.value(name) is UNKNOWN, name
    recorded = Comorbidities(
        heart_failure=True,
        lvef_pct=35,
        eye_disease=False,
        peripheral_neuropathy_grade=2,
        active_infection=True,
        infection_detail="pneumonia",
    )
    picture = clinical_picture(_patient(comorbidities=recorded), AS_OF)
    assert picture.value("heart_failure") is True
    assert picture.value("eye_disease") is False
    assert picture.value("lvef_pct") == 35
    assert picture.value("peripheral_neuropathy_grade") == 2
    assert "pneumonia" in picture.describe("active_infection")
    assert picture.value("igg_mg_dl") == 350


def test_no_imaging_in_the_record_is_not_no_lesion() -> None:
    picture = clinical_picture(_patient(), AS_OF)
    assert picture.value("painful_bone_lesion") is UNKNOWN
    assert picture.value("cord_compression") is UNKNOWN
    site = DiseaseSite(kind=DiseaseSiteKind.bone_lesion, location="L2",
                       date=dt.date(2026, 10, 1), painful=False, cord_compression=False)
    picture = clinical_picture(_patient(disease_sites=[site]), AS_OF)
    assert picture.value("painful_bone_lesion") is False
    assert picture.value("cord_compression") is False


def test_a_course_stopped_without_an_end_date_is_not_current() -> None:
    lines = [
        TherapyLine(agents=["teclistamab"], start=dt.date(2025, 1, 1),
                    stop_reason=StopReason.progression),
        TherapyLine(agents=["talquetamab"], start=dt.date(2026, 10, 1),
                    stop_reason=StopReason.ongoing),
        TherapyLine(agents=["selinexor"], start=dt.date(2026, 9, 1)),  # nothing said: current
    ]
    current = clinical_picture(_patient(therapy_lines=lines), AS_OF).value("current_agents")
    assert current == {"talquetamab", "selinexor"}
