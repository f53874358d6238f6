"""Open the user's trial store (``$MYELONAV_HOME/trials.sqlite3``), seeding the samples.

On first use the store holds only the bundled sample studies, so search works offline;
the first sync or import of real studies replaces them.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from myelonav.settings import settings
from myelonav.trials.models import Study
from myelonav.trials.samples import sample_records
from myelonav.trials.sqlite_store import SAMPLE_SOURCE, SqliteTrialStore
from myelonav.trials.store import CriteriaParser


def criteria_parser() -> CriteriaParser | None:
    """The eligibility parser from ``myelonav.trials.criteria`` as a store hook, if installed."""
    try:
        module = importlib.import_module("myelonav.trials.criteria")
    except ImportError:
        return None
    parse = getattr(module, "parse_criteria", None)
    if parse is None:
        return None

    def hook(study: Study) -> dict[str, Any]:
        parsed = parse(study.eligibility.criteria_text)
        dumped = parsed.model_dump(mode="json") if hasattr(parsed, "model_dump") else parsed
        return dict(dumped)

    return hook


def open_store(
    path: Path | None = None,
    *,
    parse_criteria: CriteriaParser | None = None,
    seed_samples: bool = True,
) -> SqliteTrialStore:
    """The trial store at ``path`` (default: the settings' ``trials_db``)."""
    if path is None:
        cfg = settings()
        cfg.ensure_home()
        path = cfg.trials_db
    store = SqliteTrialStore(path, parse_criteria=parse_criteria)
    if seed_samples and not store.is_populated():
        store.import_studies(sample_records(), source=SAMPLE_SOURCE)
    return store


__all__ = ["criteria_parser", "open_store"]
