from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from myelonav.patient.models import PatientRecord
from myelonav.samples import SAMPLE_AS_OF, sample_profile
from myelonav.visit.checklist import build_checklist, render_markdown, render_text

AS_OF = dt.date(2026, 11, 25)
MakeRecord = Callable[..., PatientRecord]


def test_empty_record_marks_everything_missing_or_none() -> None:
    items = build_checklist(PatientRecord(id="empty"), AS_OF)
    assert {i.status for i in items} <= {"missing", "none_recorded"}
    assert all(i.missing for i in items)


def test_car_t_summary_names_what_is_missing(make: MakeRecord) -> None:
    episode = {**make().car_t[0].model_dump(mode="json"), "icans_max_grade": None}
    items = {i.id: i for i in build_checklist(make(car_t=[episode]), AS_OF)}
    car_t = items["car_t_summary"]
    assert car_t.status == "partial"
    assert any("ICANS" in m for m in car_t.missing)
    assert any("ciltacabtagene autoleucel, infused 2025-01-15" in h for h in car_t.holds)


def test_recent_labs_flag_old_results_with_their_date(make: MakeRecord) -> None:
    labs = [{"analyte": "platelets", "date": "2026-03-01", "value": 150},
            {"analyte": "anc", "date": "2026-11-01", "value": 2},
            {"analyte": "hemoglobin", "date": "2026-11-01", "value": 11}]
    item = next(i for i in build_checklist(make(labs=labs), AS_OF) if i.id == "recent_labs")
    assert item.status == "missing"
    counts = next(m for m in item.missing if m.startswith("blood counts"))
    assert "latest 2026-11-01" in counts or "2026-03-01" in counts


def test_bcma_result_and_transplant_come_from_the_record() -> None:
    items = {i.id: i for i in build_checklist(sample_profile("sample-late-idecel-t1114"),
                                                SAMPLE_AS_OF)}
    assert items["antigen_testing"].status == "held"
    assert "BCMA positive on 2026-08-04" in items["antigen_testing"].holds
    assert items["transplant"].status == "held"
    assert items["imaging"].status == "missing"


def test_the_same_record_changes_status_when_data_are_added(make: MakeRecord) -> None:
    before = {i.id: i.status for i in build_checklist(make(), AS_OF)}
    episode = {**make().car_t[0].model_dump(mode="json"), "antigen_status_at_relapse": "negative",
               "antigen_status_date": "2026-06-20"}
    after = {i.id: i.status for i in build_checklist(make(car_t=[episode]), AS_OF)}
    assert before["antigen_testing"] == "missing" and after["antigen_testing"] == "held"


def test_text_rendering_lists_have_and_need() -> None:
    text = render_text(build_checklist(sample_profile("sample-early-cilta-emd"), SAMPLE_AS_OF))
    assert "have:" in text and "need:" in text


def test_markdown_ticks_only_what_is_held() -> None:
    items = build_checklist(sample_profile("sample-late-idecel-t1114"), SAMPLE_AS_OF)
    md = render_markdown(items, sample=True)
    held = sum(1 for i in items if i.status == "held")
    assert md.count("- [x]") == held and md.count("- [ ]") == len(items) - held
    assert "SAMPLE" in md
