"""Reading saved v2 JSON: one study, a page, a list, JSON lines, a directory; clear errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from myelonav.errors import ImportError_
from myelonav.trials.importer import read_file, read_path


def study(n: int, title: str = "T") -> dict[str, Any]:
    return {
        "protocolSection": {"identificationModule": {"nctId": f"NCT{n:08d}", "briefTitle": title}}
    }


def ids(records: list[Any]) -> list[str]:
    return [r.study.nct_id for r in records]


def test_single_study(tmp_path: Path) -> None:
    path = tmp_path / "one.json"
    path.write_text(json.dumps(study(1)))
    records = read_file(path)
    assert ids(records) == ["NCT00000001"] and records[0].raw == study(1)


def test_page_of_studies(tmp_path: Path) -> None:
    path = tmp_path / "page.json"
    path.write_text(json.dumps({"studies": [study(1), study(2)], "nextPageToken": "x"}))
    assert ids(read_file(path)) == ["NCT00000001", "NCT00000002"]


def test_list_of_studies(tmp_path: Path) -> None:
    path = tmp_path / "list.json"
    path.write_text(json.dumps([study(3), study(4)]))
    assert ids(read_file(path)) == ["NCT00000003", "NCT00000004"]


def test_json_lines_with_blank_lines_and_pages(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    path.write_text(
        json.dumps(study(1)) + "\n\n" + json.dumps({"studies": [study(2), study(3)]}) + "\n"
    )
    assert ids(read_file(path)) == ["NCT00000001", "NCT00000002", "NCT00000003"]


def test_directory_later_record_wins(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text(json.dumps(study(1, "old")))
    (tmp_path / "b.jsonl").write_text(json.dumps(study(1, "new")) + "\n" + json.dumps(study(2)))
    (tmp_path / "notes.txt").write_text("ignored")
    records = read_path(tmp_path)
    assert sorted(ids(records)) == ["NCT00000001", "NCT00000002"]
    assert {r.study.nct_id: r.study.brief_title for r in records}["NCT00000001"] == "new"


def test_invalid_json_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(study(1)) + "\n{not json\n")
    with pytest.raises(ImportError_) as info:
        read_file(path)
    assert f"{path}:2" in str(info.value)


def test_truncated_json_file_names_position(tmp_path: Path) -> None:
    path = tmp_path / "cut.json"
    path.write_text(json.dumps({"studies": [study(1), study(2)]}, indent=1)[:-30])
    with pytest.raises(ImportError_) as info:
        read_file(path)
    assert str(path) in str(info.value) and "invalid JSON" in str(info.value)


def test_bad_record_names_index_and_field(tmp_path: Path) -> None:
    bad = study(2)
    bad["protocolSection"]["identificationModule"]["nctId"] = "NCT123"
    path = tmp_path / "page.json"
    path.write_text(json.dumps({"studies": [study(1), bad]}))
    with pytest.raises(ImportError_) as info:
        read_file(path)
    assert "studies[1]" in str(info.value) and "nctId" in str(info.value)


def test_not_a_study_shape(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text(json.dumps({"hello": "world"}))
    with pytest.raises(ImportError_):
        read_file(path)


def test_missing_path_and_empty_dir(tmp_path: Path) -> None:
    with pytest.raises(ImportError_):
        read_path(tmp_path / "nope")
    with pytest.raises(ImportError_):
        read_path(tmp_path)


def test_imports_shared_fictional_records(shared_dir: Path) -> None:
    folder = shared_dir / "data" / "mm-trials" / "trials"
    if not folder.is_dir():
        pytest.skip(f"{folder} not present")
    records = read_path(folder)
    assert len(records) == len(list(folder.glob("*.json")))
    assert all(r.study.is_sample for r in records)


def test_directory_progress_is_reported(tmp_path: Path) -> None:
    for n in range(3):
        (tmp_path / f"{n}.json").write_text(json.dumps(study(n + 1)))
    seen: list[tuple[int, int]] = []
    read_path(tmp_path, progress=lambda d, t: seen.append((d, t)))
    assert seen == [(1, 3), (2, 3), (3, 3)]
