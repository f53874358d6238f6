"""The typed study model: reads v2 records without loss, resolves interventions, keeps extras."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from myelonav.errors import TrialsDataError
from myelonav.trials.models import (
    Study,
    looks_fictional,
    parse_age_years,
    parse_date,
    resolve_agents,
)
from myelonav.trials.samples import sample_records


def minimal(nct: str = "NCT01234567", **protocol: Any) -> dict[str, Any]:
    section: dict[str, Any] = {"identificationModule": {"nctId": nct, "briefTitle": "A study"}}
    section.update(protocol)
    return {"protocolSection": section}


# ------------------------------------------------------------------ the real record


def test_real_record_parses_without_loss(shared_dir: Path) -> None:
    path = shared_dir / "data" / "ctgov" / "NCT02513394.json"
    if not path.exists():
        pytest.skip(f"{path} not present")
    raw = json.loads(path.read_text())
    original = copy.deepcopy(raw)
    study = Study.from_v2(raw)
    assert raw == original, "from_v2 must not mutate its input"
    p = raw["protocolSection"]

    assert study.nct_id == "NCT02513394"
    assert study.brief_title == p["identificationModule"]["briefTitle"]
    assert study.official_title == p["identificationModule"]["officialTitle"]
    assert study.acronym == "PALLAS"
    assert study.overall_status == p["statusModule"]["overallStatus"]
    assert study.phases == p["designModule"]["phases"]
    assert study.conditions == p["conditionsModule"]["conditions"]
    assert study.keywords == p["conditionsModule"]["keywords"]
    assert [i.name for i in study.interventions] == [
        i["name"] for i in p["armsInterventionsModule"]["interventions"]
    ]
    assert [a.label for a in study.arms] == [
        a["label"] for a in p["armsInterventionsModule"]["armGroups"]
    ]
    elig = p["eligibilityModule"]
    assert study.eligibility.criteria_text == elig["eligibilityCriteria"]
    assert study.eligibility.minimum_age_years == 18.0
    assert study.eligibility.sex == elig["sex"]
    assert study.eligibility.healthy_volunteers is elig["healthyVolunteers"]
    locations = p["contactsLocationsModule"]["locations"]
    assert len(study.locations) == len(locations) == 437
    for loc, want in zip(study.locations, locations, strict=True):
        assert (loc.facility, loc.city, loc.zip, loc.country) == (
            want.get("facility"),
            want.get("city"),
            want.get("zip"),
            want.get("country"),
        )
        if "geoPoint" in want:
            assert (loc.lat, loc.lon) == (want["geoPoint"]["lat"], want["geoPoint"]["lon"])
    assert study.sponsor.name == p["sponsorCollaboratorsModule"]["leadSponsor"]["name"]
    assert len(study.collaborators) == len(p["sponsorCollaboratorsModule"]["collaborators"])
    assert study.last_update_date == dt.date.fromisoformat(
        p["statusModule"]["lastUpdatePostDateStruct"]["date"]
    )
    assert study.start_date == p["statusModule"]["startDateStruct"]["date"]
    assert study.brief_summary == p["descriptionModule"]["briefSummary"]
    assert study.has_results is True
    assert study.is_sample is False
    # everything without a typed field is kept, and the record rebuilds exactly
    assert "resultsSection" in study.extra and "derivedSection" in study.extra
    assert "locations_nested" in study.extra["protocolSection"]["contactsLocationsModule"]
    assert study.to_v2() == original


def test_fictional_eval_records_round_trip_and_are_flagged(shared_dir: Path) -> None:
    folder = shared_dir / "data" / "mm-trials" / "trials"
    files = sorted(folder.glob("NCT*.json"))
    if not files:
        pytest.skip(f"no records in {folder}")
    for file in files:
        raw = json.loads(file.read_text())
        study = Study.from_v2(raw)
        assert study.to_v2() == raw, file.name
        assert study.is_sample, f"{file.name} says it is fictional; it must be flagged"


def test_bundled_samples_round_trip_and_are_samples() -> None:
    records = sample_records()
    assert 8 <= len(records) <= 12
    for record in records:
        assert record.study.is_sample
        assert record.study.nct_id.startswith("NCT99")
        assert record.study.to_v2() == record.raw
        # flagged from their own text too, so an import of the files stays marked
        assert Study.from_v2(record.raw).is_sample


# ------------------------------------------------------------------ interventions


def test_intervention_code_name_resolves_through_vocabulary() -> None:
    raw = minimal(
        armsInterventionsModule={
            "interventions": [{"type": "DRUG", "name": "JNJ-64407564"}],
        }
    )
    study = Study.from_v2(raw)
    assert study.drug_ids == ["talquetamab"]
    assert {"bispecific", "gprc5d_directed"} <= set(study.drug_classes)
    assert study.targets == ["GPRC5D"]


def test_combination_name_yields_every_agent() -> None:
    ids, classes, targets = resolve_agents(["Talquetamab + Teclistamab"])
    assert set(ids) == {"talquetamab", "teclistamab"}
    assert {"bcma_directed", "gprc5d_directed"} <= set(classes)
    assert set(targets) == {"BCMA", "GPRC5D"}


def test_unknown_agent_keeps_named_antigen_as_target() -> None:
    ids, classes, targets = resolve_agents(["Anti-BCMA CAR-T cells (investigational)"])
    assert ids == [] and classes == []
    assert targets == ["BCMA"]


def test_other_names_resolve() -> None:
    ids, _, _ = resolve_agents(["Study drug", "CC-92480"])
    assert ids == ["mezigdomide"]


# ------------------------------------------------------------------ extras and errors


def test_unknown_fields_and_enum_values_are_kept() -> None:
    raw = minimal(
        statusModule={"overallStatus": "SOME_NEW_STATUS", "futureField": {"x": 1}},
        contactsLocationsModule={
            "locations": [
                {
                    "facility": "Site",
                    "status": "RECRUITING",
                    "newSiteField": True,
                    "geoPoint": {"lat": 1.5, "lon": 2.5, "alt": 3},
                }
            ]
        },
    )
    raw["newTopLevel"] = [1, 2]
    study = Study.from_v2(raw)
    assert study.overall_status == "SOME_NEW_STATUS"
    assert study.extra["newTopLevel"] == [1, 2]
    assert study.extra["protocolSection"]["statusModule"]["futureField"] == {"x": 1}
    assert study.locations[0].extra["newSiteField"] is True
    assert study.locations[0].lat == 1.5
    assert study.to_v2() == raw


@pytest.mark.parametrize(
    ("record", "where"),
    [
        ([], "$"),
        ({"hasResults": False}, "$.protocolSection"),
        ({"protocolSection": {}}, "identificationModule"),
        ({"protocolSection": {"identificationModule": {"nctId": "12345"}}}, "nctId"),
        (minimal(conditionsModule={"conditions": "Myeloma"}), "conditionsModule.conditions"),
        (minimal(eligibilityModule={"healthyVolunteers": "no"}), "healthyVolunteers"),
        (
            minimal(contactsLocationsModule={"locations": [{"geoPoint": {"lat": "x", "lon": 1}}]}),
            "lat",
        ),
    ],
)
def test_bad_shapes_raise_with_location(record: Any, where: str) -> None:
    with pytest.raises(TrialsDataError) as info:
        Study.from_v2(record)
    assert where in str(info.value)


# ------------------------------------------------------------------ ages and dates


@pytest.mark.parametrize(
    ("text", "years"),
    [
        ("18 Years", 18.0),
        ("1 Year", 1.0),
        ("6 Months", 0.5),
        ("52 Weeks", round(52 * 7 / 365.25, 4)),
        ("30 Days", round(30 / 365.25, 4)),
        (None, None),
        ("N/A", None),
        ("eighteen years", None),
    ],
)
def test_parse_age_years(text: str | None, years: float | None) -> None:
    assert parse_age_years(text) == years


@given(st.integers(min_value=0, max_value=120))
def test_parse_age_years_in_years_is_identity(n: int) -> None:
    assert parse_age_years(f"{n} Years") == float(n)
    assert parse_age_years(f"{n * 12} Months") == pytest.approx(float(n), abs=1e-3)


def test_parse_date_partial_and_bad() -> None:
    assert parse_date("2024-05-17") == dt.date(2024, 5, 17)
    assert parse_date("2024-05") == dt.date(2024, 5, 1)
    assert parse_date("2024") == dt.date(2024, 1, 1)
    assert parse_date("2024-13") is None
    assert parse_date("") is None


def test_partial_dates_are_kept_verbatim() -> None:
    raw = minimal(
        statusModule={
            "startDateStruct": {"date": "2025-03", "type": "ESTIMATED"},
            "lastUpdatePostDateStruct": {"date": "2026-10-02", "type": "ACTUAL"},
            "studyFirstPostDateStruct": {"date": "2025-01", "type": "ACTUAL"},
        }
    )
    study = Study.from_v2(raw)
    assert study.start_date == "2025-03" and study.start_date_type == "ESTIMATED"
    assert study.last_update_date == dt.date(2026, 10, 2)
    assert study.first_post_date is None  # a partial date is not a full date; kept in extra
    assert study.to_v2() == raw


def test_looks_fictional() -> None:
    assert looks_fictional("SAMPLE — fictional study written for myelonav: X", None)
    assert looks_fictional("T", "… it does not describe a real study and must not …")
    assert not looks_fictional("A Phase 2 Study of X", "A real description.")


# ------------------------------------------------------------------ property: lossless


_text = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=0x24F), max_size=20)
_maybe_text = st.one_of(st.none(), st.just(""), _text)
_str_list = st.one_of(st.none(), st.just([]), st.lists(_text.filter(bool), max_size=3))


def _drop_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


@st.composite
def v2_records(draw: st.DrawFn) -> dict[str, Any]:
    location = st.builds(
        lambda f, s, c, g, x: _drop_none(
            {"facility": f, "status": s, "city": c, "geoPoint": g, "extraKey": x}
        ),
        _maybe_text,
        st.sampled_from([None, "RECRUITING", "COMPLETED", "NEW_VALUE"]),
        _maybe_text,
        st.one_of(
            st.none(),
            st.builds(
                lambda a, b: {"lat": a, "lon": b},
                st.floats(-90, 90, allow_nan=False),
                st.floats(-180, 180, allow_nan=False),
            ),
        ),
        st.one_of(st.none(), st.integers()),
    )
    intervention = st.builds(
        lambda t, n, o: _drop_none({"type": t, "name": n, "otherNames": o}),
        st.sampled_from([None, "DRUG", "BIOLOGICAL"]),
        st.sampled_from(["Teclistamab", "Dexamethasone", "Unknown agent", "CC-220"]),
        _str_list,
    )
    protocol = {
        "identificationModule": _drop_none(
            {"nctId": "NCT00000001", "briefTitle": draw(_maybe_text), "acronym": draw(_maybe_text)}
        ),
        "conditionsModule": _drop_none(
            {"conditions": draw(_str_list), "keywords": draw(_str_list)}
        ),
        "designModule": _drop_none({"phases": draw(_str_list)}),
        "eligibilityModule": _drop_none(
            {
                "eligibilityCriteria": draw(_maybe_text),
                "minimumAge": draw(st.sampled_from([None, "18 Years", "6 Months", "odd"])),
                "healthyVolunteers": draw(st.one_of(st.none(), st.booleans())),
            }
        ),
        "statusModule": _drop_none(
            {
                "overallStatus": draw(_maybe_text),
                "lastUpdatePostDateStruct": draw(
                    st.sampled_from([None, {"date": "2026-01-02"}, {"date": "2026-01"}, {}])
                ),
            }
        ),
        "armsInterventionsModule": {"interventions": draw(st.lists(intervention, max_size=3))},
        "contactsLocationsModule": {"locations": draw(st.lists(location, max_size=3))},
    }
    return {"protocolSection": protocol, "hasResults": draw(st.booleans())}


@settings(max_examples=150, deadline=None)
@given(v2_records())
def test_from_v2_to_v2_is_lossless(record: dict[str, Any]) -> None:
    original = copy.deepcopy(record)
    study = Study.from_v2(record)
    assert record == original
    assert study.to_v2() == original
