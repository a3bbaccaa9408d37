"""Change objects: polygons from a change raster, each measured in metres."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from affine import Affine
from pyproj import Transformer
from rasterio import features
from scipy import ndimage
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from sitewatch.detect.classical import CHANGE_TYPES, ChangeResult
from sitewatch.geo.antimeridian import crosses_antimeridian, projected_to_wgs84
from sitewatch.geo.area import area_perimeter_m, area_uncertainty_m2


@dataclass(frozen=True)
class ChangeObject:
    """One changed object. ``geometry`` is in lon/lat (WGS84) when the CRS is known, else
    in pixel coordinates (col, row); ``area_m2`` is None when the pixel size is unknown."""

    geometry: BaseGeometry
    pixels: int
    area_m2: float | None
    area_uncertainty_m2: float | None
    change_type: str
    score: float
    centroid_lon: float | None
    centroid_lat: float | None

    def properties(self) -> dict[str, Any]:
        return {
            "change_type": self.change_type,
            "area_m2": None if self.area_m2 is None else round(self.area_m2, 1),
            "area_uncertainty_m2": None if self.area_uncertainty_m2 is None
            else round(self.area_uncertainty_m2, 1),
            "score": round(self.score, 3),
            "pixels": self.pixels,
            "centroid_lon": self.centroid_lon,
            "centroid_lat": self.centroid_lat,
        }

    def feature(self) -> dict[str, Any]:
        return {"type": "Feature", "geometry": mapping(self.geometry),
                "properties": self.properties()}


def score_of(mean_magnitude: float, threshold: float) -> float:
    """Confidence in [0, 1]: 0.5 at the threshold, approaching 1 at twice the threshold."""
    if threshold <= 0:
        return 1.0
    return min(max(0.5 * float(mean_magnitude) / threshold, 0.0), 1.0)


def extract_objects(result: ChangeResult, transform: Affine | None = None,
                    crs: str | None = None, gsd_m: float | None = None,
                    px_area_m2: float | None = None) -> list[ChangeObject]:
    """Vectorise ``result.mask`` into objects, largest first.

    transform/crs: georeference of the arrays (None for plain images: pixel geometry).
    gsd_m: pixel size for the area uncertainty; px_area_m2 gives areas for plain images.
    """
    changed = result.mask == 1
    st = ndimage.generate_binary_structure(2, 1)
    labels, n = ndimage.label(changed, structure=st)
    if n == 0:
        return []
    # pixel counts and mean magnitudes of every object in one pass each (bincount over the
    # changed pixels; ndimage's labelled statistics cost ten times more at 4000 px)
    lab_px = labels[changed]
    counts = np.bincount(lab_px, minlength=n + 1)[1:]
    mean_mag = (np.bincount(lab_px, weights=np.nan_to_num(result.magnitude[changed]),
                            minlength=n + 1)[1:] / np.maximum(counts, 1))
    # the dominant change type of every object in one pass: a histogram of (label, type)
    kinds = max(CHANGE_TYPES) + 1
    hist = np.bincount(lab_px.astype(np.int64) * kinds
                       + result.change_type[changed].astype(np.int64),
                       minlength=(n + 1) * kinds).reshape(n + 1, kinds)
    hist[:, 0] = 0
    dominant = hist.argmax(axis=1)
    tf = transform if transform is not None else Affine.identity()
    to_ll = (Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
             if crs is not None and transform is not None else None)
    # every object vectorised in one pass over the label image, and the polygons made in
    # one call for all of them (822 polygons: 22-40 ms, against 29-58 ms one by one)
    docs = list(features.shapes(labels.astype(np.int32, copy=False), mask=changed,
                                connectivity=4, transform=tf))
    geoms = _polygons([d["coordinates"] for d, _ in docs])
    if to_ll is not None:
        lls = shapely.transform(geoms, to_ll.transform, interleaved=False)
    objects: list[ChangeObject] = []
    for i, (_, value) in enumerate(docs):
        lab = int(value)
        geom = geoms[i]
        ctype = CHANGE_TYPES.get(int(dominant[lab]), "change")
        score = score_of(float(mean_mag[lab - 1]), result.threshold)
        pixels = int(counts[lab - 1])
        if to_ll is not None:
            ll = lls[i]
            cx, cy = ll.centroid.x, ll.centroid.y
            area, perim = area_perimeter_m(ll)
            if crosses_antimeridian(ll):  # split at 180 degrees, centre from the grid's CRS
                # measured whole, with longitudes run on past 180 (the seam is no boundary)
                area, perim = area_perimeter_m(shapely.transform(
                    ll, lambda xy: xy + np.where(xy[:, :1] < 0, 360.0, 0.0) * [1.0, 0.0]))
                ll = projected_to_wgs84(geom, str(crs), densify=False)
                cx, cy = to_ll.transform(geom.centroid.x, geom.centroid.y)
            unc = area_uncertainty_m2(perim, gsd_m) if gsd_m else None
            objects.append(ChangeObject(ll, pixels, area, unc, ctype, score, cx, cy))
        else:
            # pixel geometry: perimeter in pixels x pixel area = perimeter (m) x pixel size (m)
            px_area = pixels * px_area_m2 if px_area_m2 else None
            px_unc = geom.length * px_area_m2 if px_area_m2 else None
            objects.append(ChangeObject(geom, pixels, px_area, px_unc, ctype, score, None, None))
    objects.sort(key=lambda o: o.pixels, reverse=True)
    return objects


def _polygons(rings_of: list[list[Any]]) -> np.ndarray:
    """Polygons of GeoJSON polygon coordinates (a shell, then its holes, each a list of
    (x, y)), made in one call."""
    rings = [ring for rings in rings_of for ring in rings]
    if not rings:
        return np.empty(0, object)
    sizes = np.fromiter(map(len, rings), np.intp, len(rings))
    per = np.fromiter(map(len, rings_of), np.intp, len(rings_of))
    xy = np.array(list(itertools.chain.from_iterable(rings)), dtype=np.float64)
    ring_geoms = shapely.linearrings(xy, indices=np.repeat(np.arange(len(rings)), sizes))
    return shapely.polygons(ring_geoms, indices=np.repeat(np.arange(len(rings_of)), per))
