"""The fast matching path (memoised judgements, shared score parts, precomputed distance,
paused cycle collector) gives exactly what a plain, uncached evaluation gives: same verdicts,
criterion results and patient facts, scores, components, nearest sites and order."""

from __future__ import annotations

import datetime as dt
import gc
import json
import random
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from file_modules import load_module
from myelonav.logic import Truth, all_of, any_of
from myelonav.patient.models import PatientRecord
from myelonav.patient.profile_io import load_profile
from myelonav.samples import sample_profiles
from myelonav.trials import patient_match
from myelonav.trials._facts import PatientFacts
from myelonav.trials.categories import categorise
from myelonav.trials.criteria import ParsedCriteria, parse_criteria
from myelonav.trials.criteria.models import PARSER_VERSION, Criterion, OtherAtom, Section
from myelonav.trials.criteria.residue import REGION
from myelonav.trials.eligibility.values import Why
from myelonav.trials.geo import Point, nearest_site
from myelonav.trials.matching import (
    Matcher,
    Result,
    Verdict,
    condition_criterion,
    match_study,
    outcome,
    registry_age_criterion,
)
from myelonav.trials.models import Location, Study
from myelonav.trials.patient_match import is_candidate, match_patient, stored_parse
from myelonav.trials.ranking import (
    _distance,
    _fit,
    _Origin,
    _phase,
    _status,
    evidence_for,
    rank,
)
from myelonav.trials.samples import sample_studies

ROOT = Path(__file__).resolve().parents[2]
LABELLED = ROOT / "tests" / "data" / "matching"
AS_OF = dt.date(2026, 11, 25)
ORIGINS: list[tuple[Point | None, float | None]] = [
    (None, None),
    (Point(40.71, -74.0, "New York"), None),
    (Point(41.88, -87.63, "Chicago"), 300.0),
    (Point(34.05, -118.24, "Los Angeles"), 50.0),
]
_TIER = {Verdict.likely_eligible: 0, Verdict.possibly_eligible: 1, Verdict.likely_ineligible: 2}


# --------------------------------------------------------------------------- the reference


def _reference_result(facts_of: PatientFacts, c: Criterion) -> tuple[Result, str]:
    """One criterion on its own, with a matcher that has seen nothing else. A country note
    applies only in its country; where it applies, the note itself is understood."""
    need_true = c.section is Section.inclusion and not c.excludes
    home = facts_of.record.demographics.country
    if c.region is not None and home is not None:
        if home.upper() != c.region:
            return Result.met, f"applies only to participants in {c.region} (you: {home})"
        kept = tuple(u for u in c.unaccounted if not u.startswith(REGION))
        c = c.model_copy(update={"unaccounted": kept})
    value, why, facts = Matcher(facts_of).tree(c.tree, need_true)
    return outcome(c, need_true, value, why, facts)


def _reference_match(facts: PatientFacts, study: Study, parsed: ParsedCriteria) -> dict[str, Any]:
    rows: list[tuple[Criterion, Result, str]] = []
    cond = condition_criterion(study)
    if cond is not None and isinstance(cond.tree, OtherAtom):
        rows.append((cond, Result.not_met, "this study is not for multiple myeloma"))
    elif cond is not None:
        rows.append((cond, *_reference_result(facts, cond)))
    age = registry_age_criterion(study)
    if age is not None:
        rows.append((age, *_reference_result(facts, age)))
    rows += [(c, *_reference_result(facts, c)) for c in parsed.criteria]
    failing = [c.id for c, r, _ in rows if r is Result.not_met]
    unknown = [c.id for c, r, _ in rows if r is Result.unknown]
    verdict = (
        Verdict.likely_ineligible
        if failing
        else Verdict.possibly_eligible
        if unknown
        else Verdict.likely_eligible
    )
    return {
        "nct_id": study.nct_id,
        "title": study.title,
        "verdict": verdict.value,
        "is_sample": study.is_sample,
        "categories": categorise(study).as_dict(),
        "failing": failing,
        "unknown": unknown,
        "ask_study_team": [c.text for c, r, _ in rows if r is Result.ask],
        "criteria": [
            {
                "id": c.id,
                "section": c.section.value,
                "text": c.text,
                "kind": c.kind.value,
                "result": r.value,
                "patient_fact": f,
                **({"exception": c.exception} if c.exception else {}),
            }
            for c, r, f in rows
        ],
        "kinds": [[k.value for k in c.kinds] for c, _, _ in rows],
    }


