"""Sites of disease: "don't know" is never "no".

Extramedullary disease, CNS disease, plasma-cell leukaemia and single-site progression are
true on a recorded site, false only when the record says so (looked for and not found, a
current blood count below the leukaemia level, sites no longer active), and unknown when the
record is silent: an answer the person never gave, or an imported record without the section.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from myelonav.logic import UNKNOWN
from myelonav.patient.fhir_export import export_bundle
from myelonav.patient.fhir_import import import_bundle
from myelonav.patient.models import (
    Analyte,
    DiseaseSite,
    DiseaseSiteKind,
    LabResult,
    PatientRecord,
    SiteNotFound,
)
from myelonav.patient.profile_io import record_from_data
from myelonav.picture import clinical_picture
from myelonav.samples import SAMPLE_AS_OF, sample_profile

AS_OF = SAMPLE_AS_OF
# A fit man with a late relapse after ide-cel whose record mentions no scan findings.
SILENT = "sample-late-idecel-t1114"
EMD = DiseaseSiteKind.extramedullary_plasmacytoma
CNS = DiseaseSiteKind.cns
PCL = DiseaseSiteKind.plasma_cell_leukemia


def _with(
    sites: list[DiseaseSite] | None = None,
    absent: list[SiteNotFound] | None = None,
    labs: list[LabResult] | None = None,
) -> PatientRecord:
    base = sample_profile(SILENT)
    assert base.disease_sites == [] and base.sites_not_found == []
    return base.model_copy(
        update={
            "disease_sites": sites or [],
            "sites_not_found": absent or [],
            "labs": [*base.labs, *(labs or [])],
        }
    )


def _value(record: PatientRecord, name: str) -> object:
    return clinical_picture(record, AS_OF).value(name)


@pytest.mark.parametrize("fact,kind", [("extramedullary_disease", EMD), ("cns_disease", CNS)])
def test_a_site_is_yes_no_or_unknown_as_the_record_says(fact: str, kind: DiseaseSiteKind) -> None:
    seen = DiseaseSite(kind=kind, location="liver", date=dt.date(2026, 11, 1))
    assert _value(_with(sites=[seen]), fact) is True
    looked = SiteNotFound(kind=kind, date=dt.date(2026, 11, 1))
    assert _value(_with(absent=[looked]), fact) is False
    gone = seen.model_copy(update={"active": False})
    assert _value(_with(sites=[gone]), fact) is False
    unsure = seen.model_copy(update={"active": None})
    assert _value(_with(sites=[unsure]), fact) is UNKNOWN
    # silence: never asked, never imaged
    silent = clinical_picture(_with(), AS_OF).fact(fact)
    assert silent.value is UNKNOWN
    assert "ask your care team" in silent.plain


def test_a_finding_after_the_as_of_date_is_not_used() -> None:
    later = SiteNotFound(kind=EMD, date=AS_OF + dt.timedelta(days=3))
    assert _value(_with(absent=[later]), "extramedullary_disease") is UNKNOWN


def test_plasma_cell_leukaemia_needs_a_count_to_be_ruled_out() -> None:
    def cpc(value: float, days_ago: int) -> LabResult:
        day = AS_OF - dt.timedelta(days=days_ago)
        return LabResult(analyte=Analyte.circulating_plasma_cells, date=day, value=value)

    assert _value(_with(), "plasma_cell_leukemia") is UNKNOWN
    assert _value(_with(labs=[cpc(8, 5)]), "plasma_cell_leukemia") is True  # >= 5 %
    assert _value(_with(labs=[cpc(1, 5)]), "plasma_cell_leukemia") is False
    assert _value(_with(labs=[cpc(1, 400)]), "plasma_cell_leukemia") is UNKNOWN  # stale
    assert _value(_with(sites=[DiseaseSite(kind=PCL)]), "plasma_cell_leukemia") is True
    ruled_out = [SiteNotFound(kind=PCL, date=AS_OF)]
    assert _value(_with(absent=ruled_out), "plasma_cell_leukemia") is False


def test_single_site_progression_is_unknown_without_any_imaging() -> None:
    assert _value(_with(), "single_site_progression") is UNKNOWN
    old = DiseaseSite(kind=DiseaseSiteKind.bone_lesion, location="L2", active=False)
    assert _value(_with(sites=[old]), "single_site_progression") is False


def test_a_profile_saved_before_the_field_loads_and_reads_unknown() -> None:
    data = json.loads(sample_profile(SILENT).model_dump_json(exclude_none=True))
    data.pop("sites_not_found", None)
    record = record_from_data(data, "file")
    assert record.sites_not_found == []
    picture = clinical_picture(record, AS_OF)
    for fact in ("extramedullary_disease", "cns_disease", "plasma_cell_leukemia"):
        assert picture.value(fact) is UNKNOWN, fact


def test_the_not_found_answers_survive_a_save_and_load() -> None:
    record = _with(absent=[SiteNotFound(kind=EMD, date=dt.date(2026, 10, 2))])
    again = PatientRecord.model_validate_json(record.model_dump_json())
    assert again.sites_not_found == record.sites_not_found
    assert _value(again, "extramedullary_disease") is False


def test_an_imported_record_without_the_section_reads_unknown() -> None:
    bundle = export_bundle(sample_profile(SILENT))
    report = import_bundle(bundle, source="test", as_of=AS_OF)
    picture = clinical_picture(report.record, AS_OF)
    for fact in ("extramedullary_disease", "cns_disease", "plasma_cell_leukemia"):
        assert picture.value(fact) is UNKNOWN, fact


def test_an_imported_extramedullary_site_reads_yes() -> None:
    record = sample_profile("sample-early-cilta-emd")
    report = import_bundle(export_bundle(record), source="test", as_of=AS_OF)
    assert clinical_picture(report.record, AS_OF).value("extramedullary_disease") is True


_KINDS = st.sampled_from([EMD, CNS, DiseaseSiteKind.bone_lesion])
_SITES = st.lists(
    st.builds(
        DiseaseSite,
        kind=_KINDS,
        active=st.sampled_from([True, False, None]),
        date=st.none() | st.dates(dt.date(2024, 1, 1), AS_OF),
    ),
    max_size=4,
)
_CHECKS = st.lists(
    st.builds(SiteNotFound, kind=_KINDS, date=st.none() | st.dates(dt.date(2024, 1, 1), AS_OF)),
    max_size=3,
)


@settings(max_examples=80, deadline=None)
@given(_SITES, _CHECKS)
def test_a_site_fact_is_false_only_when_the_record_says_so(
    sites: list[DiseaseSite], checks: list[SiteNotFound]
) -> None:
    picture = clinical_picture(_with(sites=sites, absent=checks), AS_OF)
    for fact, kind in (("extramedullary_disease", EMD), ("cns_disease", CNS)):
        hits = [s for s in sites if s.kind is kind]
        looked = [c for c in checks if c.kind is kind]
        value = picture.value(fact)
        if any(s.active is True for s in hits):
            assert value is True, fact
        elif value is False:
            # looked for and not found, or every recorded site of this kind is inactive
            assert looked or (hits and all(s.active is False for s in hits)), fact
        if not hits and not looked:
            assert value is UNKNOWN, fact
