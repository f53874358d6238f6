"""What the patient wants: trial interest, how far they can travel, goals of care."""

from __future__ import annotations

from myelonav.patient.models import Preferences
from myelonav.picture.sheet import FactSheet


def preference_facts(prefs: Preferences, sheet: FactSheet) -> None:
    sheet.set(
        "trial_interest",
        prefs.trial_interest.value,
        f"interest in trials: {prefs.trial_interest.value}",
    )
    if prefs.max_travel_miles is None:
        sheet.unknown(
            "max_travel_miles",
            "how far the patient can travel is not recorded",
            "You have not said how far you can travel.",
        )
    else:
        sheet.set(
            "max_travel_miles",
            prefs.max_travel_miles,
            f"will travel up to {prefs.max_travel_miles:g} miles",
        )
    if prefs.goals:
        sheet.set(
            "goals",
            frozenset(g.value for g in prefs.goals),
            "goals: " + ", ".join(g.value.replace("_", " ") for g in prefs.goals),
        )
    else:
        sheet.unknown(
            "goals",
            "the patient's goals of care are not recorded yet",
            "You have not told us what matters most to you yet.",
        )


__all__ = ["preference_facts"]
