"""Patient text reads at US grade 9 or below (Flesch-Kincaid), measured offline."""

from __future__ import annotations

import pytest

from myelonav.readability import PATIENT_MAX_GRADE, fk_grade, syllables
from myelonav.support.content import education, resource_list, triage_rules


def _patient_texts() -> list[tuple[str, str]]:
    texts = [(f"piece {p.id}", p.patient_text()) for p in education().pieces]
    texts += [(f"rule {r.id}", r.patient_text) for r in triage_rules().rules]
    texts += [
        (f"resource {r.id}", f"{r.offers} {r.contact.how}") for r in resource_list().resources
    ]
    texts += [(f"ice {i.id}", i.caregiver_prompt) for i in triage_rules().ice.items]
    return texts


@pytest.mark.parametrize(("name", "text"), _patient_texts(), ids=lambda v: v if len(v) < 60 else "")
def test_patient_text_is_grade_nine_or_below(name: str, text: str) -> None:
    assert fk_grade(text) <= PATIENT_MAX_GRADE, name


def test_the_measure_can_fail() -> None:
    dense = (
        "Immunoglobulin replacement therapy administration necessitates individualized "
        "pharmacokinetic considerations regarding hypogammaglobulinemia-associated "
        "infectious complications."
    )
    assert fk_grade(dense) > 15
    assert fk_grade("The cat sat on the mat. It was warm.") < 3


def test_syllables_use_the_pronouncing_dictionary() -> None:
    assert syllables("every") == 3
    assert syllables("fever") == 2
    assert syllables("teclistamab") >= 3


def test_pieces_cover_the_required_topics() -> None:
    ids = {p.id for p in education().pieces}
    assert {
        "car-t-basics",
        "retreatment",
        "bispecifics",
        "allogeneic-and-switchable",
        "future-of-car-t",
        "faq-after-car-t",
        "infection-prevention",
        "gprc5d-effects",
    } <= ids


def test_addresses_do_not_count_as_prose() -> None:
    assert fk_grade("Visit cancersupportcommunity.org now.") == fk_grade("Visit now.")
