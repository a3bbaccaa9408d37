"""``sitewatch analyze``: detect change between two scenes of a site and store the run."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from datetime import date
from importlib.metadata import version
from typing import Any

import numpy as np

from sitewatch import __version__
from sitewatch.catalog import Detection, Run, Scene, Site, Store
from sitewatch.catalog.store import utcnow
from sitewatch.config import Workspace
from sitewatch.dates import ObsDate
from sitewatch.detect.methods import DEFAULT_METHOD, common_bands, get_method, resolve_method
from sitewatch.detect.objects import extract_objects
from sitewatch.errors import InputValueError
from sitewatch.imagery.write import write_mask
from sitewatch.monitor.chips import aoi_mask, site_chips

log = logging.getLogger(__name__)


def software_versions() -> dict[str, str]:
    import rasterio
    import scipy

    return {"sitewatch": __version__, "numpy": np.__version__, "scipy": scipy.__version__,
            "scikit-image": version("scikit-image"), "rasterio": rasterio.__version__,
            "gdal": rasterio.__gdal_version__}


def pick_scenes(scenes: list[Scene], before: str | None, after: str | None
                ) -> tuple[Scene, Scene]:
    """BEFORE: the latest scene acquired for certain on or before ``before`` (its whole date
    interval ends by then; default: the earliest scene). AFTER: the earliest scene acquired
    for certain on or after ``after`` (default: the latest). ``scenes`` are sorted by date.
    """
    if len(scenes) < 2:
        raise InputValueError(
            f"the site has {len(scenes)} scene(s): import at least two with "
            "'sitewatch scenes import' before analysing"
        )
    b_idx, a_idx = 0, len(scenes) - 1
    if before is not None:
        limit = ObsDate.parse(before).end or date.max
        found = [i for i, s in enumerate(scenes) if s.acquired_end and s.acquired_end <= limit]
        if not found:
            raise InputValueError(f"no scene of the site is dated for certain on or before "
                                  f"{before}: see 'sitewatch scenes list'")
        b_idx = found[-1]
    if after is not None:
        start = ObsDate.parse(after).start or date.min
        found = [i for i, s in enumerate(scenes)
                 if s.acquired_start and s.acquired_start >= start]
        if not found:
            raise InputValueError(f"no scene of the site is dated for certain on or after "
                                  f"{after}: see 'sitewatch scenes list'")
        a_idx = found[0]
    if a_idx <= b_idx:
        raise InputValueError(
            f"the scene chosen as AFTER ({scenes[a_idx].acquired_text}) is not later than "
            f"BEFORE ({scenes[b_idx].acquired_text}): give other --before/--after dates"
        )
    return scenes[b_idx], scenes[a_idx]


def analyze_site(store: Store, ws: Workspace, site_name: str, before: str | None = None,
                 after: str | None = None, method: str = DEFAULT_METHOD,
                 params: dict[str, Any] | None = None) -> Run:
    """Chip, co-register, detect and store one run (replacing an identical earlier run)."""
    site: Site = store.site(site_name)
    b_scene, a_scene = pick_scenes(store.scenes(site.id), before, after)
    method = resolve_method(method, min(b_scene.gsd_m, a_scene.gsd_m))
    run_method = get_method(method)
    t0 = time.perf_counter()
    started = utcnow()
    grid, (b_chip, a_chip) = site_chips(store, ws, site, [b_scene, a_scene])
    t_chips = time.perf_counter() - t0
    inside = aoi_mask(site, grid)
    ib, ia, names = common_bands(b_scene.band_names, a_scene.band_names)
    before_arr = np.where(inside, b_chip.data[ib], np.nan).astype(np.float32)
    after_arr = np.where(inside, a_chip.data[ia], np.nan).astype(np.float32)
    result = run_method(before_arr, after_arr, names, grid.res_m, params or {})
    objects = extract_objects(result, grid.transform, grid.crs, grid.res_m)
    t_detect = time.perf_counter() - t0 - t_chips
    versions = software_versions()
    parameters = {"method_parameters": result.parameters, "bands": names,
                  "grid": grid.to_dict(), "grid_key": grid.key,
                  "coregistration": {"reference_scene_id": b_chip.chip.reference_scene_id,
                                     "after_shift_px": [a_chip.chip.shift_y_px,
                                                        a_chip.chip.shift_x_px],
                                     "after_status": a_chip.chip.coreg_status,
                                     "before_shift_px": [b_chip.chip.shift_y_px,
                                                         b_chip.chip.shift_x_px]}}
    key_doc = {"method": method, "params": params or {}, "versions": versions,
               "before": b_scene.sha256, "after": a_scene.sha256, "grid": grid.key,
               "aoi": site.aoi_geojson}
    run_key = hashlib.sha256(json.dumps(key_doc, sort_keys=True).encode()).hexdigest()
    mask_path = ws.chips_dir / f"site{site.id}" / f"run_{run_key[:16]}_mask.tif"
    write_mask(mask_path, result.mask, grid.crs, grid.transform)
    valid = result.mask != 255
    changed_px = int((result.mask == 1).sum())
    summary = {"detections": len(objects), "changed_area_m2": changed_px * grid.res_m ** 2,
               "valid_area_m2": int(valid.sum()) * grid.res_m ** 2,
               "changed_fraction": changed_px / max(int(valid.sum()), 1),
               "mask_path": str(mask_path)}
    detections = [
        Detection(polygon_geojson=json.dumps(o.feature()["geometry"]), area_m2=o.area_m2 or 0.0,
                  area_uncertainty_m2=o.area_uncertainty_m2 or 0.0, change_type=o.change_type,
                  score=o.score, centroid_lon=o.centroid_lon or 0.0,
                  centroid_lat=o.centroid_lat or 0.0,
                  min_lon=o.geometry.bounds[0], min_lat=o.geometry.bounds[1],
                  max_lon=o.geometry.bounds[2], max_lat=o.geometry.bounds[3])
        for o in objects
    ]
    run = Run(run_key=run_key, site_id=site.id, method=method, parameters=parameters,
              versions=versions, before_scene_id=b_scene.id, after_scene_id=a_scene.id,
              status="completed", started_at=started, finished_at=utcnow(),
              timings_s={"chips": round(t_chips, 3), "detect": round(t_detect, 3),
                         "total": round(time.perf_counter() - t0, 3)},
              summary=summary)
    saved = store.save_run(run, detections)
    log.info("run %s: %d detections, %.0f m2 changed", saved.id, len(objects),
             summary["changed_area_m2"])
    return saved

