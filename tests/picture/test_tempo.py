"""rapid_progression: the IMWG significant biochemical rise, unknown rather than false."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from myelonav.logic import UNKNOWN
from myelonav.patient.models import (
    Analyte,
    Demographics,
    DiseaseSite,
    DiseaseSiteKind,
    LabResult,
    PatientRecord,
    Sex,
)
from myelonav.picture import clinical_picture
from myelonav.picture.tempo import MAX_GAP_DAYS, significant_rise
from myelonav.samples import SAMPLE_AS_OF, sample_profile

AS_OF = dt.date(2026, 11, 25)
NORMAL_ORGANS = {"calcium": 9.5, "hemoglobin": 11.5, "creatinine": 1.0}


def _lab(name: str, day: dt.date, value: float) -> LabResult:
    return LabResult(analyte=Analyte(name), date=day, value=value)


def _record(
    series: dict[str, list[tuple[int, float]]],
    organs: dict[str, float] | None = None,
    sites: list[DiseaseSite] | None = None,
) -> PatientRecord:
    """``series``: analyte -> [(days before AS_OF, value)]; organ labs dated 3 days ago."""
    labs = [
        _lab(name, AS_OF - dt.timedelta(days=ago), value)
        for name, points in series.items()
        for ago, value in points
    ]
    labs += [_lab(n, AS_OF - dt.timedelta(days=3), v) for n, v in (organs or {}).items()]
    labs.sort(key=lambda lab: lab.date)
    return PatientRecord(
        id="tempo",
        demographics=Demographics(birth_date=dt.date(1958, 3, 1), sex=Sex.male),
        labs=labs,
        disease_sites=sites or [],
    )


def _rapid(record: PatientRecord) -> object:
    return clinical_picture(record, AS_OF).value("rapid_progression")


def test_doubling_within_two_months_is_rapid_and_names_the_values() -> None:
    record = _record({"serum_m_protein": [(50, 0.8), (5, 1.7)]}, NORMAL_ORGANS)
    fact = clinical_picture(record, AS_OF).fact("rapid_progression")
    assert fact.value is True
    assert "0.8" in fact.clinical and "1.7" in fact.clinical and "Blood 2011" in fact.clinical


def test_the_same_rise_over_three_months_is_not_decided() -> None:
    record = _record({"serum_m_protein": [(95, 0.8), (5, 1.7)]}, NORMAL_ORGANS)
    assert _rapid(record) is UNKNOWN


def test_a_steady_marker_with_normal_organ_signals_is_not_rapid() -> None:
    record = _record({"serum_m_protein": [(40, 1.2), (5, 1.4)]}, NORMAL_ORGANS)
    fact = clinical_picture(record, AS_OF).fact("rapid_progression")
    assert fact.value is False
    assert "1.2 -> 1.4" in fact.clinical


def test_a_missing_or_abnormal_organ_signal_keeps_it_unknown() -> None:
    steady = {"serum_m_protein": [(40, 1.2), (5, 1.4)]}
    assert _rapid(_record(steady, {"calcium": 9.5, "hemoglobin": 11.5})) is UNKNOWN
    low_hb = dict(NORMAL_ORGANS, hemoglobin=8.9)
    fact = clinical_picture(_record(steady, low_hb), AS_OF).fact("rapid_progression")
    assert fact.value is UNKNOWN and "haemoglobin 8.9" in fact.clinical


def test_a_single_value_or_no_marker_is_unknown_never_false() -> None:
    assert _rapid(_record({"serum_m_protein": [(5, 1.4)]}, NORMAL_ORGANS)) is UNKNOWN
    assert _rapid(_record({}, NORMAL_ORGANS)) is UNKNOWN


def test_involved_light_chain_rise_needs_an_abnormal_ratio() -> None:
    kappa = [(55, 400.0), (5, 700.0)]
    lam = [(55, 8.0), (5, 8.0)]
    rising = _record({"kappa_flc": kappa, "lambda_flc": lam}, NORMAL_ORGANS)
    assert _rapid(rising) is True
    # lambda rising while kappa dominates the ratio: lambda is not the involved chain
    normal_ratio = _record(
        {"kappa_flc": [(55, 20.0), (5, 21.0)], "lambda_flc": [(55, 10.0), (5, 15.0)]},
        NORMAL_ORGANS,
    )
    assert _rapid(normal_ratio) is UNKNOWN  # no tracked marker: nothing says "not rapid"


def test_a_rise_that_has_since_fallen_is_not_rapid() -> None:
    record = _record({"serum_m_protein": [(100, 0.8), (60, 1.9), (20, 0.9)]}, NORMAL_ORGANS)
    assert _rapid(record) is not True


def test_cord_compression_is_an_organ_threat() -> None:
    site = DiseaseSite(kind=DiseaseSiteKind.bone_lesion, location="T8", cord_compression=True)
    record = _record({"serum_m_protein": [(40, 1.2), (5, 1.3)]}, NORMAL_ORGANS, [site])
    assert _rapid(record) is True


def test_urine_and_serum_absolute_rises() -> None:
    assert significant_rise("urine M-protein", 300, 800)
    assert not significant_rise("urine M-protein", 300, 700)
    assert significant_rise("serum M-protein", 2.0, 3.0)  # +10 g/L, not doubled
    assert not significant_rise("serum M-protein", 0.3, 0.7)  # doubled, reference < 5 g/L
    assert not significant_rise("involved kappa FLC", 1000, 1200)  # +200 mg/L but < 25 %


def test_the_refractory_sample_is_rapid_and_the_others_are_not_decided() -> None:
    picture = clinical_picture(sample_profile("sample-refractory-cart-tec"), SAMPLE_AS_OF)
    assert picture.value("rapid_progression") is True
    for sample in ("sample-early-cilta-emd", "sample-late-idecel-t1114"):
        picture = clinical_picture(sample_profile(sample), SAMPLE_AS_OF)
        assert picture.value("rapid_progression") is UNKNOWN


# ---------------------------------------------------------------- properties

_ORDER = {False: 0, None: 1, True: 2}
_MARKERS = st.sampled_from(["serum_m_protein", "urine_m_protein", "kappa_flc"])
_VALUE = {
    # x10 (the largest speed-up drawn) stays plausible; kappa stays the involved chain
    "serum_m_protein": st.floats(0.0, 2.5),
    "urine_m_protein": st.floats(0.0, 3000.0),
    "kappa_flc": st.floats(1.0, 3000.0),
}


def _rank(value: object) -> int:
    return _ORDER[None if value is UNKNOWN else bool(value)]


@st.composite
def _series(draw: st.DrawFn, min_gap: int = 1) -> tuple[str, list[tuple[int, float]]]:
    marker = draw(_MARKERS)
    gaps = draw(st.lists(st.integers(min_gap, 150), min_size=0, max_size=5))
    ago = draw(st.integers(0, 100))
    days = [ago]
    for gap in gaps:
        days.append(days[-1] + gap)
    values = draw(st.lists(_VALUE[marker], min_size=len(days), max_size=len(days)))
    return marker, sorted(zip(days, values, strict=True), reverse=True)  # oldest first


def _with_ratio(marker: str, points: list[tuple[int, float]]) -> dict[str, list[tuple[int, float]]]:
    series: dict[str, list[tuple[int, float]]] = {marker: points}
    if marker == "kappa_flc":  # lambda tiny on the same dates: kappa is the involved chain
        series["lambda_flc"] = [(ago, 0.01) for ago, _ in points]
    return series


@settings(max_examples=150, deadline=None)
@given(
    _series(),
    st.integers(0, 5),
    st.floats(1.0, 10.0),
    st.booleans(),
)
def test_a_faster_rise_never_lowers_the_answer(
    drawn: tuple[str, list[tuple[int, float]]], start: int, factor: float, organs: bool
) -> None:
    marker, points = drawn
    faster = [(ago, v * factor if i >= start else v) for i, (ago, v) in enumerate(points)]
    chem = NORMAL_ORGANS if organs else None
    slow = _rapid(_record(_with_ratio(marker, points), chem))
    fast = _rapid(_record(_with_ratio(marker, faster), chem))
    assert _rank(fast) >= _rank(slow), (points, faster, slow, fast)


@settings(max_examples=150, deadline=None)
@given(_series(min_gap=MAX_GAP_DAYS + 1), st.booleans())
def test_values_more_than_two_months_apart_never_make_it_rapid(
    drawn: tuple[str, list[tuple[int, float]]], organs: bool
) -> None:
    marker, points = drawn
    record = _record(_with_ratio(marker, points), NORMAL_ORGANS if organs else None)
    assert _rapid(record) is not True
