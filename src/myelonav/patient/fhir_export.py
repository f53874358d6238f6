"""Export a ``PatientRecord`` as a FHIR R4 collection Bundle with mCODE profiles.

The bundle re-imports to the same record (``import_bundle(export_bundle(r)).record == r`` up to
``unmapped``): regimens carry the line note convention that the importer reads, CAR T grades
point at their infusion ``Procedure`` through ``partOf``, labs carry LOINC codes and UCUM units.
Resource ids are UUID5 of the record id and the item, so an export is reproducible.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from myelonav.patient import comorbidity_terms
from myelonav.patient import terminology as term
from myelonav.patient.models import (
    CANONICAL_UNIT,
    Analyte,
    DiseaseSiteKind,
    PatientRecord,
    Qualitative,
    TransplantKind,
)
from myelonav.patient.vocabulary import vocabulary

REPORTED_LINES_TEXT = "Number of lines of therapy before CAR T (as reported)"
SAMPLE_TAG = {
    "system": "urn:myelonav:tag",
    "code": "sample",
    "display": "SAMPLE - a fictional patient written for myelonav",
}
_NAMESPACE = uuid.UUID("6f1d8a8e-6a55-4b51-9f64-6d79656c6f6e")

# preferred LOINC per analyte for export (first listed in the terminology table)
_EXPORT_LOINC: dict[Analyte, tuple[str, str]] = {
    Analyte.hemoglobin: ("718-7", "Hemoglobin [Mass/volume] in Blood"),
    Analyte.anc: ("751-8", "Neutrophils [#/volume] in Blood"),
    Analyte.platelets: ("777-3", "Platelets [#/volume] in Blood"),
    Analyte.wbc: ("6690-2", "Leukocytes [#/volume] in Blood"),
    Analyte.lymphocytes: ("731-0", "Lymphocytes [#/volume] in Blood"),
    Analyte.creatinine: ("2160-0", "Creatinine [Mass/volume] in Serum or Plasma"),
    Analyte.bilirubin: ("1975-2", "Bilirubin.total [Mass/volume] in Serum or Plasma"),
    Analyte.ast: ("1920-8", "Aspartate aminotransferase [Enzymatic activity/volume]"),
    Analyte.alt: ("1742-6", "Alanine aminotransferase [Enzymatic activity/volume]"),
    Analyte.calcium: ("17861-6", "Calcium [Mass/volume] in Serum or Plasma"),
    Analyte.albumin: ("1751-7", "Albumin [Mass/volume] in Serum or Plasma"),
    Analyte.beta2_microglobulin: ("1952-1", "Beta-2-Microglobulin [Mass/volume] in Serum"),
    Analyte.ldh: ("2532-0", "Lactate dehydrogenase [Enzymatic activity/volume]"),
    Analyte.igg: ("2465-3", "IgG [Mass/volume] in Serum or Plasma"),
    Analyte.body_weight: ("29463-7", "Body weight"),
    Analyte.body_height: ("8302-2", "Body height"),
    Analyte.serum_m_protein: ("33358-3", "Protein.monoclonal [Mass/volume] in Serum"),
    Analyte.urine_m_protein: ("42482-0", "Protein.monoclonal [Mass/time] in 24 hour Urine"),
    Analyte.kappa_flc: ("36916-5", "Kappa light chains.free [Mass/volume] in Serum"),
    Analyte.lambda_flc: ("33944-0", "Lambda light chains.free [Mass/volume] in Serum"),
    Analyte.flc_ratio: ("48378-4", "Kappa/Lambda free light chain ratio in Serum"),
    Analyte.serum_immunofixation: ("25700-6", "Immunofixation for Serum or Plasma"),
    Analyte.marrow_plasma_cells: ("11118-7", "Plasma cells/100 cells in Bone marrow"),
}
_TEXT_ONLY: dict[Analyte, str] = {
    Analyte.urine_immunofixation: "urine immunofixation",
    Analyte.circulating_plasma_cells: "Circulating plasma cells (% of leukocytes) in blood",
}
_INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
_UCUM: dict[str, str] = {"10*9/L": "10*9/L", "mg/24h": "mg/(24.h)", "1": "1"}


def _id(record: PatientRecord, *parts: object) -> str:
    return str(uuid.uuid5(_NAMESPACE, "/".join([record.id, *map(str, parts)])))


def _concept(system: str, code: str, display: str, text: str | None = None) -> dict[str, Any]:
    return {
        "coding": [{"system": system, "code": code, "display": display}],
        "text": text or display,
    }


def _ref(resource_id: str) -> dict[str, str]:
    return {"reference": f"urn:uuid:{resource_id}"}


def _date(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def _clean(resource: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in resource.items() if v not in (None, [], {})}


def export_bundle(record: PatientRecord, *, timestamp: dt.datetime | None = None) -> dict[str, Any]:
    """The record as a FHIR R4 Bundle of type ``collection``."""
    vocab = vocabulary()
    pid = _id(record, "Patient")
    subject = _ref(pid)
    entries: list[dict[str, Any]] = []

    def add(resource: dict[str, Any]) -> None:
        entries.append({"fullUrl": f"urn:uuid:{resource['id']}", "resource": _clean(resource)})

    demo = record.demographics
    address = _clean({"postalCode": demo.postal_code, "country": demo.country})
    meta: dict[str, Any] = {"profile": [term.MCODE + "mcode-cancer-patient"]}
    if record.sample:
        meta["tag"] = [SAMPLE_TAG]
    add(
        {
            "resourceType": "Patient",
            "id": pid,
            "meta": meta,
            "identifier": [{"system": "urn:myelonav:patient", "value": record.id}],
            "gender": demo.sex.value if demo.sex.value != "other" else "other",
            "birthDate": _date(demo.birth_date),
            "address": [address] if address else [],
        }
    )

    cid = _id(record, "Condition", "myeloma")
    isotype = record.diagnosis.isotype.label()
    add(
        {
            "resourceType": "Condition",
            "id": cid,
            "meta": {"profile": [term.MCODE + "mcode-primary-cancer-condition"]},
            "code": {
                "coding": [
                    {"system": term.SNOMED, "code": "109989006", "display": "Multiple myeloma"}
                ],
                "text": f"Multiple myeloma, {isotype}"
                if isotype != "unknown"
                else "Multiple myeloma",
            },
            "subject": subject,
            "onsetDateTime": _date(record.diagnosis.date),
        }
    )
    reason = [_ref(cid)]

    site_text = {
        DiseaseSiteKind.extramedullary_plasmacytoma: ("C90.20", "Extramedullary plasmacytoma"),
        DiseaseSiteKind.plasma_cell_leukemia: ("C90.10", "Plasma cell leukemia"),
        DiseaseSiteKind.paraskeletal_plasmacytoma: (None, "Paraskeletal plasmacytoma"),
        DiseaseSiteKind.cns: (None, "CNS involvement by multiple myeloma"),
        DiseaseSiteKind.bone_lesion: (None, "Lytic bone lesion"),
    }
    for i, site in enumerate(record.disease_sites):
        icd, label = site_text[site.kind]
        text = (
            label
            + (f" ({site.size_cm:g} cm)" if site.size_cm is not None else "")
            + (" (painful)" if site.painful else "")
        )
        code: dict[str, Any] = {"text": text}
        if icd:
            code["coding"] = [{"system": term.ICD10CM, "code": icd, "display": label}]
        status = None if site.active is None else ("active" if site.active else "resolved")
        add(
            {
                "resourceType": "Condition",
                "id": _id(record, "site", i),
                "clinicalStatus": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                            "code": status,
                        }
                    ]
                }
                if status
                else None,
                "code": code,
                "subject": subject,
                "onsetDateTime": _date(site.date),
                "bodySite": [{"text": site.location}] if site.location else [],
            }
        )

    for i, (icd, display, text, refuted) in enumerate(
        comorbidity_terms.export_entries(record.comorbidities)
    ):
        add(
            {
                "resourceType": "Condition",
                "id": _id(record, "comorbidity", i),
                "clinicalStatus": None
                if refuted
                else {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                            "code": "active",
                        }
                    ]
                },
                "verificationStatus": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                            "code": "refuted" if refuted else "confirmed",
                        }
                    ]
                },
                "code": {
                    "coding": [{"system": term.ICD10CM, "code": icd, "display": display}],
                    "text": text,
                },
                "subject": subject,
                "recordedDate": _date(record.comorbidities.recorded_on),
            }
        )
    if record.comorbidities.lvef_pct is not None:
        add(
            {
                "resourceType": "Observation",
                "id": _id(record, "lvef"),
                "status": "final",
                "code": _concept(
                    term.LOINC, comorbidity_terms.LVEF_LOINC, "Left ventricular Ejection fraction"
                ),
                "subject": subject,
                "effectiveDateTime": _date(record.comorbidities.lvef_date),
                "valueQuantity": {
                    "value": record.comorbidities.lvef_pct,
                    "unit": "%",
                    "system": "http://unitsofmeasure.org",
                    "code": "%",
                },
            }
        )

    for i, finding in enumerate(record.cytogenetics):
        add(
            {
                "resourceType": "Observation",
                "id": _id(record, "cyto", i),
                "status": "final",
                "code": {"text": finding.method or "FISH"},
                "subject": subject,
                "effectiveDateTime": _date(finding.date),
                "valueCodeableConcept": {
                    "text": f"{finding.abnormality.value} "
                    f"{'detected' if finding.detected else 'not detected'}"
                },
            }
        )

    for i, line in enumerate(record.therapy_lines):
        note = _line_note(
            line.line_number,
            line.best_response,
            line.stop_reason.value,
            line.refractory,
            line.regimen or " + ".join(line.agents),
        )
        for agent in line.agents:
            drug = vocab.resolve(agent)
            concept: dict[str, Any] = {"text": agent}
            if drug is not None and drug.rxnorm:
                concept = _concept(term.RXNORM, drug.rxnorm, drug.id)
            ongoing = line.stop_reason.value == "ongoing"
            add(
                {
                    "resourceType": "MedicationAdministration",
                    "id": _id(record, "line", i, agent),
                    "meta": {
                        "profile": [term.MCODE + "mcode-cancer-related-medication-administration"]
                    },
                    "status": "in-progress" if ongoing else "completed",
                    "medicationCodeableConcept": concept,
                    "subject": subject,
                    "effectivePeriod": _clean({"start": _date(line.start), "end": _date(line.end)}),
                    "reasonReference": reason,
                    "note": [{"text": note}],
                }
            )

    for i, transplant in enumerate(record.transplants):
        auto = transplant.kind is TransplantKind.autologous
        add(
            {
                "resourceType": "Procedure",
                "id": _id(record, "transplant", i),
                "status": "completed",
                "code": _concept(
                    term.SNOMED,
                    "709115004" if auto else "709116003",
                    "Autologous hematopoietic stem cell transplant"
                    if auto
                    else "Allogeneic hematopoietic stem cell transplant",
                ),
                "subject": subject,
                "performedDateTime": _date(transplant.date),
                "reasonReference": reason,
                "note": [
                    {
                        "text": _line_note(
                            transplant.line_number,
                            transplant.best_response,
                            "completed",
                            None,
                            f"{transplant.kind.value} stem cell transplant",
                        )
                    }
                ],
            }
        )

    for i, course in enumerate(record.radiation):
        detail = " ".join(
            filter(
                None,
                [
                    f"{course.dose_gy:g} Gy" if course.dose_gy is not None else None,
                    f"in {course.fractions} fractions" if course.fractions else None,
                ],
            )
        )
        add(
            {
                "resourceType": "Procedure",
                "id": _id(record, "radiation", i),
                "status": "completed",
                "code": _concept(
                    term.SNOMED,
                    "1217123003",
                    "Radiotherapy course of treatment",
                    f"Radiotherapy course {detail}".strip(),
                ),
                "subject": subject,
                "performedPeriod": _clean({"start": _date(course.start), "end": _date(course.end)}),
                "bodySite": [{"text": course.site}] if course.site else [],
                "note": [{"text": detail}] if detail else [],
            }
        )

    for i, episode in enumerate(record.car_t):
        proc_id = _id(record, "car_t", i)
        product = vocab.resolve(episode.product)
        name = product.display if product else episode.product
        note = (
            f"{f'line {episode.line_number}; ' if episode.line_number else ''}CAR T infusion; "
            f"product: {name}"
        )
        if episode.bridging_agents:
            note += f"; bridging: {' + '.join(episode.bridging_agents)}"
        if episode.best_response is not None:
            note += f"; best response {episode.best_response.value}"
        if episode.progression_date is not None:
            note += f"; progression: {episode.progression_date.isoformat()}"
        add(
            {
                "resourceType": "Procedure",
                "id": proc_id,
                "status": "completed",
                "code": _concept(
                    term.SNOMED,
                    "1156961008",
                    "Chimeric antigen receptor T-cell immunotherapy",
                    f"CAR T-cell therapy with {name}",
                ),
                "subject": subject,
                "performedDateTime": _date(episode.infusion_date),
                "reasonReference": reason,
                "note": [{"text": note}],
            }
        )
        for kind, grade in (
            ("Cytokine release syndrome", episode.crs_max_grade),
            ("Immune effector cell-associated neurotoxicity syndrome", episode.icans_max_grade),
        ):
            if grade is None:
                continue
            add(
                {
                    "resourceType": "Observation",
                    "id": _id(record, "car_t", i, kind),
                    "status": "final",
                    "code": {"text": f"{kind} maximum grade (ASTCT)"},
                    "subject": subject,
                    "effectiveDateTime": _date(episode.infusion_date),
                    "valueInteger": grade,
                    "partOf": [_ref(proc_id)],
                }
            )
        if episode.antigen_status_at_relapse is not None:
            antigen = episode.target_antigen or "BCMA"
            add(
                {
                    "resourceType": "Observation",
                    "id": _id(record, "car_t", i, "antigen"),
                    "status": "final",
                    "code": {"text": f"{antigen} expression on myeloma cells at relapse"},
                    "subject": subject,
                    "effectiveDateTime": _date(episode.antigen_status_date),
                    "valueCodeableConcept": {
                        "text": episode.antigen_status_at_relapse.value.replace("_", " ")
                    },
                }
            )

    if record.lines_before_car_t_reported is not None:
        add(
            {
                "resourceType": "Observation",
                "id": _id(record, "lines_reported"),
                "status": "final",
                "code": {"text": REPORTED_LINES_TEXT},
                "subject": subject,
                "valueInteger": record.lines_before_car_t_reported,
                "note": [{"text": "as told by the patient; the dated history is not available"}],
            }
        )

    for i, ecog in enumerate(record.ecog):
        add(
            {
                "resourceType": "Observation",
                "id": _id(record, "ecog", i),
                "status": "final",
                "meta": {"profile": [term.MCODE + "mcode-ecog-performance-status"]},
                "code": _concept(term.LOINC, term.ECOG_LOINC, "ECOG Performance Status score"),
                "subject": subject,
                "effectiveDateTime": _date(ecog.date),
                "valueInteger": ecog.score,
            }
        )

    for i, lab in enumerate(record.labs):
        add(_lab_resource(record, i, lab, subject))

    return {
        "resourceType": "Bundle",
        "id": _id(record, "Bundle"),
        "meta": {"lastUpdated": (timestamp or dt.datetime.now(dt.UTC)).isoformat()},
        "type": "collection",
        "entry": entries,
    }


def _line_note(
    number: int | None, best: Any, stop: str, refractory: bool | None, regimen: str
) -> str:
    parts = []
    if number is not None:
        parts.append(f"line {number}")
    if best is not None:
        parts.append(f"best response {best.value}")
    parts.append(f"stopped: {stop.replace('_', ' ')}")
    if refractory:
        parts.append("refractory")
    parts.append(f"regimen: {regimen}")
    return "; ".join(parts)


def _lab_resource(
    record: PatientRecord, i: int, lab: Any, subject: dict[str, str]
) -> dict[str, Any]:
    analyte: Analyte = lab.analyte
    if analyte in _EXPORT_LOINC:
        loinc, display = _EXPORT_LOINC[analyte]
        code = _concept(term.LOINC, loinc, display)
    else:
        code = {"text": _TEXT_ONLY[analyte]}
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": _id(record, "lab", i),
        "status": "final",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "vital-signs"
                        if analyte in (Analyte.body_weight, Analyte.body_height)
                        else "laboratory",
                    }
                ]
            }
        ],
        "code": code,
        "subject": subject,
        "effectiveDateTime": _date(lab.date),
    }
    unit = CANONICAL_UNIT[analyte]
    if lab.value is not None:
        ucum = _UCUM.get(unit, unit)
        resource["valueQuantity"] = {
            "value": lab.value,
            "unit": unit,
            "system": term.UCUM,
            "code": ucum,
        }
        if lab.below_limit:
            resource["valueQuantity"]["comparator"] = "<"
        if lab.qualitative in (Qualitative.low, Qualitative.high, Qualitative.normal):
            flag = {Qualitative.low: "L", Qualitative.high: "H"}.get(lab.qualitative, "N")
            coding = {"system": _INTERPRETATION, "code": flag}
            resource["interpretation"] = [{"coding": [coding], "text": lab.qualitative.value}]
        if lab.upper_limit_normal is not None:
            resource["referenceRange"] = [
                {
                    "high": {
                        "value": lab.upper_limit_normal,
                        "unit": unit,
                        "system": term.UCUM,
                        "code": ucum,
                    }
                }
            ]
    elif lab.qualitative is not None:
        resource["valueCodeableConcept"] = {"text": lab.qualitative.value}
    return resource


__all__ = ["REPORTED_LINES_TEXT", "SAMPLE_TAG", "export_bundle"]
