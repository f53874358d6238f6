"""An option that needs a fact the record does not give asks for it; it is never "unlikely".

Realistic records (the ide-cel late-relapse sample) with the sites of disease answered yes,
answered no (looked for and not found), or not given at all.
"""

from __future__ import annotations

import datetime as dt

from myelonav.options.engine import Status, assess
from myelonav.patient.models import DiseaseSite, DiseaseSiteKind, PatientRecord, SiteNotFound
from myelonav.samples import SAMPLE_AS_OF, sample_profile

AS_OF = SAMPLE_AS_OF
LOOKED = dt.date(2026, 11, 10)


def _statuses(record: PatientRecord) -> dict[str, Status]:
    _, options = assess(record, AS_OF, "clinician")
    return {o.id: o.status for o in options}


def _silent() -> PatientRecord:
    return sample_profile("sample-late-idecel-t1114")


def _all_no() -> PatientRecord:
    """The same man after a PET-CT, an MRI and a blood smear that found nothing new: an old
    treated lesion, no plasmacytoma outside the bone, no CNS disease, no leukaemia."""
    old = DiseaseSite(
        kind=DiseaseSiteKind.bone_lesion,
        location="right femur",
        date=dt.date(2025, 2, 1),
        painful=False,
        active=False,
        cord_compression=False,
    )
    absent = [
        SiteNotFound(kind=kind, date=LOOKED)
        for kind in (
            DiseaseSiteKind.extramedullary_plasmacytoma,
            DiseaseSiteKind.cns,
            DiseaseSiteKind.plasma_cell_leukemia,
        )
    ]
    return _silent().model_copy(update={"disease_sites": [old], "sites_not_found": absent})


def test_radiation_asks_when_the_record_is_silent_and_refuses_without_a_target() -> None:
    assert _statuses(_silent())["radiation"] is Status.need_info
    assert _statuses(_all_no())["radiation"] is Status.unlikely


def test_radiation_fits_a_lump_outside_the_bone() -> None:
    emd = DiseaseSite(
        kind=DiseaseSiteKind.extramedullary_plasmacytoma, location="chest wall", date=LOOKED
    )
    record = _silent().model_copy(update={"disease_sites": [emd]})
    assert _statuses(record)["radiation"] in (Status.fits, Status.caution)


def test_aggressive_disease_options_ask_instead_of_refusing_on_silence() -> None:
    # late relapse, no rapid rise recorded: only EMD or leukaemia could make it fit
    assert _statuses(_silent())["alkylator_salvage"] is Status.need_info


def test_silence_never_makes_an_option_less_likely_than_a_recorded_no() -> None:
    """Kleene monotonicity on whole records: every option unlikely on the silent record is
    unlikely once the record says "no" too (unknown can only ask, never refuse)."""
    silent, told = _statuses(_silent()), _statuses(_all_no())
    for option, status in silent.items():
        if status is Status.unlikely:
            assert told[option] is Status.unlikely, option
