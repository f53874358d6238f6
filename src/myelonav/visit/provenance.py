"""Where each fact in the packet came from: the patient's word or the medical records.

A fact's own ``reported_by`` wins (a lab the patient typed into a profile imported from
their portal is still the patient's word). Otherwise the profile's source decides: the
intake form is what the patient told myelonav; a FHIR or C-CDA import is the record; a
profile file could be either, so it stays "not stated" rather than guessed.
"""

from __future__ import annotations

from typing import Final

from myelonav.patient.models import FactSource

PATIENT: Final = "patient"
RECORDS: Final = "records"
UNSTATED: Final = "unstated"
MARK_TEXT: Final = {
    PATIENT: "Patient reported",
    RECORDS: "From records",
    UNSTATED: "Source not stated",
}
LEGEND: Final = (
    "Source column: \u201cPatient reported\u201d is what the patient (or their carer) told "
    "myelonav; \u201cFrom records\u201d was imported from the medical record (FHIR or C-CDA "
    "download). Check patient-reported values against the records before relying on them."
)
_BY_PROFILE_SOURCE: Final = {
    "intake": FactSource.patient,
    "fhir": FactSource.records,
    "ccda": FactSource.records,
    "smart": FactSource.records,
    "sample": FactSource.records,  # fictional, but written as a record
}


def profile_default(profile_source: str | None) -> FactSource | None:
    """The source of facts that do not say their own, from how the profile was made."""
    if profile_source is None:
        return None
    return _BY_PROFILE_SOURCE.get(profile_source)


def mark(fact: object, default: FactSource | None) -> str:
    """``patient``, ``records`` or ``unstated`` for one fact of the record."""
    own = getattr(fact, "reported_by", None)
    source = own if isinstance(own, FactSource) else default
    if source is FactSource.patient:
        return PATIENT
    if source is FactSource.records:
        return RECORDS
    return UNSTATED


__all__ = ["LEGEND", "MARK_TEXT", "PATIENT", "RECORDS", "UNSTATED", "mark", "profile_default"]
