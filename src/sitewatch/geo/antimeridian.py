"""Geometry on the whole globe: WGS84 polygons split at the antimeridian (RFC 7946 section
3.1.9) and polar caps, to and from local projected CRSs.

A WGS84 AOI is stored with every longitude in -180..180: a shape that crosses the
antimeridian is a MultiPolygon of its two sides, and a shape around a pole is a cap that
runs along the pole (lat +-90) between lon -180 and 180. Measurement and rasterising go
through a projected CRS, where the parts join again.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from pyproj import CRS, Transformer
from shapely.geometry import MultiPolygon, Point, Polygon, box
from shapely.geometry.base import BaseGeometry

WGS84 = CRS.from_epsg(4326)
#: vertices per ring when a projected rectangle or polygon is densified before reprojection
DENSIFY_VERTICES = 256


def is_wgs84(crs: CRS | str) -> bool:
    c = crs if isinstance(crs, CRS) else CRS.from_user_input(crs)
    return bool(c.equals(WGS84, ignore_axis_order=True))


def _polygons(geom: BaseGeometry) -> list[Polygon]:
    if isinstance(geom, Polygon):
        return [geom]
    if isinstance(geom, MultiPolygon):
        return list(geom.geoms)
    return [g for part in getattr(geom, "geoms", []) for g in _polygons(part)]


def _unwrap(lons: np.ndarray) -> np.ndarray:
    """Longitudes made continuous along a ring (steps over 180 degrees wrap by 360)."""
    step = np.diff(lons)
    fix = -360.0 * np.round(step / 360.0)
    return np.concatenate([lons[:1], lons[1:] + np.cumsum(fix)])


def crosses_antimeridian(geom: BaseGeometry) -> bool:
    """Whether any ring of a lon/lat geometry steps over 180 degrees of longitude (a shape
    written across the antimeridian without being split), or lies beyond -180..180."""
    w, _, e, _ = geom.bounds
    if w < -180.0 or e > 180.0:
        return True
    for poly in _polygons(geom):
        for ring in (poly.exterior, *poly.interiors):
            if np.any(np.abs(np.diff(np.asarray(ring.coords)[:, 0])) > 180.0):
                return True
    return False


def _pole_ring(lon: np.ndarray, lat: np.ndarray, north: bool) -> np.ndarray:
    """A ring whose unwrapped longitudes run once around a pole, closed along that pole."""
    pole = 90.0 if north else -90.0
    xs = np.concatenate([lon, [lon[-1], lon[0], lon[0]]])
    ys = np.concatenate([lat, [pole, pole, lat[0]]])
    return np.column_stack([xs, ys])


def _normalise(parts: list[Polygon]) -> BaseGeometry:
    """Polygons with longitudes anywhere in -540..540 cut into -180..180 pieces."""
    out: list[Polygon] = []
    for poly in parts:
        if not poly.is_valid:
            poly = shapely.make_valid(poly)
        w, _, e, _ = poly.bounds
        if w >= -180.0 and e <= 180.0:
            out.append(poly)  # kept as it is
            continue
        for k in range(math.floor((w + 180.0) / 360.0), math.floor((e + 180.0) / 360.0) + 1):
            window = box(-180.0 + 360.0 * k, -90.0, 180.0 + 360.0 * k, 90.0)
            piece = poly.intersection(window)
            if piece.is_empty:
                continue
            moved = shapely.transform(piece, lambda xy, k=k: xy - np.array([360.0 * k, 0.0]))
            out.extend(p for p in _polygons(moved) if p.area > 0)
    merged = shapely.union_all(out) if len(out) > 1 else (out[0] if out else Polygon())
    polys = _polygons(merged)
    return polys[0] if len(polys) == 1 else MultiPolygon(polys)


def split_lonlat(geom: BaseGeometry) -> BaseGeometry:
    """A lon/lat geometry written across the antimeridian (longitudes beyond 180, or rings
    that jump from 179 to -179) as RFC 7946 parts inside -180..180; others unchanged (and
    so are longitudes beyond -540..540, left for the range check to refuse)."""
    w, _, e, _ = geom.bounds
    if not (w >= -540.0 and e <= 540.0) or not crosses_antimeridian(geom):
        return geom
    beyond = w < -180.0 or e > 180.0
    parts = []
    for poly in _polygons(geom):
        ext = np.asarray(poly.exterior.coords)
        # longitudes written beyond 180 must run on without jumps; in-range ones may jump
        if beyond and np.any(np.abs(np.diff(ext[:, 0])) > 180.0):
            return geom
        lon = _unwrap(ext[:, 0])
        holes = []
        for ring in poly.interiors:
            xy = np.asarray(ring.coords)
            h = _unwrap(xy[:, 0])
            h += 360.0 * np.round((lon.mean() - h.mean()) / 360.0)
            holes.append(np.column_stack([h, xy[:, 1]]))
        if lon.max() - lon.min() >= 360.0:  # wider than the globe: left for the range check
            return geom
        parts.append(Polygon(np.column_stack([lon, ext[:, 1]]), holes))
    return _normalise(parts)


def projected_to_wgs84(geom: BaseGeometry, src: CRS | str, densify: bool = True
                       ) -> BaseGeometry:
    """A polygon in a projected CRS as WGS84 lon/lat: densified first (unless ``densify``
    is False) so that long edges follow the curve, split at the antimeridian, and closed
    along a pole it encircles."""
    src_crs = src if isinstance(src, CRS) else CRS.from_user_input(src)
    tf = Transformer.from_crs(src_crs, WGS84, always_xy=True)
    poles = {}
    for north in (True, False):
        px, py = Transformer.from_crs(WGS84, src_crs, always_xy=True).transform(
            0.0, 90.0 if north else -90.0)
        poles[north] = math.isfinite(px) and math.isfinite(py) and geom.contains(Point(px, py))
    parts = []
    for poly in _polygons(geom):
        dense = shapely.segmentize(poly, max(poly.exterior.length / DENSIFY_VERTICES, 1e-9)
                                   ) if densify else poly
        rings = []
        for i, ring in enumerate((dense.exterior, *dense.interiors)):
            xy = np.asarray(ring.coords)
            lon, lat = tf.transform(xy[:, 0], xy[:, 1])
            lon = _unwrap(np.asarray(lon, dtype=float))
            lat = np.asarray(lat, dtype=float)
            if i == 0:
                turn = lon[-1] - lon[0]
                if abs(turn) > 180.0:  # the ring goes once round a pole
                    north = poles[True] or not poles[False]
                    rings.append(_pole_ring(lon, lat, north))
                    continue
            elif rings:
                lon = lon + 360.0 * np.round((rings[0][:, 0].mean() - lon.mean()) / 360.0)
            rings.append(np.column_stack([lon, lat]))
        parts.append(Polygon(rings[0], rings[1:]))
    return _normalise(parts)


def wgs84_to_projected(geom: BaseGeometry, dst: CRS | str) -> BaseGeometry:
    """A WGS84 geometry (RFC 7946 parts, polar caps) in a projected CRS: parts that meet at
    the antimeridian are joined again and a cap's pole edge collapses to the pole."""
    tf = Transformer.from_crs(WGS84, dst, always_xy=True)
    out = shapely.transform(geom, tf.transform, interleaved=False)
    w, s, e, n = geom.bounds
    if (e - w) > 180.0 or n >= 90.0 or s <= -90.0:
        out = shapely.union_all([shapely.make_valid(p) for p in _polygons(out)]
                                or [out]).buffer(0)
    return out


