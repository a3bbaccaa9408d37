"""Building footprints of one date: instances from a building probability, regularised.

A building probability (the learned detector's building output for one date, or any other
(h, w) map in [0, 1]) is thresholded, split into instances where buildings touch (distance
transform and watershed), and each instance is outlined as a regularised polygon: its
dominant orientation is that of its minimum rotated rectangle, its edges are snapped to that
orientation or the one at right angles where they run close to it, and a building that
fills its rectangle is the rectangle itself. Geometry is in pixel coordinates (col, row) of
the probability map; :meth:`Footprint.world` maps it to lon/lat. Measurements are planar in
the grid's metric pixel size (a UTM site grid: within 0.1% of geodesic).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from affine import Affine
from rasterio import features
from scipy import ndimage
from shapely import affinity
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

from sitewatch.errors import InputValueError
from sitewatch.geo.antimeridian import crosses_antimeridian, projected_to_wgs84

__all__ = ["Footprint", "building_instances", "footprints", "regularise"]

#: smallest building kept, in m2 (a shed); 8 px when the pixel size is unknown
MIN_BUILDING_M2 = 20.0
#: an outline that fills this share of its minimum rotated rectangle is the rectangle
RECTANGLE_FILL = 0.85
#: a distance peak splits buildings when it stands this many pixels above its saddle
SPLIT_PX = 1.5
#: edges within this many degrees of the dominant orientation (or its right angle) snap to it
SNAP_DEG = 30.0


@dataclass(frozen=True)
class Footprint:
    """One building on one date. ``polygon`` in pixel coordinates (col, row), regularised;
    ``gsd_m``: the pixel size (None: unknown, so measurements in metres are None);
    ``orientation_deg``: azimuth of the long axis, degrees clockwise from the grid's north
    (up), in [0, 180); ``pixels``: the instance's pixels; ``score``: its mean probability;
    ``mask_iou``: how well the polygon covers the instance's pixels."""

    polygon: Polygon
    pixels: int
    gsd_m: float | None
    length_px: float
    width_px: float
    orientation_deg: float
    score: float
    mask_iou: float

    @property
    def vertices(self) -> int:
        """Corners of the outline (the closing point not counted)."""
        return len(self.polygon.exterior.coords) - 1

    @property
    def area_m2(self) -> float | None:
        return None if self.gsd_m is None else float(self.polygon.area) * self.gsd_m ** 2

    @property
    def area_uncertainty_m2(self) -> float | None:
        """A one-pixel boundary error: perimeter x pixel size (geo/area.py's rule)."""
        return None if self.gsd_m is None else float(self.polygon.length) * self.gsd_m ** 2

    @property
    def length_m(self) -> float | None:
        return None if self.gsd_m is None else self.length_px * self.gsd_m

    @property
    def width_m(self) -> float | None:
        return None if self.gsd_m is None else self.width_px * self.gsd_m

    @property
    def square(self) -> bool:
        """Nearly square: its long axis is no sure orientation (compare modulo 90 degrees)."""
        return self.length_px < 1.15 * self.width_px

    def properties(self) -> dict[str, Any]:
        def r(v: float | None, nd: int = 1) -> float | None:
            return None if v is None else round(v, nd)

        return {"area_m2": r(self.area_m2), "area_uncertainty_m2": r(self.area_uncertainty_m2),
                "length_m": r(self.length_m, 2), "width_m": r(self.width_m, 2),
                "orientation_deg": round(self.orientation_deg, 1), "vertices": self.vertices,
                "pixels": self.pixels, "score": round(self.score, 3)}

    def world(self, transform: Affine | None = None, crs: str | None = None) -> BaseGeometry:
        """The outline in lon/lat (transform and crs known), in the grid's CRS (crs None),
        or in pixel coordinates (transform None)."""
        return to_world(self.polygon, transform, crs)


def to_world(geom: BaseGeometry, transform: Affine | None, crs: str | None) -> BaseGeometry:
    """Pixel geometry (col, row) through ``transform`` to ``crs``, then to lon/lat."""
    if transform is None:
        return geom
    t = transform
    out = affinity.affine_transform(geom, [t.a, t.b, t.d, t.e, t.c, t.f])
    if crs is None:
        return out
    from pyproj import Transformer

    tr = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    ll = shapely.transform(out, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))
    if crosses_antimeridian(ll):  # a building across 180 degrees: split there
        return projected_to_wgs84(out, crs, densify=False)
    return ll


