"""Structure-level change: buildings of two dates matched, classified and compared in size.

From the building probability of each date (:mod:`sitewatch.detect.footprints`) and the
change mask of the pair, every building becomes one structure:

- ``new``: standing after, overlapping no building before, and at least
  :data:`MIN_SUPPORT` of it changed (or over older building(s) whose shared part changed
  too: rebuilt, :data:`REBUILT_SHARE`);
- ``demolished``: standing before, overlapping no building after, and changed;
- ``extended``: a building after that covers building(s) before, unchanged where they
  were, and adds at least :data:`MIN_ADDED_M2` of changed ground (and 15% of the old
  area): ``added_area_m2``;
- ``unchanged``: the rest (a building seen on one date only, where the pair shows no
  change, is the model missing it on the other date: counted as standing on both);
- ``cleared_ground``: change that no building of either date explains, where greenness
  falls: NDVI by :data:`NDVI_LOSS` where a near-infrared band is named (``nir``), else the
  visible bands' chromatic excess green (2g - r - b) by :data:`GREENNESS_LOSS`: vegetation
  cleared, bare soil, earthworks. From RGB alone it cannot tell bare soil from a grey car
  park or a dry season, and either way it misses clearing of ground that was already bare;
  treat it as a lead.

Each new or extended building is sized against the standing buildings (seen on the before
date, unchanged or extended, an extended one at its former size; at least
:data:`MIN_REFERENCE_M2`): the largest one on
the site, and the nearest one of similar orientation (long axes within
:data:`SIMILAR_DEG`), as a ratio with its uncertainty (the two one-pixel boundary errors,
independent, added in quadrature). Geometry is in pixel coordinates (col, row) until
:func:`structures_doc` maps it to lon/lat.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import shapely
from affine import Affine
from rasterio import features
from scipy import ndimage
from shapely.geometry import Polygon, mapping
from shapely.geometry.base import BaseGeometry
from shapely.strtree import STRtree

from sitewatch.changemap import ChangeResult
from sitewatch.detect.footprints import (
    Footprint,
    footprints,
    to_world,
)
from sitewatch.errors import InputValueError

__all__ = ["KINDS", "RelativeSize", "Structure", "StructureChange", "relative_text",
           "structure_change", "structures_doc"]

KINDS = ("new", "extended", "demolished", "cleared_ground", "unchanged")
#: share of a building's pixels (or of its added part) that must be changed to count
MIN_SUPPORT = 0.3
#: a building over older one(s) whose shared part changed this much is new (rebuilt)
REBUILT_SHARE = 0.5
#: two buildings of two dates are one when they share this share of the smaller one
MIN_OVERLAP = 0.3
#: smallest extension reported, m2 (or 80 px at unknown pixel size)
MIN_ADDED_M2 = 20.0
#: smallest cleared area reported, m2 (or 200 px)
MIN_CLEARED_M2 = 50.0
#: mean fall of excess green (2g - r - b, chromatic) that calls a change cleared ground
GREENNESS_LOSS = 0.04
#: mean fall of NDVI that calls a change cleared ground (bands named red and nir)
NDVI_LOSS = 0.1
#: smallest standing building that others are sized against, m2 (or 200 px)
MIN_REFERENCE_M2 = 50.0
#: long axes within this many degrees are "of similar orientation"
SIMILAR_DEG = 15.0


@dataclass(frozen=True)
class RelativeSize:
    """A building's area over another's: ``basis`` "largest" (the largest standing building
    of the site) or "nearest_similar" (the nearest of similar orientation). ``partial``:
    the other building is cut by the edge of the image (no whole one stands there), so
    its area is only the part inside and the ratio is an upper bound."""

    to: str
    basis: str
    ratio: float
    ratio_uncertainty: float
    distance_m: float | None = None
    partial: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"to": self.to, "basis": self.basis, "ratio": round(self.ratio, 4),
                "ratio_uncertainty": round(self.ratio_uncertainty, 4),
                "distance_m": None if self.distance_m is None else round(self.distance_m, 1),
                "partial": self.partial}


@dataclass(frozen=True)
class Structure:
    """One building (or cleared area) of the pair. ``polygon``: pixel coordinates (the
    building after; before for a demolished one); ``before``/``after``: indices of the
    footprints of each date it is made of; ``change_px``: changed pixels inside it
    (``change_share`` of its pixels); ``change_objects``: indices of the change objects it
    overlaps (filled by :func:`structures_doc`)."""

    ref: str
    kind: str
    polygon: Polygon
    footprint: Footprint | None
    before: tuple[int, ...]
    after: tuple[int, ...]
    area_m2: float | None
    area_uncertainty_m2: float | None
    change_px: int
    change_share: float
    added_area_m2: float | None = None
    added_area_uncertainty_m2: float | None = None
    greenness_loss: float | None = None
    relative: tuple[RelativeSize, ...] = ()
    change_objects: tuple[int, ...] = field(default=())
    #: an extended building's footprint(s) before (pixel coordinates)
    grown_from: BaseGeometry | None = None

    def label(self) -> str:
        """"new building S3: 1,850 ± 90 m², 64% ± 5% of S12 (largest) ..."."""
        what = "cleared ground" if self.kind == "cleared_ground" else f"{self.kind} building"
        text = f"{what} {self.ref}"
        if self.area_m2 is not None:
            text += f": {area_text(self.area_m2, self.area_uncertainty_m2)}"
        if self.added_area_m2 is not None:
            text += f", {area_text(self.added_area_m2, self.added_area_uncertainty_m2)} added"
        rel = relative_text(self.relative)
        return f"{text}, {rel}" if rel else text

    def properties(self) -> dict[str, Any]:
        def r(v: float | None, nd: int = 1) -> float | None:
            return None if v is None else round(v, nd)

        fp = self.footprint.properties() if self.footprint is not None else {}
        return {"ref": self.ref, "kind": self.kind, "area_m2": r(self.area_m2),
                "area_uncertainty_m2": r(self.area_uncertainty_m2),
                "added_area_m2": r(self.added_area_m2),
                "added_area_uncertainty_m2": r(self.added_area_uncertainty_m2),
                "length_m": fp.get("length_m"), "width_m": fp.get("width_m"),
                "orientation_deg": fp.get("orientation_deg"),
                "vertices": len(self.polygon.exterior.coords) - 1,
                "change_px": self.change_px, "change_share": round(self.change_share, 3),
                "greenness_loss": r(self.greenness_loss, 3),
                "relative": [x.to_dict() for x in self.relative],
                "change_objects": list(self.change_objects),
                "before_buildings": list(self.before), "after_buildings": list(self.after),
                "label": self.label()}


def area_text(area_m2: float, unc_m2: float | None) -> str:
    return (f"{area_m2:,.0f} m²" if unc_m2 is None
            else f"{area_m2:,.0f} ± {unc_m2:,.0f} m²")


def relative_text(rel: Sequence[RelativeSize | dict[str, Any]]) -> str:
    """"64% ± 5% of S12 (largest), 80% ± 6% of S4 (nearest of similar orientation, 35 m
    away)"; a building that is both is named once."""
    docs = [x.to_dict() if isinstance(x, RelativeSize) else x for x in rel]
    parts: list[tuple[str, str, list[str]]] = []
    for d in docs:
        how = ("largest" if d["basis"] == "largest" else
               "nearest of similar orientation"
               + (f", {d['distance_m']:,.0f} m away" if d.get("distance_m") is not None else ""))
        if parts and parts[-1][1] == d["to"]:
            parts[-1][2].append(how)
            continue
        bound = "at most " if d.get("partial") else ""
        hows = [how, "cut by the image edge"] if d.get("partial") else [how]
        parts.append((f"{bound}{100 * d['ratio']:.0f}% ± {100 * d['ratio_uncertainty']:.0f}% "
                      f"of {d['to']}", d["to"], hows))
    return ", ".join(f"{text} ({_joined(hows)})" for text, _, hows in parts)


