"""What the API and the pages share: reading uploads, options and trial matches for a record.

Pure functions over a ``PatientRecord``; the routes only translate HTTP to these and back.
"""

from __future__ import annotations

import datetime as dt
import importlib
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from myelonav import DISCLAIMER
from myelonav.errors import ImportError_, InputError
from myelonav.options.report import options_report
from myelonav.patient.ccda import import_ccda, looks_like_xml
from myelonav.patient.fhir_import import import_bundle, load_json
from myelonav.patient.models import PatientRecord
from myelonav.patient.profile_io import parse_profile_text, record_from_data
from myelonav.samples import SAMPLE_AS_OF

Audience = Literal["patient", "clinician"]
MAX_UPLOAD_BYTES = 5 * 1024 * 1024


def default_as_of(record: PatientRecord, today: dt.date | None = None) -> dt.date:
    """Samples reason as of the day they were written for; everyone else as of today."""
    return SAMPLE_AS_OF if record.sample else (today or dt.date.today())


def parse_as_of_param(value: str | None, field: str = "as_of") -> dt.date | None:
    if value is None or value == "":
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InputError(f"{value[:40]!r} is not a date (YYYY-MM-DD)", location=field) from None


def record_from_json(
    data: Any, *, as_of: dt.date | None, source: str = "body"
) -> tuple[PatientRecord, str, str]:
    """A FHIR Bundle (has ``resourceType``) or a myelonav profile → record, summary, kind."""
    if isinstance(data, dict) and "resourceType" in data:
        if data.get("resourceType") != "Bundle":
            raise ImportError_("expected a FHIR Bundle (resourceType 'Bundle')",
                               location=f"{source}.resourceType")
        report = import_bundle(data, source=source, as_of=as_of)
        return report.record, report.summary(), "fhir"
    return record_from_data(data, source), "profile read", "profile"


def record_from_upload(
    raw: bytes, *, as_of: dt.date | None, filename: str = "upload"
) -> tuple[PatientRecord, str, str]:
    """An uploaded file: FHIR Bundle JSON, profile JSON or profile YAML."""
    if len(raw) > MAX_UPLOAD_BYTES:
        raise ImportError_(f"file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB",
                           location=filename)
    if not raw.strip():
        raise ImportError_("the file is empty", location=filename)
    if looks_like_xml(raw):  # a C-CDA "Download my record" file
        report = import_ccda(raw, source=filename, as_of=as_of)
        return report.record, report.summary(), "ccda"
    if raw.lstrip().startswith((b"{", b"[")) or Path(filename).suffix.lower() == ".json":
        return record_from_json(load_json(raw, filename), as_of=as_of, source=filename)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ImportError_("file is not UTF-8 text", location=filename) from None
    return parse_profile_text(text, filename), "profile read", "profile"


def options_for(record: PatientRecord, as_of: dt.date, audience: Audience) -> dict[str, Any]:
    return options_report(record, as_of, audience)


def trials_available() -> bool:
    return _importable("myelonav.trials.patient_match", "myelonav.trials.summary")


@lru_cache(maxsize=4096)
def _zip_point(zip_code: str) -> Any:
    from myelonav.trials.geo import zip_point

    return zip_point(zip_code)


def _origin(near: str | None, record: PatientRecord) -> Any:
    zip_point = _zip_point
    if near:
        return zip_point(near)
    zip_code = record.demographics.postal_code
    if zip_code and record.demographics.country in (None, "US"):
        try:
            return zip_point(zip_code)
        except InputError:
            return None
    return None


def _site(site: Any) -> dict[str, Any] | None:
    if site is None:
        return None
    return {name: getattr(site, name) for name in ("facility", "city", "state", "miles", "status")}


