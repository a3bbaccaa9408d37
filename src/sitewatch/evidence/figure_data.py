"""From a run and its chips to the figure's description (``FigureSpec``): geometry in grid
pixels, plain-language titles, coordinates of the grid in degrees."""

from __future__ import annotations

from collections import Counter

import numpy as np
from pyproj import Transformer
from shapely import affinity
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from sitewatch.evidence.figure import Building, FigureSpec, LonLatFn, Mark, Panel
from sitewatch.evidence.structures import cited_items
from sitewatch.geo.aoi import to_crs
from sitewatch.geo.grid import Grid
from sitewatch.model import Run, Scene, Site
from sitewatch.model.dates import ObsDate
from sitewatch.model.objects import change_label


def to_pixels(geom_wgs84: BaseGeometry, grid: Grid) -> BaseGeometry:
    """A lon/lat geometry in the grid's pixel coordinates (col, row)."""
    g = to_crs(geom_wgs84, "EPSG:4326", grid.crs)
    inv = ~grid.transform
    return affinity.affine_transform(g, [inv.a, inv.b, inv.d, inv.e, inv.xoff, inv.yoff])


def pixel_to_lonlat(grid: Grid) -> LonLatFn:
    """A function (cols, rows) -> (lon, lat) arrays for the grid."""
    tf = Transformer.from_crs(grid.crs, "EPSG:4326", always_xy=True)
    t = grid.transform

    def fn(cols: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x = t.a * cols + t.b * rows + t.c
        y = t.d * cols + t.e * rows + t.f
        lon, lat = tf.transform(x, y)
        return np.asarray(lon), np.asarray(lat)

    return fn


def heading(site: Site, run: Run) -> str:
    """'austin: 3 areas of change (2 new construction, 1 unclassified)'."""
    n = len(run.detections)
    if not n:
        return f"{site.name}: no change detected"
    kinds = Counter(change_label(d.change_type).removesuffix(" change")
                    for d in run.detections)
    what = ", ".join(f"{c} {k}" for k, c in kinds.most_common())
    return f"{site.name}: {n} area{'s' if n != 1 else ''} of change ({what})"


def figure_spec(site: Site, run: Run, before: Scene, after: Scene, before_data: np.ndarray,
                after_data: np.ndarray, max_labels: int = 25) -> FigureSpec:
    """The figure of ``run``; ``*_data``: (bands, h, w) float32 chips on the run's grid."""
    grid = Grid.from_dict(run.parameters["grid"])
    names = list(run.parameters["bands"])
    ib = [before.band_names.index(n) for n in names]
    ia = [after.band_names.index(n) for n in names]
    c = site.aoi_geom.centroid
    marks = [Mark(to_pixels(shape(d.polygon), grid), d.ref, d.area_m2, d.area_uncertainty_m2,
                  d.change_type) for d in run.detections]
    caption = (f"Grid {grid.crs}, {grid.res_m:g} m pixels; coordinates: WGS84 degrees. "
               f"Detector: {run.method}, run {run.ref}.")
    return FigureSpec(
        Panel(before_data[ib], names, f"Before: {ObsDate.parse(before.acquired_text).describe()}",
              before.credit),
        Panel(after_data[ia], names, f"After: {ObsDate.parse(after.acquired_text).describe()}",
              after.credit),
        grid.res_m, to_pixels(site.aoi_geom, grid), marks, heading(site, run), caption,
        pixel_to_lonlat(grid), (c.y, c.x), max_labels,
        [f.sentence for f in run.flags], _buildings(run, grid))


def _buildings(run: Run, grid: Grid) -> list[Building]:
    """The run's changed structures (largest first within each kind) and the standing
    buildings they are sized against, on the figure."""
    out = []
    for item in cited_items(run):
        try:
            geom = to_pixels(shape(item["geometry"]), grid)
        except (KeyError, TypeError, ValueError, AttributeError):
            continue
        det = item.get("detections") or []
        text = str(item.get("label", item.get("ref", ""))) + (
            f" (from {', '.join(det)})" if det else "")
        out.append(Building(geom, str(item.get("ref", "")), str(item.get("kind", "")), text))
    return out
