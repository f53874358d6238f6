"""Current labs: the latest plausible result within ``CURRENT_LAB_DAYS`` of the as-of date.

An implausible value (creatinine 0 mg/dL, weight 0 kg) is never used: it makes that lab unknown
and leaves a data-quality note, so one bad number never takes the whole report down.
"""

from __future__ import annotations

import datetime as dt

from myelonav.patient.models import CANONICAL_UNIT, Analyte, LabResult, PatientRecord
from myelonav.patient.summary import CURRENT_LAB_DAYS
from myelonav.patient.units import PLAUSIBLE
from myelonav.picture.sheet import FactSheet


def label(analyte: Analyte) -> str:
    return analyte.value.replace("_", " ")


def plausible(lab: LabResult) -> bool:
    if lab.value is None:
        return True
    low, high = PLAUSIBLE.get(lab.analyte, (float("-inf"), float("inf")))
    return low <= lab.value <= high


def read_labs(
    record: PatientRecord, as_of: dt.date, sheet: FactSheet
) -> tuple[dict[Analyte, LabResult], dict[Analyte, LabResult]]:
    """(current, stale) latest results per analyte; implausible values are noted and skipped."""
    current: dict[Analyte, LabResult] = {}
    stale: dict[Analyte, LabResult] = {}
    for analyte in Analyte:
        series = [lab for lab in record.series(analyte) if lab.date <= as_of]
        usable = []
        for lab in series:
            if plausible(lab):
                usable.append(lab)
                continue
            unit = CANONICAL_UNIT.get(analyte, "")
            low, high = PLAUSIBLE[analyte]
            sheet.note(
                f"labs.{analyte.value}",
                f"{label(analyte)} {lab.value:g} {unit} on {lab.date} is not plausible "
                f"(expected {low:g}-{high:g} {unit}); it was not used",
                f"Your {label(analyte)} of {lab.value:g} {unit} on {lab.date} looks like a "
                "typing or unit mistake, so myelonav did not use it. Please check it.",
            )
        if not usable:
            continue
        latest = usable[-1]
        if latest.value is None and latest.qualitative is None:
            continue
        if (as_of - latest.date).days > CURRENT_LAB_DAYS:
            stale[analyte] = latest
        else:
            current[analyte] = latest
    return current, stale


def missing_text(
    analyte: Analyte,
    stale: dict[Analyte, LabResult],
    as_of: dt.date,
) -> str:
    old = stale.get(analyte)
    if old is not None:
        days = (as_of - old.date).days
        return (
            f"latest {label(analyte)} is {days} days old ({old.date}); a current value is "
            f"needed (within {CURRENT_LAB_DAYS} days)"
        )
    return f"no {label(analyte)} result in the record"


__all__ = ["label", "missing_text", "plausible", "read_labs"]
