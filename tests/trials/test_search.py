"""Full-text search with field weights, vocabulary expansion, filters and distance."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from myelonav.trials.geo import Point, haversine_miles, zip_point
from myelonav.trials.models import Study
from myelonav.trials.samples import sample_records
from myelonav.trials.sqlite_store import SqliteTrialStore, fts_queries, fts_query
from myelonav.trials.store import SearchQuery, StudyRecord

NYC = (40.71427, -74.00597)
HOUSTON = (29.76328, -95.36327)
SEATTLE = (47.60621, -122.33207)


def rec(
    n: int,
    *,
    title: str = "A study",
    criteria: str = "",
    status: str = "RECRUITING",
    phases: list[str] | None = None,
    interventions: list[dict[str, Any]] | None = None,
    sites: list[tuple[str, tuple[float, float]]] | None = None,
    summary: str | None = None,
) -> StudyRecord:
    protocol: dict[str, Any] = {
        "identificationModule": {"nctId": f"NCT{n:08d}", "briefTitle": title},
        "statusModule": {"overallStatus": status},
        "conditionsModule": {"conditions": ["Multiple Myeloma"]},
        "designModule": {"phases": phases or ["PHASE2"]},
        "eligibilityModule": {"eligibilityCriteria": criteria},
        "armsInterventionsModule": {"interventions": interventions or []},
        "contactsLocationsModule": {
            "locations": [
                {"facility": f"Site {i}", "status": st_, "geoPoint": {"lat": p[0], "lon": p[1]}}
                for i, (st_, p) in enumerate(sites or [])
            ]
        },
    }
    if summary:
        protocol["descriptionModule"] = {"briefSummary": summary}
    raw = {"protocolSection": protocol}
    return StudyRecord(study=Study.from_v2(raw), raw=raw)


@pytest.fixture
def store(tmp_path: Path) -> SqliteTrialStore:
    s = SqliteTrialStore(tmp_path / "t.sqlite3")
    s.import_studies(
        [
            rec(
                1,
                title="Cevostamab in relapsed myeloma",
                interventions=[{"type": "DRUG", "name": "Cevostamab"}],
                sites=[("RECRUITING", NYC)],
            ),
            rec(
                2,
                title="Iberdomide maintenance",
                criteria="Exclusion Criteria:\n\n* Prior cevostamab",
                interventions=[{"type": "DRUG", "name": "Iberdomide"}],
                sites=[("RECRUITING", HOUSTON)],
            ),
            rec(
                3,
                title="GPRC5D bispecific",
                status="COMPLETED",
                phases=["PHASE1"],
                interventions=[{"type": "DRUG", "name": "JNJ-64407564"}],
                sites=[("COMPLETED", NYC), ("RECRUITING", SEATTLE)],
            ),
            rec(
                4,
                title="Allogeneic CAR T",
                phases=["PHASE1", "PHASE2"],
                interventions=[{"type": "BIOLOGICAL", "name": "ALLO-715"}],
                summary="Off-the-shelf CAR T cells.",
                sites=[("NOT_YET_RECRUITING", NYC)],
            ),
        ],
        source="import:test",
    )
    return s


def nct(hits: list[Any]) -> list[str]:
    return [h.study.nct_id for h in hits]


def test_title_match_outranks_criteria_match(store: SqliteTrialStore) -> None:
    hits = store.search(SearchQuery(text="cevostamab"))
    assert nct(hits) == ["NCT00000001", "NCT00000002"]
    assert hits[0].score > hits[1].score > 0


def test_brand_name_finds_code_named_intervention(store: SqliteTrialStore) -> None:
    # "Talvey" is talquetamab's brand; study 3 only lists the code JNJ-64407564
    assert nct(store.search(SearchQuery(text="Talvey"))) == ["NCT00000003"]


def test_phrase_and_tokens(store: SqliteTrialStore) -> None:
    hits = store.search(SearchQuery(text="off-the-shelf CAR T"))
    assert nct(hits)[0] == "NCT00000004"


def test_filters(store: SqliteTrialStore) -> None:
    assert nct(store.search(SearchQuery(statuses=["COMPLETED"]))) == ["NCT00000003"]
    assert set(nct(store.search(SearchQuery(phases=["PHASE1"])))) == {"NCT00000003", "NCT00000004"}
    assert nct(store.search(SearchQuery(drug_classes=["fcrh5_directed"]))) == ["NCT00000001"]
    assert nct(store.search(SearchQuery(drug_classes=["allogeneic_car_t"]))) == ["NCT00000004"]
    assert nct(store.search(SearchQuery(targets=["GPRC5D"]))) == ["NCT00000003"]
    assert store.search(SearchQuery(targets=["gprc5d"])) == [], "targets match exactly"
    combined = store.search(
        SearchQuery(text="cevostamab", statuses=["RECRUITING"], targets=["FcRH5"])
    )
    assert nct(combined) == ["NCT00000001"]


def test_distance_to_nearest_recruiting_site(store: SqliteTrialStore) -> None:
    origin = Point(*NYC)
    hits = store.search(SearchQuery(near=origin, within_miles=50))
    # study 3 has a *completed* site in NYC and study 4 a not-yet-recruiting one: both excluded
    assert nct(hits) == ["NCT00000001"]
    assert hits[0].nearest is not None and hits[0].nearest.miles < 1
    wide = store.search(SearchQuery(near=origin, within_miles=3000))
    assert nct(wide) == ["NCT00000001", "NCT00000002", "NCT00000003"], "sorted by distance"
    miles = [h.nearest.miles for h in wide if h.nearest]
    assert miles == sorted(miles)
    assert wide[2].nearest is not None
    assert wide[2].nearest.miles == pytest.approx(haversine_miles(*NYC, *SEATTLE))


def test_near_without_limit_reports_distance(store: SqliteTrialStore) -> None:
    hits = store.search(SearchQuery(text="iberdomide", near=Point(*NYC)))
    assert nct(hits) == ["NCT00000002"]
    assert hits[0].nearest is not None
    assert hits[0].nearest.miles == pytest.approx(haversine_miles(*NYC, *HOUSTON))


def test_samples_can_be_left_out(tmp_path: Path) -> None:
    s = SqliteTrialStore(tmp_path / "t.sqlite3")
    s.import_studies(sample_records(), source="sample")
    hits = s.search(SearchQuery(text="GPRC5D"))
    assert hits and all(h.study.is_sample for h in hits)
    assert s.search(SearchQuery(text="GPRC5D", include_samples=False)) == []


def test_samples_answer_the_core_question_offline(tmp_path: Path) -> None:
    s = SqliteTrialStore(tmp_path / "t.sqlite3")
    s.import_studies(sample_records(), source="sample")
    hits = s.search(
        SearchQuery(
            text="after CAR T", statuses=["RECRUITING"], near=zip_point("10065"), within_miles=500
        )
    )
    ids = nct(hits)
    assert ids[0] == "NCT99000102"  # GPRC5D CAR T after BCMA therapy, with a New York site
    # the newly diagnosed trial only mentions CAR T, so it ranks below the post-CAR T designs
    assert ids.index("NCT99000108") > ids.index("NCT99000104")
    assert "NCT99000103" not in ids  # West Coast and Texas sites only: beyond 500 miles
    assert "NCT99000110" not in ids  # not yet recruiting


def test_limit(store: SqliteTrialStore) -> None:
    assert len(store.search(SearchQuery(limit=2))) == 2


@pytest.mark.parametrize(
    "text", ['"CAR-T" AND (', "NEAR(a b)", "*", "col:value", "'; DROP TABLE studies; --", "ü ß"]
)
def test_hostile_queries_never_error(store: SqliteTrialStore, text: str) -> None:
    store.search(SearchQuery(text=text))
    assert store.count() == 4


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=40))
def test_fts_query_is_always_valid(text: str) -> None:
    import sqlite3

    query = fts_query(text)
    if query is None:
        return
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE f USING fts5(a)")
    conn.execute("SELECT * FROM f WHERE f MATCH ?", (query,)).fetchall()


def test_fts_query_expands_drug_names() -> None:
    query = fts_query("Tecvayli")
    assert query is not None and '"teclistamab"' in query
    assert fts_query("  --  ") is None


def test_all_words_rank_above_any_word(tmp_path: Path) -> None:
    s = SqliteTrialStore(tmp_path / "t.sqlite3")
    s.import_studies(
        [
            # many mentions of one word would win a pure OR ranking
            rec(1, title="Myeloma myeloma myeloma", summary="myeloma " * 20),
            rec(2, title="Plasma cell leukemia in myeloma", criteria="Plasma cell leukemia"),
        ],
        source="x",
    )
    hits = s.search(SearchQuery(text="plasma cell leukemia myeloma"))
    assert nct(hits) == ["NCT00000002", "NCT00000001"]
    assert hits[0].score > hits[1].score


def test_fts_queries_strict_and_loose() -> None:
    both = fts_queries("trials for Talvey after CAR T")
    assert both is not None
    strict, loose = both
    assert '("talvey" OR "talquetamab")' in strict and '"car" AND "t"' in strict
    assert '"trials"' not in loose and '"t"' not in loose and '"talquetamab"' in loose
