from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from myelonav.errors import KnowledgeError
from myelonav.visit.content import (
    centre_content,
    checklist_content,
    load_file,
    parse_content,
    question_content,
    threshold_content,
)
from myelonav.visit.schemas import CentreFile, Check, QuestionFile, ThresholdFile, Trigger

REVIEWED = dt.date(2026, 11, 25)


def test_bundled_files_cover_every_trigger_and_check() -> None:
    triggers = {q.trigger for q in question_content().questions}
    assert triggers == set(Trigger)
    assert {i.check for i in checklist_content().items} == set(Check)


def test_cited_content_is_reviewed() -> None:
    cited = [q for q in question_content().questions if q.citations]
    assert cited, "some questions state facts and must be cited"
    assert all(q.last_reviewed == REVIEWED for q in cited)
    assert question_content().last_reviewed == REVIEWED
    assert all(r.last_reviewed == REVIEWED and r.citations for r in centre_content().resources)
    assert all(t.last_reviewed == REVIEWED for t in threshold_content().thresholds)


def test_centres_are_sourced_and_not_a_ranking() -> None:
    content = centre_content()
    assert "not a ranking" in content.note
    names = " ".join(r.organization for r in content.resources)
    for org in (
        "National Cancer Institute",
        "International Myeloma Foundation",
        "Multiple Myeloma Research Foundation",
        "Leukemia & Lymphoma Society",
    ):
        assert org in names
    assert all(r.url.startswith("https://") for r in content.resources)


def test_every_threshold_example_carries_a_locatable_citation() -> None:
    for t in threshold_content().thresholds:
        for e in t.examples:
            assert e.citation.doi or e.citation.url or e.citation.pmid


def test_unknown_key_is_rejected_with_its_path() -> None:
    text = """
note: Common thresholds; each trial sets its own.
thresholds:
  - id: anc
    label: ANC
    source: anc
    comparator: ">="
    unit: x10^9/L
    examples: [{trial: X, value: 1, citation: {label: abc, source: src, year: 2020, url: "https://x.org"}}]
    last_reviewed: 2026-11-25
    colour: red
"""
    with pytest.raises(KnowledgeError) as err:
        parse_content(text, ThresholdFile, "t.yaml")
    assert "thresholds.0.colour" in str(err.value)


def test_question_rules_are_data_over_known_facts() -> None:
    text = """
last_reviewed: 2026-11-25
questions:
  - {id: a, trigger: rule, when: {fact: no_such_fact, op: eq, value: true}, topic: treatment,
     text: A question that is long, why: "{fact}"}
"""
    with pytest.raises(KnowledgeError) as err:
        parse_content(text, QuestionFile, "q.yaml")
    assert "unknown fact 'no_such_fact'" in str(err.value)
    missing = """
last_reviewed: 2026-11-25
questions:
  - {id: a, trigger: rule, topic: treatment, text: A question that is long, why: "{fact}"}
"""
    with pytest.raises(KnowledgeError):
        parse_content(missing, QuestionFile, "q.yaml")
    typed = """
last_reviewed: 2026-11-25
questions:
  - {id: a, trigger: rule, when: {fact: igg_mg_dl, op: eq, value: low}, topic: treatment,
     text: A question that is long, why: "{fact}"}
"""
    with pytest.raises(KnowledgeError):
        parse_content(typed, QuestionFile, "q.yaml")


def test_question_why_must_name_its_fact() -> None:
    text = """
last_reviewed: 2026-11-25
questions:
  - {id: a, trigger: always, topic: treatment, text: A question that is long, why: no fact here}
"""
    with pytest.raises(KnowledgeError) as err:
        parse_content(text, QuestionFile, "q.yaml")
    assert "questions.0" in str(err.value)


def test_bad_yaml_names_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "c.yaml"
    bad.write_text("note: ok\nresources: [\n  - x: y\n", encoding="utf-8")
    with pytest.raises(KnowledgeError) as err:
        load_file(bad, CentreFile)
    assert str(bad) in str(err.value)
