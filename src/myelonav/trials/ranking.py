"""Rank matched trials with a score a person can read line by line.

score (0-100) = 100 × Σ weight × component, components in [0, 1]:

* ``fit`` (0.40): likely eligible 1.0; possibly eligible 0.7 minus 0.1 per open question
  (floor 0.3); likely ineligible 0.
* ``evidence`` (0.20): activity of the trial's agent class after BCMA CAR T in myelonav's
  curated evidence (``myelonav.knowledge``): response rate × n/(n+20) (small series count for
  less; n unknown counts as 20), prospective studies ×1, retrospective ×0.5; the best entry
  wins. A target the patient has already had (e.g. BCMA after BCMA CAR T) ×0.6.
  No post-CAR T data for the class: 0.
* ``phase`` (0.10): phase 3 1.0, phase 2 0.8, phase 1/2 0.7, phase 1 0.5, other 0.3.
* ``status`` (0.15): recruiting 1.0, not yet recruiting 0.6, by invitation 0.3, closed 0.
* ``distance`` (0.15): nearest recruiting site within the patient's travel limit 1.0 − 0.5 ×
  miles/limit; beyond it 0.1; no limit given 1 − miles/1000 (floor 0.2); unknown 0.5.

Trials are ordered by verdict first (eligible, possible, ineligible), then by score.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache

from myelonav.knowledge.loader import bundled_options
from myelonav.knowledge.schema import Evidence, Option
from myelonav.patient.vocabulary import vocabulary
from myelonav.trials._facts import PatientFacts
from myelonav.trials.criteria import lexicon as lx
from myelonav.trials.geo import EARTH_RADIUS_MILES, NearestSite, Point, nearest_site
from myelonav.trials.matching import TrialMatch, Verdict
from myelonav.trials.models import OPEN_STATUSES, Location, Study

WEIGHTS: dict[str, float] = {
    "fit": 0.40,
    "evidence": 0.20,
    "phase": 0.10,
    "status": 0.15,
    "distance": 0.15,
}
_BACKBONE = frozenset(
    {
        "corticosteroid",
        "alkylator",
        "purine_analog",
        "anthracycline",
        "platinum",
        "topoisomerase_inhibitor",
    }
)
_PROSPECTIVE = frozenset(
    {"phase_1", "phase_1_2", "phase_2", "phase_3", "pooled_analysis", "prospective_observational"}
)
_ANTIGEN_OF = {
    "bcma_directed": "BCMA",
    "gprc5d_directed": "GPRC5D",
    "fcrh5_directed": "FcRH5",
    "anti_cd38": "CD38",
    "anti_slamf7": "SLAMF7",
}


@dataclass(frozen=True, slots=True)
class Component:
    name: str
    value: float
    weight: float
    reason: str


@dataclass(slots=True)
class SiteInfo:
    facility: str | None
    city: str | None
    state: str | None
    miles: float
    status: str | None


@dataclass(slots=True)
class RankedTrial:
    rank: int
    score: float
    components: Sequence[Component]  # may be shared between trials: never changed in place
    match: TrialMatch
    nearest_site: SiteInfo | None
    within_travel: bool | None


def study_classes(study: Study) -> set[str]:
    """Drug classes a study tests: vocabulary-resolved interventions; failing that, class words
    in intervention names ("GPRC5D-targeted CAR T cells"); failing that, in the title."""
    names = " ".join(
        [
            *(i.name for i in study.interventions),
            *(n for i in study.interventions for n in i.other_names),
        ]
    )
    return set(_study_classes(frozenset(study.drug_classes), names, study.title))


@lru_cache(maxsize=16384)
def _study_classes(drug_classes: frozenset[str], names: str, title: str) -> frozenset[str]:
    classes = set(drug_classes) - _BACKBONE
    if classes:
        return frozenset(classes)
    for text in (names, title):
        for table in (lx.ANTIGENS, lx.MODALITIES, lx.CLASSES):
            for pattern, cls in table:
                if pattern.search(text):
                    classes.add(cls)
        if classes - _BACKBONE:
            break
    return frozenset(classes - _BACKBONE)


@dataclass(frozen=True)
class _EvidenceHit:
    value: float
    reason: str


def _entry_value(e: Evidence) -> float:
    if e.orr_pct is None or e.post_bcma_car_t not in ("yes", "partial"):
        return 0.0
    n = e.n if e.n is not None else 20
    design = 1.0 if e.design in _PROSPECTIVE else 0.5
    return float(e.orr_pct) / 100.0 * n / (n + 20) * design


@cache
def _option_signatures() -> tuple[tuple[frozenset[str], frozenset[str], Option], ...]:
    voc = vocabulary()
    out: list[tuple[frozenset[str], frozenset[str], Option]] = []
    for option in bundled_options().values():
        for agent in option.agents:
            drug = voc.resolve(agent)
            if drug is None:
                continue
            sig = frozenset(drug.classes - _BACKBONE)
            if sig:
                out.append((frozenset({drug.id}), sig, option))
    return tuple(out)


def evidence_for(study: Study, facts: PatientFacts) -> _EvidenceHit:
    classes = frozenset(study_classes(study))
    agents = frozenset(study.drug_ids)
    received = frozenset(c for ex in facts.exposures for c in ex.classes if c in _ANTIGEN_OF)
    return _evidence(classes, agents, received)


@cache
def _evidence(
    classes: frozenset[str], agents: frozenset[str], received: frozenset[str]
) -> _EvidenceHit:
    best: _EvidenceHit = _EvidenceHit(
        0.0, "no post-CAR T activity data for this agent class in myelonav's evidence base"
    )
    for ids, sig, option in _option_signatures():
        same_agent = bool(ids & agents)
        same_class = sig <= classes and bool(sig & (set(_ANTIGEN_OF) | {"car_t", "bispecific"}))
        if not (same_agent or same_class):
            continue
        for e in option.evidence:
            value = _entry_value(e)
            if value <= best.value:
                continue
            cite = e.citation
            src = (
                f"{cite.source} {cite.year}" + (f", PMID {cite.pmid}" if cite and cite.pmid else "")
                if cite
                else ""
            )
            how = "same agent" if same_agent else f"same class as {option.name}"
            best = _EvidenceHit(
                value,
                f"{how}: {e.study}{' (' + e.cohort + ')' if e.cohort else ''}, response rate "
                f"{e.orr_pct:g}%{' in ' + str(e.n) + ' patients' if e.n else ''} ({src})",
            )
    if best.value > 0:
        progressed = {_ANTIGEN_OF[c] for c in received}
        trial_antigens = {_ANTIGEN_OF[c] for c in classes if c in _ANTIGEN_OF}
        repeat = trial_antigens & progressed
        if repeat and not trial_antigens - progressed:
            return _EvidenceHit(
                best.value * 0.6,
                best.reason + f"; target {', '.join(sorted(repeat))} "
                "was already used in an earlier treatment (x0.6)",
            )
    return best


def _phase(study: Study) -> tuple[float, str]:
    phases = set(study.phases)
    if "PHASE3" in phases:
        return 1.0, "phase 3"
    if {"PHASE1", "PHASE2"} <= phases:
        return 0.7, "phase 1/2"
    if "PHASE2" in phases:
        return 0.8, "phase 2"
    if phases & {"PHASE1", "EARLY_PHASE1"}:
        return 0.5, "phase 1"
    if "PHASE4" in phases:
        return 0.8, "phase 4"
    return 0.3, "no treatment phase (observational or not applicable)"


def _status(study: Study) -> tuple[float, str]:
    s = study.overall_status or "UNKNOWN"
    value = {"RECRUITING": 1.0, "NOT_YET_RECRUITING": 0.6, "ENROLLING_BY_INVITATION": 0.3}.get(
        s, 0.0
    )
    return value, s.replace("_", " ").lower()


def _distance(
    study: Study, origin: Point | None, limit: float | None
) -> tuple[float, str, NearestSite | None, bool | None]:
    if origin is None:
        return 0.5, "your location is not known", None, None
    return _distance_score(nearest_site(study, origin), limit)


def _fit(match: TrialMatch) -> tuple[float, str]:
    if match.verdict is Verdict.likely_eligible:
        return 1.0, "likely eligible on every criterion we could check"
    if match.verdict is Verdict.possibly_eligible:
        n = len(match.unknown)
        return max(0.3, 0.7 - 0.1 * (n - 1)), f"possibly eligible; {n} question(s) open"
    return 0.0, f"likely ineligible ({len(match.failing)} criterion/criteria not met)"


_TIER = {Verdict.likely_eligible: 0, Verdict.possibly_eligible: 1, Verdict.likely_ineligible: 2}


@dataclass(frozen=True, slots=True)
class RankStatic:
    """What ranking reads from a study that does not depend on the patient, worked out once
    per study (``rank_static``; the match service keeps these per store version)."""

    tested: frozenset[str]  # drug classes tested (``study_classes``)
    agents: frozenset[str]  # drug ids of the interventions
    phase: tuple[float, str]
    status: tuple[float, str]
    # recruiting sites with coordinates, in order: (latitude in radians, its cosine, lon, site)
    sites: tuple[tuple[float, float, float, Location], ...]


def rank_static(study: Study) -> RankStatic:
    classes: set[str] = set()
    agents: set[str] = set()
    for i in study.interventions:
        classes.update(i.drug_classes)
        agents.update(i.drug_ids)
    own = classes - _BACKBONE  # what study_classes returns when the vocabulary resolved any
    sites = []
    for loc in study.locations:
        lat, lon = loc.lat, loc.lon
        if lat is None or lon is None or loc.status != "RECRUITING":
            continue
        p2 = math.radians(lat)
        sites.append((p2, math.cos(p2), lon, loc))
    phase, status = _phase(study), _status(study)
    return RankStatic(
        frozenset(own) if own else frozenset(study_classes(study)),
        frozenset(agents),
        _interned.setdefault(phase, phase),
        _interned.setdefault(status, status),
        tuple(sites),
    )


# one object per distinct phase or status score (``rank`` keys on their identity)
_interned: dict[tuple[float, str], tuple[float, str]] = {}


class _Origin:
    """The patient's point with its trigonometry done once (same arithmetic as
    ``geo.haversine_miles``, so distances are bit-for-bit the same)."""

    __slots__ = ("cos_lat", "lat", "lat_rad", "lon")

    def __init__(self, origin: Point) -> None:
        self.lat, self.lon = origin.lat, origin.lon
        self.lat_rad = math.radians(origin.lat)
        self.cos_lat = math.cos(self.lat_rad)

    def nearest(self, study: Study) -> NearestSite | None:
        """``geo.nearest_site`` (recruiting sites): the first site with the fewest miles."""
        return self.nearest_of(rank_static(study).sites)

    def nearest_of(
        self, sites: tuple[tuple[float, float, float, Location], ...]
    ) -> NearestSite | None:
        """``nearest`` over a study's recruiting sites as ``RankStatic`` keeps them."""
        best: Location | None = None
        best_h = best_miles = math.inf
        lat_rad, cos_lat, lon0 = self.lat_rad, self.cos_lat, self.lon
        sin, radians = math.sin, math.radians
        for p2, cos_p2, lon, loc in sites:
            h = sin((p2 - lat_rad) / 2) ** 2 + cos_lat * cos_p2 * sin(radians(lon - lon0) / 2) ** 2
            if h >= best_h:
                continue  # miles grow with h: this site cannot be strictly closer
            miles = 2 * EARTH_RADIUS_MILES * math.asin(min(1.0, math.sqrt(h)))
            if best is None or miles < best_miles:
                best, best_h, best_miles = loc, h, miles
        return None if best is None else NearestSite(best, best_miles)