def min_building_px(gsd_m: float | None) -> int:
    return max(4, int(round(MIN_BUILDING_M2 / gsd_m ** 2))) if gsd_m else 8


def building_instances(prob: np.ndarray, threshold: float = 0.5, gsd_m: float | None = None,
                       min_px: int | None = None) -> tuple[np.ndarray, int]:
    """(labels int32 (h, w), count): buildings of a (h, w) probability map, one label each.

    Pixels at or above ``threshold`` are buildings; touching buildings are split by a
    watershed of the distance to the background from one marker per distance peak that
    stands at least :data:`SPLIT_PX` (h-maxima) above the saddle to its neighbour, so that a notch
    between two roofs splits them and the staircase of one roof's edge does not.
    Instances under ``min_px`` pixels (default :data:`MIN_BUILDING_M2`) are dropped.
    """
    if prob.ndim != 2:
        raise InputValueError(f"a building probability is (h, w); got shape {prob.shape}")
    if not 0 < threshold < 1:
        raise InputValueError(f"threshold {threshold} must be between 0 and 1")
    min_px = min_building_px(gsd_m) if min_px is None else min_px
    st = ndimage.generate_binary_structure(2, 1)
    mask = np.nan_to_num(prob, nan=0.0) >= threshold
    mask = ndimage.binary_opening(mask, structure=st)
    mask = ndimage.binary_fill_holes(mask)
    if not mask.any():
        return np.zeros(prob.shape, np.int32), 0
    comps, _ = ndimage.label(mask, structure=st)
    labels = np.zeros(prob.shape, np.int32)
    top = 0
    # each connected component on its own window: the cost follows the buildings' area,
    # not the image's (a 4000 px site holds a few percent of buildings)
    for k, sl in enumerate(ndimage.find_objects(comps), start=1):
        if sl is None:
            continue
        win = tuple(slice(max(s_.start - 2, 0), s_.stop + 2) for s_ in sl)
        part = comps[win] == k
        sub = _split(part) if part.sum() >= 2 * min_px else part.astype(np.int32)
        n_sub = int(sub.max())
        labels[win] = np.where(part, np.where(sub > 0, sub + top, 0), labels[win])
        top += n_sub
    sizes = np.bincount(labels.ravel())
    keep = sizes >= min_px
    keep[0] = False
    new_ids = np.zeros(len(sizes), np.int32)
    new_ids[keep] = np.arange(1, int(keep.sum()) + 1, dtype=np.int32)
    return new_ids[labels], int(keep.sum())


def _split(part: np.ndarray) -> np.ndarray:
    """Instances (int32, 1..n) of one connected component (a bool window with a margin):
    the watershed of the distance to the background from the regional maxima of its
    h-maxima transform (the reconstruction of the distance less h under itself: a peak
    less than h above its saddle joins its neighbour; skimage's own h_maxima split the
    ridge of a slightly rotated rectangle on floats)."""
    from skimage.morphology import local_maxima, reconstruction
    from skimage.segmentation import watershed

    dist = ndimage.distance_transform_edt(part)
    smooth = ndimage.gaussian_filter(dist, 0.7)
    domes = reconstruction(smooth - SPLIT_PX, smooth, method="dilation")
    peaks = local_maxima(domes, connectivity=2) & part
    markers, n = ndimage.label(peaks, structure=np.ones((3, 3), bool))
    if n <= 1:
        return part.astype(np.int32)
    out = watershed(-dist, markers, mask=part, connectivity=1).astype(np.int32)
    # pixels no marker reached (thin, flat parts) join one building
    rest = part & (out == 0)
    if rest.any():
        out[rest] = n + 1
    return out


def _outline(inst: np.ndarray) -> Polygon:
    """The pixel outline (a staircase) of a boolean instance: its largest polygon's shell."""
    shells = [shapely.Polygon(g["coordinates"][0])
              for g, v in features.shapes(inst.astype(np.uint8), mask=inst, connectivity=4)
              if v == 1]
    return max(shells, key=lambda p: p.area)