def _reference_ranking(
    record: PatientRecord,
    as_of: dt.date,
    studies: Sequence[Study],
    parsed_of: Callable[[Study], ParsedCriteria],
    origin: Point | None,
    within_miles: float | None,
    include_closed: bool,
) -> list[dict[str, Any]]:
    """Every study judged alone, every score component computed afresh and summed."""
    facts = PatientFacts.build(record, as_of)
    limit = within_miles if within_miles is not None else record.preferences.max_travel_miles
    rows: list[dict[str, Any]] = []
    for study in studies:
        if not is_candidate(study, include_closed):
            continue
        match = _reference_match(facts, study, parsed_of(study))
        # _fit reads only the verdict and the two id lists
        probe = match_study(Matcher(facts), study, parsed_of(study))
        assert probe.verdict.value == match["verdict"]
        fit = _fit(probe)
        ev = evidence_for(study, facts)
        phase, status = _phase(study), _status(study)
        dist, dist_reason, site, within = _distance(study, origin, limit)
        components = [
            ("fit", fit[0], 0.40, fit[1]),
            ("evidence", round(ev.value, 3), 0.20, ev.reason),
            ("phase", phase[0], 0.10, phase[1]),
            ("status", status[0], 0.15, status[1]),
            ("distance", round(dist, 3), 0.15, dist_reason),
        ]
        score = round(100.0 * sum(v * w for _, v, w, _ in components), 1)
        nearest = None
        if site is not None:
            loc = site.location
            nearest = (loc.facility, loc.city, loc.state, round(site.miles, 1), loc.status)
        rows.append(
            {
                "score": score,
                "components": components,
                "nearest": nearest,
                "within": within,
                "match": match,
                "tier": _TIER[Verdict(match["verdict"])],
            }
        )
    rows.sort(key=lambda r: (r["tier"], -r["score"], r["match"]["nct_id"]))
    if within_miles is not None and origin is not None:
        rows = [r for r in rows if r["nearest"] is None or r["nearest"][3] <= within_miles]
    for i, r in enumerate(rows, start=1):
        r["rank"] = i
        del r["tier"]
    return rows


def _fast_ranking(
    record: PatientRecord,
    as_of: dt.date,
    studies: Sequence[Study],
    parsed_of: Callable[[Study], ParsedCriteria],
    origin: Point | None,
    within_miles: float | None,
    include_closed: bool,
) -> list[dict[str, Any]]:
    ranked = match_patient(
        record,
        studies,
        parsed_of,
        as_of=as_of,
        origin=origin,
        within_miles=within_miles,
        include_closed=include_closed,
    )
    out = []
    for r in ranked:
        match = r.match.as_dict()
        match["kinds"] = [[k.value for k in c.kinds] for c in r.match.criteria]
        site = r.nearest_site
        out.append(
            {
                "rank": r.rank,
                "score": r.score,
                "components": [(c.name, c.value, c.weight, c.reason) for c in r.components],
                "nearest": None
                if site is None
                else (site.facility, site.city, site.state, site.miles, site.status),
                "within": r.within_travel,
                "match": match,
            }
        )
    return out


# --------------------------------------------------------------------------- study sets


def _labelled_set() -> tuple[list[Study], list[PatientRecord], dt.date]:
    as_of = dt.date.fromisoformat(json.loads((LABELLED / "set.json").read_text("utf-8"))["as_of"])
    studies = [
        Study.from_v2(json.loads(p.read_text("utf-8")))
        for p in sorted((LABELLED / "trials").glob("*.json"))
    ]
    patients = [load_profile(p) for p in sorted((LABELLED / "profiles").glob("*.json"))]
    return studies, patients, as_of


