"""What every trials view shows, from the one match service: the trials page, the questions,
the packet and ``myelonav trials match`` all call ``trial_view`` and read the same list.

The same travel limit applies everywhere (the distance asked for, else the profile's own
limit) and is stated with the count ("6 trials within 200 miles; 2 more farther away").
Trials left out of the main list stay in ``hidden``, each with the reasons in plain words:
likely not eligible because of a named rule, too far, or filtered out by the reader.

Bundled SAMPLE studies are shown only to the demo (sample) profiles: a real person's list
never mixes fiction in, and says plainly when no real trials are loaded yet.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from dataclasses import dataclass, field
from pathlib import Path

from myelonav.patient.models import PatientRecord
from myelonav.trials.categories import TrialCategories
from myelonav.trials.geo import Point
from myelonav.trials.match_service import MatchRun, match_store
from myelonav.trials.matching import Verdict
from myelonav.trials.models import OPEN_STATUSES, Study
from myelonav.trials.ranking import RankedTrial

STATUS_TEXT: dict[str, str] = {
    "RECRUITING": "Recruiting now",
    "NOT_YET_RECRUITING": "Not yet recruiting",
    "ENROLLING_BY_INVITATION": "By invitation only",
    "AVAILABLE": "Available (expanded access)",
}
PHASE_TEXT: dict[str, str] = {
    "EARLY_PHASE1": "Early phase 1",
    "PHASE1": "Phase 1",
    "PHASE2": "Phase 2",
    "PHASE3": "Phase 3",
    "PHASE4": "Phase 4",
    "NA": "No phase given",
}
CATEGORY_TEXT: dict[str, str] = {
    "car_t": "CAR T cells",
    "bispecific": "Bispecific antibody",
    "trispecific": "Trispecific antibody",
    "celmod": "CELMoD (tablet)",
    "adc": "Antibody-drug conjugate",
    "retreatment": "Re-treatment",
}
VERDICT_WORDS: dict[str, str] = {
    Verdict.likely_eligible.value: "likely eligible",
    Verdict.possibly_eligible.value: "possibly eligible",
    Verdict.likely_ineligible.value: "likely not eligible",
}
NO_REAL_TRIALS = (
    "No real trials are loaded yet. Use “Update trials from ClinicalTrials.gov” (it needs an "
    "internet connection and takes a few minutes), or ask your care team about trials."
)
WEB_SAMPLE_NOTICE = (
    "These are SAMPLE studies written for myelonav, shown only on the demo profiles. "
    "They are not real trials."
)
HIDDEN_LISTED = 100  # hidden trials listed one by one; the rest are counted
_REASON_CHARS = 160


@dataclass(frozen=True)
class TrialFilters:
    """The reader's own filters (each empty: no filter)."""

    statuses: tuple[str, ...] = ()
    phases: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    verdict: str | None = None  # None: likely and possibly eligible

    @property
    def active(self) -> bool:
        return bool(self.statuses or self.phases or self.categories or self.verdict)


@dataclass(frozen=True)
class Hidden:
    trial: RankedTrial
    reasons: tuple[str, ...]
    kinds: tuple[str, ...]  # "ineligible", "too_far", "filtered"