def _distance_score(
    site: NearestSite | None, limit: float | None
) -> tuple[float, str, NearestSite | None, bool | None]:
    """Score, reason and whether the site is within the patient's travel limit."""
    if site is None:
        return 0.5, "no recruiting site with a known location", None, None
    miles = site.miles
    where = f"{site.location.label}, {miles:.0f} miles"
    if limit is not None and limit > 0:
        if miles <= limit:
            return 1.0 - 0.5 * miles / limit, f"{where} (within your {limit:g} miles)", site, True
        return 0.1, f"{where} (beyond your {limit:g} miles)", site, False
    return max(0.2, 1.0 - miles / 1000.0), where, site, None


_W_FIT, _W_EVIDENCE, _W_PHASE, _W_STATUS, _W_DISTANCE = (
    WEIGHTS["fit"],
    WEIGHTS["evidence"],
    WEIGHTS["phase"],
    WEIGHTS["status"],
    WEIGHTS["distance"],
)


def rank(
    matches: Sequence[tuple[TrialMatch, Study]],
    facts: PatientFacts,
    origin: Point | None = None,
    max_miles: float | None = None,
    statics: Sequence[RankStatic] | None = None,
) -> list[RankedTrial]:
    """Score and order matched trials. ``max_miles`` defaults to the patient's preference.
    ``statics`` are the studies' ``rank_static`` in the same order, when the caller keeps them.
    """
    limit = max_miles if max_miles is not None else facts.record.preferences.max_travel_miles
    received = frozenset(c for ex in facts.exposures for c in ex.classes if c in _ANTIGEN_OF)
    point = _Origin(origin) if origin is not None else None
    if statics is None:
        statics = [rank_static(study) for _, study in matches]
    # Many studies share their first four components; those (frozen) and their partial sum are
    # built once per distinct key, and so is the whole tuple of components when the distance
    # part is the same too (no location, or no site with one). The score adds the same terms
    # in the same order as sum(c.value * c.weight for c in parts), so it is the same float.
    # Keys hold numbers, strings and the ids of the interned phase and status scores: enum
    # members and dataclasses hash in Python, these in C.
    shared: dict[tuple[object, ...], tuple[tuple[Component, ...], float]] = {}
    far = (0.5, "your location is not known") if point is None else None
    no_site = (0.5, "no recruiting site with a known location")
    # by the reason of a distance part that is the same for many studies (its value is 0.5)
    whole: dict[str, dict[tuple[object, ...], tuple[tuple[Component, ...], float]]] = {
        "your location is not known": {},
        no_site[1]: {},
    }
    rows: list[tuple[float, Sequence[Component], TrialMatch, SiteInfo | None, bool | None]] = []
    keys: list[tuple[int, float, str]] = []
    eligible, possibly = Verdict.likely_eligible, Verdict.possibly_eligible
    for (match, _study), static in zip(matches, statics, strict=True):
        verdict = match.verdict
        if verdict is eligible:
            tier, count = 0, 0
        elif verdict is possibly:
            tier, count = 1, len(match.unknown)
        else:
            tier, count = 2, len(match.failing)
        ev = _evidence(static.tested, static.agents, received)
        key = (tier, count, ev.value, ev.reason, id(static.phase), id(static.status))
        site = None
        if far is not None:
            dist, dist_reason = far
        else:
            assert point is not None
            site = point.nearest_of(static.sites) if static.sites else None
            if site is None:
                dist, dist_reason = no_site
        if site is None:
            same = whole[dist_reason]
            full = same.get(key)
            if full is None:
                head, partial = _shared_head(shared, key, match, ev, static)
                dist_value = round(dist, 3)
                parts = (*head, _component("distance", dist_value, _W_DISTANCE, dist_reason))
                score = round(100.0 * (partial + dist_value * _W_DISTANCE), 1)
                full = same[key] = (parts, score)
            parts, score = full
            rows.append((score, parts, match, None, None))
        else:
            dist, dist_reason, _, within = _distance_score(site, limit)
            dist_value = round(dist, 3)
            head, partial = _shared_head(shared, key, match, ev, static)
            parts = (*head, Component("distance", dist_value, _W_DISTANCE, dist_reason))
            score = round(100.0 * (partial + dist_value * _W_DISTANCE), 1)
            loc = site.location
            info = SiteInfo(loc.facility, loc.city, loc.state, round(site.miles, 1), loc.status)
            rows.append((score, parts, match, info, within))
        keys.append((tier, -score, match.nct_id))
    order = sorted(range(len(rows)), key=keys.__getitem__)
    return [RankedTrial(i, *rows[j]) for i, j in enumerate(order, start=1)]


