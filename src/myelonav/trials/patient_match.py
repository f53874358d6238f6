"""One patient against a set of stored studies: judge, rank, and keep what is worth showing.

The store holds each study's criteria parsed at import time; ``stored_parse`` reads them back
(re-parsing only when the stored parse is missing or from another parser version).
"""

from __future__ import annotations

import datetime as dt
import gc
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from pydantic import ValidationError

from myelonav.patient.models import PatientRecord
from myelonav.trials._facts import PatientFacts
from myelonav.trials.criteria import ParsedCriteria, parse_criteria
from myelonav.trials.criteria.models import PARSER_VERSION
from myelonav.trials.eligibility.study import StudyHead, study_head
from myelonav.trials.geo import Point
from myelonav.trials.matching import Matcher, TrialMatch, match_study
from myelonav.trials.models import OPEN_STATUSES, Study
from myelonav.trials.ranking import RankedTrial, RankStatic, rank, rank_static

_RELEVANT = re.compile(r"myeloma|plasma[\s-]cell|plasmacytoma|amyloid|\bMGUS\b", re.I)


# Stored parses read back recently, by (NCT id, parser version, criteria text): the parser is
# deterministic, so a parse stored under this version for this text equals any other such parse,
# and a long-running process (the web app) need not re-validate it on every query.
_PARSE_CACHE_SIZE = 16384
_parse_cache: OrderedDict[tuple[str, str, str], ParsedCriteria] = OrderedDict()
_parse_lock = threading.Lock()  # the web app matches on several threads


def stored_parse(raw: dict[str, Any] | None, study: Study) -> ParsedCriteria:
    if raw is not None and raw.get("parser_version") == PARSER_VERSION:
        key = (study.nct_id, PARSER_VERSION, study.eligibility.criteria_text)
        with _parse_lock:
            hit = _parse_cache.get(key)
            if hit is not None:
                _parse_cache.move_to_end(key)
                return hit
        try:
            parsed = ParsedCriteria.model_validate(raw)
        except ValidationError:
            pass
        else:
            with _parse_lock:
                _parse_cache[key] = parsed
                if len(_parse_cache) > _PARSE_CACHE_SIZE:
                    _parse_cache.popitem(last=False)
            return parsed
    return parse_criteria(study.eligibility.criteria_text)


def is_candidate(study: Study, include_closed: bool = False) -> bool:
    """Cheap pre-filter: a plasma-cell disorder study that a person can still join."""
    if not include_closed and (study.overall_status or "") not in OPEN_STATUSES:
        return False
    return _relevant(tuple(study.conditions), study.title)


@lru_cache(maxsize=16384)
def _relevant(conditions: tuple[str, ...], title: str) -> bool:
    return any(_RELEVANT.search(c) for c in conditions) or bool(_RELEVANT.search(title))


@contextmanager
def _cycle_collector_paused() -> Iterator[None]:
    """Matching allocates many small, acyclic result objects. Each allocation burst would set
    off full cycle collections that walk every study held in memory (most of the run time at
    100,000 studies); reference counting still frees everything as usual."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# a candidate as the fast path reads it: the study, its parse, its head and ranking inputs
Prepared = tuple[Study, ParsedCriteria, StudyHead, RankStatic]


def match_patient(
    record: PatientRecord,
    studies: Iterable[Study],
    parsed_of: Callable[[Study], ParsedCriteria],
    *,
    as_of: dt.date,
    origin: Point | None = None,
    within_miles: float | None = None,
    include_closed: bool = False,
    head_of: Callable[[Study], StudyHead] | None = None,
    drop_farther: bool = True,
) -> list[RankedTrial]:
    """Judge and rank every candidate study. With ``within_miles``, studies whose nearest open
    site is farther are dropped (studies with no site location are kept), unless
    ``drop_farther`` is False: then they stay, marked ``within_travel=False``, so a page can
    say why each one is not in its main list. ``head_of`` gives ``study_head(study)`` when the
    caller keeps them."""
    prepared: list[Prepared] = []
    for s in studies:
        if head_of is None:
            if not is_candidate(s, include_closed):
                continue
            head = study_head(s)
        else:
            head = head_of(s)
            if not (head.relevant and (include_closed or head.open)):
                continue
        prepared.append((s, parsed_of(s), head, rank_static(s)))
    return match_prepared(
        record,
        prepared,
        as_of=as_of,
        origin=origin,
        within_miles=within_miles,
        include_closed=True,  # filtered above
        drop_farther=drop_farther,
    )


def match_prepared(
    record: PatientRecord,
    candidates: Sequence[Prepared],
    *,
    as_of: dt.date,
    origin: Point | None = None,
    within_miles: float | None = None,
    include_closed: bool = False,
    drop_farther: bool = True,
) -> list[RankedTrial]:
    """``match_patient`` over candidates whose head and ranking inputs the caller keeps (the
    match service does, per store version); closed studies are skipped unless
    ``include_closed``."""
    facts = PatientFacts.build(record, as_of)
    with _cycle_collector_paused():
        # the judging happens in a call of its own, so that its scratch tables are freed
        # before the collector runs again and only the results are left for it to walk
        ranked = _judge_and_rank(facts, candidates, origin, within_miles, include_closed)
    if drop_farther and within_miles is not None and origin is not None:
        ranked = [
            r for r in ranked if r.nearest_site is None or r.nearest_site.miles <= within_miles
        ]
        for i, r in enumerate(ranked, start=1):
            r.rank = i
    return ranked


def _judge_and_rank(
    facts: PatientFacts,
    candidates: Sequence[Prepared],
    origin: Point | None,
    within_miles: float | None,
    include_closed: bool,
) -> list[RankedTrial]:
    matcher = Matcher(facts)
    pairs: list[tuple[TrialMatch, Study]] = []
    statics: list[RankStatic] = []
    for study, parsed, head, static in candidates:
        if head.relevant and (include_closed or head.open):
            pairs.append((match_study(matcher, study, parsed, head), study))
            statics.append(static)
    return rank(pairs, facts, origin=origin, max_miles=within_miles, statics=statics)


__all__ = ["Prepared", "is_candidate", "match_patient", "match_prepared", "stored_parse"]
