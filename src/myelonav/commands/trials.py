"""`myelonav trials …`: sync, import, search and show ClinicalTrials.gov studies.

Output that uses the bundled sample studies always says they are samples, not real trials.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from myelonav import DISCLAIMER
from myelonav.commands._common import FormatOption, OutputFormat, emit_json, fail, handle_errors
from myelonav.errors import InputError, TrialsDataError
from myelonav.settings import settings
from myelonav.trials.client import CtgovClient
from myelonav.trials.geo import Point, zip_point
from myelonav.trials.importer import read_path
from myelonav.trials.local import criteria_parser, open_store
from myelonav.trials.models import ALL_PHASES, ALL_STATUSES, NCT_ID, Study
from myelonav.trials.samples import SAMPLE_NOTICE
from myelonav.trials.sqlite_store import SqliteTrialStore
from myelonav.trials.store import SearchHit, SearchQuery, StudyRecord
from myelonav.trials.sync import DEFAULT_CONDITION, sync_condition

app = typer.Typer(
    no_args_is_help=True,
    help="Find clinical trials: sync from ClinicalTrials.gov, import, search, show.",
)

SAMPLE_TAG = "[SAMPLE — fictional, not a real trial]"

DbOption = Annotated[
    Path | None,
    typer.Option("--db", help="Trial database file (default: $MYELONAV_HOME/trials.sqlite3)."),
]


@contextmanager
def _store(db: Path | None) -> Iterator[SqliteTrialStore]:
    store = open_store(db, parse_criteria=criteria_parser())
    try:
        yield store
    finally:
        store.close()


def _progress_bar(description: str) -> Any:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )


# --------------------------------------------------------------------------- sync


@app.command("sync")
@handle_errors
def sync_cmd(
    condition: Annotated[
        str, typer.Option("--condition", help="Condition to pull (query.cond).")
    ] = DEFAULT_CONDITION,
    full: Annotated[
        bool, typer.Option("--full", help="Pull everything again instead of only updates.")
    ] = False,
    page_size: Annotated[int | None, typer.Option("--page-size", min=1, max=1000)] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Bypass the HTTP cache.")] = False,
    db: DbOption = None,
    output: FormatOption = OutputFormat.text,
) -> None:
    """Pull studies for a condition from ClinicalTrials.gov (full first, then incremental).

    A sync that is interrupted leaves the previous data untouched; run it again to resume.
    """
    cfg = settings()
    cfg.ensure_home()
    with (
        _store(db) as store,
        CtgovClient(cache_path=None if no_cache else cfg.http_cache) as client,
        _progress_bar(f"Syncing '{condition}'") as bar,
    ):
        task = bar.add_task(f"Syncing '{condition}'", total=None)

        def progress(done: int, total: int | None) -> None:
            bar.update(task, completed=done, total=total)

        report = sync_condition(
            store, client, condition, full=full, page_size=page_size, progress=progress
        )
    payload = {
        "condition": report.condition,
        "mode": report.mode,
        "resumed": report.resumed,
        "since": report.since,
        "pages_fetched": report.pages_fetched,
        "studies_fetched": report.studies_fetched,
        "studies_written": report.written,
        "studies_removed": report.removed,
        "criteria_parse_failures": report.criteria_failed,
        "data_timestamp": report.data_timestamp,
    }
    if output is OutputFormat.json:
        emit_json(payload)
        return
    since = f" updated since {report.since}" if report.since else ""
    typer.echo(
        f"{report.mode} sync of '{report.condition}'{since}: {report.written} studies written, "
        f"{report.removed} removed{' (resumed an interrupted sync)' if report.resumed else ''}."
    )
    if report.data_timestamp:
        typer.echo(f"ClinicalTrials.gov data as of {report.data_timestamp}.")


# --------------------------------------------------------------------------- fetch


@app.command("fetch")
@handle_errors
def fetch_cmd(
    nct_ids: Annotated[list[str], typer.Argument(help="NCT numbers to fetch.")],
    db: DbOption = None,
    output: FormatOption = OutputFormat.text,
) -> None:
    """Fetch single studies from ClinicalTrials.gov into the local store (all or nothing)."""
    cfg = settings()
    cfg.ensure_home()
    bad = [n for n in nct_ids if not NCT_ID.match(n.strip().upper())]
    if bad:
        raise fail(f"not NCT numbers: {bad}")
    records = []
    with CtgovClient(cache_path=cfg.http_cache) as client:
        for nct in nct_ids:
            raw = client.study(nct.strip().upper())
            try:
                records.append(StudyRecord(study=Study.from_v2(raw), raw=raw))
            except TrialsDataError as exc:
                raise TrialsDataError(exc.message, location=f"{nct}: {exc.location}") from None
    with _store(db) as store:
        report = store.import_studies(records, source="fetch")
    if output is OutputFormat.json:
        emit_json({"fetched": [r.study.nct_id for r in records], "studies_written": report.written})
        return
    typer.echo(f"Fetched {report.written} studies: {', '.join(r.study.nct_id for r in records)}.")


# --------------------------------------------------------------------------- import


@app.command("import")
@handle_errors
def import_cmd(
    path: Annotated[Path, typer.Argument(help="A .json/.jsonl file or a directory of them.")],
    db: DbOption = None,
    output: FormatOption = OutputFormat.text,
) -> None:
    """Load saved ClinicalTrials.gov v2 JSON (one study, a page of studies, or JSON lines).

    Every record is checked first; if any is invalid, nothing is written.
    """
    with _progress_bar("Reading") as bar:
        task = bar.add_task(f"Reading {path.name}", total=None)
        records = read_path(path, progress=lambda d, t: bar.update(task, completed=d, total=t))
    with _store(db) as store:
        report = store.import_studies(records, source=f"import:{path.name}")
    samples = sum(r.study.is_sample for r in records)
    payload: dict[str, Any] = {
        "path": str(path),
        "studies_written": report.written,
        "studies_removed": report.removed,
        "fictional_records": samples,
        "criteria_parse_failures": report.criteria_failed,
    }
    if output is OutputFormat.json:
        emit_json(payload)
        return
    typer.echo(f"Imported {report.written} studies from {path}.")
    if samples:
        typer.echo(f"{samples} of them describe themselves as fictional and are marked SAMPLE.")


# --------------------------------------------------------------------------- search


def _origin(near: str | None, lat: float | None, lon: float | None) -> Point | None:
    if near is not None and (lat is not None or lon is not None):
        raise InputError("give either --near ZIP or --lat/--lon, not both", location="--near")
    if near is not None:
        return zip_point(near)
    if (lat is None) != (lon is None):
        raise InputError("--lat and --lon go together", location="--lat/--lon")
    if lat is not None and lon is not None:
        return Point(lat, lon, f"{lat:.4f}, {lon:.4f}")
    return None


def _hit_json(hit: SearchHit) -> dict[str, Any]:
    s = hit.study
    nearest = None
    if hit.nearest is not None:
        loc = hit.nearest.location
        nearest = {
            "facility": loc.facility,
            "city": loc.city,
            "state": loc.state,
            "zip": loc.zip,
            "status": loc.status,
            "miles": round(hit.nearest.miles, 1),
        }
    return {
        "nct_id": s.nct_id,
        "is_sample": s.is_sample,
        "title": s.title,
        "overall_status": s.overall_status,
        "phases": s.phases,
        "conditions": s.conditions,
        "interventions": [i.name for i in s.interventions],
        "drug_ids": s.drug_ids,
        "drug_classes": s.drug_classes,
        "targets": s.targets,
        "last_update": s.last_update_date,
        "nearest_recruiting_site": nearest,
        "score": round(hit.score, 4),
        "url": None if s.is_sample else s.url,
    }


def _hit_lines(hit: SearchHit, index: int, *, markdown: bool) -> list[str]:
    s = hit.study
    tag = f"{SAMPLE_TAG} " if s.is_sample else ""
    head = f"{index}. {tag}{s.nct_id} — {s.title}"
    facts = [s.overall_status or "status unknown", "/".join(s.phases) or "phase n/a"]
    if s.targets:
        facts.append("targets " + ", ".join(s.targets))
    lines = [f"**{head}**" if markdown else head, "   " + " · ".join(facts)]
    if s.drug_ids:
        lines.append("   agents: " + ", ".join(s.drug_ids))
    if hit.nearest is not None:
        loc = hit.nearest.location
        place = ", ".join(p for p in (loc.city, loc.state) if p)
        lines.append(f"   nearest recruiting site: {place} — {hit.nearest.miles:.0f} miles")
    if not s.is_sample:
        lines.append(f"   {s.url}")
    return lines


@app.command("search")
@handle_errors
def search_cmd(
    query: Annotated[str, typer.Argument(help="Words to look for, e.g. 'GPRC5D CAR T'.")] = "",
    status: Annotated[
        list[str] | None,
        typer.Option("--status", help="Overall status (repeatable), e.g. RECRUITING."),
    ] = None,
    phase: Annotated[
        list[str] | None, typer.Option("--phase", help="Phase (repeatable), e.g. PHASE2.")
    ] = None,
    drug_class: Annotated[
        list[str] | None,
        typer.Option("--class", help="Intervention class (repeatable), e.g. gprc5d_directed."),
    ] = None,
    target: Annotated[
        list[str] | None, typer.Option("--target", help="Target (repeatable), e.g. GPRC5D.")
    ] = None,
    near: Annotated[str | None, typer.Option("--near", help="US ZIP code.")] = None,
    lat: Annotated[float | None, typer.Option("--lat")] = None,
    lon: Annotated[float | None, typer.Option("--lon")] = None,
    within_miles: Annotated[
        float | None,
        typer.Option(
            "--within-miles", min=0, help="Only studies with a recruiting site this close."
        ),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=500)] = 20,
    no_samples: Annotated[
        bool, typer.Option("--no-samples", help="Leave out bundled sample studies.")
    ] = False,
    db: DbOption = None,
    output: FormatOption = OutputFormat.text,
) -> None:
    """Search the local trial store (works offline; uses bundled samples before a sync)."""
    statuses = [s.upper() for s in status or []]
    phases = [p.upper() for p in phase or []]
    bad = [s for s in statuses if s not in ALL_STATUSES] + [
        p for p in phases if p not in ALL_PHASES
    ]
    if bad:
        raise fail(f"--status/--phase: unknown value(s) {bad}")
    origin = _origin(near, lat, lon)
    if within_miles is not None and origin is None:
        raise fail("--within-miles needs --near ZIP or --lat/--lon")
    request = SearchQuery(
        text=query,
        statuses=statuses,
        phases=phases,
        drug_classes=drug_class or [],
        targets=target or [],
        near=origin,
        within_miles=within_miles,
        include_samples=not no_samples,
        limit=limit,
    )
    with _store(db) as store:
        hits = store.search(request)
        only_samples = store.count(samples=False) == 0
    any_sample = any(h.study.is_sample for h in hits)
    if output is OutputFormat.json:
        payload: dict[str, Any] = {
            "query": query,
            "filters": {
                "status": statuses,
                "phase": phases,
                "class": drug_class or [],
                "target": target or [],
                "near": origin.label if origin else None,
                "within_miles": within_miles,
            },
            "count": len(hits),
            "results": [_hit_json(h) for h in hits],
        }
        if any_sample or only_samples:
            payload["sample_notice"] = SAMPLE_NOTICE
        emit_json(payload)
        return
    markdown = output is OutputFormat.md
    if any_sample or only_samples:
        typer.echo(("> " if markdown else "NOTE: ") + SAMPLE_NOTICE)
    if origin is not None:
        typer.echo(f"Distances from {origin.label} to the nearest recruiting site.")
    if not hits:
        typer.echo("No studies matched.")
    for i, hit in enumerate(hits, start=1):
        typer.echo("\n".join(_hit_lines(hit, i, markdown=markdown)))
    typer.echo(("\n_" + DISCLAIMER + "_") if markdown else "\n" + DISCLAIMER)


# --------------------------------------------------------------------------- show


def _show_text(study: Study) -> list[str]:
    lines = []
    if study.is_sample:
        lines.append(f"{SAMPLE_TAG} {SAMPLE_NOTICE}")
    lines += [
        f"{study.nct_id} — {study.title}",
        f"Status: {study.overall_status or 'unknown'}   Phase: {'/'.join(study.phases) or 'n/a'}",
        f"Sponsor: {study.sponsor.name or 'unknown'}   "
        f"Last update: {study.last_update_date or 'unknown'}",
        f"Conditions: {', '.join(study.conditions) or 'none listed'}",
    ]
    for item in study.interventions:
        agents = f" → {', '.join(item.drug_ids)}" if item.drug_ids else ""
        lines.append(f"Intervention: {item.type or ''} {item.name}{agents}".replace("  ", " "))
    e = study.eligibility
    ages = f"{e.minimum_age or 'no minimum'} to {e.maximum_age or 'no maximum'}"
    lines.append(f"Ages: {ages}   Sex: {e.sex or 'ALL'}")
    if study.brief_summary:
        lines += ["", study.brief_summary]
    lines += ["", "Eligibility criteria:", e.criteria_text or "(none given)", ""]
    recruiting = study.recruiting_locations
    lines.append(f"Sites: {len(study.locations)} ({len(recruiting)} recruiting)")
    for loc in recruiting[:25]:
        lines.append(f"  - {loc.label}")
    if len(recruiting) > 25:
        lines.append(f"  … and {len(recruiting) - 25} more")
    if not study.is_sample:
        lines.append(study.url)
    lines += ["", DISCLAIMER]
    return lines


@app.command("show")
@handle_errors
def show_cmd(
    nct_id: Annotated[str, typer.Argument(help="The study's NCT number.")],
    raw: Annotated[
        bool, typer.Option("--raw", help="With --format json: the stored v2 record as is.")
    ] = False,
    db: DbOption = None,
    output: FormatOption = OutputFormat.text,
) -> None:
    """Show one study from the local store."""
    with _store(db) as store:
        study = store.get(nct_id.strip())
        record = store.get_raw(nct_id.strip()) if raw else None
        parsed = store.parsed_criteria(nct_id.strip())
    if study is None:
        raise fail(f"{nct_id}: not in the local store (try `myelonav trials sync` or `search`)")
    if output is OutputFormat.json:
        payload: dict[str, Any] = (
            {"record": record}
            if raw
            else study.model_dump(mode="json", exclude={"extra"})
            | {"url": None if study.is_sample else study.url, "parsed_criteria": parsed}
        )
        payload["is_sample"] = study.is_sample
        if study.is_sample:
            payload["sample_notice"] = SAMPLE_NOTICE
        emit_json(payload)
        return
    typer.echo("\n".join(_show_text(study)))


@app.command("info")
@handle_errors
def info_cmd(db: DbOption = None, output: FormatOption = OutputFormat.text) -> None:
    """What the local store holds: study counts, samples, last syncs."""
    with _store(db) as store:
        stats = store.stats()
        where = store.path
    payload = {
        "database": where,
        "studies": stats.studies,
        "sample_studies": stats.samples,
        "sites": stats.sites,
        "criteria_parsed": stats.criteria_parsed,
        "criteria_parse_failures": stats.criteria_failed,
        "last_sync": stats.last_sync,
    }
    if output is OutputFormat.json:
        emit_json(payload)
        return
    typer.echo(f"Database: {where}")
    typer.echo(f"Studies: {stats.studies} ({stats.samples} bundled samples)")
    if stats.samples and stats.samples == stats.studies:
        typer.echo(SAMPLE_NOTICE)
    for key, value in stats.last_sync.items():
        typer.echo(f"Last sync {key}: {value}")


@app.command("reparse")
@handle_errors
def reparse_cmd(db: DbOption = None, output: FormatOption = OutputFormat.text) -> None:
    """Parse every stored study's eligibility criteria again (after a myelonav upgrade)."""
    with _store(db) as store:
        count = store.reparse_criteria()
        stats = store.stats()
    payload = {"reparsed": count, "criteria_parse_failures": stats.criteria_failed}
    if output is OutputFormat.json:
        emit_json(payload)
        return
    typer.echo(
        f"Parsed the criteria of {count} studies again; "
        f"{stats.criteria_failed} could not be parsed (shown as 'ask the study team')."
    )


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="trials")


__all__ = ["app", "register"]


# `trials match` (patient-to-trial matching) lives in its own module; attached here.
from myelonav.commands.trials_match import attach as _attach_match  # noqa: E402

_attach_match(app)
