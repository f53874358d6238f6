"""How fast the myeloma is rising: the ``rapid_progression`` fact.

Definition (IMWG, "indications for treatment at relapse"; Rajkumar et al., Blood
2011;117:4691-5, doi:10.1182/blood-2010-10-299487): a *significant biochemical relapse* is, in
two consecutive measurements separated by 2 months or less,

* a doubling of the serum M-component, with a reference (earlier) value of at least 5 g/L, or
* a rise in serum M-protein of at least 10 g/L, or
* a rise in urine M-protein of at least 500 mg/24 h, or
* a rise in the involved free light chain of at least 20 mg/dL (with an abnormal FLC ratio)
  and of at least 25 %.

The fact is three-valued and errs towards "unknown", never towards "false":

* true: such a rise ends within ``RECENT_DAYS`` of the as-of date and the marker has not
  fallen since, or a lesion presses on the spinal cord (an organ threat on its own);
* false: every marker measured in the last ``CURRENT_LAB_DAYS`` has its two latest values
  at most 2 months apart without such a rise, and the organ signals of clinical relapse that
  the record can show are known and absent (calcium < 11.5 mg/dL, haemoglobin >= 10 g/dL,
  creatinine < 2 mg/dL);
* unknown: anything else (too few or too widely spaced values, an FLC whose involved chain
  cannot be told, an organ signal not measured or abnormal for a reason the record cannot
  attribute). Abnormal organ values are left to the care team rather than called myeloma.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from myelonav.logic import UNKNOWN
from myelonav.patient.models import Analyte, LabResult, PatientRecord
from myelonav.patient.summary import CURRENT_LAB_DAYS
from myelonav.picture.labs import plausible
from myelonav.picture.sheet import FactSheet

SOURCE = "IMWG significant biochemical relapse (Rajkumar et al., Blood 2011;117:4691)"
MAX_GAP_DAYS = 62  # "two consecutive measurements separated by 2 months or less"
RECENT_DAYS = 120  # a rise that ended longer ago says little about the disease now
DOUBLING_MIN_REFERENCE_G_DL = 0.5  # 5 g/L
SERUM_RISE_G_DL = 1.0  # 10 g/L
URINE_RISE_MG_24H = 500.0
FLC_RISE_MG_L = 200.0  # 20 mg/dL
FLC_RISE_FRACTION = 0.25
FLC_RATIO_LOW = 0.26
FLC_RATIO_HIGH = 1.65
# Organ signals of IMWG clinical relapse the record can show.
CALCIUM_HIGH_MG_DL = 11.5
HEMOGLOBIN_LOW_G_DL = 10.0
CREATININE_HIGH_MG_DL = 2.0

Status = Literal["rising", "steady", "unknown"]


@dataclass(frozen=True)
class Point:
    date: dt.date
    value: float


@dataclass(frozen=True)
class Marker:
    name: str  # "serum M-protein", "urine M-protein", "involved kappa FLC"
    unit: str
    points: tuple[Point, ...]  # oldest first, plausible numeric values up to the as-of date


@dataclass(frozen=True)
class MarkerReading:
    marker: Marker
    status: Status
    why: str


def significant_rise(name: str, before: float, after: float) -> bool:
    """Whether one pair of consecutive values meets the IMWG rise (gap checked by caller)."""
    if name == "serum M-protein":
        doubled = before >= DOUBLING_MIN_REFERENCE_G_DL and after >= 2 * before
        return doubled or after - before >= SERUM_RISE_G_DL
    if name == "urine M-protein":
        return after - before >= URINE_RISE_MG_24H
    rise = after - before
    return rise >= FLC_RISE_MG_L and rise >= FLC_RISE_FRACTION * before


def read_marker(marker: Marker, as_of: dt.date) -> MarkerReading:
    points = marker.points
    if not points or (as_of - points[-1].date).days > CURRENT_LAB_DAYS:
        return MarkerReading(marker, "unknown", f"no {marker.name} in the last 90 days")
    latest = points[-1].value
    for before, after in zip(points[-2::-1], points[:0:-1], strict=True):
        if (as_of - after.date).days > RECENT_DAYS:
            break
        gap = (after.date - before.date).days
        rose = gap <= MAX_GAP_DAYS and significant_rise(marker.name, before.value, after.value)
        if rose and latest >= after.value:
            return MarkerReading(
                marker,
                "rising",
                f"{marker.name} rose from {before.value:g} to {after.value:g} "
                f"{marker.unit} between {before.date} and {after.date} ({gap} days)",
            )
    if len(points) < 2:
        return MarkerReading(marker, "unknown", f"only one recent {marker.name} value")
    gap = (points[-1].date - points[-2].date).days
    if gap > MAX_GAP_DAYS:
        return MarkerReading(
            marker,
            "unknown",
            f"the last two {marker.name} values are {gap} days apart (more than 2 months)",
        )
    return MarkerReading(
        marker,
        "steady",
        f"{marker.name} {points[-2].value:g} -> {points[-1].value:g} {marker.unit} "
        f"({points[-2].date} to {points[-1].date}) without a significant rise",
    )


def _points(record: PatientRecord, analyte: Analyte, as_of: dt.date) -> tuple[Point, ...]:
    return tuple(
        Point(lab.date, lab.value)
        for lab in record.series(analyte)
        if lab.date <= as_of and lab.value is not None and plausible(lab)
    )


def _involved_chain(current: Mapping[Analyte, LabResult]) -> Analyte | Literal["normal"] | None:
    """kappa_flc / lambda_flc when the current ratio is abnormal; "normal"; None if untold."""
    ratio: float | None = None
    lab = current.get(Analyte.flc_ratio)
    if lab is not None and lab.value is not None:
        ratio = lab.value
    else:
        kappa, lam = current.get(Analyte.kappa_flc), current.get(Analyte.lambda_flc)
        if kappa and lam and kappa.value is not None and lam.value and kappa.date == lam.date:
            ratio = kappa.value / lam.value
    if ratio is None:
        return None
    if ratio > FLC_RATIO_HIGH:
        return Analyte.kappa_flc
    if ratio < FLC_RATIO_LOW:
        return Analyte.lambda_flc
    return "normal"


def markers(
    record: PatientRecord, as_of: dt.date, current: Mapping[Analyte, LabResult]
) -> tuple[list[Marker], list[str]]:
    """The disease markers to read, and what could not be read (an untold FLC chain)."""
    found = [
        Marker("serum M-protein", "g/dL", _points(record, Analyte.serum_m_protein, as_of)),
        Marker("urine M-protein", "mg/24h", _points(record, Analyte.urine_m_protein, as_of)),
    ]
    problems: list[str] = []
    has_flc = Analyte.kappa_flc in current or Analyte.lambda_flc in current
    chain = _involved_chain(current)
    if chain is None and has_flc:
        problems.append("which free light chain is involved cannot be told (no current ratio)")
    elif isinstance(chain, Analyte):
        name = "involved kappa FLC" if chain is Analyte.kappa_flc else "involved lambda FLC"
        found.append(Marker(name, "mg/L", _points(record, chain, as_of)))
    return found, problems


def _organ_signals(current: Mapping[Analyte, LabResult]) -> tuple[bool, list[str]]:
    """(all known and normal, what is missing or abnormal)."""
    inf = float("inf")
    # (analyte, name, lowest normal value, first abnormal high value, unit)
    checks = (
        (Analyte.calcium, "calcium", -inf, CALCIUM_HIGH_MG_DL, "mg/dL"),
        (Analyte.hemoglobin, "haemoglobin", HEMOGLOBIN_LOW_G_DL, inf, "g/dL"),
        (Analyte.creatinine, "creatinine", -inf, CREATININE_HIGH_MG_DL, "mg/dL"),
    )
    problems: list[str] = []
    for analyte, name, low, high, unit in checks:
        lab = current.get(analyte)
        if lab is None or lab.value is None:
            problems.append(f"no current {name}")
        elif not low <= lab.value < high:
            problems.append(f"{name} {lab.value:g} {unit} (the care team judges whether myeloma)")
    return not problems, problems


def rapid_progression(
    record: PatientRecord,
    as_of: dt.date,
    current: Mapping[Analyte, LabResult],
    cord_compression: object,
) -> tuple[object, str, str]:
    """(value, clinical text, plain text) of the ``rapid_progression`` fact."""
    found, problems = markers(record, as_of, current)
    readings = [read_marker(m, as_of) for m in found]
    rising = [r for r in readings if r.status == "rising"]
    if rising:
        why = "; ".join(r.why for r in rising)
        return (
            True,
            f"rapidly rising disease: {why} [{SOURCE}]",
            f"Your myeloma blood marker rose quickly: {why}.",
        )
    if cord_compression is True:
        return (
            True,
            "organ threat: a lesion presses on the spinal cord",
            "A spot of myeloma is pressing on your spinal cord.",
        )
    tracked = [r for r in readings if r.marker.points and r.status != "unknown"]
    in_window = [
        r
        for r in readings
        if r.marker.points and (as_of - r.marker.points[-1].date).days <= CURRENT_LAB_DAYS
    ]
    problems += [r.why for r in in_window if r.status == "unknown"]
    organs_normal, organ_problems = _organ_signals(current)
    if tracked and not problems and organs_normal:
        why = "; ".join(r.why for r in tracked)
        return (
            False,
            f"no rapid rise: {why}; calcium, haemoglobin and creatinine without a relapse "
            f"signal [{SOURCE}]",
            "Your recent myeloma blood markers are not rising quickly.",
        )
    if not in_window:
        problems.append("no M-protein or involved light chain measured in the last 90 days")
    problems += organ_problems
    return (
        UNKNOWN,
        "how fast the myeloma is rising cannot be judged: " + "; ".join(problems),
        "Whether your myeloma is growing fast cannot be told from your record; "
        "your care team can judge it.",
    )


def tempo_facts(
    record: PatientRecord,
    as_of: dt.date,
    current: Mapping[Analyte, LabResult],
    sheet: FactSheet,
) -> None:
    value, clinical, plain = rapid_progression(
        record, as_of, current, sheet.value("cord_compression")
    )
    sheet.set("rapid_progression", value, clinical, plain)


__all__ = [
    "MAX_GAP_DAYS",
    "RECENT_DAYS",
    "Marker",
    "MarkerReading",
    "Point",
    "rapid_progression",
    "read_marker",
    "significant_rise",
    "tempo_facts",
]