def _joined(hows: list[str]) -> str:
    bases = [h for h in hows if h != "cut by the image edge"]
    text = "; also the ".join(bases)
    return text + ("; cut by the image edge" if len(bases) < len(hows) else "")


@dataclass(frozen=True)
class StructureChange:
    """Footprints of both dates (largest first) and the structures made of them."""

    before: list[Footprint]
    after: list[Footprint]
    structures: list[Structure]

    def counts(self) -> dict[str, int]:
        return {k: sum(s.kind == k for s in self.structures) for k in KINDS}


def _rgb(stack: np.ndarray | None, names: Sequence[str]) -> np.ndarray | None:
    """(3, h, w) red, green, blue by band name (else the first three bands of a 3-band
    stack), or None when the visible bands are unknown."""
    if stack is None:
        return None
    names = list(names)
    if all(n in names for n in ("red", "green", "blue")):
        return stack[[names.index(n) for n in ("red", "green", "blue")]]
    return stack[:3] if stack.shape[0] == 3 else None


def _ndvi(stack: np.ndarray, names: list[str]) -> np.ndarray:
    nir = stack[names.index("nir")].astype(np.float32)
    red = stack[names.index("red")].astype(np.float32)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (nir - red) / (nir + red)
    return np.where(nir + red > 0, out, np.nan).astype(np.float32)


