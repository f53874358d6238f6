"""`myelonav trials match PROFILE`: which stored trials may fit this patient, and why.

Registered on the ``trials`` sub-app by ``myelonav.commands.trials`` (one line at its end).
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer

from myelonav import DISCLAIMER
from myelonav.commands._common import (
    AsOfOption,
    FormatOption,
    OutputFormat,
    emit_json,
    handle_errors,
    open_profile,
    parse_as_of,
)
from myelonav.errors import InputError
from myelonav.trials.geo import Point, zip_point
from myelonav.trials.match_view import trial_view
from myelonav.trials.matching import Result, Verdict
from myelonav.trials.models import Study
from myelonav.trials.ranking import RankedTrial
from myelonav.trials.samples import SAMPLE_NOTICE
from myelonav.trials.summary import summarize

_VERDICT_TEXT = {
    Verdict.likely_eligible: "likely eligible",
    Verdict.possibly_eligible: "possibly eligible",
    Verdict.likely_ineligible: "likely NOT eligible",
}


def _trial_json(r: RankedTrial, study: Study) -> dict[str, Any]:
    m = r.match
    return {
        "rank": r.rank,
        "nct_id": m.nct_id,
        "title": m.title,
        "is_sample": m.is_sample,
        "verdict": m.verdict.value,
        "score": r.score,
        "score_components": [asdict(c) for c in r.components],
        "failing": m.failing,
        "unknown": m.unknown,
        "ask_study_team": m.ask_study_team,
        "categories": m.as_dict()["categories"],
        "criteria": [c.as_dict() for c in m.criteria],
        "nearest_site": asdict(r.nearest_site) if r.nearest_site else None,
        "within_travel": r.within_travel,
        "summary": summarize(study, m, r).model_dump(exclude={"disclaimer"}),
        "url": study.url,
    }


def _text(r: RankedTrial) -> list[str]:
    m = r.match
    tag = " [SAMPLE - fictional, not a real trial]" if m.is_sample else ""
    lines = [
        f"{r.rank}. {m.nct_id}{tag} - {m.title}",
        f"   {_VERDICT_TEXT[m.verdict]}; score {r.score:g}/100",
    ]
    cat = m.categories
    if cat is not None and cat.labels:
        kinds = [
            *(x.replace("_", " ") for x in cat.modalities),
            *(f"{t}-directed" for t in cat.targets),
            *(x.replace("_", " ") for x in cat.settings),
        ]
        lines.append(f"   kind of study: {', '.join(kinds)}")
    if r.nearest_site is not None:
        s = r.nearest_site
        lines.append(
            f"   nearest open site: {', '.join(p for p in (s.facility, s.city, s.state) if p)} "
            f"({s.miles:.0f} miles)"
        )
    for c in m.criteria:
        if c.result is Result.not_met:
            lines.append(f"   x {c.text[:90]} -> {c.patient_fact}")
        elif c.result is Result.unknown:
            lines.append(f"   ? {c.text[:90]} -> {c.patient_fact}")
    if m.ask_study_team:
        lines.append(f"   ask the study team about {len(m.ask_study_team)} item(s)")
    return lines


def _origin(near: str | None, record_zip: str | None, country: str | None) -> Point | None:
    if near is not None:
        return zip_point(near)
    if record_zip and (country in (None, "US")):
        try:
            return zip_point(record_zip)
        except InputError:
            return None
    return None


@handle_errors
def match_cmd(
    profile: Annotated[str, typer.Argument(help="Patient profile (JSON or YAML).")],
    near: Annotated[
        str | None,
        typer.Option(
            "--near", help="US ZIP code to measure distance from (default: the profile's)."
        ),
    ] = None,
    within_miles: Annotated[
        float | None,
        typer.Option(
            "--within-miles",
            min=0,
            help="Only trials with an open site this close "
            "(default: the profile's travel limit, as on every page).",
        ),
    ] = None,
    as_of: AsOfOption = None,
    limit: Annotated[
        int, typer.Option("--limit", min=1, help="Show at most this many trials.")
    ] = 20,
    include_ineligible: Annotated[
        bool,
        typer.Option(
            "--include-ineligible", help="Also list trials you likely do not qualify for."
        ),
    ] = False,
    include_closed: Annotated[
        bool, typer.Option("--include-closed", help="Also judge studies that are not recruiting.")
    ] = False,
    db: Annotated[Path | None, typer.Option("--db", help="Trial database file.")] = None,
    output: FormatOption = OutputFormat.text,
) -> None:
    """Match a patient to stored trials: verdict, criterion-by-criterion reasons, ranking."""
    record = open_profile(profile)
    when = parse_as_of(as_of)
    origin = _origin(near, record.demographics.postal_code, record.demographics.country)
    if within_miles is not None and origin is None:
        raise InputError(
            "--within-miles needs a location: give --near ZIP", location="--within-miles"
        )
    view = trial_view(
        record,
        when,
        db,
        origin=origin,
        within_miles=within_miles,
        include_closed=include_closed,
    )
    shown = list(view.shown)
    if include_ineligible:
        shown += [h.trial for h in view.hidden if h.kinds == ("ineligible",)]
        shown.sort(key=lambda r: r.rank)
    hidden = view.hidden_counts["ineligible"] if not include_ineligible else 0
    shown = shown[:limit]
    studies = view.run.studies(shown)
    samples = any(r.match.is_sample for r in shown)
    if output is OutputFormat.json:
        payload: dict[str, Any] = {
            "patient": record.id,
            "as_of": when.isoformat(),
            "origin": origin.label if origin else None,
            "within_miles": view.travel_limit,
            "headline": view.headline(),
            "last_update": view.last_update,
            "judged": view.judged,
            "not_shown_ineligible": hidden,
            "farther": view.farther,
            "trials": [_trial_json(r, studies[r.match.nct_id]) for r in shown],
            "hidden": [
                {"nct_id": h.trial.match.nct_id, "reasons": list(h.reasons)}
                for h in view.hidden
            ],
            "disclaimer": DISCLAIMER,
        }
        if samples:
            payload["sample_notice"] = SAMPLE_NOTICE
        emit_json(payload)
        return
    typer.echo(
        f"Trials for {record.id} as of {when} "
        f"({view.judged} judged; {hidden} likely not eligible hidden)"
    )
    typer.echo(view.headline())
    if view.last_update:
        typer.echo(f"Trials last updated from ClinicalTrials.gov on {view.last_update}.")
    if samples:
        typer.echo(SAMPLE_NOTICE)
    for r in shown:
        typer.echo("\n".join(_text(r)))
    if not shown and not view.no_real_trials:
        typer.echo(
            "No trial in the local store looks like a fit. "
            "Run `myelonav trials sync` for current studies."
        )
    if view.no_real_trials:
        typer.echo("Run `myelonav trials sync` to load real studies from ClinicalTrials.gov.")
    typer.echo(DISCLAIMER)


def attach(app: typer.Typer) -> None:
    app.command("match")(match_cmd)


__all__ = ["attach", "match_cmd"]
