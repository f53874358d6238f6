"""Group single medication records into regimens (``TherapyLine``).

Records list one resource per agent. Agents belong to one regimen when the source says so
(the same ``line N`` note) or, failing that, when they start within ``SAME_REGIMEN_DAYS`` of
each other and carry the same regimen text. Fludarabine / cyclophosphamide given in the
``LYMPHODEPLETION_DAYS`` before a CAR T infusion is lymphodepletion, part of the CAR T
procedure, not a line of therapy.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from myelonav.patient._notes import LineNote, stop_reason_from_text
from myelonav.patient.models import StopReason, TherapyLine
from myelonav.patient.vocabulary import Drug

SAME_REGIMEN_DAYS = 7
LYMPHODEPLETION_DAYS = 14
_LYMPHODEPLETING = frozenset({"fludarabine", "cyclophosphamide", "bendamustine"})


@dataclass
class MedicationUse:
    path: str
    drug: Drug
    start: dt.date
    end: dt.date | None
    status: str
    note: LineNote
    reason_text: str = ""
    part_of: list[str] = field(default_factory=list)


def _is_lymphodepletion(use: MedicationUse, infusions: list[dt.date]) -> bool:
    if use.note.lymphodepletion:
        return True
    if use.drug.id not in _LYMPHODEPLETING:
        return False
    for infusion in infusions:
        days_before = (infusion - use.start).days
        short = use.end is None or (use.end - use.start).days <= 7
        if (
            0 < days_before <= LYMPHODEPLETION_DAYS
            and short
            and (use.end is None or use.end <= infusion)
        ):
            return True
    return False


def build_regimens(
    uses: list[MedicationUse], infusions: list[dt.date]
) -> tuple[list[TherapyLine], int]:
    """Regimens from medication uses, and how many uses were lymphodepletion."""
    lymphodepletion = 0
    groups: list[list[MedicationUse]] = []
    by_line: dict[tuple[int, str], list[MedicationUse]] = {}
    for use in sorted(uses, key=lambda u: u.start):  # stable: keeps the source's agent order
        if use.drug.is_("car_t"):
            continue  # CAR T products become CarTEpisodes
        if use.note.bridging:
            continue  # bridging therapy belongs to the CAR T episode that follows
        if _is_lymphodepletion(use, infusions):
            lymphodepletion += 1
            continue
        if use.note.line_number is not None:
            # one IMWG line may hold several regimens (induction, then maintenance)
            key = (use.note.line_number, use.note.regimen or "")
            group = by_line.get(key)
            if group is None:
                group = by_line[key] = []
                groups.append(group)
            group.append(use)
            continue
        for group in groups:
            head = group[0]
            if (
                head.note.line_number is None
                and abs((use.start - head.start).days) <= SAME_REGIMEN_DAYS
                and (use.note.regimen or "") == (head.note.regimen or "")
                and use.drug.id not in {u.drug.id for u in group}
            ):
                group.append(use)
                break
        else:
            groups.append([use])
    return [_to_line(group) for group in groups], lymphodepletion


def _to_line(group: list[MedicationUse]) -> TherapyLine:
    agents: list[str] = []
    for use in group:
        if use.drug.id not in agents:
            agents.append(use.drug.id)
    start = min(u.start for u in group)
    ongoing = any(u.status in {"in-progress", "active", "intended"} for u in group)
    ends = [u.end for u in group if u.end is not None]
    end = None if ongoing or not ends else max(ends)
    notes = [u.note for u in group]
    stop = next((n.stop_reason for n in notes if n.stop_reason), None)
    if stop is None:
        reason = " ".join(u.reason_text for u in group if u.reason_text)
        stop = stop_reason_from_text(reason) if reason else None
    if stop is None:
        stop = StopReason.ongoing if ongoing else StopReason.unknown
    refractory = True if any(n.refractory for n in notes) else None
    if refractory is None and stop is StopReason.progression:
        refractory = True  # progression while on therapy is refractoriness (IMWG)
    return TherapyLine(
        agents=agents,
        start=start,
        end=end,
        line_number=next((n.line_number for n in notes if n.line_number), None),
        best_response=next((n.best_response for n in notes if n.best_response), None),
        stop_reason=stop,
        refractory=refractory,
        regimen=next((n.regimen for n in notes if n.regimen), None),
    )