def _shared_parse_studies(seed: int) -> tuple[list[Study], dict[str, ParsedCriteria]]:
    """Sample studies copied under new ids with other conditions, ages and statuses, several
    copies sharing one parse object (as a store does for identical texts)."""
    rng = random.Random(seed)
    templates = sample_studies()
    parses = [parse_criteria(t.eligibility.criteria_text) for t in templates]
    conditions = [
        None,
        ["Multiple Myeloma"],
        ["Smoldering Multiple Myeloma"],
        ["Newly Diagnosed Multiple Myeloma"],
        ["Relapsed Refractory Multiple Myeloma", "AL Amyloidosis"],
        ["Lymphoma"],
    ]
    studies: list[Study] = []
    parsed: dict[str, ParsedCriteria] = {}
    for i in range(60):
        k = rng.randrange(len(templates))
        t = templates[k]
        update: dict[str, Any] = {"nct_id": f"NCT{90_000_000 + i:08d}"}
        cond = rng.choice(conditions)
        if cond is not None:
            update["conditions"] = cond
        if rng.random() < 0.3:
            update["overall_status"] = rng.choice(["COMPLETED", "NOT_YET_RECRUITING", None])
        if rng.random() < 0.3:
            years = rng.choice([None, 18.0, 75.0])
            elig = t.eligibility.model_copy(
                update={
                    "minimum_age": None if years is None else f"{years:g} Years",
                    "minimum_age_years": years,
                }
            )
            update["eligibility"] = elig
        studies.append(t.model_copy(update=update))
        parsed[update["nct_id"]] = parses[k]
    return studies, parsed


# --------------------------------------------------------------------------- tests


def _compare(
    record: PatientRecord,
    as_of: dt.date,
    studies: Sequence[Study],
    parsed_of: Callable[[Study], ParsedCriteria],
) -> int:
    compared = 0
    for origin, within in ORIGINS:
        for include_closed in (False, True):
            want = _reference_ranking(
                record, as_of, studies, parsed_of, origin, within, include_closed
            )
            got = _fast_ranking(record, as_of, studies, parsed_of, origin, within, include_closed)
            assert got == want, (record.id, origin, within, include_closed)
            compared += len(got)
    return compared


def test_sample_studies_match_the_reference_for_every_sample_patient() -> None:
    studies = sample_studies()
    parses = {s.nct_id: parse_criteria(s.eligibility.criteria_text) for s in studies}
    total = 0
    for record in sample_profiles():
        total += _compare(record, AS_OF, studies, lambda s: parses[s.nct_id])
    assert total > 0


def test_labelled_set_matches_the_reference() -> None:
    studies, patients, as_of = _labelled_set()
    assert studies and patients
    parses = {s.nct_id: parse_criteria(s.eligibility.criteria_text) for s in studies}
    verdicts: set[str] = set()
    for record in patients:
        _compare(record, as_of, studies, lambda s: parses[s.nct_id])
        ranked = match_patient(
            record, studies, lambda s: parses[s.nct_id], as_of=as_of, include_closed=True
        )
        verdicts |= {r.match.verdict.value for r in ranked}
    assert verdicts == {v.value for v in Verdict}  # the set exercises every verdict


@pytest.mark.parametrize("seed", [1, 2])
def test_shared_parses_and_registry_criteria_match_the_reference(seed: int) -> None:
    studies, parsed = _shared_parse_studies(seed)
    for record in sample_profiles():
        _compare(record, AS_OF, studies, lambda s: parsed[s.nct_id])


def test_one_parse_shared_by_studies_keeps_each_study_criterion_objects() -> None:
    studies, parsed = _shared_parse_studies(3)
    record = sample_profiles()[0]
    ranked = match_patient(
        record, studies, lambda s: parsed[s.nct_id], as_of=AS_OF, include_closed=True
    )
    for r in ranked:
        own = parsed[r.match.nct_id].criteria
        tail = [c for c, _, _ in r.match.judged][-len(own) :]
        assert all(a is b for a, b in zip(tail, own, strict=True))


