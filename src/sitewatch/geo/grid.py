"""One grid per site: the site's UTM zone (UPS near the poles), square pixels, snapped to the
pixel size."""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass
from typing import Any

from affine import Affine
from shapely.geometry.base import BaseGeometry

from sitewatch.errors import InputValueError
from sitewatch.geo.antimeridian import lonlat_centre
from sitewatch.geo.aoi import grid_crs, to_crs

MAX_GRID_PX = 4096


@dataclass(frozen=True)
class Grid:
    """A north-up raster grid: ``crs`` (e.g. "EPSG:32614"), pixel size ``res_m`` in metres,
    upper-left corner (``west``, ``north``) in CRS metres, size ``width`` x ``height`` pixels."""

    crs: str
    res_m: float
    west: float
    north: float
    width: int
    height: int

    def __post_init__(self) -> None:
        if self.res_m <= 0 or self.width <= 0 or self.height <= 0:
            raise InputValueError(f"invalid grid {self}")

    @property
    def transform(self) -> Affine:
        return Affine(self.res_m, 0.0, self.west, 0.0, -self.res_m, self.north)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(west, south, east, north) in grid CRS metres."""
        return (self.west, self.north - self.height * self.res_m,
                self.west + self.width * self.res_m, self.north)

    @property
    def key(self) -> str:
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Grid:
        return cls(**d)


def nice_resolution(gsd_m: float) -> float:
    """Round a ground sample distance to 2 significant figures (0.52 -> 0.52, 9.98 -> 10)."""
    if gsd_m <= 0:
        raise InputValueError(f"ground sample distance {gsd_m} m must be positive")
    digits = 1 - int(math.floor(math.log10(gsd_m)))
    return round(gsd_m, digits)


def site_grid(aoi_wgs84: BaseGeometry, gsd_m: float, max_px: int = MAX_GRID_PX) -> Grid:
    """The grid of a site: UTM zone of the AOI centre (polar stereographic near the poles;
    the centre is found on the sphere, so an AOI split at the antimeridian gets the zone it
    lies in), pixel ``gsd_m`` (coarsened so that neither side exceeds ``max_px``), edges
    snapped outward to whole pixels."""
    crs = grid_crs(*lonlat_centre(aoi_wgs84))
    w, s, e, n = to_crs(aoi_wgs84, "EPSG:4326", crs).bounds
    res = nice_resolution(gsd_m)
    while max(e - w, n - s) / res > max_px:
        res = nice_resolution(res * 1.5)
    west = math.floor(w / res) * res
    north = math.ceil(n / res) * res
    width = max(1, math.ceil((e - west) / res))
    height = max(1, math.ceil((north - s) / res))
    return Grid(crs=crs.to_string(), res_m=res, west=west, north=north, width=width, height=height)
