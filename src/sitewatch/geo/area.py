"""Areas and lengths in metres, measured geodesically on the WGS84 ellipsoid."""

from __future__ import annotations

from pyproj import Geod
from shapely.geometry.base import BaseGeometry

_GEOD = Geod(ellps="WGS84")


def area_perimeter_m(geom_wgs84: BaseGeometry) -> tuple[float, float]:
    """Geodesic (area in m2, perimeter in m) of a lon/lat polygon."""
    area, perimeter = _GEOD.geometry_area_perimeter(geom_wgs84)
    return abs(float(area)), float(perimeter)


def area_uncertainty_m2(perimeter_m: float, gsd_m: float) -> float:
    """Area error of a one-pixel boundary error: perimeter x pixel size
    (relative error about 4 x GSD / sqrt(area) for a compact shape)."""
    return perimeter_m * gsd_m
