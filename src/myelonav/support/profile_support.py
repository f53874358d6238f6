"""What the support material means for one patient record (``myelonav support PROFILE``).

Reads the clinical picture: the current bispecific (from the courses not ended), the latest
CAR T, the latest plausible IgG. It points to the calendar, the reading and the people to
call; it never decides treatment.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from myelonav import DISCLAIMER
from myelonav.logic import UNKNOWN
from myelonav.patient.models import Analyte, PatientRecord
from myelonav.patient.vocabulary import vocabulary
from myelonav.picture import ClinicalPicture, clinical_picture
from myelonav.support.calendar import available
from myelonav.support.content import education, resource_list
from myelonav.support.distress import resource_dict
from myelonav.support.fit import agent_fit

IGG_IVIG_THRESHOLD_MG_DL = 400.0  # Raje et al., Blood Cancer J 2023 (consensus)
IGG_RECHECK_DAYS = 28  # ASH-SAP Table 4: monitor serum IgG every 4 weeks


def current_bispecifics(
    record: PatientRecord, as_of: dt.date, picture: ClinicalPicture | None = None
) -> list[str]:
    """Bispecific antibodies in a course not ended by the as-of date (the clinical picture's)."""
    picture = picture or clinical_picture(record, as_of)
    current = picture.value("current_agents")
    if current is UNKNOWN:
        return []
    found: list[str] = []
    for e in picture.exposures:
        if e.agent in current and "bispecific" in e.classes and e.agent not in found:
            found.append(e.agent)
    return found


def _line_start(picture: ClinicalPicture, drug_id: str) -> dt.date | None:
    """When the latest course of ``drug_id`` started (on or before the picture's date)."""
    starts = [
        e.start
        for e in picture.exposures
        if e.agent == drug_id and e.start is not None and e.start <= picture.as_of
    ]
    return max(starts, default=None)


def support_summary(record: PatientRecord, *, as_of: dt.date) -> dict[str, Any]:
    lines: list[str] = []
    reading: list[str] = []
    picture = clinical_picture(record, as_of)
    bispecifics = current_bispecifics(record, as_of, picture)
    scheduled = {s.drug for s in available()}
    vocab = vocabulary()
    if bispecifics:
        lines.append(f"Current bispecific antibody: {', '.join(bispecifics)}.")
        for b in bispecifics:
            warning = agent_fit(record, b, as_of, picture).warning()
            if warning:
                lines.append(f"  {warning}")
            variants = [s.variant for s in available() if s.drug == b]
            if b not in scheduled:
                continue
            started = _line_start(picture, b)
            when = started.isoformat() if started else "YYYY-MM-DD"
            choose = f" --variant {'|'.join(variants)}" if len(variants) > 1 else ""
            lines.append(
                f"  Dosing calendar: myelonav calendar {b}{choose} --start {when} --out {b}.ics"
            )
        reading += ["step-up-dosing", "infection-prevention"]
        if any(
            (d := vocab.resolve(b)) is not None and d.is_("gprc5d_directed") for b in bispecifics
        ):
            reading.append("gprc5d-effects")
    else:
        lines.append("No current bispecific antibody in the record.")
        reading.append("bispecifics")

    car_t = sorted(
        (e for e in record.car_t if e.infusion_date <= as_of), key=lambda e: e.infusion_date
    )
    if car_t:
        last = car_t[-1]
        days = (as_of - last.infusion_date).days
        lines.append(
            f"Latest CAR T: {last.product}, infused {last.infusion_date} ({days} days ago)."
        )
        if last.progression_date is not None and last.progression_date <= as_of:
            lines.append(f"  Progression recorded on {last.progression_date}.")
            reading += ["car-t-basics", "retreatment", "faq-after-car-t", "future-of-car-t"]

    latest_igg = picture.lab(Analyte.igg) or picture.stale_labs.get(Analyte.igg)
    igg = [latest_igg] if latest_igg is not None and latest_igg.value is not None else []
    igg_status: dict[str, Any] | None = None
    if igg:
        latest = igg[-1]
        assert latest.value is not None
        age = (as_of - latest.date).days
        low = latest.value < IGG_IVIG_THRESHOLD_MG_DL
        igg_status = {
            "value_mg_dl": latest.value,
            "date": latest.date.isoformat(),
            "below_400": low,
        }
        lines.append(f"Latest IgG: {latest.value:g} mg/dL on {latest.date} ({age} days ago).")
        if low:
            lines.append(
                "  IgG is below 400 mg/dL. Expert consensus suggests discussing immunoglobulin "
                "replacement (IVIG) with your team (Raje et al., Blood Cancer J 2023)."
            )
        if bispecifics and age > IGG_RECHECK_DAYS:
            lines.append(
                f"  No IgG result in the last {IGG_RECHECK_DAYS} days: ask when it will be checked."
            )
    elif bispecifics:
        lines.append("No IgG result in the record: ask your team when it will be checked.")

    pieces = {p.id: p for p in education().pieces}
    reading = [r for r in dict.fromkeys(reading) if r in pieces]
    lines.append("")
    lines.append("Read next (myelonav learn TOPIC):")
    lines.extend(f"  {r:<26} {pieces[r].title}" for r in reading)
    lines.append("")
    lines.append(
        "Check symptoms any time: myelonav symptoms check --temp 38.2C --on-bispecific ..."
    )
    lines.append("Emotional support: myelonav distress. Emergency: 911. Crisis: call or text 988.")
    wanted = {"information", "counseling"}
    res = [r for r in resource_list().resources if wanted & set(r.tags)]
    lines.append("")
    lines.append("People to call:")
    lines.extend(f"  {r.name}: {r.contact.phone or r.contact.url}" for r in res)
    return {
        "patient_id": record.id,
        "as_of": as_of.isoformat(),
        "current_bispecifics": bispecifics,
        "latest_car_t": car_t[-1].model_dump(mode="json", exclude_none=True) if car_t else None,
        "igg": igg_status,
        "reading": reading,
        "resources": [resource_dict(r) for r in res],
        "lines": lines,
        "disclaimer": DISCLAIMER,
    }


__all__ = ["IGG_IVIG_THRESHOLD_MG_DL", "current_bispecifics", "support_summary"]
