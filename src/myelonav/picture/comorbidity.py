"""Comorbidities and history that change which treatments are safe.

A condition the record does not mention is unknown, never absent: "no heart failure" needs
someone to have said so.
"""

from __future__ import annotations

from myelonav.patient.models import Comorbidities
from myelonav.picture.sheet import FactSheet

_FLAGS = (
    ("heart_failure", "heart failure", "heart failure"),
    ("eye_disease", "corneal or ocular-surface disease", "an eye problem (cornea)"),
    ("active_infection", "active infection", "an infection now"),
    (
        "movement_disorder_after_car_t",
        "parkinsonism or another movement disorder after CAR T",
        "movement problems (like Parkinson's) after CAR T",
    ),
    ("secondary_malignancy", "a second primary cancer", "another cancer"),
    ("transfusion_dependent", "transfusion dependence", "regular blood transfusions"),
)


def comorbidity_facts(c: Comorbidities, sheet: FactSheet) -> None:
    when = f" (reviewed {c.recorded_on})" if c.recorded_on else ""
    for name, clinical, plain in _FLAGS:
        value = getattr(c, name)
        if value is None:
            sheet.unknown(
                name, f"{clinical}: not recorded", f"Whether you have {plain} is not recorded."
            )
        elif value:
            detail = (
                f": {c.infection_detail}"
                if name == "active_infection" and c.infection_detail
                else ""
            )
            sheet.set(name, True, f"{clinical}{detail}{when}", f"Your record shows {plain}.")
        else:
            sheet.set(name, False, f"no {clinical}{when}", f"Your record says no {plain}.")
    if c.lvef_pct is None:
        sheet.unknown("lvef_pct", "left-ventricular ejection fraction not recorded")
    else:
        sheet.set(
            "lvef_pct",
            c.lvef_pct,
            f"LVEF {c.lvef_pct:g}%" + (f" on {c.lvef_date}" if c.lvef_date else ""),
            f"Your heart's pumping strength (ejection fraction) was {c.lvef_pct:g}%.",
        )
    grade = c.peripheral_neuropathy_grade
    if grade is None:
        sheet.unknown(
            "peripheral_neuropathy_grade",
            "peripheral neuropathy grade not recorded",
            "Whether you have nerve damage (numbness, tingling) is not recorded.",
        )
    else:
        sheet.set(
            "peripheral_neuropathy_grade",
            grade,
            f"peripheral neuropathy grade {grade}{when}",
            "No nerve damage is recorded."
            if grade == 0
            else f"You have nerve damage (numbness or tingling), grade {grade} of 4.",
        )


__all__ = ["comorbidity_facts"]
