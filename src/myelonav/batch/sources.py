"""Where a health system's patients come from: a folder of FHIR bundles or a Bulk Data export.

* A folder of ``*.json`` FHIR Bundles: one patient per file, keyed by the file name.
* A FHIR Bulk Data ``$export`` folder: NDJSON files per resource type (``Patient.ndjson``,
  ``Condition.ndjson``, ``Observation.ndjson``, ...; a type may be split over several files,
  e.g. ``Observation.000.ndjson``), resources linked to their patient by ``subject`` or
  ``patient`` reference. One streaming pass over the lines records where each patient's
  resources are (file, byte offset, length); a patient's bundle is later built by reading only
  those lines, so memory holds the index, not the export. Resources that belong to no patient
  (``Medication``, ``Organization``, ...) are shared and added to every bundle that refers to
  them.

Each patient gets a content hash (of its bytes and the shared resources it refers to), which
the batch manifest uses to find the patients that changed since the last run.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from myelonav.errors import InputError

# Resource types a patient bundle is built from when they point at no patient.
_SHARED_TYPES = frozenset({"Medication", "Organization", "Practitioner", "Location", "Substance"})


@dataclass(frozen=True, slots=True)
class Chunk:
    path: str
    offset: int
    length: int  # -1: the whole file


@dataclass(frozen=True, slots=True)
class PatientRef:
    """Where one patient's data is, and a hash of it."""

    key: str
    digest: str
    chunks: tuple[Chunk, ...]
    kind: str  # "bundle" (one file) or "ndjson" (lines of an export)


@dataclass(frozen=True, slots=True)
class LineError:
    where: str
    message: str


def _patient_of(resource: dict[str, Any]) -> str | None:
    if resource.get("resourceType") == "Patient":
        rid = resource.get("id")
        return rid if isinstance(rid, str) and rid else None
    for field in ("subject", "patient", "beneficiary"):
        ref = resource.get(field)
        if isinstance(ref, dict):
            target = ref.get("reference")
            if isinstance(target, str) and target.startswith("Patient/"):
                return target.removeprefix("Patient/")
    return None


def is_bulk_export(folder: Path) -> bool:
    return any(folder.glob("*.ndjson"))


class BulkIndex:
    """Byte ranges of each patient's resources in a Bulk Data export, and the shared ones."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.by_patient: dict[str, list[Chunk]] = {}
        self.shared: dict[str, bytes] = {}
        self.errors: list[LineError] = []
        files = sorted(folder.glob("*.ndjson"))
        if not files:
            raise InputError("no *.ndjson files in the export folder", location=str(folder))
        for path in files:
            self._scan(path)

    def _scan(self, path: Path) -> None:
        offset = 0
        with path.open("rb") as fh:
            for number, line in enumerate(fh, start=1):
                start, offset = offset, offset + len(line)
                if not line.strip():
                    continue
                try:
                    resource = json.loads(line)
                except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                    self.errors.append(
                        LineError(f"{path.name}:{number}", f"not valid JSON ({type(exc).__name__})")
                    )
                    continue
                if not isinstance(resource, dict):
                    self.errors.append(LineError(f"{path.name}:{number}", "not a JSON object"))
                    continue
                patient = _patient_of(resource)
                if patient is not None:
                    self.by_patient.setdefault(patient, []).append(
                        Chunk(str(path), start, len(line))
                    )
                elif resource.get("resourceType") in _SHARED_TYPES and resource.get("id"):
                    self.shared[f"{resource['resourceType']}/{resource['id']}"] = line.strip()
                else:
                    self.errors.append(
                        LineError(f"{path.name}:{number}", "resource linked to no patient")
                    )

    def refs(self) -> Iterator[PatientRef]:
        shared_digest = hashlib.sha256(b"".join(sorted(self.shared.values()))).hexdigest()
        for key in sorted(self.by_patient):
            chunks = tuple(self.by_patient[key])
            h = hashlib.sha256(shared_digest.encode())
            for raw in read_chunks(chunks):
                h.update(raw)
            yield PatientRef(key, h.hexdigest(), chunks, "ndjson")


def read_chunks(chunks: tuple[Chunk, ...]) -> Iterator[bytes]:
    for chunk in chunks:
        with open(chunk.path, "rb") as fh:
            fh.seek(chunk.offset)
            yield fh.read() if chunk.length < 0 else fh.read(chunk.length)


def bundle_refs(folder: Path) -> Iterator[PatientRef]:
    for path in sorted(folder.glob("*.json")):
        if path.name.endswith(".preferences.json"):
            continue
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        yield PatientRef(path.stem, digest, (Chunk(str(path), 0, -1),), "bundle")


def patient_refs(folder: Path) -> tuple[list[PatientRef], list[LineError], dict[str, bytes]]:
    """Every patient of the input folder, with the export's line errors and shared resources."""
    if not folder.is_dir():
        raise InputError("the batch input must be a folder", location=str(folder))
    if is_bulk_export(folder):
        index = BulkIndex(folder)
        return list(index.refs()), index.errors, index.shared
    refs = list(bundle_refs(folder))
    if not refs:
        raise InputError("no FHIR bundles (*.json) or NDJSON files found", location=str(folder))
    return refs, [], {}


def load_bundle(ref: PatientRef, shared: dict[str, bytes]) -> Any:
    """The patient's FHIR Bundle (parsed JSON), built from the export lines when needed."""
    if ref.kind == "bundle":
        return json.loads(next(read_chunks(ref.chunks)))
    resources = [json.loads(raw) for raw in read_chunks(ref.chunks)]
    wanted: set[str] = set()
    for resource in resources:
        _collect_refs(resource, wanted)
    resources += [json.loads(shared[r]) for r in sorted(wanted) if r in shared]
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"fullUrl": f"{r.get('resourceType')}/{r.get('id')}", "resource": r} for r in resources
        ],
    }


def _collect_refs(node: Any, out: set[str]) -> None:
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            ref = item.get("reference")
            if isinstance(ref, str):
                out.add(ref)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