def _shared_head(
    shared: dict[tuple[object, ...], tuple[tuple[Component, ...], float]],
    key: tuple[object, ...],
    match: TrialMatch,
    ev: _EvidenceHit,
    static: RankStatic,
) -> tuple[tuple[Component, ...], float]:
    """The fit, evidence, phase and status components of a key, and their partial sum."""
    hit = shared.get(key)
    if hit is None:
        fit = _fit(match)
        phase, status = static.phase, static.status
        ev_value = round(ev.value, 3)
        head = (
            _component("fit", fit[0], _W_FIT, fit[1]),
            _component("evidence", ev_value, _W_EVIDENCE, ev.reason),
            _component("phase", phase[0], _W_PHASE, phase[1]),
            _component("status", status[0], _W_STATUS, status[1]),
        )
        partial = (
            0
            + fit[0] * _W_FIT
            + ev_value * _W_EVIDENCE
            + phase[0] * _W_PHASE
            + status[0] * _W_STATUS
        )
        hit = shared[key] = (head, partial)
    return hit


@lru_cache(maxsize=4096, typed=True)
def _component(name: str, value: float, weight: float, reason: str) -> Component:
    """One component object per distinct value (components are frozen): a query then leaves
    a few hundred objects, not thousands, for the cycle collector to walk."""
    return Component(name, value, weight, reason)


def is_open(study: Study) -> bool:
    return (study.overall_status or "") in OPEN_STATUSES


def explain(r: RankedTrial) -> str:
    """One line per component: "fit 1.00 × 0.40 — likely eligible …"."""
    return "\n".join(f"{c.name} {c.value:.2f} x {c.weight:.2f} - {c.reason}" for c in r.components)


__all__ = [
    "WEIGHTS",
    "Component",
    "RankStatic",
    "RankedTrial",
    "SiteInfo",
    "evidence_for",
    "explain",
    "is_open",
    "rank",
    "rank_static",
    "study_classes",
]