def _greenness(before: np.ndarray | None, after: np.ndarray | None, names: Sequence[str]
               ) -> tuple[np.ndarray | None, np.ndarray | None, float]:
    """(greenness before, after, the fall that counts): NDVI where bands named red and nir
    exist, else excess green of the visible bands; (None, None, _) without them."""
    names = list(names)
    if before is None or after is None:
        return None, None, GREENNESS_LOSS
    if "nir" in names and "red" in names:
        return _ndvi(before, names), _ndvi(after, names), NDVI_LOSS
    rb, ra = _rgb(before, names), _rgb(after, names)
    if rb is None or ra is None:
        return None, None, GREENNESS_LOSS
    return excess_green(rb), excess_green(ra), GREENNESS_LOSS


def excess_green(rgb: np.ndarray) -> np.ndarray:
    """2g - r - b of the chromatic coordinates of (3, h, w) non-negative values: (h, w)
    float32 in [-1, 2]; NaN where a pixel is black or has no data."""
    x = rgb.astype(np.float32, copy=False)
    total = x.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (2 * x[1] - x[0] - x[2]) / total
    return np.where(total > 0, out, np.nan).astype(np.float32)


def _ratio(a: float, sa: float, b: float, sb: float) -> tuple[float, float]:
    r = a / b
    return r, r * math.hypot(sa / a, sb / b)


#: (kind, polygon, footprint, before indices, after indices, other Structure fields)
_Item = tuple[str, Polygon, Footprint | None, tuple[int, ...], tuple[int, ...], dict[str, Any]]


def _overlaps(lab_b: np.ndarray, nb: int, lab_a: np.ndarray, na: int) -> np.ndarray:
    """(nb + 1, na + 1) pixel counts of every (before label, after label) pair."""
    idx = lab_b.astype(np.int64) * (na + 1) + lab_a
    return np.bincount(idx.ravel(), minlength=(nb + 1) * (na + 1)).reshape(nb + 1, na + 1)


