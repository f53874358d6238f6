"""The match service answers exactly what matching every full study does, reads only
candidates, and never serves a result from before the store changed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from file_modules import load_module
from myelonav.patient.models import PatientRecord
from myelonav.samples import sample_profiles
from myelonav.trials import match_service
from myelonav.trials.geo import Point
from myelonav.trials.local import criteria_parser, open_store
from myelonav.trials.models import Study
from myelonav.trials.patient_match import match_patient, stored_parse
from myelonav.trials.ranking import RankedTrial
from myelonav.trials.sqlite_store import SqliteTrialStore
from myelonav.trials.store import StudyRecord

AS_OF = dt.date(2026, 11, 25)
ATLANTA = Point(33.749, -84.38798, "Atlanta, GA")
GENERATOR = Path(__file__).resolve().parents[2] / "benchmarks" / "realistic_studies.py"


def realistic_records(n: int, seed: int = 3, myeloma_share: float = 0.7) -> list[StudyRecord]:
    """Studies from the benchmark generator: criteria recombined from the committed real
    registry texts (``benchmarks/data/real_criteria.jsonl``, with provenance)."""
    module = load_module("realistic_studies", GENERATOR)
    factory = module.StudyFactory(seed, myeloma_share)
    return [StudyRecord(study=Study.from_v2(raw), raw=raw) for raw in factory.records(n)]


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("svc") / "trials.sqlite3"
    store = open_store(path, parse_criteria=criteria_parser())  # the bundled samples first
    store.import_studies(realistic_records(80), source="test")
    store.close()
    return path


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    match_service.clear_caches()
    yield
    match_service.clear_caches()


def _reference(record: PatientRecord, db: Path, **options: Any) -> list[RankedTrial]:
    """The pre-service path: every full study from the store, stored parses."""
    store = open_store(db, parse_criteria=criteria_parser())
    try:
        studies = list(store.iter_studies())
        return match_patient(
            record,
            studies,
            lambda s: stored_parse(store.parsed_criteria(s.nct_id), s),
            as_of=AS_OF,
            **options,
        )
    finally:
        store.close()


def _view(ranked: list[RankedTrial]) -> list[tuple[Any, ...]]:
    return [
        (
            r.rank,
            r.score,
            r.match.as_dict(),
            [(c.name, c.value, c.reason) for c in r.components],
            r.nearest_site,
            r.within_travel,
        )
        for r in ranked
    ]


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"include_closed": True},
        {"origin": ATLANTA},
        {"origin": ATLANTA, "within_miles": 150.0, "include_closed": True},
    ],
)
def test_same_answers_as_matching_every_full_study(db: Path, options: dict[str, Any]) -> None:
    for record in sample_profiles():
        expected = _view(_reference(record, db, **options))
        got = match_service.match_store(record, AS_OF, db, **options)
        assert _view(got.ranked) == expected
        assert got.ranked, "the store holds open myeloma studies: something must be judged"


def test_only_plasma_cell_studies_are_read_and_parsed(db: Path) -> None:
    store = SqliteTrialStore(db, parse_criteria=criteria_parser())
    try:
        rows = store.match_rows(include_closed=True)
        every = list(store.iter_studies())
        plasma = {s.nct_id for s in every if "yeloma" in " ".join(s.conditions) + s.title}
        assert {r.nct_id for r in rows} == plasma
        assert len(plasma) < len(every)  # the fixture mixes in other diseases
        for s in every:
            parsed = store.parsed_criteria(s.nct_id)
            assert (parsed is not None) == (s.nct_id in plasma), s.nct_id
        open_rows = store.match_rows()
        assert {r.nct_id for r in open_rows} < {r.nct_id for r in rows}
    finally:
        store.close()


def test_identical_criteria_are_stored_and_decoded_once(db: Path) -> None:
    store = SqliteTrialStore(db)
    try:
        uses = store._conn.execute("SELECT count(*) FROM study_criteria").fetchone()[0]
        bodies = store._conn.execute("SELECT count(*) FROM criterion_bodies").fetchone()[0]
    finally:
        store.close()
    assert 0 < bodies < uses
    run = match_service.match_store(sample_profiles()[0], AS_OF, db, include_closed=True)
    seen: dict[tuple[str, str], int] = {}
    for r in run.ranked:
        for c, _, _ in r.match.judged:
            if c.id[0] in "IE":
                seen.setdefault((c.section.value, c.text), id(c.tree))
                assert seen[(c.section.value, c.text)] == id(c.tree)


def test_a_write_is_seen_by_the_next_query(tmp_path: Path) -> None:
    db = tmp_path / "t.sqlite3"
    store = open_store(db, parse_criteria=criteria_parser())
    store.close()
    record = sample_profiles()[0]
    before = match_service.match_store(record, AS_OF, db, include_closed=True)
    again = match_service.match_store(record, AS_OF, db, include_closed=True)
    assert again.ranked is before.ranked  # served from the result cache
    store = open_store(db, parse_criteria=criteria_parser())
    store.import_studies(realistic_records(12, seed=9, myeloma_share=1.0), source="test")
    store.close()
    after = match_service.match_store(record, AS_OF, db, include_closed=True)
    assert {r.match.nct_id for r in after.ranked} != {r.match.nct_id for r in before.ranked}
    assert after.version != before.version


def test_full_studies_only_for_the_trials_shown(db: Path) -> None:
    run = match_service.match_store(sample_profiles()[0], AS_OF, db)
    shown = run.ranked[:3]
    studies = run.studies(shown)
    assert list(studies) == sorted(r.match.nct_id for r in shown)
    assert all(s.eligibility.criteria_text for s in studies.values())


def test_a_parser_failure_keeps_the_trial_with_a_question(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "t.sqlite3"

    def broken(_: object) -> dict[str, Any]:
        raise ValueError("parser bug")

    store = SqliteTrialStore(db, parse_criteria=broken)
    store.import_studies(realistic_records(6, seed=5, myeloma_share=1.0), source="test")
    store.close()

    def also_broken(_: str) -> Any:
        raise ValueError("parser bug")

    monkeypatch.setattr(match_service, "parse_criteria", also_broken)
    run = match_service.match_store(sample_profiles()[0], AS_OF, db, include_closed=True)
    assert len(run.ranked) == 6
    for r in run.ranked:
        texts = [c.text for c, _, _ in r.match.judged]
        assert any("could not read" in t for t in texts)