def test_cycle_collector_state_is_restored() -> None:
    studies = sample_studies()
    record = sample_profiles()[0]

    def run() -> None:
        match_patient(
            record, studies, lambda s: parse_criteria(s.eligibility.criteria_text), as_of=AS_OF
        )

    assert gc.isenabled()
    run()
    assert gc.isenabled()
    gc.disable()
    try:
        run()
        assert not gc.isenabled()  # a caller's choice is left alone
    finally:
        gc.enable()

    def broken(_: Study) -> ParsedCriteria:
        raise RuntimeError("store went away")

    with pytest.raises(RuntimeError):
        match_patient(record, studies, broken, as_of=AS_OF)
    assert gc.isenabled()


def test_stored_parse_reuses_a_validated_parse_only_for_the_same_text_and_version() -> None:
    study = sample_studies()[0]
    parsed = parse_criteria(study.eligibility.criteria_text)
    raw = json.loads(parsed.model_dump_json())
    first = stored_parse(raw, study)
    assert first == parsed
    assert stored_parse(raw, study) is first  # validated once
    # new criteria text under the same NCT id: not the cached parse
    changed = study.model_copy(
        update={
            "eligibility": study.eligibility.model_copy(
                update={"criteria_text": "Inclusion Criteria:\n* Age >= 21 years"}
            )
        }
    )
    new_raw = json.loads(parse_criteria(changed.eligibility.criteria_text).model_dump_json())
    assert stored_parse(new_raw, changed) == parse_criteria(changed.eligibility.criteria_text)
    assert stored_parse(new_raw, changed) != first
    # a parse from another parser version is never used, cached or not
    stale = dict(raw, parser_version=PARSER_VERSION + "-old", criteria=[])
    assert stored_parse(stale, study) == parsed
    assert stored_parse(None, study) == parsed
    # a malformed stored parse falls back to parsing
    assert stored_parse({"parser_version": PARSER_VERSION, "criteria": "?"}, changed) == (
        parse_criteria(changed.eligibility.criteria_text)
    )


def test_stored_parse_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(patient_match, "_PARSE_CACHE_SIZE", 3)
    patient_match._parse_cache.clear()
    template = sample_studies()[0]
    raw = json.loads(parse_criteria(template.eligibility.criteria_text).model_dump_json())
    for i in range(6):
        stored_parse(raw, template.model_copy(update={"nct_id": f"NCT{i:08d}"}))
    assert len(patient_match._parse_cache) == 3
    assert [k[0] for k in patient_match._parse_cache] == [
        "NCT00000003",
        "NCT00000004",
        "NCT00000005",
    ]
    patient_match._parse_cache.clear()


@cache
def _one_study_fixture() -> tuple[ParsedCriteria, PatientFacts]:
    study = sample_studies()[0]
    facts = PatientFacts.build(sample_profiles()[0], AS_OF)
    return parse_criteria(study.eligibility.criteria_text), facts


_coord = st.tuples(
    st.floats(-89.0, 89.0, allow_nan=False), st.floats(-179.0, 179.0, allow_nan=False)
)


