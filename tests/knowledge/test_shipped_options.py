"""Every option file shipped in data/options validates, is cited and is readable.

This is the CI gate for the knowledge base: an uncited figure, an unknown key or fact, or a
patient text above grade 9 fails here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from importlib.resources.abc import Traversable

import pytest

from myelonav.knowledge.loader import bundled_options, bundled_options_dir, load_option
from myelonav.knowledge.schema import Evidence, SafetyData

FILES = sorted(
    (f for f in bundled_options_dir().iterdir() if f.name.endswith(".yaml")), key=lambda f: f.name
)
MAX_GRADE = 9.0


def test_there_are_shipped_options() -> None:
    assert FILES, "no option files shipped"
    assert set(bundled_options()) == {f.name.removesuffix(".yaml") for f in FILES}


@pytest.mark.parametrize("path", FILES, ids=lambda f: f.name)
def test_file_validates(path: Traversable) -> None:
    option = load_option(path)
    assert option.id == path.name.removesuffix(".yaml")
    assert option.last_reviewed <= dt.date.today(), "last_reviewed is in the future"


@pytest.mark.parametrize("path", FILES, ids=lambda f: f.name)
def test_every_figure_is_cited(path: Traversable) -> None:
    option = load_option(path)
    entries: list[Evidence | SafetyData] = [*option.evidence, *option.safety.data]
    for entry in entries:
        if entry.figures():
            assert entry.citation is not None, f"{path}: {entry.study} has uncited figures"
    for rule in option.rules:
        if rule.basis in ("study", "label", "guideline"):
            assert rule.citations, f"{path}: rule {rule.id} rests on data but cites nothing"
    for approval in option.approval:
        if approval.status in ("approved", "accelerated"):
            assert approval.citation is not None


@pytest.mark.parametrize("path", FILES, ids=lambda f: f.name)
def test_patient_texts_are_plain(path: Traversable, fk_grade: Callable[[str], float]) -> None:
    option = load_option(path)
    texts = {
        "summary_patient": option.summary_patient,
        "how_it_works_patient": option.how_it_works_patient,
        "who_it_is_for": option.who_it_is_for,
        "safety.key_risks_patient": option.safety.key_risks_patient,
    }
    texts.update({f"rules.{r.id}.reason_patient": r.reason_patient for r in option.rules})
    too_hard = {k: round(g, 1) for k, t in texts.items() if (g := fk_grade(t)) > MAX_GRADE}
    assert not too_hard, f"{path}: above grade {MAX_GRADE}: {too_hard}"
