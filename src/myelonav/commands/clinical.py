"""Clinical calculators on the command line: response, stage, grade crs|icans, renal."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from typing import Annotated, Any

import typer

from myelonav.clinical import astct, renal, staging
from myelonav.clinical.car_t import CarTFacts, car_t_facts
from myelonav.clinical.imwg import ResponseResult, assessments_from_record, evaluate_record
from myelonav.clinical.thresholds import ASSESSMENT_WINDOW_DAYS, LAST_REVIEWED
from myelonav.commands._common import (
    AsOfOption,
    FormatOption,
    OutputFormat,
    emit_json,
    fail,
    handle_errors,
    open_profile,
    parse_as_of,
)
from myelonav.errors import CalculationError, ImplausibleInputError, InputError
from myelonav.patient.models import PatientRecord, Sex

SOURCES = {
    "imwg": "Kumar S, et al. Lancet Oncol 2016;17:e328-46 (IMWG response criteria)",
    "iss": "Greipp PR, et al. J Clin Oncol 2005;23:3412-20 (ISS)",
    "r_iss": "Palumbo A, et al. J Clin Oncol 2015;33:2863-9 (R-ISS)",
    "r2_iss": "D'Agostino M, et al. J Clin Oncol 2022;40:3406-18 (R2-ISS)",
    "astct": "Lee DW, et al. Biol Blood Marrow Transplant 2019;25:625-38 (ASTCT grading)",
    "cockcroft_gault": "Cockcroft DW, Gault MH. Nephron 1976;16:31-41",
    "ckd_epi_2021": "Inker LA, et al. N Engl J Med 2021;385:1737-49 (CKD-EPI 2021)",
}
TEAM = "Check this with your care team before acting on it."


@contextlib.contextmanager
def _as_flags(**flags: str) -> Iterator[None]:
    """Name the command-line flag, not the calculator's field, in a plausibility error."""
    try:
        yield
    except ImplausibleInputError as exc:
        if exc.field not in flags:
            raise
        raise ImplausibleInputError(flags[exc.field], exc.plain) from None


