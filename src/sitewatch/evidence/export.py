"""GIS exports of a run, in WGS84: the format follows the file's extension.

- ``.geojson``/``.json``: GeoJSON (RFC 7946), the detections;
- ``.gpkg``: GeoPackage with three layers, ``detections``, ``aoi`` and ``scenes`` (the two
  scenes' footprints), and a QGIS style per layer in ``layer_styles``; a fourth,
  ``structures``, when the run measured buildings (new, extended, demolished, unchanged,
  cleared ground, with areas and relative sizes: ``sitewatch.evidence.structures``), which
  the GeoJSON carries as its member ``structures``;
- ``.kml``: KML with named and described placemarks, the AOI and the footprints as folders;
- ``.fgb``: FlatGeobuf, the detections;
- ``.csv``: the detections, geometry as WKT (for spreadsheets).

Every detection carries its provenance: run, detection and change ids, the scenes' ids,
dates, sha256, credits and licences, the method and software version, its warning flags
and the run's (codes, and ``warnings`` in plain sentences), and its area with the area's
uncertainty (m2). Shapefiles are not written:
their 10-character field names would cut the provenance.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio.raw
import shapely
from shapely.geometry import box, mapping, shape
from shapely.geometry.base import BaseGeometry

from sitewatch.errors import InputValueError
from sitewatch.evidence.gis_style import LAYER_STYLES_FIELDS, change_words, layer_styles_rows
from sitewatch.evidence.kml import kml_document
from sitewatch.evidence.structures import FIELDS as STRUCTURE_FIELDS
from sitewatch.evidence.structures import structure_features
from sitewatch.fileio import atomic_path
from sitewatch.geo.aoi import to_crs
from sitewatch.geo.area import area_perimeter_m
from sitewatch.model import Detection, Run, Scene, Site

#: format name -> OGR driver, and file extension -> format name
FORMATS = {"geojson": "GeoJSON", "gpkg": "GPKG", "kml": "KML", "fgb": "FlatGeobuf",
           "csv": "CSV"}
EXTENSIONS = {".geojson": "geojson", ".json": "geojson", ".gpkg": "gpkg", ".kml": "kml",
              ".fgb": "fgb", ".csv": "csv"}
_FORMAT_ALIASES = {"json": "geojson", "flatgeobuf": "fgb", "geopackage": "gpkg"}
_NOT_WRITTEN = {".shp": "shapefiles cut field names to 10 characters and would lose the "
                        "provenance: use .gpkg (QGIS, ArcGIS) instead",
                ".kmz": "write .kml (Google Earth opens it as it is)"}
_EXT_LIST = ", ".join(EXTENSIONS)

#: the detections' fields, in order, with their kinds: str, float or int
DETECTION_FIELDS: dict[str, type] = {
    "id": str, "change_id": str, "site": str, "change_type": str, "change": str,
    "area_m2": float, "area_uncertainty_m2": float, "score": float,
    "centroid_lon": float, "centroid_lat": float, "review": str, "flags": str,
    "run_id": str, "run_flags": str, "warnings": str, "method": str, "sitewatch_version": str,
    "before_scene_id": int, "after_scene_id": int, "before_date": str, "after_date": str,
    "before_provider": str, "after_provider": str, "before_credit": str, "after_credit": str,
    "before_licence": str, "after_licence": str, "before_sha256": str, "after_sha256": str,
}
AOI_FIELDS: dict[str, type] = {"site_id": int, "site": str, "kind": str, "country": str,
                               "area_m2": float, "run_id": str}
SCENE_FIELDS: dict[str, type] = {
    "role": str, "scene_id": int, "date": str, "provider": str, "credit": str, "licence": str,
    "sha256": str, "source": str, "crs": str, "gsd_m": float, "width": int, "height": int,
    "bands": str, "run_id": str,
}
#: what the old exports called the fields, kept for scripts written against them
FIELDS = list(DETECTION_FIELDS)


def resolve_format(out: Path, fmt: str | None = None) -> str:
    """The format to write ``out`` in: its extension's, checked against ``fmt`` when given.

    Raises InputValueError (before anything is written) for an unknown ``fmt``, an
    extension sitewatch cannot write, a name without an extension, or an extension that
    says another format than ``fmt``.
    """
    want = None
    if fmt is not None:
        key = fmt.strip().lower().lstrip(".")
        want = _FORMAT_ALIASES.get(key, key)
        if want not in FORMATS:
            raise InputValueError(f"unknown format {fmt!r}: choose {', '.join(FORMATS)}, or "
                                  "leave out --format and let the --out extension say it")
    suffix = Path(out).suffix.lower()
    if not suffix:
        ext = next(e for e, f in EXTENSIONS.items() if f == (want or "gpkg"))
        raise InputValueError(f"{Path(out).name} has no extension to tell the format: name "
                              f"it with one of {_EXT_LIST}, e.g. {Path(out).name}{ext}")
    have = EXTENSIONS.get(suffix)
    if have is None:
        why = _NOT_WRITTEN.get(suffix, f"give a file name ending in one of {_EXT_LIST}")
        raise InputValueError(f"sitewatch cannot write {suffix} files: {why}")
    if want is not None and want != have:
        raise InputValueError(
            f"--format {want} does not match {Path(out).name} (a {have} file name): leave "
            f"out --format, or name the file with the {want} extension"
        )
    return have


def flag_codes(obj: Run | Detection) -> list[str]:
    """The warning flags of a run or a detection as codes, [] where there are none.

    Issue 12 item 1 gives ``Run.flags`` and ``Detection.flags``; this is the one place that
    reads them for the exports, so a model without them yet exports no flags.
    """
    out = []
    for f in getattr(obj, "flags", None) or ():
        if isinstance(f, str):
            out.append(str(f))
        elif isinstance(f, dict):
            out.append(str(f.get("code") or f.get("name") or json.dumps(f, sort_keys=True)))
        else:
            out.append(str(getattr(f, "code", None) or getattr(f, "value", None) or f))
    return out


def flag_sentences(*objs: Run | Detection) -> list[str]:
    """What the flags of ``objs`` mean, one plain sentence each (a flag without a sentence
    is given by its code), without repeats."""
    out: dict[str, None] = {}
    for obj in objs:
        for f, code in zip(getattr(obj, "flags", None) or (), flag_codes(obj), strict=True):
            out[str(getattr(f, "sentence", None) or code)] = None
    return list(out)


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


@dataclass(frozen=True)
class RunLayers:
    """A run as three layers of (fields, WGS84 geometry) rows: what every format writes."""

    detections: list[tuple[dict[str, Any], BaseGeometry]]
    aoi: tuple[dict[str, Any], BaseGeometry]
    scenes: list[tuple[dict[str, Any], BaseGeometry | None]]
    title: str
    about: str


def footprint_wgs84(scene: Scene) -> BaseGeometry | None:
    """The scene's bounds as a WGS84 polygon (edges densified so that a UTM square stays
    true in lon/lat); None for an image without a CRS."""
    if not scene.crs:
        return None
    w, s, e, n = scene.bounds
    edge = max(e - w, n - s) / 32 or 1.0
    return to_crs(shapely.segmentize(box(w, s, e, n), edge), scene.crs, "EPSG:4326")


def run_layers(site: Site, run: Run, before: Scene, after: Scene) -> RunLayers:
    """The fields of every detection, of the AOI and of the two scenes."""
    run_flags = flag_codes(run)
    common = {"run_id": run.ref, "run_flags": run_flags, "method": run.method,
              "sitewatch_version": run.versions.get("sitewatch"),
              "before_scene_id": before.id, "after_scene_id": after.id}
    for role, sc in (("before", before), ("after", after)):
        common |= {f"{role}_date": sc.acquired_text, f"{role}_provider": sc.provider,
                   f"{role}_credit": sc.credit, f"{role}_licence": sc.licence,
                   f"{role}_sha256": sc.sha256}
    dets = []
    for d in run.detections:
        props = common | {
            "id": d.ref, "change_id": d.change_ref, "site": site.name,
            "change_type": d.change_type, "change": change_words(d.change_type),
            "area_m2": _round(d.area_m2, 1),
            "area_uncertainty_m2": _round(d.area_uncertainty_m2, 1),
            "score": round(d.score, 3), "centroid_lon": _round(d.centroid_lon, 7),
            "centroid_lat": _round(d.centroid_lat, 7), "review": d.review_status.value,
            "flags": flag_codes(d), "warnings": " ".join(flag_sentences(run, d)) or None,
        }
        dets.append(({k: props.get(k) for k in DETECTION_FIELDS}, shape(d.polygon)))
    aoi = site.aoi_geom
    aoi_props = {"site_id": site.id, "site": site.name, "kind": site.kind,
                 "country": site.country, "area_m2": round(area_perimeter_m(aoi)[0], 1),
                 "run_id": run.ref}
    scenes = [({"role": role, "scene_id": sc.id, "date": sc.acquired_text,
                "provider": sc.provider, "credit": sc.credit, "licence": sc.licence,
                "sha256": sc.sha256, "source": sc.provenance.source, "crs": sc.crs,
                "gsd_m": round(sc.gsd_m, 3), "width": sc.width, "height": sc.height,
                "bands": ",".join(sc.band_names), "run_id": run.ref}, footprint_wgs84(sc))
              for role, sc in (("before", before), ("after", after))]
    credits = "; ".join(dict.fromkeys(c for c in (before.credit, after.credit) if c))
    title = (f"{site.name}: {len(dets)} change(s) from {before.acquired_text} to "
             f"{after.acquired_text} (run {run.ref})")
    about = (f"sitewatch {run.versions.get('sitewatch', '')} run {run.ref}, method "
             f"{run.method}. Imagery: {credits or 'no credit recorded'}.")
    return RunLayers(dets, (aoi_props, aoi), scenes, title, about)


def _column(rows: Sequence[dict[str, Any]], key: str, kind: type) -> np.ndarray:
    values = [r[key] for r in rows]
    if kind is float:
        return np.array([np.nan if v is None else v for v in values], dtype=np.float64)
    if kind is int:
        return np.array(values, dtype=np.int64)
    return np.array([None if v is None else ",".join(v) if isinstance(v, list) else str(v)
                     for v in values], dtype=object)


def _write_layer(path: Path, driver: str, layer: str, fields: dict[str, type],
                 rows: Sequence[tuple[dict[str, Any], BaseGeometry | None]],
                 geometry_type: str, **options: Any) -> None:
    props = [p for p, _ in rows]
    wkb = np.array([None if g is None else shapely.to_wkb(g) for _, g in rows], dtype=object)
    pyogrio.raw.write(str(path), wkb, [_column(props, k, t) for k, t in fields.items()],
                      list(fields), driver=driver, geometry_type=geometry_type,
                      promote_to_multi=geometry_type.startswith("Multi"), crs="EPSG:4326",
                      layer=layer, **options)


def _write_styles(path: Path) -> None:
    rows = layer_styles_rows()
    cols = []
    for k in LAYER_STYLES_FIELDS:
        values = [r[k] for r in rows]
        if k == "useAsDefault":
            cols.append(np.array(values, dtype=bool))
        elif k == "update_time":
            cols.append(np.array([v.replace(tzinfo=None) for v in values],
                                 dtype="datetime64[ms]"))
        else:
            cols.append(np.array(values, dtype=object))
    # GDAL's time zone flag 100 is UTC: written as GeoPackage wants, 2026-01-31T12:00:00.000Z
    utc = {"update_time": np.full(len(rows), 100, dtype=np.int32)}
    pyogrio.raw.write(str(path), None, cols, LAYER_STYLES_FIELDS, driver="GPKG",
                      geometry_type=None, layer="layer_styles", layer_options={"FID": "id"},
                      gdal_tz_offsets=utc)


def _geojson(layers: RunLayers, run: Run | None = None) -> str:
    fc: dict[str, Any] = {"type": "FeatureCollection", "name": "detections",
                          "features": [{"type": "Feature", "geometry": mapping(g),
                                        "properties": p} for p, g in layers.detections]}
    structures = [] if run is None else structure_features(run)
    if structures:  # a foreign member (RFC 7946 6.1): readers of the detections ignore it
        fc["structures"] = {"type": "FeatureCollection", "name": "structures",
                            "features": structures}
    return json.dumps(fc, ensure_ascii=False)


def export_run(site: Site, run: Run, before: Scene, after: Scene, out: Path,
               fmt: str | None = None) -> Path:
    """Write the run to ``out`` in the format its extension names (``fmt``, when given,
    must agree). Nothing is written when the format is refused; a crash leaves no partial
    file."""
    fmt = resolve_format(out, fmt)
    layers = run_layers(site, run, before, after)
    with atomic_path(out) as tmp:
        if fmt == "geojson":
            tmp.write_text(_geojson(layers, run), encoding="utf-8")
        elif fmt == "kml":
            tmp.write_bytes(kml_document(layers.title, layers.about, layers.detections,
                                         layers.aoi, layers.scenes))
        else:
            tmp.unlink()
            opts: dict[str, Any] = {}
            if fmt == "csv":
                opts["layer_options"] = {"GEOMETRY": "AS_WKT"}
            elif fmt == "gpkg":  # 1.2: read without a warning by GDAL < 3.7 (QGIS 3.28 LTR)
                opts["dataset_options"] = {"VERSION": "1.2"}
            _write_layer(tmp, FORMATS[fmt], "detections", DETECTION_FIELDS, layers.detections,
                         "MultiPolygon", **opts)
            if fmt == "gpkg":
                _write_layer(tmp, "GPKG", "aoi", AOI_FIELDS, [layers.aoi], "MultiPolygon")
                _write_layer(tmp, "GPKG", "scenes", SCENE_FIELDS, layers.scenes, "Polygon")
                structures = structure_features(run)
                if structures:
                    _write_layer(tmp, "GPKG", "structures", STRUCTURE_FIELDS,
                                 [(f["properties"], shape(f["geometry"])) for f in structures],
                                 "MultiPolygon")
                _write_styles(tmp)
    return out