@dataclass(frozen=True)
class TrialView:
    run: MatchRun
    shown: list[RankedTrial]
    hidden: list[Hidden]
    hidden_counts: dict[str, int]
    hidden_total: int
    travel_limit: float | None
    origin: Point | None
    judged: int
    farther: int  # trials that may fit, beyond the travel limit
    real_studies: int
    showing_samples: bool
    last_update: str | None  # day of the last successful update from ClinicalTrials.gov
    filters: TrialFilters = field(default_factory=TrialFilters)
    facts: dict[str, tuple[str | None, tuple[str, ...], TrialCategories]] = field(
        default_factory=dict
    )

    @property
    def ids(self) -> list[str]:
        return [r.match.nct_id for r in self.shown]

    @property
    def no_real_trials(self) -> bool:
        return self.real_studies == 0 and not self.showing_samples

    def status_of(self, nct_id: str) -> str | None:
        hit = self.facts.get(nct_id)
        return hit[0] if hit else None

    def phases_of(self, nct_id: str) -> tuple[str, ...]:
        hit = self.facts.get(nct_id)
        return hit[1] if hit else ()

    def categories_of(self, nct_id: str) -> TrialCategories:
        hit = self.facts.get(nct_id)
        return hit[2] if hit else TrialCategories()

    def headline(self) -> str:
        """The count with the travel limit it used, said the same way on every view."""
        if self.no_real_trials:
            return NO_REAL_TRIALS
        n = len(self.shown)
        what = "trial" if n == 1 else "trials"
        if self.filters.verdict == Verdict.likely_ineligible.value:
            noun = f"{n} {what} you are likely not eligible for"
        elif self.filters.verdict:
            noun = f"{n} {what} {VERDICT_WORDS.get(self.filters.verdict, '')}".rstrip()
        else:
            noun = f"{n} {what} that may fit"
        if self.origin is None:
            where = " (distance not known: add a ZIP code to see the nearest sites)"
        elif self.travel_limit is None:
            where = f" (no travel limit set; distances from {self.origin.label})"
        else:
            where = f" within {self.travel_limit:g} miles of {self.origin.label}"
        more = ""
        if self.farther:
            more = f"; {self.farther} more farther away"
        filtered = self.hidden_counts.get("filtered", 0)
        if filtered:
            more += f"; {filtered} left out by your filters"
        return f"{noun}{where}{more}."


def _first_failing(trial: RankedTrial) -> str:
    failing = set(trial.match.failing)
    for crit, _result, _fact in trial.match.judged:
        if crit.id in failing:
            text = " ".join(crit.text.split())
            if len(text) > _REASON_CHARS:
                text = text[: _REASON_CHARS - 1].rstrip() + "…"
            more = len(failing) - 1
            extra = f" (and {more} more rule{'s' if more > 1 else ''})" if more > 0 else ""
            return f"likely not eligible because of the rule “{text}”{extra}"
    return "likely not eligible"


def _last_update(db: Path | None) -> tuple[int, str | None]:
    from myelonav.trials.local import open_store
    from myelonav.trials.sync import DEFAULT_CONDITION, sync_key

    store = open_store(db, seed_samples=False)
    try:
        real = store.count(samples=False)
        raw = store.meta("sync:" + sync_key(DEFAULT_CONDITION))
    finally:
        store.close()
    if not raw:
        return real, None
    try:
        finished = str(json.loads(raw).get("finished_at") or "")
    except (ValueError, AttributeError):
        return real, None
    return real, finished[:10] or None


_Facts = dict[str, tuple[str | None, tuple[str, ...], TrialCategories]]
_facts_cache: dict[tuple[str, str, bool], _Facts] = {}
_facts_lock = threading.Lock()


def _facts(run: MatchRun, db: Path | None, include_closed: bool) -> _Facts:
    """Status, phases and categories of every candidate, once per store version."""
    from myelonav.trials.local import open_store
    from myelonav.trials.match_service import _candidates

    store = open_store(db, seed_samples=False)
    try:
        key = (str(store.path), run.version, include_closed)
        with _facts_lock:
            hit = _facts_cache.get(key)
        if hit is not None:
            return hit
        studies = _candidates(store, run.version, include_closed)
    finally:
        store.close()
    out: _Facts = {
        study.nct_id: (study.overall_status, tuple(study.phases), head.categories)
        for study, _parsed, head in studies
    }
    with _facts_lock:
        if len(_facts_cache) >= 8:
            _facts_cache.clear()
        _facts_cache[key] = out
    return out


def _filtered_out(
    nct_id: str,
    filters: TrialFilters,
    facts: dict[str, tuple[str | None, tuple[str, ...], TrialCategories]],
) -> list[str]:
    status, phases, categories = facts.get(nct_id, (None, (), TrialCategories()))
    reasons = []
    if filters.statuses and (status or "") not in filters.statuses:
        reasons.append(
            "filtered out by you: its status is "
            + STATUS_TEXT.get(status or "", (status or "not given").replace("_", " ").lower())
        )
    if filters.phases and not set(phases or ("NA",)) & set(filters.phases):
        said = ", ".join(PHASE_TEXT.get(p, p) for p in phases) or "no phase given"
        reasons.append(f"filtered out by you: {said}")
    if filters.categories and not set(categories.modalities) & set(filters.categories):
        said = ", ".join(CATEGORY_TEXT.get(m, m) for m in categories.modalities) or "other"
        reasons.append(f"filtered out by you: kind of study is {said}")
    return reasons


