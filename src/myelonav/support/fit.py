"""Whether a drug the patient is looking at (a dosing calendar, support material) may fit them.

Reads the options engine's verdict for the single-drug option of that agent; the calendar and
support commands show it before anything that could read like a prescription.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from myelonav.knowledge.loader import bundled_options
from myelonav.options.engine import Status, assess
from myelonav.patient.models import PatientRecord
from myelonav.picture import ClinicalPicture


@dataclass(frozen=True)
class AgentFit:
    agent: str
    option: str | None  # the option's name, None when no option is about this agent alone
    status: str | None
    reasons: tuple[str, ...]

    @property
    def unlikely(self) -> bool:
        return self.status == Status.unlikely.value

    def warning(self) -> str:
        """A plain warning when the record says the agent is unlikely to fit, else ''."""
        if not self.unlikely:
            return ""
        why = " ".join(self.reasons[:2])
        return (
            f"WARNING: from your record, {self.option} is unlikely to fit you now. {why} "
            "This calendar shows the label's schedule only; it is not a prescription. "
            "Talk with your care team before planning any doses."
        ).replace("  ", " ")


NEUTRAL_NOTE = (
    "This is the label's dosing schedule, not a prescription. Whether this drug fits you is "
    "for your care team to decide (myelonav options PROFILE shows what myelonav found)."
)


def agent_fit(
    record: PatientRecord, agent: str, as_of: dt.date, picture: ClinicalPicture | None = None
) -> AgentFit:
    own = [o for o in bundled_options().values() if o.agents == [agent]]
    if not own:
        return AgentFit(agent, None, None, ())
    _, assessments = assess(
        record, as_of, "patient", options={o.id: o for o in own}, picture=picture
    )
    first = assessments[0]
    reasons = tuple(
        r.text
        for r in first.reasons
        if (r.effect, r.result) in (("excludes", "fired"), ("requires", "not_met"))
    )
    return AgentFit(agent, first.name, first.status.value, reasons)


__all__ = ["NEUTRAL_NOTE", "AgentFit", "agent_fit"]
