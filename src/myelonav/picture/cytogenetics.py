"""Cytogenetic findings: tested-and-found, tested-and-absent, or not tested (unknown)."""

from __future__ import annotations

from myelonav.patient.models import HIGH_RISK_ABNORMALITIES, CytogeneticAbnormality, PatientRecord
from myelonav.picture.sheet import FactSheet


def cytogenetic_facts(record: PatientRecord, sheet: FactSheet) -> None:
    for name, abnormality in (
        ("t_11_14", CytogeneticAbnormality.t_11_14),
        ("del_17p", CytogeneticAbnormality.del_17p),
    ):
        found = record.has_abnormality(abnormality)
        if found is None:
            sheet.unknown(
                name,
                f"{abnormality.value} not tested in the record",
                f"Whether your myeloma has {abnormality.value} is not in your record.",
            )
        else:
            sheet.set(name, found, f"{abnormality.value} {'found' if found else 'not found'}")
    detected = sorted(
        f.abnormality.value
        for f in record.cytogenetics
        if f.detected and f.abnormality in HIGH_RISK_ABNORMALITIES
    )
    if detected:
        sheet.set("high_risk_cytogenetics", True, "high-risk: " + ", ".join(detected))
    elif record.has_abnormality(CytogeneticAbnormality.del_17p) is False:
        sheet.set("high_risk_cytogenetics", False, "no high-risk abnormality found on FISH")
    else:
        sheet.unknown("high_risk_cytogenetics", "high-risk FISH results not in the record")


__all__ = ["cytogenetic_facts"]
