"""GIS exports of a run's detections: GeoJSON (RFC 7946), GeoPackage and KML, in WGS84."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio.raw
import shapely
from shapely.geometry import shape

from sitewatch.catalog import Detection, Run, Scene, Site
from sitewatch.errors import InputValueError
from sitewatch.imagery.write import atomic_path

FORMATS = {"geojson": "GeoJSON", "gpkg": "GPKG", "kml": "KML"}
FIELDS = ["id", "site", "change_type", "area_m2", "area_uncertainty_m2", "score",
          "centroid_lon", "centroid_lat", "run_id", "method", "before_date", "after_date",
          "before_credit", "after_credit"]
TEXT_FIELDS = {"site", "change_type", "method", "before_date", "after_date", "before_credit",
               "after_credit"}


def _dtype(field: str) -> Any:
    if field in TEXT_FIELDS:
        return object
    return np.int64 if field in {"id", "run_id"} else np.float64


def _properties(site: Site, run: Run, before: Scene, after: Scene, d: Detection, n: int
                ) -> dict[str, Any]:
    props = {
        "id": n, "site": site.name, "change_type": d.change_type,
        "area_m2": round(d.area_m2, 1), "area_uncertainty_m2": round(d.area_uncertainty_m2, 1),
        "score": round(d.score, 3), "centroid_lon": round(d.centroid_lon, 7),
        "centroid_lat": round(d.centroid_lat, 7), "run_id": run.id, "method": run.method,
        "before_date": before.acquired_text, "after_date": after.acquired_text,
        "before_credit": before.credit, "after_credit": after.credit,
    }
    return {k: props[k] for k in FIELDS}


def export_run(site: Site, run: Run, before: Scene, after: Scene, fmt: str, out: Path) -> Path:
    """Write the run's detections to ``out`` in ``fmt`` (geojson, gpkg or kml)."""
    if fmt not in FORMATS:
        raise InputValueError(f"unknown format {fmt!r}: choose geojson, gpkg or kml")
    rows = [_properties(site, run, before, after, d, i)
            for i, d in enumerate(run.detections, start=1)]
    geoms = [shape(d.polygon) for d in run.detections]
    if fmt == "geojson":
        fc = {"type": "FeatureCollection",
              "features": [{"type": "Feature", "geometry": json.loads(d.polygon_geojson),
                            "properties": p} for d, p in zip(run.detections, rows, strict=True)]}
        with atomic_path(out) as tmp:
            tmp.write_text(json.dumps(fc, ensure_ascii=False), encoding="utf-8")
        return out
    field_data = [np.array([r[k] for r in rows], dtype=_dtype(k)) for k in FIELDS]
    wkb = np.array([shapely.to_wkb(g) for g in geoms], dtype=object)
    with atomic_path(out) as tmp:
        tmp.unlink()
        pyogrio.raw.write(str(tmp), wkb, field_data, FIELDS, driver=FORMATS[fmt],
                          geometry_type="MultiPolygon", promote_to_multi=True,
                          crs="EPSG:4326", layer="detections")
    return out
