"""Areas of interest in WGS84 (lon, lat), built from a point and radius or from GeoJSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError
from shapely import Point
from shapely.errors import ShapelyError
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry

from sitewatch.errors import GeometryError, InputFileError, InputValueError
from sitewatch.geo.antimeridian import (
    crosses_antimeridian,
    is_wgs84,
    local_crs,
    projected_to_wgs84,
    split_lonlat,
    wgs84_to_projected,
)

MAX_RADIUS_M = 200_000.0


def check_lon_lat(lon: float, lat: float, what: str = "point") -> None:
    if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
        raise InputValueError(
            f"{what} lon={lon}, lat={lat} is outside lon/lat range "
            "(lon -180..180, lat -90..90): give degrees in WGS84, lon first"
        )


def check_bounds(west: float, south: float, east: float, north: float, geographic: bool) -> None:
    """Bounds must be W < E and S < N, and inside lon/lat range when geographic."""
    if not (west < east and south < north):
        raise InputValueError(
            f"bounds W={west} S={south} E={east} N={north} are not W < E and S < N: "
            "give them in the order W S E N"
        )
    if geographic:
        check_lon_lat(west, south, "bounds corner")
        check_lon_lat(east, north, "bounds corner")


def utm_crs(lon: float, lat: float) -> CRS:
    """The WGS84 UTM zone CRS that contains the point (Norway/Svalbard exceptions ignored)."""
    zone = min(int((lon + 180.0) // 6.0) + 1, 60)
    return CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


def grid_crs(lon: float, lat: float) -> CRS:
    """The projected CRS of a site's grid: its UTM zone, or the Universal Polar
    Stereographic CRS north of 84N and south of 80S, where UTM is not defined."""
    if lat > 84.0:
        return CRS.from_epsg(32661)
    if lat < -80.0:
        return CRS.from_epsg(32761)
    return utm_crs(lon, lat)


def to_crs(geom: BaseGeometry, src: CRS | str, dst: CRS | str) -> BaseGeometry:
    """``geom`` from ``src`` to ``dst``. Lon/lat geometries split at the antimeridian (or
    polar caps) are joined again in a projected ``dst``; a projected geometry that lands
    across the antimeridian or round a pole in lon/lat is split (RFC 7946)."""
    if is_wgs84(src) and not is_wgs84(dst):
        return wgs84_to_projected(geom, dst)
    tf = Transformer.from_crs(src, dst, always_xy=True)
    out = shapely.transform(geom, tf.transform, interleaved=False)
    if is_wgs84(dst) and not is_wgs84(src) and not out.is_empty and crosses_antimeridian(out):
        return projected_to_wgs84(geom, src, densify=False)
    return out


def aoi_from_point(lon: float, lat: float, radius_m: float) -> BaseGeometry:
    """A circle of ``radius_m`` metres around (lon, lat), as a WGS84 polygon."""
    check_lon_lat(lon, lat)
    if not 1 <= radius_m <= MAX_RADIUS_M:  # below a metre, GEOS works in rounding noise
        raise InputValueError(
            f"radius {radius_m} m is out of range: give a radius between 1 and {MAX_RADIUS_M:.0f} m"
        )
    circle = Point(0.0, 0.0).buffer(radius_m, quad_segs=16)
    # built in the azimuthal projection of its centre, then split at the antimeridian or
    # closed along the pole it contains
    return projected_to_wgs84(circle, local_crs(lon, lat), densify=False)


def _geometry_of(doc: dict[str, Any], path: Path | str) -> dict[str, Any]:
    kind = doc.get("type")
    if kind == "FeatureCollection":
        feats = doc.get("features") or []
        if not isinstance(feats, list) or not all(isinstance(f, dict) for f in feats):
            raise InputValueError(f"{path}: its 'features' is not a list of GeoJSON features")
        if len(feats) != 1:
            raise InputValueError(
                f"{path} holds {len(feats)} features: give a file with exactly one polygon"
            )
        return _geometry_of(feats[0], path)
    if kind == "Feature":
        geom = doc.get("geometry")
        if not isinstance(geom, dict):
            raise InputValueError(f"{path}: the feature has no geometry")
        return geom
    return doc


class _NonFinite(ValueError):
    """A NaN or Infinity in a JSON document."""


def _no_constant(name: str) -> float:
    """JSON has no NaN or Infinity (RFC 8259); Python's parser accepts them unless told."""
    raise _NonFinite(name)


