"""The navigator's desk flags what to look at first, from the clinical picture only."""

from __future__ import annotations

import datetime as dt

from myelonav.samples import sample_profile
from myelonav.store.profiles import SavedProfile
from myelonav.web.pages.account_pages import attention_flags


def _saved(record_id: str) -> SavedProfile:
    now = dt.datetime(2026, 11, 25, tzinfo=dt.UTC)
    return SavedProfile("p1", "test", True, sample_profile(record_id), now, now)


def test_recent_progression_is_flagged_and_old_progression_is_not() -> None:
    saved = _saved("sample-early-cilta-emd")  # IMWG progression 2026-08-18
    flags = attention_flags(saved, dt.date(2026, 9, 30))
    assert any(f.startswith("new progression 2026-08-18") for f in flags)
    later = attention_flags(saved, dt.date(2027, 3, 1))
    assert not any(f.startswith("new progression") for f in later)


def test_no_progression_flag_without_progression() -> None:
    saved = _saved("sample-late-idecel-t1114")  # progression 2026-07-13
    assert not any(
        f.startswith("new progression") for f in attention_flags(saved, dt.date(2026, 7, 1))
    )
