"""The match service: one patient against the local trial store.

``myelonav trials match``, the web trials page and the visit all call ``match_store`` and read
the same ranked list. The fast path, measured in ``benchmarks/bench_matching.py``:

* only candidates are read: the store keeps an indexed plasma-cell flag, so studies of other
  diseases (and closed ones, by default) are never read or parsed;
* each candidate is a small match record (registry fields, interventions, recruiting sites with
  coordinates) plus its stored parse; the full ``Study`` is read only for the trials shown
  (``MatchRun.studies``);
* the store keeps each distinct parsed criterion once; here each is validated once per process
  (by digest) and shared by every study that uses it, and studies with identical parses share
  one parse object;
* the matcher compiles each criterion once per process into a program over atom slots
  (``eligibility.compiled``): a patient's value of each distinct atom and result of each
  distinct program are computed once, and the patient facts shown beside results are built
  only for the trials whose criteria are read;
* the decoded candidates, with each study's registry criteria and categories
  (``StudyHead``) and what ranking reads from it (``RankStatic``: classes tested, phase and
  status scores, recruiting sites with their trigonometry done), are kept per store version
  (any write changes it) and moved out of the cycle collector's way (``_settle``), and so are
  the programs the first query compiles; finished results are kept per (patient profile,
  date, place, options, store version);
* a query's scratch tables are freed before the cycle collector runs again, and score
  components are shared between trials, so a query leaves about six tracked objects per
  candidate for the collector to walk.

Answers are exactly those of ``patient_match.match_patient`` over the full studies
(tests/trials/test_match_service.py).
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import threading
import zlib
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from myelonav.patient.models import PatientRecord
from myelonav.trials.criteria import (
    Criterion,
    ParsedCriteria,
    Section,
    parse_criteria,
    parse_criterion,
)
from myelonav.trials.criteria.models import PARSER_VERSION
from myelonav.trials.eligibility.compiled import current_tables
from myelonav.trials.eligibility.study import StudyHead, study_head
from myelonav.trials.geo import Point
from myelonav.trials.models import Study
from myelonav.trials.patient_match import Prepared, match_prepared
from myelonav.trials.ranking import RankedTrial, rank_static
from myelonav.trials.sqlite_store import MatchRow, SqliteTrialStore, join_parse

_RESULTS_SIZE = 128
_SNAPSHOTS_SIZE = 4
_CRITERIA_SIZE = 200_000

_lock = threading.RLock()  # the web app matches on several threads
_results: OrderedDict[tuple[object, ...], list[RankedTrial]] = OrderedDict()
# (store, version, include closed) -> the candidates, and the same with their ranking inputs
_snapshots: OrderedDict[
    tuple[str, str, bool], tuple[tuple[Candidate, ...], tuple[Prepared, ...]]
] = OrderedDict()
# body digest -> the criterion (validated once), and (digest, id) -> the criterion with its id
_bodies: dict[bytes, Criterion] = {}
_with_id: dict[tuple[bytes, str], Criterion] = {}
_atoms: dict[Any, Any] = {}


# a candidate study as matching reads it: its match record, stored parse and head
Candidate = tuple[Study, ParsedCriteria, StudyHead]


@dataclass(frozen=True)
class MatchRun:
    """Every candidate judged and ranked, best first, for one patient."""

    ranked: list[RankedTrial]
    db: Path | None
    version: str

    def studies(self, shown: Iterable[RankedTrial]) -> dict[str, Study]:
        """The full typed studies for the trials shown, by NCT id."""
        from myelonav.trials.local import open_store

        ids = [r.match.nct_id for r in shown]
        if not ids:
            return {}
        store = open_store(self.db, seed_samples=False)
        try:
            return store.get_models(ids)
        finally:
            store.close()


def clear_result_cache() -> None:
    """Forget finished results (benchmarks measure matching, not the cache)."""
    with _lock:
        _results.clear()


def clear_caches() -> None:
    with _lock:
        _results.clear()
        _snapshots.clear()
        _bodies.clear()
        _with_id.clear()
        _atoms.clear()


def _profile_key(record: PatientRecord) -> str:
    return hashlib.sha256(record.model_dump_json().encode()).hexdigest()


def _intern(node: Any) -> Any:
    """The tree with every atom replaced by the first equal atom seen: the matcher memoises
    atoms by identity first, and equal atoms from different criteria then cost one look-up
    (an atom's answer depends on its value only)."""
    items = getattr(node, "items", None)
    if isinstance(items, tuple):  # an and/or group
        new = tuple(_intern(item) for item in items)
        if all(a is b for a, b in zip(new, items, strict=True)):
            return node
        return node.model_copy(update={"items": new})
    return _atoms.setdefault(node, node)


def _criterion(
    digest: bytes, cid: str, bodies: dict[int, dict[str, Any]], body_id: int
) -> Criterion:
    hit = _with_id.get((digest, cid))
    if hit is not None:
        return hit
    template = _bodies.get(digest)
    if template is None:
        template = Criterion.model_validate({**bodies[body_id], "id": cid})
        tree = _intern(template.tree)
        if tree is not template.tree:
            template = template.model_copy(update={"tree": tree})
        _bodies[digest] = template
    crit = template if template.id == cid else template.model_copy(update={"id": cid})
    _with_id[(digest, cid)] = crit
    return crit


def _load(store: SqliteTrialStore, include_closed: bool) -> tuple[Candidate, ...]:
    if len(_bodies) > _CRITERIA_SIZE:  # far more than a registry's worth: start over
        _bodies.clear()
        _with_id.clear()
        _atoms.clear()
    rows = store.match_rows(include_closed=include_closed)
    missing = {body_id for r in rows for digest, body_id, _ in r.links if digest not in _bodies}
    bodies = store.criterion_bodies(missing) if missing else {}
    interned: dict[tuple[object, ...], ParsedCriteria] = {}
    out: list[tuple[Study, ParsedCriteria]] = []
    reparse: list[tuple[int, MatchRow]] = []
    for row in rows:
        study = Study.model_validate_json(zlib.decompress(row.record))
        parsed = _stored(row, bodies, interned)
        if parsed is None:
            reparse.append((len(out), row))
            parsed = ParsedCriteria()
        out.append((study, parsed))
    if reparse:  # not parsed at store time, or by another parser version: parse the full text
        full = store.get_models(r.nct_id for _, r in reparse)
        for i, row in reparse:
            out[i] = (out[i][0], _parse_or_flag(full[row.nct_id].eligibility.criteria_text))
    return tuple((study, parsed, study_head(study)) for study, parsed in out)


def _parse_or_flag(text: str) -> ParsedCriteria:
    """Parse now; a text the parser fails on stays in the list as one criterion to ask the
    study team about (never dropped: a hidden trial is the worst error)."""
    try:
        return parse_criteria(text)
    except Exception:  # a parser bug must not take every other trial down with it
        note = "myelonav could not read this study's eligibility text: ask the study team"
        return ParsedCriteria(criteria=(parse_criterion(note, Section.inclusion, "I1"),))


def _stored(
    row: MatchRow,
    bodies: dict[int, dict[str, Any]],
    interned: dict[tuple[object, ...], ParsedCriteria],
) -> ParsedCriteria | None:
    head = row.head
    if head is None or head.get("parser_version") != PARSER_VERSION:
        return None
    key = (repr(sorted(head.items())), tuple((d, cid) for d, _, cid in row.links))
    hit = interned.get(key)
    if hit is not None:
        return hit
    try:
        data = join_parse(head, [])
        if row.links or "criteria" not in head:
            data["criteria"] = tuple(_criterion(d, cid, bodies, b) for d, b, cid in row.links)
        parsed = ParsedCriteria.model_validate(data)
    except (ValidationError, KeyError):
        return None
    interned[key] = parsed
    return parsed


def _candidates(
    store: SqliteTrialStore, version: str, include_closed: bool
) -> tuple[Candidate, ...]:
    return _snapshot(store, version, include_closed)[0]


def _snapshot(
    store: SqliteTrialStore, version: str, include_closed: bool
) -> tuple[tuple[Candidate, ...], tuple[Prepared, ...]]:
    key = (store.path, version, include_closed)
    with _lock:
        hit = _snapshots.get(key)
        if hit is not None:
            _snapshots.move_to_end(key)
            return hit
        enabled = gc.isenabled()
        # Loading builds a few hundred thousand long-lived objects; with the collector on,
        # each allocation burst would set off a full collection walking all of those built
        # so far. It runs once, at the end, in _settle.
        gc.disable()
        try:
            loaded = _load(store, include_closed)
            snapshot = loaded, tuple((s, p, h, rank_static(s)) for s, p, h in loaded)
            # compile every candidate's criteria now, so that _settle covers the programs too
            tables = current_tables()
            for _, parsed, head in loaded:
                tables.study_plan(head.condition, head.age, parsed)
            _snapshots[key] = snapshot
            if len(_snapshots) > _SNAPSHOTS_SIZE:
                _snapshots.popitem(last=False)
            if enabled:
                _settle()
        finally:
            if enabled:
                gc.enable()
        return snapshot


def _settle() -> None:
    """Move what the process holds now (the candidates just loaded, their parses, the compiled
    tables) out of the cycle collector's way. A registry snapshot is a few hundred thousand
    long-lived objects; without this, every full collection (one in about ten queries) walks
    all of them, ~0.2 s, which is most of a slow query. Garbage cycles are collected first, so
    none is kept; the snapshot itself is acyclic, and reference counting frees it as usual when
    it is dropped. Run only when the caller found the collector on (a process that turned it
    off keeps its choice)."""
    gc.collect()
    gc.freeze()


def match_store(
    record: PatientRecord,
    as_of: dt.date,
    db: Path | None = None,
    *,
    origin: Point | None = None,
    within_miles: float | None = None,
    include_closed: bool = False,
    drop_farther: bool = True,
) -> MatchRun:
    """Judge and rank every candidate study in the store at ``db`` (default location when
    None) for the patient, as ``patient_match.match_patient`` does."""
    from myelonav.trials.local import criteria_parser, open_store

    store = open_store(db, parse_criteria=criteria_parser())
    try:
        version = store.version()
        key = (
            store.path,
            version,
            _profile_key(record),
            as_of,
            None if origin is None else (origin.lat, origin.lon, origin.label),
            within_miles,
            include_closed,
            drop_farther,
        )
        with _lock:
            cached = _results.get(key)
            if cached is not None:
                _results.move_to_end(key)
                return MatchRun(cached, db, version)
        candidates = _snapshot(store, version, include_closed)[1]
    finally:
        store.close()
    compiled = len(current_tables())
    ranked = match_prepared(
        record,
        candidates,
        as_of=as_of,
        origin=origin,
        within_miles=within_miles,
        include_closed=include_closed,
        drop_farther=drop_farther,
    )
    if len(current_tables()) != compiled and gc.isenabled():
        # this query compiled criteria (the tables had started over): they are kept, so out
        # of the collector's way too, or the next collections walk them all
        with _lock:
            _settle()
    with _lock:
        _results[key] = ranked
        if len(_results) > _RESULTS_SIZE:
            _results.popitem(last=False)
    return MatchRun(ranked, db, version)


__all__ = ["MatchRun", "clear_caches", "clear_result_cache", "match_store"]
