"""Cost and help paying: every option says what to expect and who can help, with dates."""

from __future__ import annotations

import pytest

from myelonav.knowledge.cost import cost_help
from myelonav.knowledge.loader import bundled_options
from myelonav.options.render import render
from myelonav.options.report import options_report
from myelonav.samples import SAMPLE_AS_OF, sample_profile

OPTION_IDS = sorted(bundled_options())


@pytest.mark.parametrize("option_id", OPTION_IDS)
def test_every_option_says_what_to_expect_and_who_can_help(option_id: str) -> None:
    info = cost_help(option_id)
    assert info is not None
    assert info.what_to_expect, f"{option_id}: no cost_patient text"
    assert info.hospital_stay
    if option_id != "celmods_trials":  # trial sponsors pay; LLS trial help is in clinical_trial
        assert info.help, f"{option_id}: no assistance listed"
    for item in info.help:
        assert item.url or item.notes, f"{option_id}: {item.name} says nothing"
    data = info.as_json()
    assert data["option_id"] == option_id
    assert all("last_reviewed" in h for h in data["help"])


def test_a_list_price_is_shown_only_with_its_source_and_date() -> None:
    for option_id in OPTION_IDS:
        info = cost_help(option_id)
        assert info is not None
        if info.list_price is not None:
            assert "list price" in info.list_price and "20" in info.list_price


def test_unknown_option_has_no_cost_entry() -> None:
    assert cost_help("no_such_option") is None


def test_options_detail_shows_cost_and_help() -> None:
    report = options_report(sample_profile("sample-late-idecel-t1114"), SAMPLE_AS_OF, "patient")
    text = render(report, "patient")
    assert "Cost and help paying:" in text
    assert "LLS Co-Pay Assistance Program" in text
