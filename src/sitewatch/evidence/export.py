"""GIS exports of a run's detections: GeoJSON (RFC 7946), GeoPackage and KML, in WGS84."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio.raw
import shapely
from shapely.geometry import shape

from sitewatch.errors import InputValueError
from sitewatch.fileio import atomic_path
from sitewatch.model import Detection, Run, Scene, Site

FORMATS = {"geojson": "GeoJSON", "gpkg": "GPKG", "kml": "KML"}
FIELDS = ["id", "change_id", "site", "change_type", "area_m2", "area_uncertainty_m2", "score",
          "centroid_lon", "centroid_lat", "review", "run_id", "method", "before_date",
          "after_date", "before_credit", "after_credit"]
TEXT_FIELDS = {"id", "change_id", "site", "change_type", "review", "run_id", "method",
               "before_date", "after_date", "before_credit", "after_credit"}


def _dtype(field: str) -> Any:
    if field in TEXT_FIELDS:
        return object
    return np.float64


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def _properties(site: Site, run: Run, before: Scene, after: Scene, d: Detection
                ) -> dict[str, Any]:
    props = {
        "id": d.ref, "change_id": d.change_ref, "site": site.name, "change_type": d.change_type,
        "area_m2": _round(d.area_m2, 1), "area_uncertainty_m2": _round(d.area_uncertainty_m2, 1),
        "score": round(d.score, 3), "centroid_lon": _round(d.centroid_lon, 7),
        "centroid_lat": _round(d.centroid_lat, 7), "review": d.review_status.value,
        "run_id": run.ref, "method": run.method,
        "before_date": before.acquired_text, "after_date": after.acquired_text,
        "before_credit": before.credit, "after_credit": after.credit,
    }
    return {k: props[k] for k in FIELDS}


def export_run(site: Site, run: Run, before: Scene, after: Scene, fmt: str, out: Path) -> Path:
    """Write the run's detections to ``out`` in ``fmt`` (geojson, gpkg or kml)."""
    if fmt not in FORMATS:
        raise InputValueError(f"unknown format {fmt!r}: choose geojson, gpkg or kml")
    rows = [_properties(site, run, before, after, d) for d in run.detections]
    geoms = [shape(d.polygon) for d in run.detections]
    if fmt == "geojson":
        fc = {"type": "FeatureCollection",
              "features": [{"type": "Feature", "geometry": json.loads(d.polygon_geojson),
                            "properties": p} for d, p in zip(run.detections, rows, strict=True)]}
        with atomic_path(out) as tmp:
            tmp.write_text(json.dumps(fc, ensure_ascii=False), encoding="utf-8")
        return out
    field_data = [np.array([np.nan if r[k] is None and k not in TEXT_FIELDS else r[k]
                            for r in rows], dtype=_dtype(k)) for k in FIELDS]
    wkb = np.array([shapely.to_wkb(g) for g in geoms], dtype=object)
    with atomic_path(out) as tmp:
        tmp.unlink()
        pyogrio.raw.write(str(tmp), wkb, field_data, FIELDS, driver=FORMATS[fmt],
                          geometry_type="MultiPolygon", promote_to_multi=True,
                          crs="EPSG:4326", layer="detections")
    return out
