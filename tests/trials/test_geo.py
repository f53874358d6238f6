"""Geography: ZIP centroids, great-circle miles, nearest recruiting site, bounding boxes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from myelonav.errors import InputError
from myelonav.trials.geo import (
    EARTH_RADIUS_MILES,
    Point,
    bounding_box,
    haversine_miles,
    nearest_site,
    zip_point,
)
from myelonav.trials.models import Location, Study

lat = st.floats(min_value=-89.0, max_value=89.0, allow_nan=False)
lon = st.floats(min_value=-179.0, max_value=179.0, allow_nan=False)


def test_known_distance_new_york_los_angeles() -> None:
    # GeoNames city centres; the great-circle distance is about 3,936 km = 2,446 statute miles
    miles = haversine_miles(40.71427, -74.00597, 34.05223, -118.24368)
    assert miles == pytest.approx(2446, abs=5)


def test_quarter_meridian() -> None:
    assert haversine_miles(0, 0, 90, 0) == pytest.approx(EARTH_RADIUS_MILES * 3.141592653589793 / 2)


@given(lat, lon, lat, lon)
def test_symmetric_and_bounded(a: float, b: float, c: float, d: float) -> None:
    ab = haversine_miles(a, b, c, d)
    assert ab == pytest.approx(haversine_miles(c, d, a, b), abs=1e-6)
    assert 0.0 <= ab <= EARTH_RADIUS_MILES * 3.1416


@given(lat, lon, lat, lon, lat, lon)
def test_triangle_inequality(a: float, b: float, c: float, d: float, e: float, f: float) -> None:
    assert (
        haversine_miles(a, b, e, f)
        <= haversine_miles(a, b, c, d) + haversine_miles(c, d, e, f) + 1e-6
    )


@settings(max_examples=500)
@given(lat, lon, lat, lon, st.floats(min_value=1.0, max_value=6000.0))
def test_bounding_box_contains_every_point_within_range(
    a: float, b: float, c: float, d: float, miles: float
) -> None:
    origin = Point(a, b)
    if haversine_miles(a, b, c, d) <= miles:
        min_lat, max_lat, min_lon, max_lon = bounding_box(origin, miles)
        assert min_lat <= c <= max_lat
        assert min_lon <= d <= max_lon


def test_zip_lookup() -> None:
    point = zip_point("10065")
    assert point.lat == pytest.approx(40.77, abs=0.05)
    assert point.lon == pytest.approx(-73.96, abs=0.05)
    assert "New York" in point.label
    assert zip_point("77030-1234").label.endswith("77030")


@pytest.mark.parametrize("bad", ["1006", "ABCDE", "", "100655"])
def test_zip_must_be_five_digits(bad: str) -> None:
    with pytest.raises(InputError) as info:
        zip_point(bad)
    assert "--near" in str(info.value)


def test_unknown_zip() -> None:
    with pytest.raises(InputError):
        zip_point("00000")


def test_point_range_checked() -> None:
    with pytest.raises(InputError):
        Point(91.0, 0.0)


def test_nearest_site_uses_recruiting_sites_only() -> None:
    study = Study(
        nct_id="NCT00000001",
        locations=[
            Location(city="Newark", status="COMPLETED", lat=40.73566, lon=-74.17237),
            Location(city="Boston", status="RECRUITING", lat=42.35843, lon=-71.05977),
            Location(city="Nowhere", status="RECRUITING"),
        ],
    )
    origin = zip_point("10065")
    best = nearest_site(study, origin)
    assert best is not None and best.location.city == "Boston"
    assert best.miles == pytest.approx(185, abs=10)
    anyone = nearest_site(study, origin, recruiting_only=False)
    assert anyone is not None and anyone.location.city == "Newark"
    assert nearest_site(Study(nct_id="NCT00000002"), origin) is None


def test_bounding_box_is_wide_enough_at_high_latitude() -> None:
    # a 1000-mile cap around (70 N, 0): its easternmost point is near (76.05 N, 46.95 E),
    # poleward of the origin, where r / cos(lat) would give only 42.3 degrees
    origin = Point(70.0, 0.0)
    east = (76.04, 46.9)
    assert haversine_miles(origin.lat, origin.lon, *east) < 1000
    _, _, min_lon, max_lon = bounding_box(origin, 1000)
    assert min_lon <= east[1] <= max_lon
