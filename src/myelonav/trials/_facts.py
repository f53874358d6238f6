"""What the matcher needs to know about one patient on one date: a view of the clinical picture.

Nothing is derived here: exposures (with refractoriness judged per course), line counts and
current labs all come from ``myelonav.picture``. A value of None means "not known" and makes
criteria that need it unknown.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from myelonav.patient.models import Analyte, CarTEpisode, LabResult, PatientRecord
from myelonav.patient.summary import CURRENT_LAB_DAYS
from myelonav.picture import ClinicalPicture, Exposure, clinical_picture
from myelonav.picture.history import last_therapy_end
from myelonav.picture.labs import label as _label

CURRENT_DAYS = CURRENT_LAB_DAYS


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
    picture: ClinicalPicture
    labs: dict[Analyte, LabResult | None] = field(default_factory=dict)
    stale: dict[Analyte, LabResult] = field(default_factory=dict)

    @classmethod
    def build(cls, record: PatientRecord, as_of: dt.date) -> PatientFacts:
        return cls.from_picture(clinical_picture(record, as_of))

    @classmethod
    def from_picture(cls, picture: ClinicalPicture) -> PatientFacts:
        age = picture.value("age")
        return cls(
            record=picture.record,
            as_of=picture.as_of,
            age=age if isinstance(age, int) else None,
            exposures=list(picture.exposures),
            car_t=list(picture.car_t_episodes),
            line_count=picture.line_count,
            regimen_count=picture.regimen_count,
            treated=picture.treated,
            picture=picture,
            stale=dict(picture.stale_labs),
        )

    def lab(self, analyte: Analyte) -> LabResult | None:
        """Latest plausible result on or before the as-of date, if current."""
        return self.picture.lab(analyte)

    def lab_missing(self, analyte: Analyte, label: str) -> str:
        old = self.stale.get(analyte)
        if old is not None:
            days = f"more than {CURRENT_DAYS} days before {self.as_of}"
            return f"last {label} is from {old.date} ({days})"
        return f"no {label or _label(analyte)} in the record"

    def last_therapy_end(self) -> tuple[dt.date | None, str, bool]:
        """(date the most recent anti-myeloma therapy ended, its label, known)."""
        return last_therapy_end(self.record, self.as_of)


__all__ = ["CURRENT_DAYS", "Exposure", "PatientFacts"]