def aoi_from_geojson(path: Path) -> BaseGeometry:
    """Read one Polygon/MultiPolygon (bare, Feature or one-feature collection). Coordinates
    are lon/lat unless the file declares another CRS in its ``crs`` member (as GDAL and QGIS
    write it, e.g. ``urn:ogc:def:crs:EPSG::32633``); they are then reprojected to WGS84."""
    if not path.is_file():
        raise InputFileError(f"GeoJSON file {path} does not exist: check the path")
    try:
        doc = json.loads(path.read_text(encoding="utf-8-sig"), parse_constant=_no_constant)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputFileError(
            f"{path} is not valid GeoJSON ({exc}): give a GeoJSON polygon"
        ) from exc
    except _NonFinite as exc:
        raise InputFileError(
            f"{path} holds {exc}, which JSON does not allow: give finite lon/lat numbers"
        ) from exc
    except RecursionError as exc:
        raise InputFileError(
            f"{path} is nested too deeply to be GeoJSON: give a GeoJSON polygon"
        ) from exc
    if not isinstance(doc, dict):
        raise InputFileError(f"{path} is not a GeoJSON object: give a GeoJSON polygon")
    return aoi_from_mapping(doc, path)


def aoi_from_mapping(doc: Any, path: Path | str) -> BaseGeometry:
    """One Polygon/MultiPolygon from a parsed GeoJSON object (bare, Feature or one-feature
    collection, its ``crs`` member honoured); ``path`` names it in errors."""
    if not isinstance(doc, dict):
        raise InputValueError(f"{path} is not a GeoJSON object: give a GeoJSON polygon")
    geom_doc = _geometry_of(doc, path)
    if geom_doc.get("type") not in {"Polygon", "MultiPolygon"}:
        raise InputValueError(
            f"{path} holds a {geom_doc.get('type')!r}: an AOI must be a Polygon or MultiPolygon"
        )
    try:
        geom = shape(geom_doc)
    except (ValueError, TypeError, IndexError, AttributeError, KeyError, RecursionError,
            ShapelyError) as exc:
        raise InputValueError(f"{path}: malformed polygon coordinates ({exc})") from exc
    declared = declared_crs(doc, path)
    if declared is not None:
        geom = to_crs(geom, declared, "EPSG:4326")
    return check_aoi(split_lonlat(geom), str(path))


def declared_crs(doc: dict[str, Any], path: Path | str) -> str | None:
    """The CRS a GeoJSON file declares (``{"crs": {"type": "name", "properties": {"name":
    ...}}}``), or None for the RFC 7946 default (WGS84 lon/lat)."""
    member = doc.get("crs")
    if member is None:
        return None
    name = member.get("properties", {}).get("name") if isinstance(member, dict) else None
    if not isinstance(name, str) or not name.strip():
        raise InputValueError(f"{path}: its 'crs' member names no CRS: give "
                              '{"type": "name", "properties": {"name": "EPSG:32633"}} or drop it')
    try:
        crs = CRS.from_user_input(name)
    except CRSError as exc:
        raise InputValueError(f"{path}: unknown CRS {name!r} in its 'crs' member") from exc
    if crs.equals(CRS.from_epsg(4326), ignore_axis_order=True) or name.upper().endswith("CRS84"):
        return None
    return crs.to_string()


def check_aoi(geom: BaseGeometry, what: str) -> BaseGeometry:
    if geom.is_empty:
        raise GeometryError(f"{what}: the polygon is empty")
    w, s, e, n = geom.bounds
    check_bounds(w, s, e, n, geographic=True)
    if not geom.is_valid:
        raise GeometryError(
            f"{what}: the polygon is invalid (self-intersecting?): fix it in a GIS and retry"
        )
    if geom.area <= 0:
        raise GeometryError(f"{what}: the polygon has no area")
    return geom


def geometry_json(geom: BaseGeometry) -> str:
    return json.dumps(mapping(geom))
