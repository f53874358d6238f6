"""Record + as-of date → the clinical picture every engine reads.

Each section writes its facts once; a value that cannot be used (implausible, stale, not
recorded) makes its fact unknown with the reason, and never stops the rest of the picture.
"""

from __future__ import annotations

import datetime as dt

from myelonav.patient.models import PatientRecord
from myelonav.picture.comorbidity import comorbidity_facts
from myelonav.picture.cytogenetics import cytogenetic_facts
from myelonav.picture.disease import disease_facts
from myelonav.picture.fitness import fitness_facts
from myelonav.picture.history import car_t_episodes, exposures, history_facts
from myelonav.picture.labs import read_labs
from myelonav.picture.model import ClinicalPicture
from myelonav.picture.preferences import preference_facts
from myelonav.picture.sheet import FactSheet
from myelonav.picture.tempo import tempo_facts


def clinical_picture(record: PatientRecord, as_of: dt.date) -> ClinicalPicture:
    sheet = FactSheet()
    current, stale = read_labs(record, as_of, sheet)
    exposed = exposures(record, as_of)
    line_count = history_facts(record, as_of, exposed, sheet)
    episodes = car_t_episodes(record, as_of)
    outcome = disease_facts(record, as_of, episodes, current, sheet)
    tempo_facts(record, as_of, current, sheet)
    cytogenetic_facts(record, sheet)
    fitness_facts(record, as_of, current, stale, sheet)
    comorbidity_facts(record.comorbidities, sheet)
    preference_facts(record.preferences, sheet)
    lines = [ln for ln in record.therapy_lines if ln.start is None or ln.start <= as_of]
    transplants = [t for t in record.transplants if t.date is None or t.date <= as_of]
    return ClinicalPicture(
        record=record,
        as_of=as_of,
        facts=dict(sheet.facts),
        exposures=tuple(exposed),
        car_t_episodes=tuple(episodes),
        car_t=outcome,
        line_count=line_count,
        regimen_count=len(lines) + len(episodes) + len(transplants),
        treated=bool(lines or episodes),
        current_labs=current,
        stale_labs=stale,
        notes=tuple(sheet.notes),
    )


__all__ = ["clinical_picture"]