@settings(max_examples=100, deadline=None)
@given(
    origin=_coord,
    sites=st.lists(
        st.tuples(_coord, st.sampled_from(["RECRUITING", "COMPLETED", None]), st.booleans()),
        max_size=8,
    ),
)
def test_ranking_nearest_site_is_geo_nearest_site(
    origin: tuple[float, float], sites: list[tuple[tuple[float, float], str | None, bool]]
) -> None:
    """Same site (the first of equally near ones) and the same miles, to the last bit."""
    locations: list[Location] = []
    for i, ((lat, lon), status, located) in enumerate(sites):
        first = next((x for x in locations if x.lat is not None and x.lon is not None), None)
        if first is not None and first.lat is not None and first.lon is not None and i % 3 == 0:
            lat, lon = first.lat, first.lon  # an exact tie with an earlier site
        locations.append(
            Location(
                facility=f"site {i}",
                status=status,
                lat=lat if located else None,
                lon=lon if located else None,
            )
        )
    study = sample_studies()[0].model_copy(update={"locations": locations})
    point = Point(*origin)
    parsed, facts = _one_study_fixture()
    (fast,) = rank([(match_study(Matcher(facts), study, parsed), study)], facts, origin=point)
    want = nearest_site(study, point)
    direct = _Origin(point).nearest(study)
    assert (direct is None) == (want is None)
    if direct is not None and want is not None:
        assert direct.location is want.location
        assert direct.miles == want.miles  # bit for bit
    if want is None:
        assert fast.nearest_site is None
    else:
        assert fast.nearest_site is not None
        assert fast.nearest_site.facility == want.location.facility
        assert fast.nearest_site.miles == round(want.miles, 1)
        dist = next(c for c in fast.components if c.name == "distance")
        assert dist.reason.startswith(f"{want.location.label}, {want.miles:.0f} miles")


def test_condition_criterion_is_judged_per_study_not_per_text() -> None:
    """Two studies list the same condition; only the titles tell smoldering from relapsed
    disease. The answer for one must not leak into the other, in either order."""
    template = sample_studies()[0]
    smoldering = template.model_copy(
        update={
            "nct_id": "NCT91000001",
            "conditions": ["Multiple Myeloma"],
            "brief_title": "A study for smoldering multiple myeloma",
        }
    )
    relapsed = template.model_copy(
        update={
            "nct_id": "NCT91000002",
            "conditions": ["Multiple Myeloma"],
            "brief_title": "A study for relapsed or refractory multiple myeloma",
        }
    )
    record = sample_profiles()[0]  # treated, relapsed after CAR T
    parsed = parse_criteria(template.eligibility.criteria_text)
    for order in ([smoldering, relapsed], [relapsed, smoldering]):
        ranked = match_patient(record, order, lambda s: parsed, as_of=AS_OF, include_closed=True)
        cond = {r.match.nct_id: r.match.by_id("C1") for r in ranked}
        assert cond["NCT91000001"].result is Result.not_met
        assert "not smoldering" in cond["NCT91000001"].patient_fact
        assert cond["NCT91000002"].result is Result.met


def test_matching_from_a_store_twice_equals_the_reference(tmp_path: Path) -> None:
    """Through the store: stored parses read back (the second query from the parse cache)
    give the same output as the reference evaluation of freshly parsed text."""
    from myelonav.trials.local import criteria_parser
    from myelonav.trials.samples import sample_records
    from myelonav.trials.sqlite_store import SqliteTrialStore

    store = SqliteTrialStore(tmp_path / "t.sqlite3", parse_criteria=criteria_parser())
    try:
        store.import_studies(sample_records(), source="sample")
        studies = list(store.iter_studies())
        assert studies and all(store.parsed_criteria(s.nct_id) is not None for s in studies)
        patient_match._parse_cache.clear()
        fresh = {s.nct_id: parse_criteria(s.eligibility.criteria_text) for s in studies}
        record = sample_profiles()[1]
        origin, within = ORIGINS[2]
        want = _reference_ranking(
            record, AS_OF, studies, lambda s: fresh[s.nct_id], origin, within, False
        )
        assert want
        for _ in range(2):
            got = _fast_ranking(
                record,
                AS_OF,
                studies,
                lambda s: stored_parse(store.parsed_criteria(s.nct_id), s),
                origin,
                within,
                False,
            )
            assert got == want
        assert len(patient_match._parse_cache) == len(studies)
    finally:
        store.close()
        patient_match._parse_cache.clear()


