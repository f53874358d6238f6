"""What the matcher needs to know about one patient on one date, computed once per query.

Everything here is read from the ``PatientRecord``; nothing is guessed. A value of None
means "not known" and makes criteria that need it unknown.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from myelonav.patient.lines import count_prior_lines
from myelonav.patient.models import (
    Analyte,
    CarTEpisode,
    LabResult,
    PatientRecord,
    StopReason,
    TherapyLine,
)
from myelonav.patient.vocabulary import vocabulary

# A disease or lab measurement counts as current only within this many days of the as-of
# date (project convention, shared with the evaluation set).
CURRENT_DAYS = 90

_TARGET_CLASS = {"BCMA": "bcma_directed", "GPRC5D": "gprc5d_directed", "FCRH5": "fcrh5_directed"}


@dataclass(frozen=True)
class Exposure:
    """One agent the patient received, with where it came from."""

    agent: str
    classes: frozenset[str]
    known: bool  # resolved through the drug vocabulary (or a CAR T target)
    start: dt.date | None
    end: dt.date | None  # None with ongoing=True: still taking it
    ongoing: bool
    refractory: bool | None
    stopped_for_progression: bool
    source: str  # regimen label or "CAR T"


@dataclass
class PatientFacts:
    record: PatientRecord
    as_of: dt.date
    age: int | None
    exposures: list[Exposure]
    car_t: list[CarTEpisode]
    line_count: int
    regimen_count: int
    treated: bool
    labs: dict[Analyte, LabResult | None] = field(default_factory=dict)
    stale: dict[Analyte, LabResult] = field(default_factory=dict)

    @classmethod
    def build(cls, record: PatientRecord, as_of: dt.date) -> PatientFacts:
        voc = vocabulary()
        exposures: list[Exposure] = []
        lines = [ln for ln in record.therapy_lines if ln.start is None or ln.start <= as_of]
        for ln in lines:
            for agent in ln.agents:
                drug = voc.resolve(agent)
                exposures.append(
                    _exposure(
                        ln,
                        agent,
                        drug.id if drug else agent,
                        drug.classes if drug else frozenset(),
                        drug is not None,
                    )
                )
        episodes = [c for c in record.car_t if c.infusion_date <= as_of]
        for c in episodes:
            drug = voc.resolve(c.product)
            classes = set(drug.classes) if drug else {"car_t"}
            if c.target_antigen and c.target_antigen.upper() in _TARGET_CLASS:
                classes.add(_TARGET_CLASS[c.target_antigen.upper()])
            known = drug is not None or bool(c.target_antigen)
            exposures.append(
                Exposure(
                    drug.id if drug else c.product,
                    frozenset(classes),
                    known,
                    c.infusion_date,
                    c.infusion_date,
                    False,
                    True if c.progression_date else None,
                    c.progression_date is not None,
                    "CAR T",
                )
            )
            for agent in c.bridging_agents:
                b = voc.resolve(agent)
                exposures.append(
                    Exposure(
                        b.id if b else agent,
                        b.classes if b else frozenset(),
                        b is not None,
                        None,
                        c.infusion_date,
                        False,
                        None,
                        False,
                        "bridging before CAR T",
                    )
                )
        facts = cls(
            record=record,
            as_of=as_of,
            age=record.demographics.age_on(as_of),
            exposures=exposures,
            car_t=episodes,
            line_count=count_prior_lines(record, as_of),
            regimen_count=len(lines)
            + len(episodes)
            + len([t for t in record.transplants if t.date is None or t.date <= as_of]),
            treated=bool(lines or episodes),
        )
        return facts

    def lab(self, analyte: Analyte) -> LabResult | None:
        """Latest result on or before the as-of date, if current (within ``CURRENT_DAYS``)."""
        if analyte not in self.labs:
            latest = self.record.latest(analyte, self.as_of)
            if latest is not None and (self.as_of - latest.date).days > CURRENT_DAYS:
                self.stale[analyte] = latest
                latest = None
            self.labs[analyte] = latest
        return self.labs[analyte]

    def lab_missing(self, analyte: Analyte, label: str) -> str:
        self.lab(analyte)
        old = self.stale.get(analyte)
        if old is not None:
            days = f"more than {CURRENT_DAYS} days before {self.as_of}"
            return f"last {label} is from {old.date} ({days})"
        return f"no {label} in the record"

    def last_therapy_end(self) -> tuple[dt.date | None, str, bool]:
        """(date the most recent anti-myeloma therapy ended, its label, known).

        Ongoing therapy ends "today"; a regimen without an end date that is not marked ongoing
        makes the answer unknown when it is the most recent one.
        """
        best: tuple[dt.date | None, str, bool] = (None, "", True)
        best_key = dt.date.min
        for ln in self.record.therapy_lines:
            if ln.start is not None and ln.start > self.as_of:
                continue
            label = ln.regimen or " + ".join(ln.agents)
            end: dt.date | None
            if ln.end is not None:
                end, known = min(ln.end, self.as_of), True
            elif ln.stop_reason is StopReason.ongoing:
                end, known = self.as_of, True
            else:
                end, known = ln.start, False
            key = end or dt.date.min
            if key >= best_key:
                best, best_key = (end, label, known), key
        for c in self.car_t:
            if c.infusion_date >= best_key:
                best, best_key = (c.infusion_date, f"CAR T ({c.product})", True), c.infusion_date
        return best


def _exposure(
    ln: TherapyLine, agent: str, name: str, classes: frozenset[str], known: bool
) -> Exposure:
    return Exposure(
        agent=name,
        classes=classes,
        known=known,
        start=ln.start,
        end=ln.end,
        ongoing=ln.stop_reason is StopReason.ongoing and ln.end is None,
        refractory=ln.refractory,
        stopped_for_progression=ln.stop_reason is StopReason.progression,
        source=ln.regimen or " + ".join(ln.agents),
    )


__all__ = ["CURRENT_DAYS", "Exposure", "PatientFacts"]
