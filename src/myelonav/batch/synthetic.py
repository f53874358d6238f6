"""Synthetic patients for batch tests and benchmarks (fictional; never real people).

Each patient is one of the bundled fictional sample profiles, varied deterministically by its
number: birth year, ZIP code, a share of the lab series dropped (real-world gaps), lab values
scaled, and the therapy-line history cut short or kept. Written as FHIR bundles
(``write_bundles``) or as a FHIR Bulk Data export (``write_bulk_export``: NDJSON per type,
references ``Patient/<id>``).
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from myelonav.patient.fhir_export import export_bundle
from myelonav.patient.models import Analyte, PatientRecord
from myelonav.patient.profile_io import load_profile

# Disease-burden labs vary between synthetic patients; the rest keep their plausible values.
_SCALED = frozenset(
    {Analyte.serum_m_protein, Analyte.urine_m_protein, Analyte.kappa_flc, Analyte.lambda_flc}
)
_ZIPS = ("10021", "02115", "77030", "55905", "94143", "60611", "30322", "98109", None)
_STAMP = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _samples() -> list[PatientRecord]:
    folder = Path(__file__).resolve().parent.parent / "samples" / "profiles"
    return [load_profile(p) for p in sorted(folder.glob("*.yaml"))]


def synthetic_records(n: int, seed: int = 0) -> Iterator[PatientRecord]:
    base = _samples()
    for i in range(n):
        rng = random.Random(seed * 1_000_003 + i)
        src = base[i % len(base)]
        demo = src.demographics.model_copy(
            update={
                "birth_date": dt.date(rng.randint(1940, 1985), rng.randint(1, 12), 15),
                "age_years": None,
                "age_recorded_on": None,
                "postal_code": rng.choice(_ZIPS),
                "country": "US",
            }
        )
        scale = rng.uniform(0.6, 1.6)
        labs = [
            lab.model_copy(update={"value": round(lab.value * scale, 2)})
            if lab.value is not None and lab.analyte in _SCALED
            else lab
            for lab in src.labs
            if rng.random() > 0.15  # gaps: about one lab in seven is missing
        ]
        keep_lines = rng.randint(max(1, len(src.therapy_lines) - 2), len(src.therapy_lines) or 1)
        yield src.model_copy(
            update={
                "id": f"synth-{seed}-{i:06d}",
                "demographics": demo,
                "labs": labs,
                "therapy_lines": src.therapy_lines[:keep_lines],
                "sample": False,
            }
        )


def write_bundles(folder: Path, n: int, seed: int = 0) -> list[str]:
    """One FHIR Bundle file per patient; returns the patient keys (file stems)."""
    folder.mkdir(parents=True, exist_ok=True)
    keys = []
    for record in synthetic_records(n, seed):
        bundle = export_bundle(record, timestamp=_STAMP)
        (folder / f"{record.id}.json").write_text(json.dumps(bundle))
        keys.append(record.id)
    return keys


def _to_bulk_refs(resource: Any, patient_ref: str, url_to_ref: dict[str, str]) -> Any:
    if isinstance(resource, dict):
        out = {}
        for k, v in resource.items():
            if k == "reference" and isinstance(v, str):
                out[k] = url_to_ref.get(v, v)
            else:
                out[k] = _to_bulk_refs(v, patient_ref, url_to_ref)
        return out
    if isinstance(resource, list):
        return [_to_bulk_refs(v, patient_ref, url_to_ref) for v in resource]
    return resource


def write_bulk_export(folder: Path, n: int, seed: int = 0) -> list[str]:
    """A Bulk Data ``$export`` layout (``<Type>.ndjson``); returns the Patient resource ids."""
    folder.mkdir(parents=True, exist_ok=True)
    handles: dict[str, Any] = {}
    ids = []
    try:
        for record in synthetic_records(n, seed):
            bundle = export_bundle(record, timestamp=_STAMP)
            url_to_ref = {
                e["fullUrl"]: f"{e['resource']['resourceType']}/{e['resource']['id']}"
                for e in bundle["entry"]
            }
            patient = next(
                e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"
            )
            ids.append(patient["id"])
            for entry in bundle["entry"]:
                res = _to_bulk_refs(entry["resource"], f"Patient/{patient['id']}", url_to_ref)
                kind = res["resourceType"]
                if kind not in handles:
                    handles[kind] = (folder / f"{kind}.ndjson").open("w")
                handles[kind].write(json.dumps(res) + "\n")
    finally:
        for fh in handles.values():
            fh.close()
    return ids