def structure_change(building_before: np.ndarray, building_after: np.ndarray,
                     change: np.ndarray, gsd_m: float | None = None,
                     before: np.ndarray | None = None, after: np.ndarray | None = None,
                     names: Sequence[str] = ("red", "green", "blue"),
                     valid: np.ndarray | None = None, threshold: float = 0.5
                     ) -> StructureChange:
    """Structures of a pair.

    building_before, building_after: (h, w) building probabilities in [0, 1];
    change: (h, w) bool, the pair's change mask; gsd_m: pixel size in metres (None: areas
    unknown, sizes still compared); before, after: (bands, h, w) images with band ``names``
    for the greenness of cleared ground (None: no cleared ground); valid: (h, w) bool,
    pixels with data on both dates.
    """
    shape = building_before.shape
    if building_after.shape != shape or change.shape != shape:
        raise InputValueError(f"building and change maps differ in shape: {shape}, "
                              f"{building_after.shape}, {change.shape}")
    change = change.astype(bool) & (True if valid is None else valid)
    fb, lab_b = footprints(building_before, gsd_m, threshold)
    fa, lab_a = footprints(building_after, gsd_m, threshold)
    nb, na = len(fb), len(fa)
    ov = _overlaps(lab_b, nb, lab_a, na)
    px_b, px_a = ov.sum(axis=1), ov.sum(axis=0)
    ch_b = np.bincount(lab_b[change], minlength=nb + 1)
    ch_a = np.bincount(lab_a[change], minlength=na + 1)
    g2 = gsd_m ** 2 if gsd_m else None
    min_added_px = MIN_ADDED_M2 / g2 if g2 else 80.0
    # pairs that are one building: a share of the smaller of the two
    small = np.minimum(px_b[:, None], px_a[None, :])
    same = ov >= MIN_OVERLAP * np.maximum(small, 1)
    same[0, :] = same[:, 0] = False
    out: list[_Item] = []
    windows = ndimage.find_objects(lab_a, max_label=na)
    for j in range(1, na + 1):
        f = fa[j - 1]
        olds = tuple(int(i) - 1 for i in np.flatnonzero(same[:, j]))
        share = float(ch_a[j] / max(px_a[j], 1))
        if not olds:
            kind = "new" if share >= MIN_SUPPORT else "unchanged"
            out.append((kind, f.polygon, f, (), (j - 1,), {"change_px": int(ch_a[j]),
                                                           "change_share": share}))
            continue
        union = shapely.union_all([fb[i].polygon for i in olds])
        added = f.polygon.difference(union)
        added_px = float(added.area)
        win = windows[j - 1] or (slice(0, 0), slice(0, 0))  # the building's own box
        mine, ch_w = lab_a[win] == j, change[win]
        in_old = np.isin(lab_b[win], [i + 1 for i in olds])
        new_part = mine & ~in_old
        added_share = float((new_part & ch_w).sum() / max(int(new_part.sum()), 1))
        extra: dict[str, Any] = {"change_px": int(ch_a[j]), "change_share": share}
        unc = float(added.length) * (gsd_m ** 2) if gsd_m else None
        old_part = mine & in_old
        old_share = float((old_part & ch_w).sum() / max(int(old_part.sum()), 1))
        if old_share >= REBUILT_SHARE and share >= MIN_SUPPORT:
            # the "old" building is itself changed: a building rebuilt, or one the model
            # half-saw on the empty ground before: new (what stood there before is kept)
            kind = "new"
        elif (added_px >= min_added_px and added_share >= MIN_SUPPORT
                and added_px >= 2 * float(added.length)
                and added_px >= 0.15 * float(union.area)):
            kind = "extended"
            extra["added_area_m2"] = added_px * g2 if g2 else None
            extra["added_area_uncertainty_m2"] = unc
            extra["grown_from"] = union
        else:
            kind = "unchanged"
        out.append((kind, f.polygon, f, olds, (j - 1,), extra))
    for i in range(1, nb + 1):
        if same[i].any():
            continue
        f = fb[i - 1]
        share = float(ch_b[i] / max(px_b[i], 1))
        kind = "demolished" if share >= MIN_SUPPORT else "unchanged"
        out.append((kind, f.polygon, f, (i - 1,), (), {"change_px": int(ch_b[i]),
                                                       "change_share": share}))
    out.extend(_cleared(change, lab_b, lab_a, gsd_m, *_greenness(before, after, names)))
    order = {k: n for n, k in enumerate(KINDS)}
    out.sort(key=lambda s: (order[s[0]], -s[1].area, s[1].centroid.x, s[1].centroid.y))
    structures = []
    for n, (kind, poly, fp, olds, news, extra) in enumerate(out, start=1):
        area = fp.area_m2 if fp is not None else (poly.area * g2 if g2 else None)
        unc = (fp.area_uncertainty_m2 if fp is not None
               else (poly.length * g2 if g2 else None))
        structures.append(Structure(f"S{n}", kind, poly, fp, olds, news, area, unc, **extra))
    # before-date buildings cut by the edge of the data (the image's edge, no-data pixels,
    # the AOI's edge): only the part inside is measured
    zone = np.ones(shape, bool) if valid is None else ~valid
    if valid is None:
        zone[int(EDGE_PX):-int(EDGE_PX) or None, int(EDGE_PX):-int(EDGE_PX) or None] = False
    else:
        zone = ndimage.binary_dilation(zone, iterations=int(EDGE_PX), border_value=1)
    cut = np.flatnonzero(np.bincount(lab_b[zone], minlength=nb + 1)[1:] > 0)
    return StructureChange(fb, fa, _relative_sizes(structures, gsd_m, set(cut.tolist())))


