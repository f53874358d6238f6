"""Living-with-treatment commands: calendar, symptoms, distress, learn, resources, support."""

from __future__ import annotations

import datetime as dt
import inspect
from collections.abc import Callable
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
    parse_as_of,
)
from myelonav.datafiles import Citation
from myelonav.errors import InputError
from myelonav.patient.profile_io import load_profile, write_atomic
from myelonav.patient.vocabulary import vocabulary
from myelonav.support import calendar as cal
from myelonav.support import diary as diary_mod
from myelonav.support.content import distress_spec, education, resource_list
from myelonav.support.distress import assess, resource_dict
from myelonav.support.fit import NEUTRAL_NOTE, agent_fit
from myelonav.support.ice import ice_spec, score_ice
from myelonav.support.profile_support import support_summary
from myelonav.support.schemas import EducationPiece
from myelonav.support.triage import (
    SymptomReport,
    TriageResult,
    care_context,
    check,
    make_report,
    parse_temperature,
    triage,
)

symptoms_app = typer.Typer(
    no_args_is_help=True, help="Check symptoms (what to do now), keep a symptom diary, ICE check."
)


def _parse_date(value: str | None, name: str) -> dt.date:
    if value is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)", param_hint=name) from None


def _cite_lines(citations: list[Citation]) -> list[str]:
    return [f"  [{i}] {c.short()}" for i, c in enumerate(citations, 1)]


# ---------------------------------------------------------------------------- calendar


def _agent_from_profile(path: str) -> str:
    record = load_profile(path)
    scheduled = {s.drug for s in cal.available()}
    lines = sorted(record.therapy_lines, key=lambda t: t.start or dt.date.min, reverse=True)
    for line in lines:
        for agent in line.agents:
            drug = vocabulary().resolve(agent)
            if drug is not None and drug.id in scheduled:
                return drug.id
    raise InputError(
        "no bispecific with a step-up schedule in this profile; pass --agent", location=path
    )


def _resolve_target(target: str, agent: str | None) -> str:
    if agent:
        if not Path(target).is_file():
            raise InputError(
                "no such profile file (with --agent, TARGET is a profile)", location=target
            )
        load_profile(target)  # a broken profile is reported, not silently ignored
        return agent
    drug = vocabulary().resolve(target)
    if drug is not None:
        return drug.id
    if Path(target).is_file():
        return _agent_from_profile(target)
    raise InputError(
        f"{target!r} is neither a known bispecific nor a profile file", location="TARGET"
    )


def _calendar_text(c: cal.DosingCalendar, md: bool) -> str:
    s = c.schedule
    out: list[str] = []
    head = f"{s.brand} ({s.drug}, {s.variant}) step-up dosing calendar from {c.start.isoformat()}"
    out.append(f"# {head}" if md else head)
    out.append("")
    if md:
        out.append("| Date | Week | What | Dose | Hospital stay | Allowed timing |")
        out.append("|---|---|---|---|---|---|")
    for e in c.entries:
        stay = f"about {e.hospital_hours} h" if e.hospital_hours else ""
        what = e.title if e.kind != "check_in" else f"CHECK-IN: {e.note}"
        if md:
            out.append(
                f"| {e.date} | {e.week} | {what} | {e.dose or ''} | {stay} | {e.window or ''} |"
            )
        else:
            line = f"{e.date}  wk{e.week:<3} {what}"
            if e.dose:
                line += f"  [{e.dose}]"
            if stay:
                line += f"  hospital {stay}"
            out.append(line)
            if e.window:
                out.append(f"              timing: {e.window}")
    out.append("")
    out.extend(f"- {n}" for n in c.notes())
    out.append("")
    out.append(f"Sources (last reviewed {s.last_reviewed}):")
    out.extend(_cite_lines(list(s.citations)))
    out.append("")
    out.append(DISCLAIMER)
    return "\n".join(out)


