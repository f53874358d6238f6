from __future__ import annotations

from collections.abc import Callable

import pytest

from myelonav.errors import KnowledgeError
from myelonav.knowledge.explanations import bundled_explanations, parse_explanations


def test_every_explanation_is_cited_and_plain(fk_grade: Callable[[str], float]) -> None:
    entries = bundled_explanations().explanations
    assert {e.id for e in entries} >= {
        "primary_refractory",
        "early_relapse",
        "late_relapse",
        "bcma_lost",
        "bcma_unknown",
    }
    for entry in entries:
        assert entry.citations, entry.id
        assert fk_grade(entry.patient) <= 9.0, (entry.id, fk_grade(entry.patient))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "schema: myelonav.explanations/1\nlast_reviewed: 2026-11-25\nexplanations: []\n",
            "at least 1",
        ),
        (
            "schema: myelonav.explanations/1\nlast_reviewed: 2026-11-25\nexplanations:\n"
            "  - {id: x, applies_when: {fact: nonsense, op: is_known}, title_patient: t,\n"
            "     patient: p, clinician: c, citations: []}\n",
            "unknown fact",
        ),
        ("schema: other\n", "schema"),
    ],
)
def test_bad_files_are_refused(text: str, message: str) -> None:
    with pytest.raises(KnowledgeError, match=message):
        parse_explanations(text, "x.yaml")
