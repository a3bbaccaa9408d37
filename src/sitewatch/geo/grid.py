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


#: an image's pixel lattice: (CRS, pixel width, pixel height, a corner's x, a corner's y)
Lattice = tuple[str, float, float, float, float]


def site_grid(aoi_wgs84: BaseGeometry, gsd_m: float, max_px: int = MAX_GRID_PX,
              lattice: Lattice | None = None) -> Grid:
    """The grid of a site: UTM zone of the AOI centre (polar stereographic near the poles;
    the centre is found on the sphere, so an AOI split at the antimeridian gets the zone it
    lies in), pixel ``gsd_m`` (coarsened so that neither side exceeds ``max_px``), edges
    snapped outward to whole pixels.

    ``lattice``: an image's pixels; when they are in the grid's CRS at its pixel size, the
    edges snap to that image's pixel edges instead of to multiples of the pixel size, so
    that the image is read as it is (no resampling: faster, and its pixels untouched).
    Landsat's lattice, for one, is offset by half a pixel from multiples of 30 m.
    """
    crs = grid_crs(*lonlat_centre(aoi_wgs84))
    w, s, e, n = to_crs(aoi_wgs84, "EPSG:4326", crs).bounds
    res = nice_resolution(gsd_m)
    while max(e - w, n - s) / res > max_px:
        res = nice_resolution(res * 1.5)
    ox = oy = 0.0
    if lattice is not None and _same_lattice(lattice, crs, res):
        ox, oy = lattice[3] % res, lattice[4] % res
    west = math.floor((w - ox) / res) * res + ox
    north = math.ceil((n - oy) / res) * res + oy
    width = max(1, math.ceil((e - west) / res))
    height = max(1, math.ceil((north - s) / res))
    return Grid(crs=crs.to_string(), res_m=res, west=west, north=north, width=width, height=height)


def _same_lattice(lattice: Lattice, crs: Any, res: float) -> bool:
    from pyproj import CRS

    name, xres, yres = lattice[0], lattice[1], lattice[2]
    if not (math.isclose(xres, res, rel_tol=1e-9) and math.isclose(yres, res, rel_tol=1e-9)):
        return False
    try:
        return bool(CRS.from_user_input(name) == crs)
    except Exception:  # noqa: BLE001 - an unreadable CRS is simply not this grid's
        return False