def _pixel_rectangle(inst: np.ndarray) -> Polygon:
    """The minimum rotated rectangle of the instance's pixel centres, grown to the edges
    the pixels sample: an edge along the pixel grid lies half a pixel beyond its centres;
    a tilted edge of n pixels' length passes centres at about 1 / (n sin(tilt)) offsets,
    the outermost about half that inside it. So an axis-aligned block gets its exact
    outline and a rotated one is not inflated by its staircase's corners."""
    rows, cols = np.nonzero(inst)
    pts = shapely.multipoints(np.column_stack([cols + 0.5, rows + 0.5]))
    rect = shapely.minimum_rotated_rectangle(pts)
    if not isinstance(rect, Polygon) or rect.area <= 0:  # a line of pixels: its own frame
        c = np.asarray(rect.coords)
        d = c[-1] - c[0]
        theta = math.atan2(d[1], d[0]) if np.hypot(*d) > 0 else 0.0
        length = float(np.hypot(*d))
        base = shapely.box(-length / 2 - 0.5, -0.5, length / 2 + 0.5, 0.5)
        return affinity.translate(affinity.rotate(base, theta, origin=(0, 0),
                                                  use_radians=True), *c.mean(axis=0))
    c = np.asarray(rect.exterior.coords)[:4]
    centre = c.mean(axis=0)
    e1, e2 = c[1] - c[0], c[2] - c[1]
    n1, n2 = float(np.hypot(*e1)), float(np.hypot(*e2))
    u1, u2 = e1 / n1, e2 / n2
    tilt = abs(math.sin(2 * math.atan2(u1[1], u1[0]))) / 2  # ~sin of the tilt, small angles
    # growth of each side: the sides along u1 (length n1) bound the extent along u2
    g1 = 0.5 / max(1.0, (n2 + 1) * tilt)  # along u1, bounded by the sides of length n2
    g2 = 0.5 / max(1.0, (n1 + 1) * tilt)
    grown = [p + np.sign(np.dot(p - centre, u1)) * g1 * u1
             + np.sign(np.dot(p - centre, u2)) * g2 * u2 for p in c]
    return shapely.Polygon(grown)


def _orientation(rect: Polygon) -> tuple[float, float, float]:
    """(length, width, angle of the long side in radians in the pixel frame) of a rectangle."""
    c = np.asarray(rect.exterior.coords)
    e1, e2 = c[1] - c[0], c[2] - c[1]
    l1, l2 = float(np.hypot(*e1)), float(np.hypot(*e2))
    long_edge = e1 if l1 >= l2 else e2
    return max(l1, l2), min(l1, l2), math.atan2(long_edge[1], long_edge[0])


def _line_intersection(p1: np.ndarray, d1: np.ndarray, p2: np.ndarray, d2: np.ndarray
                       ) -> np.ndarray | None:
    det = d1[0] * d2[1] - d1[1] * d2[0]
    if abs(det) < 1e-6:
        return None
    t = ((p2[0] - p1[0]) * d2[1] - (p2[1] - p1[1]) * d2[0]) / det
    return p1 + t * d1