def _d(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


# --------------------------------------------------------------------------- response


def _response_json(result: ResponseResult) -> dict[str, Any]:
    b = result.baseline
    return {
        "baseline": {
            "date": _d(b.date),
            "path": b.path.value,
            "serum_m_g_dl": b.serum_m,
            "urine_m_mg_24h": b.urine_m,
            "dflc_mg_l": b.dflc,
            "involved_light_chain": b.involved.value if b.involved else None,
            "measurable": {
                "serum": b.serum_measurable,
                "urine": b.urine_measurable,
                "flc": b.flc_measurable,
            },
        },
        "assessments": [
            {
                "date": a.date.isoformat(),
                "category": a.category.value,
                "rule": a.rule,
                "rule_text": a.rule_text,
                "path": a.path,
                "missing": a.missing_labels,
                "nadir_before": {
                    "serum_m_g_dl": a.nadir_serum,
                    "urine_m_mg_24h": a.nadir_urine,
                    "dflc_mg_l": a.nadir_dflc,
                },
                "relapse_from_cr": a.relapse_from_cr,
            }
            for a in result.assessments
        ],
        "best_response": result.best_response.value if result.best_response else None,
        "best_response_date": _d(result.best_response_date),
        "best_unconfirmed": result.best_unconfirmed.value if result.best_unconfirmed else None,
        "progression_date": _d(result.progression_date),
        "pending_progression_date": _d(result.pending_progression_date),
        "relapse_from_cr_date": _d(result.relapse_from_cr_date),
        "nadir": {
            "serum_m_g_dl": result.nadir_serum,
            "urine_m_mg_24h": result.nadir_urine,
            "dflc_mg_l": result.nadir_dflc,
        },
        "notes": result.notes,
    }


def _facts_json(facts: CarTFacts) -> dict[str, Any]:
    return {
        "product": facts.product,
        "infusion_date": facts.infusion_date.isoformat(),
        "window_end": _d(facts.window_end),
        "best_response": {
            "computed": facts.best_response.value if facts.best_response else None,
            "recorded": facts.best_response_recorded.value
            if facts.best_response_recorded
            else None,
        },
        "progression_date": {
            "used": _d(facts.progression_date),
            "source": facts.progression_source,
            "recorded": _d(facts.progression_date_recorded),
        },
        "first_response_date": _d(facts.first_response_date),
        "time_to_progression_months": facts.time_to_progression_months,
        "duration_of_response_months": facts.duration_of_response_months,
        "relapse_class": facts.relapse_class.value,
        "early_relapse_cutoff_months": facts.early_relapse_months,
        "not_evaluable": facts.not_evaluable,
        "relapse_from_cr_date": _d(facts.relapse_from_cr_date),
        "disagreements": facts.disagreements,
        "notes": facts.notes,
        "imwg": _response_json(facts.response) if facts.response else None,
    }


def _print_response(result: ResponseResult) -> None:
    typer.echo(f"Baseline {_d(result.baseline.date)} (followed by: {result.baseline.path.value})")
    for a in result.assessments:
        line = f"  {a.date}  {a.category.value:<4}  {a.rule_text}"
        if a.missing_labels:
            line += f"  [missing: {'; '.join(a.missing_labels)}]"
        typer.echo(line)
    best = result.best_response.value if result.best_response else "not confirmed yet"
    typer.echo(f"Best confirmed response: {best}")
    typer.echo(f"Confirmed progression: {_d(result.progression_date) or 'none'}")
    for note in result.notes:
        typer.echo(f"Note: {note}")


@handle_errors
def response(
    profile: str,
    as_of: AsOfOption = None,
    output: FormatOption = OutputFormat.text,
    episode: Annotated[
        int | None,
        typer.Option("--episode", help="Which CAR T episode (1 = first); default the last."),
    ] = None,
    baseline: Annotated[
        str | None,
        typer.Option("--baseline", help="Baseline date (YYYY-MM-DD) instead of a CAR T episode."),
    ] = None,
) -> None:
    """IMWG 2016 response per assessment, best response and progression (CAR T episode)."""
    record = open_profile(profile)
    when = parse_as_of(as_of)
    payload: dict[str, Any] = {"patient": record.id, "as_of": when.isoformat(),
                               "source": SOURCES["imwg"], "last_reviewed": LAST_REVIEWED}
    if record.car_t and baseline is None:
        index = len(record.car_t) if episode is None else episode
        if not 1 <= index <= len(record.car_t):
            raise InputError(f"episode {index} does not exist (record has {len(record.car_t)})",
                             location="--episode")
        facts = car_t_facts(record, record.car_t[index - 1], as_of=when)
        payload["car_t"] = _facts_json(facts)
        if output is OutputFormat.json:
            emit_json(payload)
            return
        _print_car_t(facts)
        return
    base_date = parse_as_of(baseline) if baseline else None
    items = assessments_from_record(record, end=when, window_days=ASSESSMENT_WINDOW_DAYS)
    if not items:
        raise CalculationError("no response labs (serum/urine M-protein, FLC, marrow)",
                               location="labs")
    start = base_date or items[0].date
    result = evaluate_record(
        record, treatment_start=start, end=when, lookback_days=max(0, (start - items[0].date).days)
    )
    if result is None:
        raise CalculationError(
            f"no response labs on or before the baseline {start}", location="--baseline"
        )
    payload["imwg"] = _response_json(result)
    if output is OutputFormat.json:
        emit_json(payload)
        return
    _print_response(result)
    typer.echo(TEAM)


def _print_car_t(facts: CarTFacts) -> None:
    typer.echo(f"CAR T: {facts.product}, infused {facts.infusion_date}")
    if facts.response is not None:
        _print_response(facts.response)
    best = facts.best_response or facts.best_response_recorded
    typer.echo(f"Best response after CAR T: {best.value if best else 'unknown'}")
    if facts.not_evaluable:
        typer.echo(f"Response not evaluable: {facts.not_evaluable}")
    if facts.relapse_from_cr_date:
        typer.echo(
            f"Relapse from complete response on {facts.relapse_from_cr_date} (not progression "
            "by itself)"
        )
    if facts.progression_date:
        typer.echo(
            f"Disease came back (progression) on {facts.progression_date} "
            f"({facts.progression_source}), {facts.time_to_progression_months} months after "
            "infusion"
        )
    if facts.duration_of_response_months is not None:
        typer.echo(f"Response lasted {facts.duration_of_response_months} months")
    typer.echo(
        f"Relapse class: {facts.relapse_class.value.replace('_', ' ')} "
        f"(early = progression < {facts.early_relapse_months} months after infusion)"
    )
    for item in facts.disagreements:
        typer.echo(f"Differs from the record: {item}")
    shown = set(facts.response.notes) if facts.response else set()
    for note in facts.notes:
        if note not in shown:
            typer.echo(f"Note: {note}")
    typer.echo(TEAM)


# --------------------------------------------------------------------------- stage


@handle_errors
def stage(profile: str, as_of: AsOfOption = None, output: FormatOption = OutputFormat.text) -> None:
    """ISS, R-ISS and R2-ISS at diagnosis, or which inputs are missing."""
    record = open_profile(profile)
    when = parse_as_of(as_of)
    inputs = staging.inputs_from_record(record, as_of=when)
    results: dict[str, Any] = {}
    for key, fn in (("iss", staging.iss), ("r_iss", staging.r_iss), ("r2_iss", staging.r2_iss)):
        try:
            s = fn(inputs)
            results[key] = {"stage": s.label, "score": s.score, "reasons": s.reasons,
                            "source": SOURCES[key]}
        except CalculationError as exc:
            results[key] = {"stage": None, "cannot_stage": exc.message, "source": SOURCES[key]}
    problems = [] if record.diagnosis.date else [
        "diagnosis date unknown (diagnosis.date): labs at diagnosis cannot be identified"
    ]
    if output is OutputFormat.json:
        emit_json({"patient": record.id, "as_of": when.isoformat(), "lab_dates": inputs.sources,
                   "problems": problems,
                   "staging": results, "last_reviewed": LAST_REVIEWED,
                   "note": "Staging systems describe risk at diagnosis, not after relapse."})
        return
    for key, item in results.items():
        typer.echo(f"{key.upper().replace('_', '-')}: {item['stage'] or item['cannot_stage']}")
    for problem in problems:
        typer.echo(f"Note: {problem}")
    typer.echo("These stages describe risk at diagnosis, not now. " + TEAM)


# --------------------------------------------------------------------------- grade

grade_app = typer.Typer(no_args_is_help=True, help="ASTCT grading of CRS and ICANS.")


@grade_app.command("crs")
@handle_errors
def grade_crs(
    temperature: Annotated[
        float | None, typer.Option("--temperature", "--temp", help="Maximum temperature, °C.")
    ] = None,
    hypotension: Annotated[
        astct.Hypotension, typer.Option("--hypotension", help="Blood-pressure support.")
    ] = astct.Hypotension.none,
    oxygen: Annotated[
        astct.OxygenSupport, typer.Option("--oxygen", help="Oxygen support.")
    ] = astct.OxygenSupport.none,
    flow: Annotated[
        float | None,
        typer.Option("--flow", help="Nasal cannula flow in L/min (sets --oxygen by flow)."),
    ] = None,
    fever_masked: Annotated[
        bool, typer.Option("--fever-masked", help="Fever masked by tocilizumab/steroids.")
    ] = False,
    as_of: AsOfOption = None,
    output: FormatOption = OutputFormat.text,
) -> None:
    """ASTCT CRS grade from fever, hypotension and oxygen support."""
    when = parse_as_of(as_of)
    if flow is not None:
        if oxygen is not astct.OxygenSupport.none:
            raise InputError("give --flow or --oxygen, not both", location="--flow")
        with _as_flags(oxygen_flow="--flow"):
            oxygen = astct.oxygen_from_flow(flow)
    with _as_flags(temperature="--temperature"):
        g = astct.crs_grade(
            max_temperature_c=temperature, hypotension=hypotension, oxygen=oxygen,
            fever_masked=fever_masked,
        )
    _emit_grade("CRS", g, when, output)


@grade_app.command("icans")
@handle_errors
def grade_icans(
    ice: Annotated[int | None, typer.Option("--ice", help="ICE score 0-10.")] = None,
    ice_items: Annotated[
        str | None,
        typer.Option(
            "--ice-items",
            help="ICE items instead of --ice: year,month,city,hospital,objects(0-3),commands,"
            "writing,attention as 1/0, e.g. 1,1,0,1,3,1,0,1.",
        ),
    ] = None,
    consciousness: Annotated[
        astct.Consciousness, typer.Option("--consciousness")
    ] = astct.Consciousness.normal,
    seizure: Annotated[astct.Seizure, typer.Option("--seizure")] = astct.Seizure.none,
    motor: Annotated[astct.Motor, typer.Option("--motor")] = astct.Motor.none,
    edema: Annotated[astct.Edema, typer.Option("--edema")] = astct.Edema.none,
    as_of: AsOfOption = None,
    output: FormatOption = OutputFormat.text,
) -> None:
    """ASTCT ICANS grade from ICE, consciousness, seizure, motor findings and oedema."""
    when = parse_as_of(as_of)
    if ice_items is not None:
        if ice is not None:
            raise InputError("give --ice or --ice-items, not both", location="--ice-items")
        ice = _parse_ice_items(ice_items).score()
    g = astct.icans_grade(ice=ice, consciousness=consciousness, seizure=seizure, motor=motor,
                          edema=edema)
    _emit_grade("ICANS", g, when, output, extra={"ice_score": ice})


def _parse_ice_items(text: str) -> astct.IceItems:
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 8 or not all(p.isdigit() for p in parts):
        raise InputError("--ice-items needs 8 comma-separated numbers", location="--ice-items")
    v = [int(p) for p in parts]
    flags = v[:4] + v[5:]
    if any(x not in (0, 1) for x in flags):
        raise InputError("ICE yes/no items must be 1 or 0", location="--ice-items")
    return astct.IceItems(
        oriented_year=bool(v[0]), oriented_month=bool(v[1]), oriented_city=bool(v[2]),
        oriented_hospital=bool(v[3]), objects_named=v[4], follows_commands=bool(v[5]),
        writes_sentence=bool(v[6]), counts_back_by_ten=bool(v[7]),
    )


def _emit_grade(
    kind: str, g: astct.Grade, when: dt.date, output: OutputFormat,
    extra: dict[str, Any] | None = None,
) -> None:
    if output is OutputFormat.json:
        emit_json({"kind": kind, "grade": g.grade, "reasons": g.reasons, "as_of": when.isoformat(),
                   "source": SOURCES["astct"], "last_reviewed": LAST_REVIEWED, **(extra or {})})
        return
    label = "no " + kind if g.grade == 0 else f"grade {g.grade} {kind}"
    typer.echo(f"ASTCT: {label}")
    for reason in g.reasons:
        typer.echo(f"  - {reason}")
    typer.echo(TEAM)


# --------------------------------------------------------------------------- renal


@handle_errors
def renal_cmd(
    profile: Annotated[str | None, typer.Argument(help="Profile to read labs from.")] = None,
    age: Annotated[float | None, typer.Option("--age", help="Age in years.")] = None,
    sex: Annotated[Sex | None, typer.Option("--sex", help="female or male.")] = None,
    weight: Annotated[float | None, typer.Option("--weight", help="Weight in kg.")] = None,
    creatinine: Annotated[float | None, typer.Option("--creatinine")] = None,
    unit: Annotated[str, typer.Option("--unit", help="Creatinine unit: mg/dL or umol/L.")] = (
        "mg/dL"
    ),
    as_of: AsOfOption = None,
    output: FormatOption = OutputFormat.text,
) -> None:
    """Cockcroft-Gault creatinine clearance and CKD-EPI 2021 eGFR."""
    when = parse_as_of(as_of)
    problems: list[str] = []
    cg: renal.RenalResult | None = None
    epi: renal.RenalResult | None = None
    creat_date: str | None = None
    if profile is not None:
        if any(v is not None for v in (age, sex, weight, creatinine)):
            raise InputError("give a profile or --age/--sex/--weight/--creatinine, not both",
                             location="PROFILE")
        record: PatientRecord = open_profile(profile)
        res = renal.renal_from_record(record, as_of=when)
        cg, epi, problems, creat_date = (res.cockcroft_gault, res.ckd_epi_2021, res.problems,
                                         res.creatinine_date.isoformat())
    else:
        missing = [n for n, v in (("--age", age), ("--sex", sex), ("--creatinine", creatinine))
                   if v is None]
        if missing:
            raise InputError(f"missing {', '.join(missing)}", location=missing[0])
        assert age is not None and sex is not None and creatinine is not None
        with _as_flags(creatinine="--creatinine", age="--age", weight="--weight"):
            scr = renal.creatinine_mg_dl(creatinine, unit)
            epi = renal.ckd_epi_2021(age=age, sex=sex, creatinine=scr)
            if weight is None:
                problems.append("no --weight: Cockcroft-Gault not computed")
            else:
                cg = renal.cockcroft_gault(age=age, weight_kg=weight, sex=sex, creatinine=scr)
    results = {
        key: None if r is None else {"value": round(r.value, 1), "unit": r.unit,
                                     "inputs": r.inputs, "source": SOURCES[key]}
        for key, r in (("cockcroft_gault", cg), ("ckd_epi_2021", epi))
    }
    if output is OutputFormat.json:
        emit_json({"as_of": when.isoformat(), "creatinine_date": creat_date, **results,
                   "problems": problems, "last_reviewed": LAST_REVIEWED})
        return
    if cg:
        typer.echo(f"Creatinine clearance (Cockcroft-Gault): {cg.value:.0f} mL/min")
    if epi:
        typer.echo(f"eGFR (CKD-EPI 2021): {epi.value:.0f} mL/min/1.73 m2")
    for p in problems:
        typer.echo(f"Not computed: {p}")
    if cg is None and epi is None:
        raise fail("no kidney-function estimate could be computed")
    typer.echo("Trials and drug labels say which estimate they use. " + TEAM)


def register(app: typer.Typer) -> None:
    app.command("response")(response)
    app.command("stage")(stage)
    app.command("renal")(renal_cmd)
    app.add_typer(grade_app, name="grade")
