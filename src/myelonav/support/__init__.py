"""Living with treatment: dosing calendars, symptom triage and diary, distress screening,
matched support resources and plain-language education.

Content is curated data in ``support/data`` (validated at load); every output carries
``myelonav.DISCLAIMER``.
"""

from myelonav.support.calendar import (
    DosingCalendar,
    Timing,
    build_calendar,
    find_schedule,
    to_ics,
)
from myelonav.support.diary import append_entry, diary_path, load_diary, reported_symptoms
from myelonav.support.distress import assess
from myelonav.support.ice import score_ice
from myelonav.support.profile_support import support_summary
from myelonav.support.triage import SymptomReport, TriageResult, Urgency, triage

__all__ = [
    "DosingCalendar",
    "SymptomReport",
    "Timing",
    "TriageResult",
    "Urgency",
    "append_entry",
    "assess",
    "build_calendar",
    "diary_path",
    "find_schedule",
    "load_diary",
    "reported_symptoms",
    "score_ice",
    "support_summary",
    "to_ics",
    "triage",
]