def _cleared(change: np.ndarray, lab_b: np.ndarray, lab_a: np.ndarray, gsd_m: float | None,
             green_b: np.ndarray | None, green_a: np.ndarray | None, min_loss: float
             ) -> list[_Item]:
    """Change that no building explains (two pixels off any building of either date) and
    whose greenness falls by ``min_loss`` on average: cleared ground, one structure per
    connected area."""
    if green_b is None or green_a is None:
        return []
    near = ndimage.binary_dilation((lab_b > 0) | (lab_a > 0), iterations=2)
    free = change & ~near
    st = ndimage.generate_binary_structure(2, 1)
    free = ndimage.binary_opening(free, structure=st)
    labels, n = ndimage.label(free, structure=st)
    if n == 0:
        return []
    loss = green_b - green_a
    ok = np.isfinite(loss)
    px = np.bincount(labels[ok], minlength=n + 1)
    size = np.bincount(labels.ravel(), minlength=n + 1)
    mean_loss = np.bincount(labels[ok], weights=loss[ok], minlength=n + 1) / np.maximum(px, 1)
    min_px = MIN_CLEARED_M2 / gsd_m ** 2 if gsd_m else 200.0
    out: list[_Item] = []
    for geom, value in features.shapes(labels.astype(np.int32), mask=free, connectivity=4):
        lab = int(value)
        if px[lab] < min_px or mean_loss[lab] < min_loss:
            continue
        poly = shapely.Polygon(geom["coordinates"][0]).simplify(1.0, preserve_topology=True)
        if not isinstance(poly, Polygon) or not poly.is_valid:
            continue
        out.append(("cleared_ground", poly, None, (), (),
                    {"change_px": int(size[lab]), "change_share": 1.0,
                     "greenness_loss": float(mean_loss[lab])}))
    return out


#: pixels from the edge of the data within which a building counts as cut by it (the
#: building probability fades over the last few pixels of a tile)
EDGE_PX = 4


def _relative_sizes(structures: list[Structure], gsd_m: float | None,
                    cut: set[int] | frozenset[int] = frozenset()) -> list[Structure]:
    """Every new or extended building against the standing ones (unchanged or extended,
    at their size before the change): the largest, and the nearest of similar orientation.
    Areas in pixels when the pixel size is unknown (the ratios are the same). A building
    made of a before-date footprint in ``cut`` (cut by the edge of the data) is a
    yardstick only where no whole one stands: its area is only the part inside."""
    g2 = gsd_m ** 2 if gsd_m else 1.0

    def area(s: Structure, poly: BaseGeometry) -> tuple[float, float]:
        return float(poly.area) * g2, float(poly.length) * g2

    min_ref_px = MIN_REFERENCE_M2 / gsd_m ** 2 if gsd_m else 200.0
    refs: list[tuple[Structure, BaseGeometry, Footprint]] = []
    for s in structures:
        # standing: seen on the before date and still there (a building the model saw
        # after only, with no change under it, is not trusted as a yardstick)
        if s.footprint is None or s.kind not in ("unchanged", "extended") or not s.before:
            continue
        # an extended building at its size before the change: the footprint(s) it grew from
        base = s.grown_from if s.kind == "extended" and s.grown_from is not None else s.polygon
        if float(base.area) < min_ref_px:  # a shed or a fleck: no yardstick
            continue
        refs.append((s, base, s.footprint))
    # buildings cut by the image's edge only when no whole one stands there (an upper bound)
    edge = np.array([any(i in cut for i in r[0].before) for r in refs], dtype=bool)
    bases = np.array([r[1] for r in refs], dtype=object)
    areas = np.array([float(r[1].area) for r in refs])
    orient = np.array([r[2].orientation_deg for r in refs])
    square = np.array([r[2].square for r in refs], dtype=bool)
    out = []
    for s in structures:
        if s.kind not in ("new", "extended") or s.footprint is None:
            out.append(s)
            continue
        a, sa = area(s, s.polygon)
        ok = np.array([r[0].ref != s.ref for r in refs], dtype=bool) & (areas > 0)
        # whole yardsticks when there are any besides this building; else the cut ones
        partial = not (ok & ~edge).any()
        if not partial:
            ok &= ~edge
        rel = []
        if ok.any():
            dist = shapely.distance(s.polygon, bases)  # vectorised: sites hold thousands
            big = int(np.flatnonzero(ok)[np.argmax(areas[ok])])
            b, sb = area(*refs[big][:2])
            rel.append(RelativeSize(refs[big][0].ref, "largest", *_ratio(a, sa, b, sb),
                                    distance_m=float(dist[big]) * gsd_m if gsd_m else None,
                                    partial=partial))
            similar = ok & (_angle_gaps(s.footprint, orient, square) <= SIMILAR_DEG)
            if similar.any():
                idx = np.flatnonzero(similar)
                near = int(idx[np.lexsort((-areas[idx], dist[idx]))[0]])
                b, sb = area(*refs[near][:2])
                rel.append(RelativeSize(refs[near][0].ref, "nearest_similar",
                                        *_ratio(a, sa, b, sb),
                                        distance_m=float(dist[near]) * gsd_m if gsd_m else None,
                                        partial=partial))
        out.append(replace(s, relative=tuple(rel)))
    return out


