"""The bundled sample studies: fictional records in the real v2 shape, for offline use.

They let ``myelonav trials search`` work before the first sync. Every one is flagged
``is_sample`` and says "SAMPLE — fictional study written for myelonav" in its title and
description; a sync or an import of real studies removes them from the store.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

from myelonav.errors import KnowledgeError, TrialsDataError
from myelonav.trials.models import SAMPLE_TITLE_MARK, Study
from myelonav.trials.store import StudyRecord

SAMPLE_ID_PREFIX = "NCT99"
SAMPLE_NOTICE = (
    "These are SAMPLE studies written for myelonav, not real trials. "
    "Run `myelonav trials sync` to get real studies from ClinicalTrials.gov."
)


@cache
def _raw_samples() -> tuple[tuple[str, str], ...]:
    folder = resources.files("myelonav.trials").joinpath("data/samples")
    return tuple(
        sorted(
            (entry.name, entry.read_text("utf-8"))
            for entry in folder.iterdir()
            if entry.name.endswith(".json")
        )
    )


def sample_records() -> list[StudyRecord]:
    """The bundled samples, validated: sample ids, the sample mark, ``is_sample=True``."""
    records = []
    for name, text in _raw_samples():
        where = f"trials/data/samples/{name}"
        try:
            raw = json.loads(text)
            study = Study.from_v2(raw, is_sample=True)
        except (json.JSONDecodeError, TrialsDataError) as exc:
            raise KnowledgeError(f"bundled sample is invalid: {exc}", location=where) from exc
        if not study.nct_id.startswith(SAMPLE_ID_PREFIX) or SAMPLE_TITLE_MARK not in study.title:
            raise KnowledgeError(
                f"a sample must use an {SAMPLE_ID_PREFIX}… id and say {SAMPLE_TITLE_MARK!r} "
                "in its title",
                location=where,
            )
        records.append(StudyRecord(study=study, raw=raw))
    return records


def sample_studies() -> list[Study]:
    return [r.study for r in sample_records()]


__all__ = ["SAMPLE_ID_PREFIX", "SAMPLE_NOTICE", "sample_records", "sample_studies"]