def calendar_cmd(
    target: Annotated[
        str, typer.Argument(help="Bispecific name (e.g. teclistamab, Talvey) or a profile file.")
    ],
    start: Annotated[str, typer.Option("--start", help="Date of step-up dose 1 (YYYY-MM-DD).")],
    agent: Annotated[
        str | None, typer.Option("--agent", help="Agent, when TARGET is a profile.")
    ] = None,
    variant: Annotated[
        str | None,
        typer.Option("--variant", help="Schedule variant, e.g. weekly or biweekly (talquetamab)."),
    ] = None,
    weeks: Annotated[int, typer.Option("--weeks", help="How many weeks to lay out (1-104).")] = 12,
    earliest: Annotated[
        bool,
        typer.Option(
            "--earliest",
            help="Use the earliest day each label window allows instead of the label's table day.",
        ),
    ] = False,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write an iCalendar (.ics) file here.")
    ] = None,
    output: FormatOption = OutputFormat.text,
) -> None:
    """Step-up and treatment dose dates, hospital stays and premedication (FDA label)."""
    drug = _resolve_target(target, agent)
    fit = (
        agent_fit(load_profile(target), drug, dt.date.today())
        if Path(target).is_file()
        else None
    )
    note = fit.warning() if fit is not None and fit.unlikely else NEUTRAL_NOTE
    schedule = cal.find_schedule(drug, variant)
    timing = cal.Timing.earliest if earliest else cal.Timing.label
    c = cal.build_calendar(schedule, _parse_date(start, "--start"), weeks=weeks, timing=timing)
    if out is not None:
        write_atomic(out, cal.to_ics(c).decode("utf-8"))
    if output is OutputFormat.json:
        payload = c.to_dict()
        payload["ics_file"] = str(out) if out else None
        payload["fit"] = (
            {"option": fit.option, "status": fit.status, "reasons": list(fit.reasons)}
            if fit is not None
            else None
        )
        payload["note"] = note
        emit_json(payload)
        return
    typer.echo(note + "\n")
    typer.echo(_calendar_text(c, md=output is OutputFormat.md))
    if out is not None:
        typer.echo(f"\nWrote {out} ({len(c.entries)} calendar entries).")


# ---------------------------------------------------------------------------- symptoms

_FLAG_HELP: dict[str, str] = {
    "chills": "shaking chills",
    "dizziness": "dizzy or faint",
    "breathing_trouble": "trouble breathing",
    "confusion": "new confusion",
    "handwriting_change": "handwriting changed",
    "speech_change": "trouble speaking or finding words",
    "trouble_staying_awake": "very sleepy or hard to wake",
    "seizure": "a seizure",
    "weakness": "new weakness of face, arm or leg",
    "cough": "new cough",
    "burning_urination": "burning when passing urine",
    "diarrhea": "diarrhea",
    "wound_redness": "red, sore or warm wound or catheter site",
    "taste_change": "taste changes",
    "dry_mouth": "dry mouth",
    "trouble_swallowing": "trouble swallowing",
    "weight_loss": "losing weight",
    "skin_peeling": "peeling or very dry skin",
    "nail_change": "nail changes",
    "bleeding_or_bruising": "new bruises, tiny red spots, nosebleeds or bleeding gums",
    "heavy_bleeding": "bleeding that will not stop, or black or bloody stools",
    "back_pain": "new or worse back pain",
    "leg_weakness_or_numbness": "new weakness or numbness in the legs, or trouble walking",
    "bladder_bowel_control": "new loss of bladder or bowel control",
    "vomiting": "throwing up (vomiting)",
    "severe_headache": "a bad new headache",
    "on_bispecific": "currently on a bispecific antibody",
    "recent_car_t": "had CAR T recently",
}


