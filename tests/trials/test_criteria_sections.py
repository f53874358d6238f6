from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from myelonav.trials.criteria.models import Section
from myelonav.trials.criteria.sections import split_sections

TEXT = """Inclusion Criteria:

* Age >= 18 years.
* Adequate organ function, defined as:
  * ANC >= 1.0 x 10^9/L
  * Platelets >= 75,000/mm3
* ECOG 0-1.

Exclusion Criteria:

1. Prior allogeneic stem cell transplant
   within 6 months.
2. Known CNS involvement.
"""


def test_sections_numbers_and_sub_bullets() -> None:
    split = split_sections(TEXT)
    assert not split.unsectioned
    inc = [i for i in split.items if i.section is Section.inclusion]
    exc = [i for i in split.items if i.section is Section.exclusion]
    assert [i.number for i in inc] == [1, 2, 3]
    assert [i.number for i in exc] == [1, 2]
    assert inc[1].full_text == (
        "Adequate organ function, defined as: ANC >= 1.0 x 10^9/L; Platelets >= 75,000/mm3."
    )
    # a wrapped line continues its item instead of starting a new one
    assert exc[0].full_text == "Prior allogeneic stem cell transplant within 6 months."


def test_heading_variants() -> None:
    text = "Key Inclusion Criteria\n- Age 18 or older\nKEY EXCLUSION CRITERIA:\n- Pregnancy"
    split = split_sections(text)
    assert [(i.section, i.text) for i in split.items] == [
        (Section.inclusion, "Age 18 or older"),
        (Section.exclusion, "Pregnancy"),
    ]


def test_unsectioned_text_is_flagged_and_kept() -> None:
    split = split_sections("Adults with relapsed myeloma.\nNo prior BCMA therapy.")
    assert split.unsectioned
    assert [i.text for i in split.items] == [
        "Adults with relapsed myeloma.",
        "No prior BCMA therapy.",
    ]
    assert all(i.section is Section.inclusion for i in split.items)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_any_text_splits_without_error(text: str) -> None:
    split = split_sections(text)
    assert all(i.full_text.strip() for i in split.items)
    for section in Section:
        numbers = [i.number for i in split.items if i.section is section]
        assert numbers == list(range(1, len(numbers) + 1))
