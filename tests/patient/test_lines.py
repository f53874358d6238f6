from __future__ import annotations

import datetime as dt

from myelonav.patient.lines import count_prior_lines, imwg_lines, is_car_t_supportive_care
from myelonav.patient.models import (
    CarTEpisode,
    PatientRecord,
    StopReason,
    TherapyLine,
    Transplant,
    TransplantKind,
)
from myelonav.samples import sample_profile

D = dt.date


def _line(agents: list[str], start: dt.date, end: dt.date, stop: StopReason) -> TherapyLine:
    return TherapyLine(agents=agents, start=start, end=end, stop_reason=stop)


def test_induction_transplant_maintenance_is_one_line() -> None:
    record = PatientRecord(
        id="p",
        therapy_lines=[
            _line(
                ["bortezomib", "lenalidomide", "dexamethasone"],
                D(2018, 11, 1),
                D(2019, 4, 1),
                StopReason.completed,
            ),
            _line(["lenalidomide"], D(2019, 7, 15), D(2021, 9, 1), StopReason.progression),
            _line(
                ["daratumumab", "pomalidomide", "dexamethasone"],
                D(2021, 9, 15),
                D(2023, 8, 1),
                StopReason.progression,
            ),
        ],
        transplants=[Transplant(kind=TransplantKind.autologous, date=D(2019, 5, 20))],
        car_t=[CarTEpisode(product="idecabtagene vicleucel", infusion_date=D(2025, 9, 2))],
    )
    lines = imwg_lines(record)
    assert [len(ln.parts) for ln in lines] == [3, 1, 1]
    assert lines[0].transplant and lines[2].car_t
    assert count_prior_lines(record, as_of=D(2025, 1, 1)) == 2


def test_change_for_progression_starts_a_new_line() -> None:
    record = PatientRecord(
        id="p",
        therapy_lines=[
            _line(
                ["daratumumab", "bortezomib", "dexamethasone"],
                D(2019, 1, 1),
                D(2019, 6, 1),
                StopReason.progression,
            ),
            _line(["daratumumab"], D(2019, 6, 15), D(2020, 1, 1), StopReason.progression),
        ],
    )
    assert count_prior_lines(record) == 2


def test_planned_maintenance_after_completed_induction_continues_the_line() -> None:
    record = PatientRecord(
        id="p",
        therapy_lines=[
            _line(
                ["daratumumab", "bortezomib", "cyclophosphamide", "dexamethasone"],
                D(2019, 2, 20),
                D(2019, 8, 1),
                StopReason.completed,
            ),
            _line(["daratumumab"], D(2019, 8, 15), D(2021, 11, 1), StopReason.progression),
        ],
    )
    assert count_prior_lines(record) == 1


def test_long_gap_breaks_the_plan() -> None:
    record = PatientRecord(
        id="p",
        therapy_lines=[
            _line(
                ["bortezomib", "dexamethasone"], D(2019, 1, 1), D(2019, 6, 1), StopReason.completed
            ),
            _line(["bortezomib"], D(2020, 6, 1), D(2020, 12, 1), StopReason.progression),
        ],
    )
    assert count_prior_lines(record) == 2


def test_samples_count_as_documented() -> None:
    assert count_prior_lines(sample_profile("sample-early-cilta-emd")) == 4
    assert count_prior_lines(sample_profile("sample-late-idecel-t1114")) == 4
    assert count_prior_lines(sample_profile("sample-refractory-cart-tec")) == 4


def test_reported_lines_are_a_floor_not_a_replacement() -> None:
    told = PatientRecord(
        id="p",
        therapy_lines=[TherapyLine(agents=["bortezomib", "lenalidomide", "daratumumab"])],
        car_t=[CarTEpisode(product="ciltacabtagene autoleucel", infusion_date=D(2025, 1, 1))],
        lines_before_car_t_reported=4,
    )
    assert len(imwg_lines(told)) == 2  # one undated regimen + CAR T
    assert count_prior_lines(told) == 5  # 4 told + the CAR T line
    detailed = sample_profile("sample-late-idecel-t1114")
    floor_below = detailed.model_copy(update={"lines_before_car_t_reported": 1})
    assert count_prior_lines(floor_below) == count_prior_lines(detailed) == 4


def test_crs_icans_treatment_after_car_t_is_supportive_care_not_a_line() -> None:
    # ASTCT (Lee 2019): CRS is treated with tocilizumab +/- corticosteroids, ICANS with
    # corticosteroids; IMWG lines (Rajkumar 2015) count anti-myeloma regimens only.
    infusion = D(2025, 3, 1)
    record = PatientRecord(
        id="p",
        therapy_lines=[
            _line(
                ["daratumumab", "pomalidomide", "dexamethasone"],
                D(2024, 1, 1),
                D(2024, 12, 1),
                StopReason.progression,
            ),
            TherapyLine(agents=["tocilizumab"], start=D(2025, 3, 3)),
            TherapyLine(agents=["dexamethasone"], start=D(2025, 3, 9)),
            TherapyLine(
                agents=["methylprednisolone"],
                start=D(2025, 6, 1),
                regimen="steroids for delayed ICANS",
            ),
            TherapyLine(agents=["siltuximab"], start=D(2025, 8, 1)),
            TherapyLine(agents=["teclistamab"], start=D(2025, 10, 1)),
        ],
        car_t=[CarTEpisode(product="ciltacabtagene autoleucel", infusion_date=infusion)],
    )
    parts = [ln.parts for ln in imwg_lines(record)]
    assert len(parts) == 3  # DPd, CAR T, teclistamab
    assert count_prior_lines(record) == 3
    # dexamethasone alone well after the CAR T window, not labelled for toxicity: a line
    record.therapy_lines.append(TherapyLine(agents=["dexamethasone"], start=D(2025, 5, 1)))
    assert is_car_t_supportive_care(record.therapy_lines[-1], record) is False
    assert len(imwg_lines(record)) == 4