def trial_view(
    record: PatientRecord,
    as_of: dt.date,
    db: Path | None = None,
    *,
    origin: Point | None = None,
    within_miles: float | None = None,
    filters: TrialFilters | None = None,
    include_closed: bool = False,
) -> TrialView:
    """The trials for this record, as every view shows them (see the module docstring).

    ``within_miles`` None means the profile's travel limit; it applies only when the
    distance can be measured (``origin`` known)."""
    filters = filters or TrialFilters()
    limit = within_miles if within_miles is not None else record.preferences.max_travel_miles
    if origin is None or (limit is not None and limit <= 0):
        limit = None
    run = match_store(
        record,
        as_of,
        db,
        origin=origin,
        within_miles=limit,
        include_closed=include_closed,
        drop_farther=False,
    )
    real, last_update = _last_update(db)
    facts = _facts(run, db, include_closed)
    wanted_verdict = filters.verdict
    shown: list[RankedTrial] = []
    hidden: list[Hidden] = []
    counts = {"ineligible": 0, "too_far": 0, "filtered": 0}
    farther = judged = hidden_total = 0
    showing_samples = False
    for r in run.ranked:
        if r.match.is_sample and not record.sample:
            continue  # fiction is never listed for a real person, not even as "hidden"
        judged += 1
        showing_samples = showing_samples or r.match.is_sample
        reasons: list[str] = []
        kinds: list[str] = []
        verdict = r.match.verdict.value
        ineligible = r.match.verdict is Verdict.likely_ineligible
        if wanted_verdict is None and ineligible:
            reasons.append(_first_failing(r))
            kinds.append("ineligible")
        elif wanted_verdict is not None and verdict != wanted_verdict:
            reasons.append(f"filtered out by you: {VERDICT_WORDS.get(verdict, verdict)}")
            kinds.append("filtered")
            if ineligible:
                reasons[-1] = _first_failing(r) + " (" + reasons[-1] + ")"
        if r.within_travel is False and r.nearest_site is not None and limit is not None:
            reasons.append(
                f"too far: the nearest open site is {r.nearest_site.miles:.0f} miles away, "
                f"more than your limit of {limit:g} miles"
            )
            kinds.append("too_far")
        user = _filtered_out(r.match.nct_id, filters, facts)
        if user:
            reasons.extend(user)
            kinds.append("filtered")
        if not reasons:
            shown.append(r)
            continue
        hidden_total += 1
        if kinds == ["too_far"]:
            farther += 1  # would be listed but for the distance
        for kind in dict.fromkeys(kinds):
            counts[kind] += 1
        if len(hidden) < HIDDEN_LISTED:
            hidden.append(Hidden(r, tuple(reasons), tuple(dict.fromkeys(kinds))))
    return TrialView(
        run=run,
        shown=shown,
        hidden=hidden,
        hidden_counts=counts,
        hidden_total=hidden_total,
        travel_limit=limit,
        origin=origin,
        judged=judged,
        farther=farther,
        real_studies=real,
        showing_samples=showing_samples,
        last_update=last_update,
        filters=filters,
        facts=facts,
    )


def site_contact(study: Study, trial: RankedTrial) -> dict[str, str | None] | None:
    """The nearest recruiting site's own contact as the registry gives it, else the study's
    central contact (``None`` when the registry lists neither)."""
    site = trial.nearest_site
    if site is not None:
        for loc in study.locations:
            if (loc.facility, loc.city, loc.state) == (site.facility, site.city, site.state):
                for c in loc.contacts:
                    if c.phone or c.email:
                        return {"name": c.name, "phone": c.phone, "email": c.email, "where": "site"}
                break
    for c in study.central_contacts:
        if c.phone or c.email:
            return {"name": c.name, "phone": c.phone, "email": c.email, "where": "central"}
    return None


def open_statuses() -> tuple[str, ...]:
    return tuple(s for s in STATUS_TEXT if s in OPEN_STATUSES)


__all__ = [
    "CATEGORY_TEXT",
    "HIDDEN_LISTED",
    "NO_REAL_TRIALS",
    "PHASE_TEXT",
    "STATUS_TEXT",
    "VERDICT_WORDS",
    "WEB_SAMPLE_NOTICE",
    "Hidden",
    "TrialFilters",
    "TrialView",
    "open_statuses",
    "site_contact",
    "trial_view",
]