def lonlat_centre(geom: BaseGeometry) -> tuple[float, float]:
    """A central (lon, lat) of a WGS84 area, right across the antimeridian and at the poles
    (where a plain centroid of lon/lat numbers lands half a world away)."""
    pts = np.concatenate([np.asarray(p.exterior.coords) for p in _polygons(geom)])
    pts = pts[np.abs(pts[:, 1]) < 90.0 - 1e-9] if np.any(np.abs(pts[:, 1]) < 90.0 - 1e-9) \
        else pts
    lam, phi = np.radians(pts[:, 0]), np.radians(pts[:, 1])
    v = np.array([np.mean(np.cos(phi) * np.cos(lam)), np.mean(np.cos(phi) * np.sin(lam)),
                  np.mean(np.sin(phi))])
    lon0 = math.degrees(math.atan2(v[1], v[0]))
    lat0 = math.degrees(math.atan2(v[2], math.hypot(v[0], v[1])))
    local = local_crs(lon0, lat0)
    c = wgs84_to_projected(geom, local).centroid
    if c.is_empty:
        return lon0, lat0
    lon, lat = Transformer.from_crs(local, WGS84, always_xy=True).transform(c.x, c.y)
    return float(lon), float(lat)


def local_crs(lon: float, lat: float) -> CRS:
    """The azimuthal equidistant CRS centred on (lon, lat), in metres."""
    return CRS.from_proj4(f"+proj=aeqd +lat_0={lat} +lon_0={lon} +datum=WGS84 +units=m")


def footprint_wgs84(bounds: tuple[float, float, float, float], crs: CRS | str
                    ) -> BaseGeometry:
    """The WGS84 footprint of a north-up raster's (west, south, east, north) bounds in
    ``crs``, split at the antimeridian where it crosses it."""
    rect = box(*bounds)
    if is_wgs84(crs):
        return split_lonlat(rect)
    return projected_to_wgs84(rect, crs)


def to_local(geom: BaseGeometry, src: CRS | str, dst: CRS) -> BaseGeometry:
    """Any geometry into the projected CRS ``dst``: through :func:`wgs84_to_projected` from
    lon/lat, else densified and transformed directly."""
    if is_wgs84(src):
        return wgs84_to_projected(split_lonlat(geom), dst)
    dense = shapely.segmentize(geom, max(geom.length / DENSIFY_VERTICES, 1e-9))
    tf = Transformer.from_crs(src, dst, always_xy=True)
    return shapely.transform(dense, tf.transform, interleaved=False)
