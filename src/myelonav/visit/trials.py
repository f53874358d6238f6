"""Matched trials for the visit: the rows the packet shows and the questions ask about.

Matching itself lives in ``myelonav.trials`` (``patient_match.match_patient``); this module
only runs it over a given set of studies and keeps what the visit needs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from myelonav.errors import InputError
from myelonav.patient.models import PatientRecord
from myelonav.trials.criteria import ParsedCriteria, parse_criteria
from myelonav.trials.geo import Point, zip_point
from myelonav.trials.matching import Verdict
from myelonav.trials.models import Study
from myelonav.trials.patient_match import match_patient
from myelonav.trials.ranking import RankedTrial

if TYPE_CHECKING:
    from myelonav.trials.match_view import TrialView

VISIT_LIMIT = 10  # trials listed in the questions and the packet

VERDICT_TEXT = {
    Verdict.likely_eligible.value: "likely eligible",
    Verdict.possibly_eligible.value: "possibly eligible",
    Verdict.likely_ineligible.value: "likely not eligible",
}


@dataclass(frozen=True)
class TrialRow:
    nct_id: str
    title: str
    verdict: str
    is_sample: bool
    score: float
    to_check: int  # criteria myelonav could not judge
    not_met: int
    nearest_site: str | None
    miles: float | None
    url: str | None

    def as_json(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @property
    def verdict_text(self) -> str:
        return VERDICT_TEXT.get(self.verdict, self.verdict)


def origin_of(record: PatientRecord) -> Point | None:
    """The patient's US ZIP centroid, if the record has one."""
    zip_code = record.demographics.postal_code
    if not zip_code or record.demographics.country not in (None, "US"):
        return None
    try:
        return zip_point(zip_code)
    except InputError:
        return None


def trial_rows(ranked: Iterable[RankedTrial], studies: dict[str, Study]) -> list[TrialRow]:
    rows = []
    for r in ranked:
        site = r.nearest_site
        where = ", ".join(p for p in (site.facility, site.city, site.state) if p) if site else None
        study = studies.get(r.match.nct_id)
        rows.append(
            TrialRow(
                nct_id=r.match.nct_id,
                title=r.match.title,
                verdict=r.match.verdict.value,
                is_sample=r.match.is_sample,
                score=r.score,
                to_check=len(r.match.unknown),
                not_met=len(r.match.failing),
                nearest_site=where or None,
                miles=round(site.miles, 1) if site else None,
                url=study.url if study is not None else None,
            )
        )
    return rows


def match_trials(
    record: PatientRecord,
    studies: Iterable[Study],
    *,
    as_of: dt.date,
    parsed_of: Callable[[Study], ParsedCriteria] | None = None,
    limit: int = 10,
    include_ineligible: bool = False,
) -> list[TrialRow]:
    """Judge and rank ``studies`` for the patient; the best ``limit`` rows, nearest site
    measured from the record's ZIP code."""
    by_id = {s.nct_id: s for s in studies}
    parse = parsed_of or (lambda s: parse_criteria(s.eligibility.criteria_text))
    ranked = match_patient(record, by_id.values(), parse, as_of=as_of, origin=origin_of(record))
    if not include_ineligible:
        ranked = [r for r in ranked if r.match.verdict is not Verdict.likely_ineligible]
    return trial_rows(ranked[:limit], by_id)


def match_stored_trials(
    record: PatientRecord, as_of: dt.date, db: Path | None = None
) -> list[TrialRow]:
    """Match against every study in the local trial store (default location when ``db`` is
    None) through the one trial view (``myelonav.trials.match_view``), the same list, travel
    limit and sample rule as ``trials match`` and the web trials page."""
    return stored_trials_view(record, as_of, db)[0]


def stored_trials_view(
    record: PatientRecord, as_of: dt.date, db: Path | None = None
) -> tuple[list[TrialRow], TrialView]:
    """The visit's rows (the first ``VISIT_LIMIT`` of the view) and the view they came from,
    whose headline (count and travel limit) and update date the visit shows with them."""
    from myelonav.trials.match_view import trial_view

    view = trial_view(record, as_of, db, origin=origin_of(record))
    shown = view.shown[:VISIT_LIMIT]
    return trial_rows(shown, view.run.studies(shown)), view


__all__ = [
    "VERDICT_TEXT",
    "VISIT_LIMIT",
    "TrialRow",
    "match_stored_trials",
    "match_trials",
    "origin_of",
    "stored_trials_view",
    "trial_rows",
]
