"""The one trial view (``trials.match_view``): every judged trial is either shown or hidden with
a reason; the travel limit and the reader's filters decide; samples only for demo profiles."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from myelonav.patient.models import PatientRecord
from myelonav.samples import sample_ids, sample_profile
from myelonav.trials import match_service
from myelonav.trials.geo import zip_point
from myelonav.trials.local import criteria_parser, open_store
from myelonav.trials.match_view import (
    CATEGORY_TEXT,
    NO_REAL_TRIALS,
    PHASE_TEXT,
    STATUS_TEXT,
    TrialFilters,
    trial_view,
)
from myelonav.trials.matching import Verdict
from myelonav.trials.models import Study
from myelonav.trials.store import StudyRecord

FIXTURES = Path(__file__).resolve().parents[1] / "web" / "data" / "ctgov" / "studies.json"
AS_OF = dt.date(2026, 12, 4)
ORIGIN = zip_point("10029")


def _record(sample: bool = False, travel: float | None = 200.0) -> PatientRecord:
    data = sample_profile(sample_ids()[0]).model_dump(mode="json")
    data["sample"] = sample
    data["preferences"]["max_travel_miles"] = travel
    return PatientRecord.model_validate(data)


@pytest.fixture(scope="module")
def real_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("view") / "trials.sqlite3"
    store = open_store(path, parse_criteria=criteria_parser())  # seeded with the samples
    raws = json.loads(FIXTURES.read_text("utf-8"))["studies"]
    store.import_studies([StudyRecord(study=Study.from_v2(r), raw=r) for r in raws],
                         source="test")
    store.close()
    return path


@pytest.fixture(scope="module")
def samples_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("samples") / "trials.sqlite3"
    open_store(path, parse_criteria=criteria_parser()).close()
    return path


def _subset(values: dict[str, str]) -> st.SearchStrategy[tuple[str, ...]]:
    return st.lists(st.sampled_from(sorted(values)), unique=True, max_size=3).map(tuple)


filters_st = st.builds(
    TrialFilters,
    statuses=_subset(STATUS_TEXT),
    phases=_subset(PHASE_TEXT),
    categories=_subset(CATEGORY_TEXT),
    verdict=st.sampled_from([None, *(v.value for v in Verdict)]),
)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(filters=filters_st, miles=st.sampled_from([None, 5.0, 50.0, 200.0, 400.0, 5000.0]))
def test_every_trial_is_shown_or_hidden_with_a_reason(
    real_db: Path, filters: TrialFilters, miles: float | None
) -> None:
    record = _record()
    view = trial_view(record, AS_OF, real_db, origin=ORIGIN, within_miles=miles, filters=filters)
    judged = [r for r in view.run.ranked if not r.match.is_sample]
    shown = {r.match.nct_id for r in view.shown}
    hidden = {h.trial.match.nct_id for h in view.hidden}
    assert not shown & hidden
    assert shown | hidden == {r.match.nct_id for r in judged}
    assert view.judged == len(judged) and view.hidden_total == len(hidden)
    limit = miles if miles is not None else 200.0
    assert view.travel_limit == limit
    for r in view.shown:
        assert r.within_travel is not False
        if filters.verdict is None:
            assert r.match.verdict is not Verdict.likely_ineligible
        else:
            assert r.match.verdict.value == filters.verdict
        if filters.statuses:
            assert view.status_of(r.match.nct_id) in filters.statuses
    for h in view.hidden:
        assert h.reasons and len(h.kinds) >= 1
        far = h.trial.within_travel is False
        assert far == ("too_far" in h.kinds)
        if far:
            assert h.trial.nearest_site is not None and h.trial.nearest_site.miles > limit
    assert view.farther == sum(1 for h in view.hidden if h.kinds == ("too_far",))
    assert f"{len(view.shown)} " in view.headline()
    assert "SAMPLE" not in " ".join(r.match.title for r in view.shown)


def test_a_longer_travel_limit_never_hides_a_trial(real_db: Path) -> None:
    record = _record()
    previous: set[str] = set()
    for miles in (10.0, 100.0, 200.0, 500.0, 1000.0, 3000.0):
        view = trial_view(record, AS_OF, real_db, origin=ORIGIN, within_miles=miles)
        ids = set(view.ids)
        assert previous <= ids, miles
        previous = ids
    assert previous, "within 3,000 miles of New York, something may fit"


def test_the_headline_states_the_limit_and_the_ones_farther_away(real_db: Path) -> None:
    view = trial_view(_record(travel=200.0), AS_OF, real_db, origin=ORIGIN)
    assert view.travel_limit == 200.0 and view.farther >= 1
    said = view.headline()
    assert said.startswith(f"{len(view.shown)} trial")
    assert "within 200 miles of New York, NY 10029" in said
    assert f"{view.farther} more farther away" in said
    unknown_place = trial_view(_record(travel=200.0), AS_OF, real_db, origin=None)
    assert unknown_place.travel_limit is None and "distance not known" in unknown_place.headline()
    assert not any("too_far" in h.kinds for h in unknown_place.hidden)


def test_samples_only_for_the_demo_profiles(samples_db: Path) -> None:
    match_service.clear_caches()
    real = trial_view(_record(sample=False), AS_OF, samples_db, origin=ORIGIN)
    assert real.no_real_trials and real.shown == [] and real.hidden == []
    assert real.headline() == NO_REAL_TRIALS
    demo = trial_view(_record(sample=True), AS_OF, samples_db, origin=ORIGIN)
    assert demo.showing_samples and demo.shown
    assert all(r.match.is_sample for r in demo.shown)


def test_the_api_choices_are_the_view_choices() -> None:
    from typing import get_args

    from myelonav.web.api.trials import CategoryChoice, PhaseChoice, StatusChoice

    assert set(get_args(StatusChoice)) == set(STATUS_TEXT)
    assert set(get_args(PhaseChoice)) == set(PHASE_TEXT)
    assert set(get_args(CategoryChoice)) == set(CATEGORY_TEXT)
