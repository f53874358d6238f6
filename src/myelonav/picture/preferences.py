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
    donor_facts(prefs, sheet)


def donor_facts(prefs: Preferences, sheet: FactSheet) -> None:
    """``donor_available`` from the recorded donor search; only a finished search says no."""
    if prefs.stem_cell_donor == "found":
        sheet.set(
            "donor_available",
            True,
            "stem-cell donor found (recorded in preferences)",
            "You told us a stem-cell donor has been found.",
        )
    elif prefs.stem_cell_donor == "none_found":
        sheet.set(
            "donor_available",
            False,
            "donor search found no suitable stem-cell donor (recorded in preferences)",
            "You told us a donor search did not find a suitable stem-cell donor.",
        )
    else:
        sheet.unknown(
            "donor_available",
            "whether a stem-cell donor is available is not in the record (HLA typing and a "
            "donor search answer it)",
            "Whether a stem-cell donor could be found is not known yet.",
        )


__all__ = ["donor_facts", "preference_facts"]
