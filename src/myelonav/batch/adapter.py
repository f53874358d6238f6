"""The one place batch matching calls the trial matcher (re-point it here if matching moves).

``load_trials`` reads the trial store once (studies and the criteria parsed at store time);
``match_record`` judges and ranks every candidate study for one record, exactly as
``myelonav trials match`` and the visit do (``trials.patient_match.match_patient`` with the
stored parse and the record's ZIP code), but keeps every row, ineligible ones included.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from myelonav.patient.models import PatientRecord
from myelonav.trials.criteria import ParsedCriteria
from myelonav.trials.models import Study


@dataclass(frozen=True, slots=True)
class LoadedTrials:
    studies: dict[str, Study]
    parsed: dict[str, ParsedCriteria]
    digests: dict[str, str]  # nct_id -> hash of the stored study and its parsed criteria

    @property
    def version(self) -> str:
        h = hashlib.sha256()
        for nct_id in sorted(self.digests):
            h.update(f"{nct_id}={self.digests[nct_id]};".encode())
        return h.hexdigest()


@dataclass(frozen=True, slots=True)
class MatchRow:
    trial: str
    verdict: str
    score: float
    failing: list[str]
    unknown: list[str]


def load_trials(store_path: Path | None) -> LoadedTrials:
    from myelonav.trials.local import criteria_parser, open_store
    from myelonav.trials.patient_match import stored_parse

    store = open_store(store_path, parse_criteria=criteria_parser())
    try:
        studies: dict[str, Study] = {}
        parsed: dict[str, ParsedCriteria] = {}
        digests: dict[str, str] = {}
        for study in store.iter_studies():
            raw_parse = store.parsed_criteria(study.nct_id)
            studies[study.nct_id] = study
            parsed[study.nct_id] = stored_parse(raw_parse, study)
            blob = json.dumps(
                [store.get_raw(study.nct_id), raw_parse], sort_keys=True, default=str
            ).encode()
            digests[study.nct_id] = hashlib.sha256(blob).hexdigest()
        return LoadedTrials(studies, parsed, digests)
    finally:
        store.close()


def match_record(
    record: PatientRecord,
    trials: LoadedTrials,
    as_of: dt.date,
    only: Iterable[str] | None = None,
) -> list[MatchRow]:
    """Every candidate study judged for ``record`` (``only``: just these NCT ids)."""
    from myelonav.trials.patient_match import match_patient
    from myelonav.visit.trials import origin_of

    studies = (
        trials.studies.values()
        if only is None
        else [trials.studies[n] for n in only if n in trials.studies]
    )
    ranked = match_patient(
        record,
        studies,
        lambda s: trials.parsed[s.nct_id],
        as_of=as_of,
        origin=origin_of(record),
    )
    return [
        MatchRow(
            trial=r.match.nct_id,
            verdict=r.match.verdict.value,
            score=r.score,
            failing=list(r.match.failing),
            unknown=list(r.match.unknown),
        )
        for r in ranked
    ]
