"""The curated support data loads, validates strictly, and is cited and review-dated."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from myelonav.datafiles import Citation
from myelonav.errors import KnowledgeError
from myelonav.support import content
from myelonav.support.schemas import ResourceFile, ScheduleFile, TriageFile

REVIEWED = dt.date(2026, 11, 25)


def _reviewed_items() -> list[tuple[str, object]]:
    items: list[tuple[str, object]] = []
    items += [(f"schedule {s.id}", s) for s in content.schedules().schedules]
    items += [(f"rule {r.id}", r) for r in content.triage_rules().rules]
    items.append(("ice", content.triage_rules().ice))
    items += [(f"resource {r.id}", r) for r in content.resource_list().resources]
    items += [(f"screen {s.id}", s) for s in content.distress_spec().screens]
    items += [(f"piece {p.id}", p) for p in content.education().pieces]
    return items


@pytest.mark.parametrize(
    ("name", "item"), _reviewed_items(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_every_item_is_cited_and_review_dated(name: str, item: object) -> None:
    citations = item.citations  # type: ignore[attr-defined]
    assert citations, name
    assert all(isinstance(c, Citation) and (c.url or c.pmid or c.doi) for c in citations)
    assert item.last_reviewed >= REVIEWED  # type: ignore[attr-defined]


def test_ids_are_unique() -> None:
    for ids in (
        [s.id for s in content.schedules().schedules],
        [r.id for r in content.triage_rules().rules],
        [r.id for r in content.resource_list().resources],
        [p.id for p in content.education().pieces],
    ):
        assert len(ids) == len(set(ids))


def test_related_pieces_exist() -> None:
    ids = {p.id for p in content.education().pieces}
    for p in content.education().pieces:
        assert set(p.related) <= ids, p.id


def test_unknown_key_is_rejected_with_file_and_field() -> None:
    text = Path(content.__file__).with_name("data").joinpath("resources.yaml").read_text()
    broken = text.replace("    crisis: true\n", "    crisis: true\n    phone_typo: 1\n", 1)
    with pytest.raises(KnowledgeError) as info:
        content.parse_content(broken, ResourceFile, "resources.yaml")
    assert "resources.yaml" in str(info.value)
    assert "phone_typo" in str(info.value)


def test_citation_without_locator_is_rejected() -> None:
    with pytest.raises(ValueError, match="url, pmid or doi"):
        Citation(label="Some trial", source="Some journal", year=2024)


def test_bad_yaml_names_the_line() -> None:
    with pytest.raises(KnowledgeError) as info:
        content.parse_content("schema: x\nschedules: [\n  - a: b\n", ScheduleFile, "s.yaml")
    assert str(info.value).startswith("s.yaml:")


def test_triage_file_rejects_ice_items_not_adding_to_ten(tmp_path: Path) -> None:
    text = Path(content.__file__).with_name("data").joinpath("triage.yaml").read_text()
    broken = text.replace("{id: attention, points: 1", "{id: attention, points: 2", 1)
    path = tmp_path / "triage.yaml"
    path.write_text(broken)
    with pytest.raises(KnowledgeError, match="10 points"):
        content.load_file(path, TriageFile)


def test_schedule_steps_must_increase() -> None:
    text = Path(content.__file__).with_name("data").joinpath("schedules.yaml").read_text()
    broken = text.replace("kind: step_up, day: 4,", "kind: step_up, day: 1,", 1)
    with pytest.raises(KnowledgeError, match="step days must increase"):
        content.parse_content(broken, ScheduleFile, "schedules.yaml")
