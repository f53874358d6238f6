"""A hand-written summary or rule reason says a rate the way the options page's formatter
does: "about 7 in 10" for a 67 % response, never "about 2 in 3" on the card and "about 7 in
10" beside it."""

from __future__ import annotations

import re

import pytest

from myelonav.knowledge.loader import bundled_options
from myelonav.options.frequency import in_ten

_FREQUENCY = re.compile(r"\babout (\d{1,2}) in (\d{1,2})\b", re.I)
OPTIONS = bundled_options()


@pytest.mark.parametrize("option_id", sorted(OPTIONS))
def test_summary_frequencies_match_the_formatter(option_id: str) -> None:
    option = OPTIONS[option_id]
    shown = {
        in_ten(pct)
        for e in option.evidence
        for pct in (e.orr_pct, e.cr_or_better_pct)
        if pct is not None
    }
    texts = [option.summary_patient, *(r.reason_patient or "" for r in option.rules)]
    for match in (m for text in texts for m in _FREQUENCY.finditer(text)):
        count, out_of = int(match.group(1)), int(match.group(2))
        assert out_of == 10, f"{option_id}: {match.group(0)!r}: say it out of 10, as the page does"
        assert count in shown, (
            f"{option_id}: {match.group(0)!r} is none of this option's rates as the page "
            f"shows them (about {sorted(shown)} in 10)"
        )


def test_the_check_reads_the_summaries() -> None:
    assert any(_FREQUENCY.search(o.summary_patient) for o in OPTIONS.values())