def trial_matches(
    record: PatientRecord,
    as_of: dt.date,
    *,
    trials_db: Path,
    near: str | None = None,
    within_miles: float | None = None,
    include_ineligible: bool = False,
    include_closed: bool = False,
    verdict: str | None = None,
    statuses: tuple[str, ...] = (),
    phases: tuple[str, ...] = (),
    categories: tuple[str, ...] = (),
    limit: int = 20,
) -> dict[str, Any]:
    """Stored trials judged and ranked for this record, JSON-ready: the one trial view
    (``trials.match_view``) that the questions, the packet and ``trials match`` also read."""
    from myelonav.trials.match_view import (
        CATEGORY_TEXT,
        PHASE_TEXT,
        STATUS_TEXT,
        WEB_SAMPLE_NOTICE,
        TrialFilters,
        site_contact,
        trial_view,
    )
    from myelonav.trials.summary import summarize

    try:
        origin = _origin(near, record)
    except InputError as exc:
        raise InputError(exc.message, location="near") from None
    filters = TrialFilters(statuses=statuses, phases=phases, categories=categories,
                           verdict=verdict)
    view = trial_view(record, as_of, trials_db, origin=origin, within_miles=within_miles,
                      filters=filters, include_closed=include_closed)
    listed = list(view.shown)
    if include_ineligible and verdict is None:
        listed += [h.trial for h in view.hidden if h.kinds == ("ineligible",)]
        listed.sort(key=lambda r: r.rank)
    shown = listed[:limit]
    studies = view.run.studies(shown)
    counts = {v: 0 for v in ("likely_eligible", "possibly_eligible", "likely_ineligible")}
    for r in view.run.ranked:
        if record.sample or not r.match.is_sample:
            counts[r.match.verdict.value] += 1
    trials = []
    for r in shown:
        m, study = r.match, studies[r.match.nct_id]
        cats = view.categories_of(m.nct_id)
        trials.append({
            "rank": r.rank,
            "nct_id": m.nct_id,
            "title": m.title,
            "is_sample": m.is_sample,
            "verdict": m.verdict.value,
            "score": r.score,
            "phases": study.phases,
            "phases_text": [PHASE_TEXT.get(p, p) for p in study.phases],
            "overall_status": study.overall_status,
            "status_text": STATUS_TEXT.get(study.overall_status or "",
                                           (study.overall_status or "not given")
                                           .replace("_", " ").lower()),
            "categories": cats.as_dict(),
            "categories_text": [CATEGORY_TEXT.get(c, c.replace("_", " "))
                                for c in cats.modalities if c in CATEGORY_TEXT],
            "criteria": [
                {"id": c.id, "section": c.section.value, "text": c.text, "kind": c.kind.value,
                 "result": c.result.value, "patient_fact": c.patient_fact,
                 "exception": c.exception}
                for c in m.criteria
            ],
            "nearest_site": _site(r.nearest_site),
            "contact": site_contact(study, r),
            "within_travel": r.within_travel,
            "summary": summarize(study, m, r).model_dump(exclude={"disclaimer"}),
            "url": study.url,
        })
    hidden = [
        {"nct_id": h.trial.match.nct_id, "title": h.trial.match.title,
         "verdict": h.trial.match.verdict.value, "reasons": list(h.reasons),
         "kinds": list(h.kinds),
         "miles": h.trial.nearest_site.miles if h.trial.nearest_site else None}
        for h in view.hidden
    ]
    return {
        "patient_sample": record.sample,
        "as_of": as_of.isoformat(),
        "origin": origin.label if origin is not None else None,
        "within_miles": view.travel_limit,
        "headline": view.headline(),
        "last_update": view.last_update,
        "no_real_trials": view.no_real_trials,
        "real_studies": view.real_studies,
        "judged": view.judged,
        "counts": counts,
        "listed": len(view.shown),
        "farther": view.farther,
        "trials": trials,
        "hidden": hidden,
        "hidden_counts": view.hidden_counts,
        "hidden_total": view.hidden_total,
        "sample_notice": WEB_SAMPLE_NOTICE if view.showing_samples else None,
        "disclaimer": DISCLAIMER,
    }


def visit_available() -> bool:
    """Questions, packet and plot, when ``myelonav.visit`` provides them."""
    return _importable("myelonav.visit.packet", "myelonav.visit.plot",
                       "myelonav.visit.questions", "myelonav.web.api.visit")


def _importable(*modules: str) -> bool:
    try:
        for name in modules:
            importlib.import_module(name)
    except ImportError:
        return False
    return True


__all__ = [
    "MAX_UPLOAD_BYTES",
    "Audience",
    "default_as_of",
    "options_for",
    "parse_as_of_param",
    "record_from_json",
    "record_from_upload",
    "trial_matches",
    "trials_available",
    "visit_available",
]