def _run_line(kind: int, segs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The line of a run of segments (k, 2, 2): horizontal or vertical at the
    length-weighted mean of their midpoints (kinds 0 and 1), else through its ends."""
    mid = segs.mean(axis=1)
    w = np.hypot(*(segs[:, 1] - segs[:, 0]).T) + 1e-9
    centre = np.average(mid, axis=0, weights=w)
    if kind == 0:
        return centre, np.array([1.0, 0.0])
    if kind == 1:
        return centre, np.array([0.0, 1.0])
    return segs[0, 0], segs[-1, 1] - segs[0, 0]


def _snap_ring(coords: np.ndarray, snap_deg: float, min_run: float, min_cut: float
               ) -> np.ndarray | None:
    """Orthogonal simplification of a closed ring in a frame aligned with the building.

    Runs of edges within ``snap_deg`` of 0 or 90 degrees become one horizontal or vertical
    line each (at the length-weighted mean of their points); other edges keep their own
    line. Steps shorter than ``min_run`` and cut corners (oblique runs shorter than
    ``min_cut``) are dropped, shortest first, their neighbours merged when parallel;
    corners are where consecutive lines meet.
    """
    pts = coords[:-1]
    n = len(pts)
    if n < 3:
        return None
    segs = np.stack([pts, np.roll(pts, -1, axis=0)], axis=1)
    d = segs[:, 1] - segs[:, 0]
    ang = np.degrees(np.arctan2(d[:, 1], d[:, 0])) % 180.0
    kind = np.where((ang < snap_deg) | (ang > 180 - snap_deg), 0,
                    np.where(abs(ang - 90) < snap_deg, 1, 2))
    runs: list[tuple[int, np.ndarray]] = []
    for i in range(n):
        if runs and kind[i] == runs[-1][0] and kind[i] != 2:
            runs[-1] = (runs[-1][0], np.concatenate([runs[-1][1], segs[i:i + 1]]))
        else:
            runs.append((int(kind[i]), segs[i:i + 1]))
    if len(runs) > 1 and runs[0][0] == runs[-1][0] != 2:
        runs[0] = (runs[0][0], np.concatenate([runs[-1][1], runs[0][1]]))
        runs.pop()

    def length(run: tuple[int, np.ndarray]) -> float:
        k, sg = run
        if k == 2:
            return float(np.hypot(*(sg[-1, 1] - sg[0, 0])))
        axis = 0 if k == 0 else 1  # extent along the run's direction
        return float(abs(sg[-1, 1, axis] - sg[0, 0, axis]))

    while len(runs) > 4:
        lens = [length(r) / (min_cut if r[0] == 2 else min_run) for r in runs]
        i = int(np.argmin(lens))
        if lens[i] >= 1.0:
            break
        runs.pop(i)
        m = len(runs)
        j = i % m
        prev = (i - 1) % m
        if runs[prev][0] == runs[j][0] != 2 and prev != j:
            merged = (runs[prev][0], np.concatenate([runs[prev][1], runs[j][1]]))
            runs[prev] = merged
            runs.pop(j)
    if len(runs) < 3:
        return None
    lines = [_run_line(k, sg) for k, sg in runs]
    out = []
    for i in range(len(lines)):
        p = _line_intersection(*lines[i - 1], *lines[i])
        out.append(runs[i][1][0, 0] if p is None else p)
    out.append(out[0])
    return np.asarray(out)


def _iou(a: BaseGeometry, b: BaseGeometry) -> float:
    union = a.union(b).area
    return float(a.intersection(b).area / union) if union > 0 else 0.0


def regularise(inst: np.ndarray, snap_deg: float = SNAP_DEG, outline: Polygon | None = None
               ) -> tuple[Polygon, float, float, float, float]:
    """(polygon, length_px, width_px, orientation_deg, iou) of a boolean (h, w) instance.

    The minimum rotated rectangle of the pixel outline gives the dominant orientation,
    length and width. An outline filling :data:`RECTANGLE_FILL` of that rectangle is the
    rectangle; otherwise the outline, simplified by one pixel, is turned into the
    rectangle's frame and its edges snapped (:func:`_snap_ring`). A snapped polygon that
    is invalid or covers the pixels worse than the plain simplification is not used.
    ``outline``: the instance's pixel outline when known (in the window's coordinates).
    """
    raw = _outline(inst) if outline is None else outline
    rect = _pixel_rectangle(inst)
    length, width, theta = _orientation(rect)
    # azimuth in the pixel frame (x right, y down): clockwise from up
    orientation = math.degrees(math.atan2(math.cos(theta), -math.sin(theta))) % 180.0
    pix = raw  # the staircase covers the instance exactly
    if float(inst.sum()) >= RECTANGLE_FILL * rect.area:
        # the rectangle of the instance's area: its sides brought in alike by d, from
        # (length - d)(width - d) = pixels (the blob's corners are rounded, its bulges
        # are not the building's)
        n = float(inst.sum())
        d = ((length + width) - math.sqrt((length - width) ** 2 + 4 * n)) / 2
        poly = rect
        if d > 0:
            c = rect.centroid
            flat = affinity.rotate(rect, -theta, origin=c, use_radians=True)
            flat = affinity.scale(flat, (length - d) / length, (width - d) / width, origin=c)
            poly = affinity.rotate(flat, theta, origin=c, use_radians=True)
            length, width = length - d, width - d
        poly = shapely.normalize(poly)
        return poly, length, width, orientation, _iou(poly, pix)
    centre = rect.centroid
    turned = affinity.rotate(raw, -theta, origin=centre, use_radians=True)
    # the staircase simplified by 1.5 px is the fallback; snapping is tried on it and on
    # coarser simplifications (a blob's rounded edges need more), the first good one kept
    best: BaseGeometry = affinity.rotate(turned.simplify(1.5, preserve_topology=True), theta,
                                         origin=centre, use_radians=True)
    plain_iou = best_iou = _iou(best, pix)
    for tol in (1.0, 2.0, 3.0):
        simple = turned.simplify(tol, preserve_topology=True)
        if not isinstance(simple, Polygon):
            continue
        snapped = _snap_ring(np.asarray(simple.exterior.coords), snap_deg,
                             max(2.0, 0.15 * width), max(3.0, 0.3 * width))
        if snapped is None:
            continue
        cand = shapely.Polygon(snapped).simplify(0.5)
        if isinstance(cand, Polygon) and cand.is_valid and not cand.is_empty:
            cand = affinity.rotate(cand, theta, origin=centre, use_radians=True)
            iou = _iou(cand, pix)
            if iou >= max(0.7, plain_iou - 0.15):
                best, best_iou = cand, iou
                break
    if not isinstance(best, Polygon) or not best.is_valid:
        best = shapely.normalize(rect)
        best_iou = _iou(best, pix)
    return shapely.normalize(best), length, width, orientation, best_iou


def footprints(prob: np.ndarray, gsd_m: float | None = None, threshold: float = 0.5,
               min_px: int | None = None) -> tuple[list[Footprint], np.ndarray]:
    """(footprints largest first, labels (h, w) int32 whose value i + 1 is footprint i) of a
    (h, w) building probability in [0, 1]; ``gsd_m``: pixel size in metres (None: unknown)."""
    if gsd_m is not None and not (math.isfinite(gsd_m) and gsd_m > 0):
        raise InputValueError(f"pixel size {gsd_m} must be a positive number of metres")
    labels, n = building_instances(prob, threshold, gsd_m, min_px)
    out: list[tuple[Footprint, int]] = []
    p = np.nan_to_num(prob, nan=0.0)
    # every outline in one pass over the label image (one call per building costs 5 ms)
    shells: dict[int, Polygon] = {}
    if n:
        for g, v in features.shapes(labels, mask=labels > 0, connectivity=4):
            poly = shapely.Polygon(g["coordinates"][0])
            if int(v) not in shells or poly.area > shells[int(v)].area:
                shells[int(v)] = poly
    for lab, sl in enumerate(ndimage.find_objects(labels), start=1):
        if sl is None:
            continue
        # a one-pixel margin so that the outline is closed inside the window
        y0, x0 = max(sl[0].start - 1, 0), max(sl[1].start - 1, 0)
        win = (slice(y0, sl[0].stop + 1), slice(x0, sl[1].stop + 1))
        inst = labels[win] == lab
        poly, length, width, orient, iou = regularise(
            inst, outline=affinity.translate(shells[lab], -x0, -y0))
        poly = affinity.translate(poly, x0, y0)
        out.append((Footprint(poly, int(inst.sum()), gsd_m, length, width, orient,
                              float(p[win][inst].mean()), iou), lab))
    out.sort(key=lambda fl: (-fl[0].polygon.area, fl[1]))
    relabel = np.zeros(n + 1, np.int32)
    for i, (_, lab) in enumerate(out):
        relabel[lab] = i + 1
    return [f for f, _ in out], relabel[labels]


def orientation_difference(a: Footprint, b: Footprint) -> float:
    """Smallest angle in degrees between the long axes (modulo 90 when either is square)."""
    period = 90.0 if a.square or b.square else 180.0
    d = abs(a.orientation_deg - b.orientation_deg) % period
    return min(d, period - d)


def describe(fps: Sequence[Footprint]) -> dict[str, Any]:
    """Counts of a date's footprints, for summaries."""
    areas = [f.area_m2 for f in fps if f.area_m2 is not None]
    return {"buildings": len(fps), "largest_m2": round(max(areas), 1) if areas else None}
