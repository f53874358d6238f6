"""The second-opinion packet: one printable HTML document, rendered to PDF with WeasyPrint.

Everything is built on this computer from the record: nothing is sent anywhere, and the
renderer may read only ``data:`` and ``file:`` URLs (the plot is inlined as SVG), so no font,
stylesheet or image is fetched from the network. The disclaimer sits in the footer of every
page; sample patients are labelled SAMPLE in the header of every page.

Sections: patient summary, treatment timeline, lab plot, CAR T response and progression
(IMWG), staging at diagnosis, current labs against common trial thresholds, options with
citations, matched trials with nearest sites, questions, records checklist, symptom diary,
finding a centre.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from myelonav import DISCLAIMER, __version__
from myelonav.atomic import write_bytes_atomic
from myelonav.clinical.car_t import car_t_facts
from myelonav.clinical.staging import Stage, inputs_from_record, iss, r2_iss, r_iss
from myelonav.errors import CalculationError
from myelonav.knowledge.cost import cost_help
from myelonav.options.report import options_report
from myelonav.patient.lines import imwg_lines
from myelonav.patient.models import Analyte, FactSource, PatientRecord
from myelonav.patient.summary import summarise
from myelonav.picture import clinical_picture
from myelonav.support.diary import Diary, reported_symptoms
from myelonav.visit.checklist import STATUS_TEXT as CHECK_STATUS
from myelonav.visit.checklist import build_checklist
from myelonav.visit.content import centre_content, threshold_content
from myelonav.visit.labs import STATUS_TEXT as LAB_STATUS
from myelonav.visit.labs import lab_checks
from myelonav.visit.plot import describe, render_plot
from myelonav.visit.provenance import LEGEND, MARK_TEXT, mark, profile_default
from myelonav.visit.questions import build_questions
from myelonav.visit.trials import TrialRow

SECTION_IDS = (
    "summary", "timeline", "plot", "car-t", "staging", "labs", "options", "trials",
    "questions", "checklist", "diary", "centres",
)
PRIVACY_NOTE = ("Made on this computer with myelonav. Nothing in this packet was sent "
                "anywhere.")


@dataclass(frozen=True)
class PacketInputs:
    """What the packet is built from. ``trials`` is ``None`` when matching was not run."""

    record: PatientRecord
    as_of: dt.date
    trials: Sequence[TrialRow] | None = None
    diary: Diary | None = None
    # how the profile was made (intake, fhir, ccda, profile, sample): decides whether a fact
    # without its own ``reported_by`` is the patient's word or the record's
    source: str | None = None
    # the trial view's count with its travel limit, and the day trials were last updated
    trials_note: str | None = None
    trials_updated: str | None = None


@cache
def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("myelonav.visit", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["pretty"] = lambda v: "-" if v is None or v == "" else str(v).replace("_", " ")
    return env


def _stage(system: str, inputs: Any) -> dict[str, Any]:
    fn = {"ISS": iss, "R-ISS": r_iss, "R2-ISS": r2_iss}[system]
    try:
        stage: Stage = fn(inputs)
    except CalculationError as exc:
        return {"system": system, "label": "not staged", "detail": exc.message}
    return {"system": system, "label": stage.label, "detail": "; ".join(stage.reasons)}


def _car_t_rows(record: PatientRecord, as_of: dt.date,
                default: FactSource | None = None) -> list[dict[str, Any]]:
    rows = []
    for episode in record.car_t:
        if episode.infusion_date > as_of:
            continue
        f = car_t_facts(record, episode, as_of=as_of)
        rows.append({
            "product": f.product,
            "target": episode.target_antigen,
            "infusion_date": f.infusion_date.isoformat(),
            "best_response": f.best_response.value if f.best_response else None,
            "best_response_recorded": f.best_response_recorded.value
            if f.best_response_recorded else None,
            "progression_date": f.progression_date.isoformat() if f.progression_date else None,
            "progression_source": f.progression_source,
            "ttp": f.time_to_progression_months,
            "dor": f.duration_of_response_months,
            "relapse_class": f.relapse_class.value,
            "crs": episode.crs_max_grade,
            "icans": episode.icans_max_grade,
            "antigen": episode.antigen_status_at_relapse.value
            if episode.antigen_status_at_relapse else "unknown",
            "notes": [*f.disagreements, *f.notes],
            "source": mark(episode, default),
        })
    return rows


def _options(report: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for o in report["options"]:
        reasons = [r["text"] for r in o.get("reasons", []) if r.get("result") == "fired"]
        cites: list[str] = []
        for r in o.get("reasons", []):
            cites += r.get("citations", [])
        cites += [e["citation"] for e in o.get("evidence", []) if e.get("citation")]
        rows.append({
            "name": o["name"],
            "status": o["status"],
            "reasons": reasons,
            "missing": o.get("missing_information", []),
            "approval": o.get("approval", []),
            "citations": list(dict.fromkeys(cites)),
        })
    return rows


def _diary_rows(diary: Diary | None, as_of: dt.date) -> list[dict[str, Any]]:
    if diary is None:
        return []
    return [
        {"date": e.date.isoformat(), "symptoms": reported_symptoms(e.report) or ["none reported"],
         "urgency": e.urgency.replace("_", " "), "note": e.note}
        for e in diary.entries if e.date <= as_of
    ]


def _timeline(record: PatientRecord, as_of: dt.date,
              default: FactSource | None = None) -> dict[str, Any]:
    lines = imwg_lines(record, as_of)
    regimens = [
        {"regimen": ln.regimen or " + ".join(ln.agents), "agents": ", ".join(ln.agents),
         "start": ln.start.isoformat() if ln.start else None,
         "end": ln.end.isoformat() if ln.end else None,
         "best_response": ln.best_response.value if ln.best_response else None,
         "stop": ln.stop_reason.value, "refractory": ln.refractory,
         "source": mark(ln, default)}
        for ln in record.therapy_lines if ln.start is None or ln.start <= as_of
    ]
    return {
        "lines": [{"number": ln.number, "start": ln.start.isoformat() if ln.start else None,
                   "parts": ln.parts, "refractory": ln.refractory} for ln in lines],
        "regimens": regimens,
        "transplants": [{"kind": t.kind.value, "date": t.date.isoformat() if t.date else None,
                         "best_response": t.best_response.value if t.best_response else None,
                         "source": mark(t, default)}
                        for t in record.transplants if t.date is None or t.date <= as_of],
    }


def _summary_with_sources(record: PatientRecord, as_of: dt.date,
                          default: FactSource | None) -> dict[str, Any]:
    """``summarise`` with a ``source`` mark on every fact it lists."""
    summary = summarise(record, as_of)
    for row, fact in zip(summary["cytogenetics"], record.cytogenetics, strict=True):
        row["source"] = mark(fact, default)
    for row, site in zip(summary["disease_sites"], record.disease_sites, strict=True):
        row["source"] = mark(site, default)
    if summary["ecog"] is not None:
        summary["ecog"]["source"] = mark(record.latest_ecog(as_of), default)
    for lab in summary["latest_labs"]:
        lab["source"] = mark(record.latest(Analyte(lab["analyte"]), as_of), default)
    return summary


def packet_context(inputs: PacketInputs) -> dict[str, Any]:
    """Everything the template shows, as plain data."""
    record, as_of = inputs.record, inputs.as_of
    picture = clinical_picture(record, as_of)  # the record read once for the whole packet
    report = options_report(record, as_of, "clinician", picture)
    patient_report = options_report(record, as_of, "patient", picture)
    staging_inputs = inputs_from_record(record, as_of=as_of)
    default = profile_default(inputs.source or ("sample" if record.sample else None))
    svg = render_plot(record, as_of, "svg")
    questions = build_questions(record, as_of, report=patient_report,
                                trials=inputs.trials or (), diary=inputs.diary,
                                picture=picture)
    return {
        "title": f"Second-opinion packet for {record.id}",
        "sample": record.sample,
        "as_of": as_of.isoformat(),
        "version": __version__,
        "disclaimer": DISCLAIMER,
        "privacy": PRIVACY_NOTE,
        "patient_name": record.preferences.name_on_packet or None,
        "sources": MARK_TEXT,
        "source_legend": LEGEND,
        "lines_reported": record.lines_before_car_t_reported,
        "summary": _summary_with_sources(record, as_of, default),
        "timeline": _timeline(record, as_of, default),
        "plot_src": "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii"),
        "plot_alt": describe(record, as_of),
        "car_t": _car_t_rows(record, as_of, default),
        "car_t_failure": report["car_t_failure"],
        "data_quality": report.get("data_quality", []),
        "lines_of_therapy": report["facts"]["lines_of_therapy"]["value"],
        "staging": [_stage(s, staging_inputs) for s in ("ISS", "R-ISS", "R2-ISS")],
        "staging_sources": staging_inputs.sources,
        "lab_checks": [c.as_json() for c in lab_checks(picture)],
        "lab_status": LAB_STATUS,
        "threshold_note": threshold_content().note,
        "options": _options(report),
        "cost_help": [
            found.as_json()
            for o in report["options"]
            if o["status"] in ("fits", "consider with caution")
            and o["category"] != "supportive_care"
            and (found := cost_help(o["id"])) is not None
        ],
        "trials": [t.as_json() | {"verdict_text": t.verdict_text} for t in inputs.trials]
        if inputs.trials is not None else None,
        "trials_note": inputs.trials_note,
        "trials_updated": inputs.trials_updated,
        "questions": [q.as_json() for q in questions],
        "checklist": [c.as_json() for c in build_checklist(record, as_of)],
        "check_status": CHECK_STATUS,
        "diary": _diary_rows(inputs.diary, as_of),
        "centres": centre_content(),
    }


def render_html(inputs: PacketInputs) -> str:
    return _env().get_template("packet.html.j2").render(**packet_context(inputs))


def _fetcher() -> Any:
    from weasyprint.urls import URLFetcher  # type: ignore[import-untyped,unused-ignore]

    # Only inline data and local files: never the network.
    return URLFetcher(allowed_protocols={"data", "file"}, allow_redirects=False)


PDF_VARIANT = "pdf/ua-1"


def html_to_pdf(html: str) -> bytes:
    """A tagged PDF (PDF/UA-1): screen readers get the headings, tables with their header
    cells, the plot's text alternative and the reading order of the HTML; the document
    language and title come from ``<html lang>`` and ``<title>``."""
    from weasyprint import HTML  # type: ignore[import-untyped,unused-ignore]

    pdf: bytes = HTML(string=html, base_url=None, url_fetcher=_fetcher()).write_pdf(
        pdf_variant=PDF_VARIANT)
    return pdf


def write_packet(
    inputs: PacketInputs, pdf_path: str | Path | None = None, html_path: str | Path | None = None
) -> str:
    """Render everything first, then write the PDF and/or the HTML (each atomically), so a
    failure while rendering leaves no file behind. Returns the HTML."""
    html = render_html(inputs)
    pdf = html_to_pdf(html) if pdf_path is not None else None
    if html_path is not None:
        write_bytes_atomic(html_path, html.encode("utf-8"))
    if pdf_path is not None and pdf is not None:
        write_bytes_atomic(pdf_path, pdf)
    return html


__all__ = [
    "PDF_VARIANT",
    "PRIVACY_NOTE",
    "SECTION_IDS",
    "PacketInputs",
    "html_to_pdf",
    "packet_context",
    "render_html",
    "write_packet",
]