def _symptom_parameters() -> list[inspect.Parameter]:
    kw = inspect.Parameter.KEYWORD_ONLY
    params = [
        inspect.Parameter(
            "temp",
            kw,
            annotation=str | None,
            default=typer.Option(None, "--temp", help="Temperature, e.g. 38.2C or 100.9F."),
        ),
        inspect.Parameter(
            "systolic",
            kw,
            annotation=int | None,
            default=typer.Option(None, "--systolic", help="Top blood pressure number (mmHg)."),
        ),
        inspect.Parameter(
            "spo2",
            kw,
            annotation=int | None,
            default=typer.Option(
                None, "--spo2", help="Oxygen saturation from a pulse oximeter (%)."
            ),
        ),
        inspect.Parameter(
            "ice",
            kw,
            annotation=int | None,
            default=typer.Option(
                None, "--ice", help="ICE self-check score 0-10 (see `symptoms ice`)."
            ),
        ),
    ]
    for name, text in _FLAG_HELP.items():
        params.append(
            inspect.Parameter(
                name,
                kw,
                annotation=bool,
                default=typer.Option(
                    False, f"--{name.replace('_', '-')}", help=text.capitalize() + "."
                ),
            )
        )
    return params


def with_symptom_options(func: Callable[..., None]) -> Callable[..., None]:
    """Add the symptom options to a command that takes ``**symptoms``."""
    sig = inspect.signature(func, eval_str=True)
    own = [p for p in sig.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
    func.__signature__ = sig.replace(parameters=[*own, *_symptom_parameters()])  # type: ignore[attr-defined]
    return func


def _report(symptoms: dict[str, Any]) -> SymptomReport:
    fields: dict[str, Any] = {k: v for k, v in symptoms.items() if k in _FLAG_HELP}
    if symptoms.get("temp") is not None:
        fields["temperature_c"] = parse_temperature(symptoms["temp"])
    if symptoms.get("systolic") is not None:
        fields["systolic_bp"] = symptoms["systolic"]
    if symptoms.get("spo2") is not None:
        fields["spo2"] = symptoms["spo2"]
    if symptoms.get("ice") is not None:
        fields["ice_score"] = symptoms["ice"]
    return make_report(**fields)


def _triage_text(result: TriageResult) -> str:
    d = result.to_dict()
    out = [d["headline"], ""]
    out.extend(d["from_profile"])
    if d["from_profile"]:
        out.append("")
    for r in d["reasons"]:
        out.append(f"- {r['why']}")
        out.append(f"    (for your team: {r['clinical_concept']})")
    if result.floor_applied:
        out.append("- A red flag is present, so this is never a 'wait for the next visit' answer.")
    out.append("")
    out.append("Phone numbers:")
    out.extend(f"  {p['label']}: {p['number']}" for p in d["phones"])
    if result.citations:
        out.append("")
        out.append("Sources:")
        out.extend(_cite_lines(result.citations))
    out.append("")
    out.append(DISCLAIMER)
    return "\n".join(out)


@with_symptom_options
def symptoms_check(
    profile: Annotated[
        str | None,
        typer.Option(
            "--profile",
            help="Profile file: adds its current bispecific, a recent CAR T and the care "
            "team's phone numbers.",
        ),
    ] = None,
    as_of: AsOfOption = None,
    output: FormatOption = OutputFormat.text,
    **symptoms: Any,
) -> None:
    """What to do now: emergency, call your team now, or mention at your next visit.

    Enter at least one symptom or reading; an empty check is refused.
    """
    care = None
    if profile is not None:
        care = care_context(load_profile(profile), parse_as_of(as_of))
    result = check(_report(symptoms), care=care)
    if output is OutputFormat.json:
        emit_json(result.to_dict())
    else:
        typer.echo(_triage_text(result))


@with_symptom_options
def symptoms_log(
    target: Annotated[
        str, typer.Argument(help="Diary file, or a profile (diary kept next to it).")
    ],
    date: Annotated[
        str | None, typer.Option("--date", help="Day the symptoms happened (default today).")
    ] = None,
    note: Annotated[str | None, typer.Option("--note", help="Free-text note.")] = None,
    output: FormatOption = OutputFormat.text,
    **symptoms: Any,
) -> None:
    """Add a dated entry to the symptom diary (and show what to do now)."""
    path = diary_mod.diary_path(target)
    report = _report(symptoms)
    entry = diary_mod.append_entry(path, report, date=_parse_date(date, "--date"), note=note)
    result = triage(report)
    if output is OutputFormat.json:
        emit_json(
            {"diary": str(path), "entry": entry.model_dump(mode="json"), "triage": result.to_dict()}
        )
        return
    typer.echo(f"Saved to {path} ({entry.date}).\n")
    typer.echo(_triage_text(result))


def symptoms_diary(
    target: Annotated[
        str, typer.Argument(help="Diary file, or a profile (diary kept next to it).")
    ],
    output: FormatOption = OutputFormat.text,
) -> None:
    """Show the symptom diary."""
    path = diary_mod.diary_path(target)
    d = diary_mod.load_diary(path)
    if output is OutputFormat.json:
        emit_json({"diary": str(path), **d.model_dump(mode="json", by_alias=True)})
        return
    if not d.entries:
        typer.echo(f"No entries yet in {path}.\n\n{DISCLAIMER}")
        return
    for e in d.entries:
        what = ", ".join(diary_mod.reported_symptoms(e.report)) or "no symptoms reported"
        line = f"{e.date}  {e.urgency:<18} {what}"
        if e.note:
            line += f"  - {e.note}"
        typer.echo(line)
    typer.echo(f"\n{DISCLAIMER}")


def symptoms_ice(
    orientation: Annotated[
        int | None, typer.Option("--orientation", help="0-4: year, month, city, place.")
    ] = None,
    naming: Annotated[int | None, typer.Option("--naming", help="0-3: named 3 objects.")] = None,
    commands: Annotated[
        int | None, typer.Option("--commands", help="0-1: followed a simple command.")
    ] = None,
    writing: Annotated[
        int | None, typer.Option("--writing", help="0-1: wrote a standard sentence.")
    ] = None,
    attention: Annotated[
        int | None, typer.Option("--attention", help="0-1: counted down from 100 by 10.")
    ] = None,
    on_bispecific: Annotated[bool, typer.Option("--on-bispecific")] = False,
    recent_car_t: Annotated[bool, typer.Option("--recent-car-t")] = False,
    output: FormatOption = OutputFormat.text,
) -> None:
    """Caregiver thinking check (the 10-point ICE items). With no scores, prints the questions."""
    answers = {
        k: v
        for k, v in {
            "orientation": orientation,
            "naming": naming,
            "commands": commands,
            "writing": writing,
            "attention": attention,
        }.items()
        if v is not None
    }
    spec = ice_spec()
    if not answers:
        if output is OutputFormat.json:
            emit_json({"items": [i.model_dump() for i in spec.items]})
            return
        typer.echo("ICE self-check for caregivers (10 points). Ask each day at the same time:\n")
        for i in spec.items:
            typer.echo(
                f"- {i.task} ({i.points} point{'s' if i.points > 1 else ''}): {i.caregiver_prompt}"
            )
        typer.echo(
            f"\nThen run: myelonav symptoms ice --orientation N --naming N ...\n\n{DISCLAIMER}"
        )
        return
    result = score_ice(answers, on_bispecific=on_bispecific, recent_car_t=recent_car_t)
    if output is OutputFormat.json:
        emit_json(result.to_dict())
        return
    typer.echo(f"ICE self-check: {result.score}/10. {result.band.meaning}\n")
    typer.echo(_triage_text(result.triage))


# ---------------------------------------------------------------------------- distress


def _pair(value: str | None, name: str) -> list[int] | None:
    if value is None:
        return None
    try:
        return [int(x) for x in value.replace(" ", "").split(",")]
    except ValueError:
        raise typer.BadParameter(
            f"{value!r}: give two answers 0-3 like 2,1", param_hint=name
        ) from None


def distress_cmd(
    thermometer: Annotated[
        int | None, typer.Option("--thermometer", help="Distress Thermometer 0-10 (past week).")
    ] = None,
    phq2: Annotated[str | None, typer.Option("--phq2", help="PHQ-2 answers 0-3, e.g. 2,1.")] = None,
    gad2: Annotated[str | None, typer.Option("--gad2", help="GAD-2 answers 0-3, e.g. 1,0.")] = None,
    problem: Annotated[
        list[str] | None, typer.Option("--problem", help="Problem area (repeatable).")
    ] = None,
    self_harm: Annotated[
        bool, typer.Option("--self-harm", help="Thoughts of harming yourself.")
    ] = False,
    caregiver: Annotated[bool, typer.Option("--caregiver", help="You are a caregiver.")] = False,
    output: FormatOption = OutputFormat.text,
) -> None:
    """Distress screen (PHQ-2, GAD-2, Distress Thermometer) with matched support.

    With no answers it shows the questions.
    """
    spec = distress_spec()
    nothing = thermometer is None and phq2 is None and gad2 is None and not problem
    if nothing and not self_harm and not caregiver:
        if output is OutputFormat.json:
            emit_json(spec.model_dump(mode="json", by_alias=True))
            return
        typer.echo("Over the past 2 weeks, how often have you been bothered by each problem?")
        typer.echo("  " + ", ".join(f"{i} = {a}" for i, a in enumerate(spec.answer_scale)))
        for s in spec.screens:
            if s.items:
                typer.echo(f"\n{s.name}:")
                for i, item in enumerate(s.items, 1):
                    typer.echo(f"  {i}. {item.text}")
        typer.echo(
            "\nDistress Thermometer: from 0 (none) to 10 (extreme), "
            "how much distress this past week?"
        )
        typer.echo("Problem areas: " + ", ".join(a.id for a in spec.problem_areas))
        typer.echo(
            "\nExample: myelonav distress --phq2 1,2 --gad2 2,2 --thermometer 6 --problem practical"
        )
        typer.echo(f"\n{DISCLAIMER}")
        return
    result = assess(
        thermometer=thermometer,
        phq2=_pair(phq2, "--phq2"),
        gad2=_pair(gad2, "--gad2"),
        problems=problem or [],
        self_harm=self_harm,
        caregiver=caregiver,
    )
    d = result.to_dict()
    if output is OutputFormat.json:
        emit_json(d)
        return
    for m in d["messages"]:
        typer.echo(m)
    typer.echo("")
    for s in d["screens"]:
        flag = "POSITIVE" if s["positive"] else "below cut-off"
        typer.echo(
            f"{s['name']}: {s['score']}/{s['out_of']} ({flag}; cut-off "
            f"{s['positive_at_least']}). {s['meaning']}"
        )
    typer.echo("\nSupport that fits your answers:")
    for r in d["resources"]:
        typer.echo(_resource_text(r))
    typer.echo(f"\n{DISCLAIMER}")


def _resource_text(r: dict[str, Any]) -> str:
    reach = r["how"]
    head = f"- {r['name']} ({r['organization']}): {r['offers']}"
    return f"{head}\n    {reach} (reviewed {r['last_reviewed']})"


# ------------------------------------------------------------------- learn / resources


def _piece_text(p: EducationPiece, clinician: bool, md: bool) -> str:
    out = [f"# {p.title}" if md else p.title.upper(), "", p.summary, ""]
    for para in p.body:
        out.extend([para, ""])
    if clinician and p.clinician_notes:
        out.append("## For your care team" if md else "For your care team:")
        out.extend(f"- {n}" for n in p.clinician_notes)
        out.append("")
    out.append(f"Sources (last reviewed {p.last_reviewed}):")
    out.extend(_cite_lines(list(p.citations)))
    if p.related:
        out.append(f"\nRelated: {', '.join(p.related)}")
    out.append(f"\n{DISCLAIMER}")
    return "\n".join(out)


def learn_cmd(
    topic: Annotated[str | None, typer.Argument(help="Topic id; leave out to list topics.")] = None,
    clinician: Annotated[
        bool, typer.Option("--clinician", help="Add precise notes for the care team.")
    ] = False,
    output: FormatOption = OutputFormat.text,
) -> None:
    """Short plain-language pieces: CAR T, retreatment, bispecifics, infections, FAQs and more."""
    pieces = {p.id: p for p in education().pieces}
    if topic is None:
        if output is OutputFormat.json:
            emit_json(
                {
                    "topics": [
                        {"id": p.id, "title": p.title, "summary": p.summary}
                        for p in pieces.values()
                    ]
                }
            )
            return
        for p in pieces.values():
            typer.echo(f"{p.id:<28} {p.title}")
        typer.echo(f"\nRead one: myelonav learn TOPIC\n\n{DISCLAIMER}")
        return
    if topic not in pieces:
        raise InputError(
            f"unknown topic {topic!r}; choose from {', '.join(pieces)}", location="TOPIC"
        )
    p = pieces[topic]
    if output is OutputFormat.json:
        data = p.model_dump(mode="json", exclude_none=True)
        if not clinician:
            data.pop("clinician_notes", None)
        emit_json(data)
        return
    typer.echo(_piece_text(p, clinician, md=output is OutputFormat.md))


def resources_cmd(
    need: Annotated[
        list[str] | None,
        typer.Option("--need", help="Filter by tag (repeatable), e.g. caregiver, financial."),
    ] = None,
    output: FormatOption = OutputFormat.text,
) -> None:
    """Support organizations: what each offers and how to reach it."""
    items = list(resource_list().resources)
    tags = sorted({t for r in items for t in r.tags})
    if need:
        unknown = [n for n in need if n not in tags]
        if unknown:
            raise InputError(
                f"unknown tag(s) {', '.join(unknown)}; choose from {', '.join(tags)}",
                location="--need",
            )
        items = [r for r in items if set(need) & set(r.tags)]
    dicts = [resource_dict(r) for r in items]
    if output is OutputFormat.json:
        emit_json({"resources": dicts, "tags": tags})
        return
    for r in dicts:
        typer.echo(_resource_text(r))
    typer.echo("\nIn an emergency call 911. For a mental health crisis, call or text 988.")
    typer.echo(f"\n{DISCLAIMER}")


def support_cmd(
    profile: Annotated[str, typer.Argument(help="Patient profile (JSON or YAML).")],
    as_of: AsOfOption = None,
    output: FormatOption = OutputFormat.text,
) -> None:
    """For this patient: current bispecific, infection checks, what to read, who to call."""
    summary = support_summary(load_profile(profile), as_of=parse_as_of(as_of))
    if output is OutputFormat.json:
        emit_json(summary)
        return
    for line in summary["lines"]:
        typer.echo(line)
    typer.echo(f"\n{DISCLAIMER}")


def register(root: typer.Typer) -> None:
    root.command("calendar")(handle_errors(calendar_cmd))
    symptoms_app.command("check")(handle_errors(symptoms_check))
    symptoms_app.command("log")(handle_errors(symptoms_log))
    symptoms_app.command("diary")(handle_errors(symptoms_diary))
    symptoms_app.command("ice")(handle_errors(symptoms_ice))
    root.add_typer(symptoms_app, name="symptoms")
    root.command("distress")(handle_errors(distress_cmd))
    root.command("learn")(handle_errors(learn_cmd))
    root.command("resources")(handle_errors(resources_cmd))
    root.command("support")(handle_errors(support_cmd))