def _angle_gaps(f: Footprint, orient: np.ndarray, square: np.ndarray) -> np.ndarray:
    """:func:`orientation_difference` of ``f`` and many footprints at once (degrees)."""
    period = np.where(square | f.square, 90.0, 180.0)
    d = np.abs(f.orientation_deg - orient) % period
    return np.minimum(d, period - d)


def structures_doc(change: StructureChange, transform: Affine | None = None,
                   crs: str | None = None, objects: Sequence[BaseGeometry] = ()
                   ) -> dict[str, Any]:
    """The JSON document of a pair's structures (stored with a run, exported, served):
    ``{"counts", "buildings_before", "buildings_after", "items": [{"geometry", ...}]}``
    with geometry in lon/lat (transform and crs known) or pixels; ``objects``: the change
    objects' geometries in the same coordinates, linked to the structures they overlap."""
    # coordinates to 1e-7 degrees (about 1 cm) or 1e-3 px: the run's JSON stays small
    digits = 7 if transform is not None and crs is not None else 3
    worlds = [shapely.transform(to_world(s.polygon, transform, crs),
                                lambda xy: np.round(xy, digits)) for s in change.structures]
    links: list[tuple[int, ...]] = [() for _ in worlds]
    if objects:
        tree = STRtree(list(objects))
        for k, g in enumerate(worlds):
            hits = tree.query(g, predicate="intersects")
            links[k] = tuple(sorted(int(h) for h in hits))
    items = []
    for s, g, link in zip(change.structures, worlds, links, strict=True):
        props = replace(s, change_objects=link).properties()
        items.append({"geometry": mapping(g), **props})
    return {"counts": change.counts(), "buildings_before": len(change.before),
            "buildings_after": len(change.after),
            "coordinates": "lon/lat" if transform is not None and crs is not None
            else ("grid CRS" if transform is not None else "pixel (column, row)"),
            "rules": {"min_support": MIN_SUPPORT, "min_overlap": MIN_OVERLAP,
                      "min_reference_m2": MIN_REFERENCE_M2,
                      "min_added_m2": MIN_ADDED_M2, "greenness_loss": GREENNESS_LOSS,
                      "ndvi_loss": NDVI_LOSS,
                      "similar_deg": SIMILAR_DEG},
            "items": items}


def structures_of(result: ChangeResult, before: np.ndarray, after: np.ndarray, names: Sequence[str],
                  gsd_m: float | None, transform: Affine | None = None,
                  crs: str | None = None, objects: Sequence[BaseGeometry] = ()
                  ) -> dict[str, Any] | None:
    """The structures document (:func:`structures_doc`) of a detector's ``ChangeResult``
    that carries building probabilities (``layers`` ``building_before`` and
    ``building_after``: the learned detector); None for one that does not.
    before, after: the (bands, h, w) arrays it was given; objects: its change objects'
    geometries (lon/lat when georeferenced) to link."""
    layers = result.layers
    if "building_before" not in layers or "building_after" not in layers:
        return None
    valid = result.mask != 255
    pb = np.where(valid, layers["building_before"], 0.0)
    pa = np.where(valid, layers["building_after"], 0.0)
    change = structure_change(pb, pa, result.mask == 1, gsd_m, before, after, names, valid)
    return structures_doc(change, transform, crs, objects)


def structures_geojson(doc: dict[str, Any] | None) -> dict[str, Any]:
    """A structures document (:func:`structures_doc`) as a GeoJSON FeatureCollection: one
    feature per structure, its fields as properties (``change_objects``: indices of the
    change polygons, in their file's order); the counts and rules kept as members. None
    (a detector without building maps) gives a collection without features that says so."""
    if doc is None:
        return {"type": "FeatureCollection", "name": "structures", "features": [],
                "note": "the detector gives no building maps: no structures"}
    feats = [{"type": "Feature", "geometry": item["geometry"],
              "properties": {k: v for k, v in item.items() if k != "geometry"}}
             for item in doc["items"]]
    out = {"type": "FeatureCollection", "name": "structures", "features": feats,
           **{k: v for k, v in doc.items() if k != "items"}}
    if doc.get("coordinates") != "lon/lat":
        out["note"] = f"geometry in {doc.get('coordinates')} coordinates of BEFORE"
    return out
