"""Where a person is and how far a study site is: US ZIP → coordinates, great-circle miles.

ZIP centroids come from the ``zipcodes`` package (bundled data, no download at run time).
Distance is the haversine great-circle distance on a sphere of the mean Earth radius
(6371.0088 km, IUGG), which is within about 0.5% of the ellipsoidal distance — ample for
"how far would I travel".
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from myelonav.errors import InputError
from myelonav.trials.models import Location, Study

EARTH_RADIUS_MILES = 6371.0088 / 1.609344
_ZIP = re.compile(r"^\s*(\d{5})(?:-\d{4})?\s*$")


@dataclass(frozen=True)
class Point:
    lat: float
    lon: float
    label: str = ""

    def __post_init__(self) -> None:
        if not (-90.0 <= self.lat <= 90.0) or not (-180.0 <= self.lon <= 180.0):
            raise InputError(
                f"latitude must be in [-90, 90] and longitude in [-180, 180]; got "
                f"{self.lat}, {self.lon}",
                location="--lat/--lon",
            )


def zip_point(zip_code: str) -> Point:
    """The centroid of a US ZIP code (5 digits, ZIP+4 accepted)."""
    match = _ZIP.match(zip_code)
    if match is None:
        raise InputError(f"{zip_code!r} is not a 5-digit US ZIP code", location="--near")
    import zipcodes  # imported lazily: loading its table takes ~0.3 s

    hits = zipcodes.matching(match.group(1))  # type: ignore[no-untyped-call]
    for hit in hits:
        if hit.get("lat") and hit.get("long"):
            label = f"{hit['city']}, {hit['state']} {hit['zip_code']}"
            return Point(float(hit["lat"]), float(hit["long"]), label)
    raise InputError(f"ZIP code {match.group(1)} is not in the US ZIP table", location="--near")


def haversine_miles(a_lat: float, a_lon: float, b_lat: float, b_lon: float) -> float:
    """Great-circle distance in statute miles."""
    p1, p2 = math.radians(a_lat), math.radians(b_lat)
    dphi = p2 - p1
    dlmb = math.radians(b_lon - a_lon)
    h = math.sin(dphi / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_MILES * math.asin(min(1.0, math.sqrt(h)))


@dataclass(frozen=True)
class NearestSite:
    location: Location
    miles: float


def nearest_site(
    study: Study, origin: Point, *, recruiting_only: bool = True
) -> NearestSite | None:
    """The closest site with coordinates (recruiting sites only by default), or None."""
    best: NearestSite | None = None
    for loc in study.locations:
        if loc.lat is None or loc.lon is None:
            continue
        if recruiting_only and not loc.is_recruiting:
            continue
        miles = haversine_miles(origin.lat, origin.lon, loc.lat, loc.lon)
        if best is None or miles < best.miles:
            best = NearestSite(loc, miles)
    return best


def bounding_box(origin: Point, miles: float) -> tuple[float, float, float, float]:
    """(min_lat, max_lat, min_lon, max_lon) enclosing the circle; a cheap SQL pre-filter.

    Exact for a spherical cap: the widest longitude is asin(sin r / cos lat) (reached north of
    the origin's latitude, so r / cos lat would be too narrow), and a cap that reaches a pole
    or the antimeridian spans every longitude.
    """
    r = miles / EARTH_RADIUS_MILES
    dlat = math.degrees(r)
    min_lat, max_lat = origin.lat - dlat, origin.lat + dlat
    full = (max(-90.0, min_lat), min(90.0, max_lat), -180.0, 180.0)
    cos_lat = math.cos(math.radians(origin.lat))
    if r >= math.pi / 2 or max_lat >= 90.0 or min_lat <= -90.0 or math.sin(r) >= cos_lat:
        return full
    dlon = math.degrees(math.asin(math.sin(r) / cos_lat))
    if origin.lon - dlon < -180.0 or origin.lon + dlon > 180.0:
        return full  # crosses the antimeridian
    return min_lat, max_lat, origin.lon - dlon, origin.lon + dlon


__all__ = [
    "EARTH_RADIUS_MILES",
    "NearestSite",
    "Point",
    "bounding_box",
    "haversine_miles",
    "nearest_site",
    "zip_point",
]
