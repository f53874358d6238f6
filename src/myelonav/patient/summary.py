"""A readable summary of a patient record as of a date: what myelonav knows, and how fresh it is."""

from __future__ import annotations

import datetime as dt
from typing import Any

from myelonav.patient.lines import imwg_lines
from myelonav.patient.models import CANONICAL_UNIT, Analyte, PatientRecord

# A lab older than this is shown as not current (trial screening usually wants recent labs).
CURRENT_LAB_DAYS = 90

_LAB_LABELS: dict[Analyte, str] = {
    Analyte.hemoglobin: "Haemoglobin",
    Analyte.anc: "Neutrophils (ANC)",
    Analyte.platelets: "Platelets",
    Analyte.lymphocytes: "Lymphocytes",
    Analyte.creatinine: "Creatinine",
    Analyte.bilirubin: "Bilirubin",
    Analyte.ast: "AST",
    Analyte.alt: "ALT",
    Analyte.calcium: "Calcium",
    Analyte.albumin: "Albumin",
    Analyte.beta2_microglobulin: "Beta-2 microglobulin",
    Analyte.ldh: "LDH",
    Analyte.igg: "IgG",
    Analyte.serum_m_protein: "Serum M-protein",
    Analyte.urine_m_protein: "Urine M-protein",
    Analyte.kappa_flc: "Kappa free light chain",
    Analyte.lambda_flc: "Lambda free light chain",
    Analyte.serum_immunofixation: "Serum immunofixation",
    Analyte.marrow_plasma_cells: "Marrow plasma cells",
    Analyte.circulating_plasma_cells: "Circulating plasma cells",
    Analyte.body_weight: "Weight",
}


def summarise(record: PatientRecord, as_of: dt.date) -> dict[str, Any]:
    """A JSON-ready summary of the record as of ``as_of``."""
    demo = record.demographics
    lines = imwg_lines(record, as_of)
    labs = []
    for analyte, label in _LAB_LABELS.items():
        latest = record.latest(analyte, as_of)
        if latest is None:
            continue
        age_days = (as_of - latest.date).days
        labs.append(
            {
                "analyte": analyte.value,
                "label": label,
                "date": latest.date.isoformat(),
                "value": latest.value,
                "unit": CANONICAL_UNIT[analyte] or None,
                "qualitative": latest.qualitative.value if latest.qualitative else None,
                # "< value": below the limit the lab could measure, not the value itself
                "below_limit": bool(latest.below_limit),
                "days_old": age_days,
                "current": age_days <= CURRENT_LAB_DAYS,
            }
        )
    car_t = [
        {
            "product": c.product,
            "target": c.target_antigen,
            "infusion_date": c.infusion_date.isoformat(),
            "days_since_infusion": (as_of - c.infusion_date).days,
            "crs_max_grade": c.crs_max_grade,
            "icans_max_grade": c.icans_max_grade,
            "antigen_status_at_relapse": c.antigen_status_at_relapse.value
            if c.antigen_status_at_relapse
            else "unknown",
        }
        for c in record.car_t
        if c.infusion_date <= as_of
    ]
    ecog = record.latest_ecog(as_of)
    return {
        "id": record.id,
        "sample": record.sample,
        "as_of": as_of.isoformat(),
        "age": demo.age_on(as_of),
        "sex": demo.sex.value,
        "postal_code": demo.postal_code,
        "diagnosis_date": record.diagnosis.date.isoformat() if record.diagnosis.date else None,
        "isotype": record.diagnosis.isotype.label(),
        "cytogenetics": [
            {
                "abnormality": f.abnormality.value,
                "detected": f.detected,
                "date": f.date.isoformat() if f.date else None,
            }
            for f in record.cytogenetics
        ],
        "lines_of_therapy": [
            {
                "number": ln.number,
                "start": ln.start.isoformat() if ln.start else None,
                "parts": ln.parts,
                "car_t": ln.car_t,
                "refractory": ln.refractory,
            }
            for ln in lines
        ],
        "car_t": car_t,
        "ecog": {"score": ecog.score, "date": ecog.date.isoformat() if ecog.date else None}
        if ecog
        else None,
        "disease_sites": [
            {
                "kind": s.kind.value,
                "location": s.location,
                "date": s.date.isoformat() if s.date else None,
                "painful": s.painful,
            }
            for s in record.disease_sites
        ],
        "latest_labs": labs,
        "unmapped_count": len(record.unmapped),
    }


def render_text(summary: dict[str, Any]) -> str:
    out: list[str] = []
    title = f"Patient {summary['id']}"
    if summary["sample"]:
        title += "  [SAMPLE - a fictional patient written for myelonav]"
    out.append(title)
    age = summary["age"] if summary["age"] is not None else "unknown"
    out.append(
        f"  as of {summary['as_of']}: age {age}, "
        f"{summary['sex']}, postal code {summary['postal_code'] or 'unknown'}"
    )
    out.append(
        f"  myeloma diagnosed {summary['diagnosis_date'] or 'date unknown'}, "
        f"type {summary['isotype']}"
    )
    if summary["cytogenetics"]:
        found = ", ".join(
            f"{c['abnormality']} {'found' if c['detected'] else 'not found'}"
            for c in summary["cytogenetics"]
        )
        out.append(f"  cytogenetics: {found}")
    else:
        out.append("  cytogenetics: not recorded")
    out.append(f"  lines of therapy (IMWG grouping): {len(summary['lines_of_therapy'])}")
    for ln in summary["lines_of_therapy"]:
        flag = " (refractory)" if ln["refractory"] else ""
        out.append(f"    {ln['number']}. {ln['start'] or '?'}  {' -> '.join(ln['parts'])}{flag}")
    for c in summary["car_t"]:
        months = c["days_since_infusion"] / 30.44
        out.append(
            f"  CAR T: {c['product']} ({c['target'] or 'target unknown'}) on {c['infusion_date']}, "
            f"{months:.1f} months ago; worst CRS grade {_grade(c['crs_max_grade'])}, "
            f"ICANS grade {_grade(c['icans_max_grade'])}; "
            f"antigen at relapse: {c['antigen_status_at_relapse']}"
        )
    if summary["ecog"]:
        out.append(
            f"  ECOG performance status {summary['ecog']['score']} "
            f"({summary['ecog']['date'] or 'undated'})"
        )
    for site in summary["disease_sites"]:
        pain = ", painful" if site["painful"] else ""
        out.append(
            f"  disease site: {site['kind'].replace('_', ' ')} "
            f"{site['location'] or ''} ({site['date'] or 'undated'}{pain})"
        )
    if summary["latest_labs"]:
        out.append("  latest labs:")
        for lab in summary["latest_labs"]:
            unit = {"10*9/L": "x10^9/L"}.get(lab["unit"] or "", lab["unit"] or "")
            shown = (
                f"{'< ' if lab.get('below_limit') else ''}{lab['value']:g} {unit}".strip()
                if lab["value"] is not None
                else lab["qualitative"]
            )
            stale = "" if lab["current"] else f"  (not current: {lab['days_old']} days old)"
            out.append(f"    {lab['label']:<26} {shown:<16} {lab['date']}{stale}")
    if summary["unmapped_count"]:
        out.append(
            f"  {summary['unmapped_count']} item(s) from the source could not be mapped "
            "(see the import report)"
        )
    return "\n".join(out)


def _grade(value: int | None) -> str:
    return "unknown" if value is None else str(value)


__all__ = ["CURRENT_LAB_DAYS", "render_text", "summarise"]
