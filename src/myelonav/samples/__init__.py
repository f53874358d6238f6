"""Bundled sample patients: fictional people written for myelonav, each as a profile and a
FHIR bundle. Every output that uses them says they are samples (``PatientRecord.sample``)."""

from __future__ import annotations

import datetime as dt
from importlib import resources
from importlib.resources.abc import Traversable

from myelonav.patient.models import PatientRecord
from myelonav.patient.profile_io import parse_profile_text

# The date the samples were written for; the demo reasons as of this day by default so that
# its labs count as current.
SAMPLE_AS_OF = dt.date(2026, 11, 25)


def _folder(name: str) -> Traversable:
    return resources.files("myelonav.samples").joinpath(name)


def sample_ids() -> list[str]:
    return sorted(
        p.name.removesuffix(".yaml")
        for p in _folder("profiles").iterdir()
        if p.name.endswith(".yaml")
    )


def sample_profile(sample_id: str) -> PatientRecord:
    path = _folder("profiles").joinpath(f"{sample_id}.yaml")
    return parse_profile_text(path.read_text("utf-8"), f"samples/profiles/{sample_id}.yaml")


def sample_profiles() -> list[PatientRecord]:
    return [sample_profile(i) for i in sample_ids()]


def sample_bundle_path(sample_id: str) -> Traversable:
    return _folder("bundles").joinpath(f"{sample_id}.json")


def sample_preferences_path(sample_id: str) -> Traversable:
    """Travel and goal preferences kept beside the bundle (FHIR has no place for them)."""
    return _folder("bundles").joinpath(f"{sample_id}.preferences.json")


__all__ = [
    "SAMPLE_AS_OF",
    "sample_bundle_path",
    "sample_ids",
    "sample_preferences_path",
    "sample_profile",
    "sample_profiles",
]