def test_stored_parse_cache_under_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Several threads reading and evicting at once (as the web app does) all get the parse."""
    from concurrent.futures import ThreadPoolExecutor

    monkeypatch.setattr(patient_match, "_PARSE_CACHE_SIZE", 4)
    patient_match._parse_cache.clear()
    templates = sample_studies()
    raws = [
        json.loads(parse_criteria(t.eligibility.criteria_text).model_dump_json()) for t in templates
    ]
    want = [parse_criteria(t.eligibility.criteria_text) for t in templates]

    def work(seed: int) -> bool:
        rng = random.Random(seed)
        for _ in range(300):
            k = rng.randrange(len(templates))
            if stored_parse(raws[k], templates[k]) != want[k]:
                return False
        return True

    with ThreadPoolExecutor(max_workers=4) as pool:
        assert all(pool.map(work, range(8)))
    assert len(patient_match._parse_cache) <= 4
    patient_match._parse_cache.clear()


# --------------------------------------------------------------------------- registry-scale path

_GENERATOR = ROOT / "benchmarks" / "realistic_studies.py"
_COUNTRIES = [None, "US", "FR", "GB", "DE", "CN", "ES"]


def _realistic_raw(n: int, seed: int) -> list[dict[str, Any]]:
    """Registry records from the benchmark generator: criteria recombined from real text."""
    module = load_module("realistic_studies", _GENERATOR)
    return list(module.StudyFactory(seed, 0.9).records(n))


_COUNTRY_NOTES = (
    "\n* France specific: participants have failed at least 4 prior lines of therapy"
    "\n* UK specific: prior BCMA-directed CAR T therapy is not allowed"
    "\n* Germany specific: ECOG performance status 0 or 1, except transfusion is allowed"
)


def _realistic_studies(n: int, seed: int) -> list[Study]:
    """Realistic studies; every fifth has country notes appended to its inclusion list."""
    studies = [Study.from_v2(raw) for raw in _realistic_raw(n, seed)]
    for i in range(0, len(studies), 5):
        s = studies[i]
        text = s.eligibility.criteria_text.replace(
            "Exclusion Criteria", _COUNTRY_NOTES.strip() + "\n\nExclusion Criteria", 1
        )
        studies[i] = s.model_copy(
            update={"eligibility": s.eligibility.model_copy(update={"criteria_text": text})}
        )
    return studies


def _synthetic_patients(n: int, seed: int) -> list[PatientRecord]:
    """Sample and labelled patients with parts of their record dropped and their country
    changed: other exposures, labs, CAR T history, FISH, disease sites and region notes."""
    rng = random.Random(seed)
    _, labelled, _ = _labelled_set()
    base = [*sample_profiles(), *labelled]

    def some(items: list[Any], keep: float) -> list[Any]:
        return [x for x in items if rng.random() < keep]

    out = []
    for i in range(n):
        r = rng.choice(base)
        keep = rng.choice([1.0, 0.8, 0.5])
        out.append(
            r.model_copy(
                update={
                    "id": f"synthetic-{seed}-{i}",
                    "demographics": r.demographics.model_copy(
                        update={"country": rng.choice(_COUNTRIES)}
                    ),
                    "therapy_lines": some(r.therapy_lines, keep),
                    "car_t": some(r.car_t, 0.7),
                    "labs": some(r.labs, keep),
                    "ecog": some(r.ecog, keep),
                    "cytogenetics": some(r.cytogenetics, keep),
                    "disease_sites": some(r.disease_sites, keep),
                    "transplants": some(r.transplants, keep),
                }
            )
        )
    return out


@pytest.mark.parametrize("seed", [11, 12])
def test_realistic_studies_and_synthetic_patients_match_the_reference(seed: int) -> None:
    """The compiled path (programs over atom slots, facts built on read) against the reference
    evaluation of every criterion alone: same verdicts, results, facts, scores and order."""
    studies = _realistic_studies(90, seed)
    parses = {s.nct_id: parse_criteria(s.eligibility.criteria_text) for s in studies}
    verdicts: set[str] = set()
    compared = 0
    for record in _synthetic_patients(12, seed):
        for origin, within in ORIGINS[:2]:
            want = _reference_ranking(
                record, AS_OF, studies, lambda s: parses[s.nct_id], origin, within, True
            )
            got = _fast_ranking(
                record, AS_OF, studies, lambda s: parses[s.nct_id], origin, within, True
            )
            assert got == want, record.id
            compared += len(got)
            verdicts |= {r["match"]["verdict"] for r in got}
    assert compared > 0
    # real text always leaves something to ask, so no realistic study is "likely eligible"
    assert {Verdict.possibly_eligible.value, Verdict.likely_ineligible.value} <= verdicts


def test_the_match_service_on_a_realistic_store_matches_the_reference(tmp_path: Path) -> None:
    """Through the store (match records, stored parses, compiled programs shared between
    queries and patients) against the reference over the full studies."""
    from myelonav.trials import match_service
    from myelonav.trials.local import criteria_parser, open_store
    from myelonav.trials.store import StudyRecord

    raws = _realistic_raw(60, 13)
    studies = [Study.from_v2(raw) for raw in raws]
    db = tmp_path / "trials.sqlite3"
    store = open_store(db, parse_criteria=criteria_parser(), seed_samples=False)
    store.import_studies(
        [StudyRecord(study=s, raw=raw) for s, raw in zip(studies, raws, strict=True)],
        source="test",
    )
    store.close()
    parses = {s.nct_id: parse_criteria(s.eligibility.criteria_text) for s in studies}
    match_service.clear_caches()
    for i, record in enumerate(_synthetic_patients(8, 13)):
        origin, within = ORIGINS[i % len(ORIGINS)]
        want = _reference_ranking(
            record, AS_OF, studies, lambda s: parses[s.nct_id], origin, within, True
        )
        run = match_service.match_store(
            record, AS_OF, db, origin=origin, within_miles=within, include_closed=True
        )
        got = [
            {
                "rank": r.rank,
                "verdict": r.match.verdict.value,
                "score": r.score,
                "components": [(c.name, c.value, c.weight, c.reason) for c in r.components],
                "nearest": None
                if r.nearest_site is None
                else (
                    r.nearest_site.facility,
                    r.nearest_site.city,
                    r.nearest_site.state,
                    r.nearest_site.miles,
                    r.nearest_site.status,
                ),
                "within": r.within_travel,
                "failing": r.match.failing,
                "unknown": r.match.unknown,
                "ask_study_team": r.match.ask_study_team,
                "criteria": [c.as_dict() for c in r.match.criteria],
            }
            for r in run.ranked
        ]
        assert got == [
            {
                "rank": w["rank"],
                "verdict": w["match"]["verdict"],
                "score": w["score"],
                "components": w["components"],
                "nearest": w["nearest"],
                "within": w["within"],
                "failing": w["match"]["failing"],
                "unknown": w["match"]["unknown"],
                "ask_study_team": w["match"]["ask_study_team"],
                "criteria": w["match"]["criteria"],
            }
            for w in want
        ], record.id
    match_service.clear_caches()


# --------------------------------------------------------------------------- value codes

# a tree over slots: a slot number, or (is_and, parts)
_trees = st.recursive(
    st.integers(min_value=0, max_value=5),
    lambda inner: st.tuples(st.booleans(), st.lists(inner, min_size=0, max_size=4).map(tuple)),
    max_leaves=12,
)
_slot_values = st.sampled_from(
    [
        (Truth.true, None),
        (Truth.false, None),
        (Truth.unknown, None),
        (Truth.unknown, Why.missing),
        (Truth.unknown, Why.ask),
        (Truth.unknown, Why.screening),
    ]
)


def _kleene(tree: Any, values: list[tuple[Truth, Why | None]]) -> tuple[Truth, Why | None]:
    """The reference: Kleene and/or (``myelonav.logic``); an unknown's reason is the highest
    ranked reason among its unknown parts, a part with no reason counting as missing
    (``Evaluator.tree``)."""
    if isinstance(tree, int):
        return values[tree]
    is_and, items = tree
    parts = [_kleene(item, values) for item in items]
    truths = [p[0] for p in parts]
    value = all_of(truths) if is_and else any_of(truths)
    if value is not Truth.unknown:
        return value, None
    rank = {Why.missing: 2, Why.ask: 1, Why.screening: 0}
    return value, max(
        (p[1] or Why.missing for p in parts if p[0] is Truth.unknown), key=rank.__getitem__
    )


@settings(max_examples=300, deadline=None)
@given(tree=_trees, values=st.lists(_slot_values, min_size=6, max_size=6))
def test_value_codes_fold_as_kleene_logic_with_the_reason_for_unknown(
    tree: Any, values: list[tuple[Truth, Why | None]]
) -> None:
    """The compiled path folds small ints (and = least, or = greatest in the swapped order);
    decoded, the value and the reason are those of Kleene logic over the parts."""
    from myelonav.trials.eligibility import matcher as m

    evaluator = m.Evaluator(PatientFacts.build(sample_profiles()[0], AS_OF))
    code_of = {
        (Truth.true, None): m._V_TRUE,
        (Truth.false, None): m._V_FALSE,
        (Truth.unknown, None): m._V_MISSING,
        (Truth.unknown, Why.missing): m._V_MISSING,
        (Truth.unknown, Why.ask): m._V_ASK,
        (Truth.unknown, Why.screening): m._V_SCREENING,
    }
    evaluator._vals = bytearray(code_of[v] for v in values)
    decoded = {
        m._V_TRUE: (Truth.true, None),
        m._V_FALSE: (Truth.false, None),
        m._V_MISSING: (Truth.unknown, Why.missing),
        m._V_ASK: (Truth.unknown, Why.ask),
        m._V_SCREENING: (Truth.unknown, Why.screening),
    }
    truth, why = _kleene(tree, values)
    if truth is Truth.unknown and why is None:
        why = Why.missing  # a result reads "no reason" as missing (``outcome``)
    assert decoded[evaluator._fold(tree)] == (truth, why)


def test_ranking_with_kept_inputs_equals_ranking_from_the_studies() -> None:
    """``rank`` over ``rank_static`` kept by a caller gives what it computes itself."""
    from myelonav.trials.ranking import rank_static

    studies = sample_studies()
    record = sample_profiles()[1]
    facts = PatientFacts.build(record, AS_OF)
    matcher = Matcher(facts)
    pairs = [
        (match_study(matcher, s, parse_criteria(s.eligibility.criteria_text)), s) for s in studies
    ]
    for origin, within in ORIGINS:
        kept = rank(pairs, facts, origin, within, statics=[rank_static(s) for _, s in pairs])
        fresh = rank(pairs, facts, origin, within)
        assert [
            (r.rank, r.score, tuple(r.components), r.nearest_site, r.within_travel) for r in kept
        ] == [
            (r.rank, r.score, tuple(r.components), r.nearest_site, r.within_travel) for r in fresh
        ]
        assert [r.match for r in kept] == [r.match for r in fresh]


def test_the_match_service_leaves_the_cycle_collector_as_it_found_it(tmp_path: Path) -> None:
    """Loading a snapshot pauses the collector and then collects once; a caller's choice to
    keep it off stands, on loading and on matching."""
    from myelonav.trials import match_service
    from myelonav.trials.local import criteria_parser, open_store
    from myelonav.trials.store import StudyRecord

    raws = _realistic_raw(12, 17)
    db = tmp_path / "trials.sqlite3"
    store = open_store(db, parse_criteria=criteria_parser(), seed_samples=False)
    store.import_studies(
        [StudyRecord(study=Study.from_v2(raw), raw=raw) for raw in raws], source="test"
    )
    store.close()
    record = sample_profiles()[0]
    match_service.clear_caches()
    try:
        assert gc.isenabled()
        first = match_service.match_store(record, AS_OF, db, include_closed=True)
        assert gc.isenabled()
        match_service.clear_caches()
        gc.disable()
        again = match_service.match_store(record, AS_OF, db, include_closed=True)
        assert not gc.isenabled()
    finally:
        gc.enable()
        match_service.clear_caches()
    assert first.ranked
    assert [(r.match.nct_id, r.match.verdict, r.score) for r in again.ranked] == [
        (r.match.nct_id, r.match.verdict, r.score) for r in first.ranked
    ]
