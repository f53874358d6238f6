"""`myelonav knowledge review`: entries by review date, approvals, figures without PMID/DOI."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from myelonav.cli import app
from myelonav.errors import InputError
from myelonav.knowledge.loader import bundled_options
from myelonav.knowledge.review import parse_period, render_review, review

runner = CliRunner()
AS_OF = dt.date(2026, 12, 4)


@pytest.mark.parametrize(
    "text,days", [("6m", 183), ("90d", 90), ("2w", 14), ("1y", 365), (" 12M ", 365)]
)
def test_periods(text: str, days: int) -> None:
    assert parse_period(text) == dt.timedelta(days=days)


@pytest.mark.parametrize("text", ["", "6", "m6", "6 months", "-1m", "6x", "1.5y"])
def test_bad_periods_name_the_option(text: str) -> None:
    with pytest.raises(InputError, match="--older-than"):
        parse_period(text)


@given(st.text(max_size=12))
def test_parse_period_accepts_only_the_documented_forms(text: str) -> None:
    try:
        period = parse_period(text)
    except InputError:
        return
    assert period.days >= 0
    assert text.strip().lower()[-1] in "dwmy"


def test_review_lists_every_option_oldest_first_and_every_approval() -> None:
    result = review(AS_OF)
    dates = [e.last_reviewed for e in result.entries]
    assert dates == sorted(dates)
    options = bundled_options()
    assert {e.where for e in result.entries} >= {f"options/{o}.yaml" for o in options}
    assert len(result.approvals) == sum(len(o.approval) for o in options.values())
    tec = [a for a in result.approvals if a.option == "teclistamab"]
    # only what a primary source verifies: the 2022 accelerated approval (the 2026
    # conversion was reported in the press only)
    assert tec and tec[0].status == "accelerated" and tec[0].date == dt.date(2022, 10, 25)
    blenrep = [a for a in result.approvals if a.option == "belantamab_mafodotin"]
    assert blenrep and blenrep[0].date == dt.date(2025, 10, 23)  # BLA 761440 approval letter


def test_older_than_keeps_only_stale_entries() -> None:
    everything = review(AS_OF)
    recent = review(AS_OF, dt.timedelta(days=5))
    assert recent.cutoff == dt.date(2026, 11, 29)
    assert all(e.last_reviewed < dt.date(2026, 11, 29) for e in recent.entries)
    assert len(recent.entries) < len(everything.entries)
    assert review(AS_OF, dt.timedelta(days=3650)).entries == []


def test_figures_without_pmid_or_doi_are_listed_with_their_identifier() -> None:
    result = review(AS_OF)
    listed = {(f.option, f.study) for f in result.figures_without_pmid_or_doi}
    assert ("selinexor_combinations", "STORM part 2") in listed  # the XPOVIO label
    assert ("linvoseltamab", "LINKER-MM1") in listed  # the LYNOZYFIC label
    assert ("teclistamab", "MajesTEC-1") not in listed  # has PMID and DOI
    storm = next(f for f in result.figures_without_pmid_or_doi if f.study == "STORM part 2")
    assert storm.identifier.startswith("https://api.fda.gov/")
    assert all(f.identifier != "none" for f in result.figures_without_pmid_or_doi)
    assert result.figures_without_primary_identifier == []
    text = render_review(result)
    assert "Figures cited without a PMID or DOI" in text
    assert "selinexor_combinations: STORM part 2" in text
    assert "Figures without a primary identifier: 0" in text
    assert "EXEMPT" not in text
    assert "teclistamab_daratumumab" in text


def test_a_figure_without_any_identifier_would_be_counted() -> None:
    option = bundled_options()["selinexor_combinations"]
    storm = option.evidence[0]
    assert storm.citation is not None
    # model_copy skips validation, as a hand-built catalogue object could
    bare = storm.citation.model_copy(update={"url": "https://clinicaltrials.gov/study/NCT1"})
    broken = option.model_copy(
        update={"evidence": [storm.model_copy(update={"citation": bare}), *option.evidence[1:]]}
    )
    result = review(AS_OF, options={"selinexor_combinations": broken})
    assert [f.study for f in result.figures_without_primary_identifier] == ["STORM part 2"]
    assert "Figures without a primary identifier: 1" in render_review(result)


def test_cli_text_and_json() -> None:
    out = runner.invoke(app, ["knowledge", "review", "--as-of", "2026-12-04", "--older-than", "6m"])
    assert out.exit_code == 0, out.output
    assert "Entries last reviewed before 2026-06-04" in out.output
    out = runner.invoke(app, ["knowledge", "review", "--as-of", "2026-12-04", "-f", "json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert {"entries", "approvals", "figures_without_pmid_or_doi"} <= set(data)
    assert data["figures_without_primary_identifier"] == []


def test_cli_bad_period_is_a_clear_error() -> None:
    out = runner.invoke(app, ["knowledge", "review", "--older-than", "soon"])
    assert out.exit_code != 0
    assert "--older-than" in out.output
