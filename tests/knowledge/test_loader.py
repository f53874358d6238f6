"""Loading option files: strict YAML, errors that name file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from myelonav.errors import KnowledgeError
from myelonav.knowledge.loader import bundled_options_dir, load_option, load_options, parse_option

EXAMPLE = bundled_options_dir().joinpath("teclistamab.yaml").read_text("utf-8")


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_example_loads() -> None:
    option = parse_option(EXAMPLE, "teclistamab.yaml")
    assert option.id == "teclistamab"
    assert option.agents == ["teclistamab"]


def test_error_names_file_line_and_field() -> None:
    text = EXAMPLE.replace("value: elranatamab}", "value: elranatamib}", 1)
    line = next(i for i, row in enumerate(text.splitlines(), 1) if "elranatamib" in row)
    with pytest.raises(KnowledgeError) as info:
        parse_option(text, "tec.yaml")
    assert info.value.location is not None
    assert info.value.location.startswith(f"tec.yaml:{line}: rules[0].when.any[1]")
    assert "elranatamib" in info.value.message


def test_unknown_key_is_reported_with_its_path() -> None:
    text = EXAMPLE.replace("  step_up_dosing: true", "  step_up_dosing: true\n  stepup: 1", 1)
    with pytest.raises(KnowledgeError, match=r"logistics\.stepup: unknown key"):
        parse_option(text, "tec.yaml")


def test_duplicate_key_fails() -> None:
    text = EXAMPLE.replace("category: bispecific", "category: bispecific\ncategory: radiation", 1)
    with pytest.raises(KnowledgeError, match="duplicate key 'category'"):
        parse_option(text, "tec.yaml")


def test_broken_yaml_and_non_mapping_fail() -> None:
    with pytest.raises(KnowledgeError, match="not valid YAML"):
        parse_option("id: [unclosed", "x.yaml")
    with pytest.raises(KnowledgeError, match="must be a YAML mapping"):
        parse_option("- just\n- a list\n", "x.yaml")


def test_several_errors_are_summarised_in_one_line() -> None:
    text = EXAMPLE.replace("orr_pct: 63.0", "orr_pct: 163.0").replace("n: 165", "n: 0")
    with pytest.raises(KnowledgeError) as info:
        parse_option(text, "tec.yaml")
    assert "\n" not in str(info.value)
    assert "also" in info.value.message


def test_file_name_must_match_id(tmp_path: Path) -> None:
    path = write(tmp_path, "tec.yaml", EXAMPLE)
    with pytest.raises(KnowledgeError, match="does not match the file name"):
        load_option(path)


def test_directory_load_and_empty_directory(tmp_path: Path) -> None:
    write(tmp_path, "teclistamab.yaml", EXAMPLE)
    write(tmp_path, "notes.txt", "ignored")
    assert list(load_options(tmp_path)) == ["teclistamab"]
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(KnowledgeError, match="no option files"):
        load_options(empty)


def test_unreadable_file_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "missing.yaml"
    with pytest.raises(KnowledgeError) as info:
        load_option(path)
    assert info.value.location == str(path)
