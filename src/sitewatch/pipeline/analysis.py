"""``sitewatch analyze``: detect change between two scenes of a site and store the run."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np

from sitewatch.catalog import Store
from sitewatch.config import Layout
from sitewatch.detect.methods import DEFAULT_METHOD, common_bands, resolve_method
from sitewatch.detect.objects import ChangeObject, extract_objects
from sitewatch.detect.registry import get_detector
from sitewatch.detect.structures import structures_of
from sitewatch.errors import InputValueError
from sitewatch.faults import checkpoint
from sitewatch.imagery.local import data_band_names
from sitewatch.imagery.write import write_mask
from sitewatch.model import Chip, Detection, Run, RunStatus, Scene, Site
from sitewatch.model.dates import ObsDate
from sitewatch.model.objects import change_type_of, changed_area_m2
from sitewatch.pipeline.chips import (
    ChipWriter,
    aoi_mask,
    discard_chips,
    grid_for,
    release_free_memory,
    share_one_heap,
    site_chips,
)
from sitewatch.pipeline.flags import RunFacts, detection_flags, run_flags
from sitewatch.version import __version__

log = logging.getLogger(__name__)


#: ``progress(done, total, step)``: the steps of an analysis, as they start
Progress = Callable[[int, int | None, str], None]
STEPS = ("chipping and co-registering", "detecting", "outlining and measuring", "saving", "done")


def _step(progress: Progress | None, name: str) -> None:
    if progress is not None:
        done = next(i for i, s in enumerate(STEPS) if name.startswith(s))
        progress(done, len(STEPS) - 1, name)


def utcnow() -> datetime:
    return datetime.now(UTC)


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
        limit = ObsDate.from_user(before, "--before").end or date.max
        found = [i for i, s in enumerate(scenes) if s.acquired_end and s.acquired_end <= limit]
        if not found:
            raise InputValueError(f"no scene of the site is dated for certain on or before "
                                  f"{before}: see 'sitewatch scenes list'")
        b_idx = found[-1]
    if after is not None:
        start = ObsDate.from_user(after, "--after").start or date.min
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


@dataclass(frozen=True)
class Analysis:
    """A stored run and whether this call made it (False: the same run existed)."""

    run: Run
    created: bool


def run_key_of(method: str, params: dict[str, Any], versions: dict[str, str], before: Scene,
               after: Scene, grid_key: str, aoi_geojson: str, site_id: int) -> str:
    """The identity of a run: everything that decides its result. ``params`` are the
    detector's *effective* parameters (defaults filled in, weights named by sha256: see
    ``DetectorSpec.identity``), so that one analysis asked for in different words is one
    run. The scenes count with what their import declared (band names, scale and offset:
    the same file imported with other bands is other pixels), and the site with its id: two
    sites that share an AOI and scenes each get their own run."""
    def scene_doc(s: Scene) -> dict[str, Any]:
        return {"sha256": s.sha256, "bands": list(s.band_names),
                "scale": s.props.get("scale"), "offset": s.props.get("offset")}

    doc = {"method": method, "params": params, "versions": versions,
           "before": scene_doc(before), "after": scene_doc(after), "grid": grid_key,
           "aoi": aoi_geojson, "site": site_id}
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


def to_detection(o: ChangeObject, facts: RunFacts | None = None) -> Detection:
    """A change object as a detection (no id until stored); unknown areas stay None.
    ``facts``: what the run measured, for the detection's flags (None: no flags)."""
    flags = () if facts is None else detection_flags(facts, o.change_type, o.pixels,
                                                      o.area_m2, o.area_uncertainty_m2)
    return Detection(polygon=o.feature()["geometry"], change_type=change_type_of(o.change_type),
                     score=float(o.score), area_m2=o.area_m2,
                     area_uncertainty_m2=o.area_uncertainty_m2, centroid_lon=o.centroid_lon,
                     centroid_lat=o.centroid_lat, flags=flags)


def analyze_site(store: Store, ws: Layout, site_ref: str | int, before: str | None = None,
                 after: str | None = None, method: str = DEFAULT_METHOD,
                 params: dict[str, Any] | None = None, *,
                 progress: Progress | None = None) -> Analysis:
    """Chip, co-register, detect and store one run. The same inputs, parameters and
    software versions give the stored run back without computing anything.
    ``progress(done, total, step)`` is told of each of the steps (see :data:`STEPS`)."""
    site: Site = store.site(site_ref)
    b_scene, a_scene = pick_scenes(store.scenes(site.id), before, after)
    run, stored = compute_run(store, ws, site, b_scene, a_scene, method, params,
                              progress=progress)
    if stored:
        return Analysis(run, False)
    checkpoint("analyze.computed")
    _step(progress, "saving")
    try:
        saved, created = store.save_run(run, a_scene.acquired_text)
    except BaseException:
        if store.run_by_key(run.run_key) is None:  # the mask is no run's: take it back
            Path(run.summary["mask_path"]).unlink(missing_ok=True)
        raise
    checkpoint("analyze.stored")
    _step(progress, "done")
    log.info("run %s: %d detections, %.0f m2 changed", saved.ref, len(run.detections),
             run.summary["changed_area_m2"])
    return Analysis(saved, created)


def _shared_bands(b_scene: Scene, a_scene: Scene) -> list[str] | None:
    """The band names both scenes have (what ``auto`` chooses by); None when none match."""
    try:
        return common_bands(data_band_names(b_scene.band_names),
                            data_band_names(a_scene.band_names))[2]
    except InputValueError:
        return None


def compute_run(store: Store, ws: Layout, site: Site, b_scene: Scene, a_scene: Scene,
                method: str = DEFAULT_METHOD, params: dict[str, Any] | None = None, *,
                progress: Progress | None = None) -> tuple[Run, bool]:
    """(run, stored): the stored run of these inputs, or a new run computed but not yet
    stored (id 0; chips and the mask are written to the workspace). When it fails, the
    chips and the mask it made are taken back."""
    method = resolve_method(method, min(b_scene.gsd_m, a_scene.gsd_m),
                            _shared_bands(b_scene, a_scene))
    spec = get_detector(method)
    versions = software_versions()
    grid_key = grid_for(site, store.scenes(site.id)).key
    run_key = run_key_of(method, spec.effective_params(params or {}), versions, b_scene,
                         a_scene, grid_key, site.aoi_geojson, site.id)
    known = store.run_by_key(run_key)
    if known is not None:
        log.info("run %s has the same inputs, parameters and versions: nothing to do", known.ref)
        return known, True
    made: list[Chip] = []
    share_one_heap()  # before this analysis starts its threads
    writer = ChipWriter()  # new chips are written while the detector runs
    try:
        return _compute(store, ws, site, b_scene, a_scene, method, params, versions, run_key,
                        made, progress, writer), False
    except BaseException:
        writer.abandon(store)
        discard_chips(store, made)
        raise
    finally:
        release_free_memory()


def _compute(store: Store, ws: Layout, site: Site, b_scene: Scene, a_scene: Scene,
             method: str, params: dict[str, Any] | None, versions: dict[str, str],
             run_key: str, made: list[Chip], progress: Progress | None = None,
             writer: ChipWriter | None = None) -> Run:
    run_method = get_detector(method).run
    t0 = time.perf_counter()
    started = utcnow()
    _step(progress, "chipping and co-registering")
    grid, (b_chip, a_chip) = site_chips(store, ws, site, [b_scene, a_scene], made, writer)
    checkpoint("analyze.chipped")
    t_chips = time.perf_counter() - t0
    inside = aoi_mask(site, grid)
    # the chips hold every band but alpha (the mask)
    ib, ia, names = common_bands(data_band_names(b_scene.band_names),
                                 data_band_names(a_scene.band_names))
    before_arr, after_arr = _in_aoi(b_chip.data, ib, inside), _in_aoi(a_chip.data, ia, inside)
    _step(progress, f"detecting ({method})")
    result = run_method(before_arr, after_arr, names, grid.res_m, params or {})
    _step(progress, "outlining and measuring")
    objects = extract_objects(result, grid.transform, grid.crs, grid.res_m)
    # buildings of each date, matched and sized (detectors that give building maps)
    structures = structures_of(result, before_arr, after_arr, names, grid.res_m,
                               grid.transform, grid.crs, [o.geometry for o in objects])
    t_detect = time.perf_counter() - t0 - t_chips
    parameters = {"method_parameters": result.parameters, "bands": names,
                  "grid": grid.to_dict(), "grid_key": grid.key,
                  "coregistration": {"reference_scene_id": b_chip.chip.reference_scene_id,
                                     "after_shift_px": [a_chip.chip.shift_y_px,
                                                        a_chip.chip.shift_x_px],
                                     "after_status": a_chip.chip.coreg_status,
                                     "before_shift_px": [b_chip.chip.shift_y_px,
                                                         b_chip.chip.shift_x_px]}}
    if writer is not None:  # the chips are whole and recorded before the mask is written
        writer.finish(store, made)
    mask_path = ws.run_mask_path(site.id, run_key)
    write_mask(mask_path, result.mask, grid.crs, grid.transform)
    valid = result.mask != 255
    changed_px = int((result.mask == 1).sum())
    facts = RunFacts(coreg_statuses=(b_chip.chip.coreg_status, a_chip.chip.coreg_status),
                     before_date=b_scene.acquired, after_date=a_scene.acquired,
                     aoi_px=int(inside.sum()), nodata_px=int((~valid & inside).sum()),
                     changed_px=changed_px,
                     clear_shares=tuple(_clear_share(s) for s in (b_scene, a_scene)))
    detections = tuple(to_detection(o, facts) for o in objects)
    # the one total that the CLI, the report and the exports state: the detections'
    # geodesic areas summed (Run.changed_area_m2), not a count of pixels
    total_m2, _ = changed_area_m2(detections)
    summary = {"detections": len(objects),
               "changed_area_m2": changed_px * grid.res_m ** 2 if total_m2 is None else total_m2,
               "valid_area_m2": int(valid.sum()) * grid.res_m ** 2,
               "changed_fraction": changed_px / max(int(valid.sum()), 1),
               "mask_path": str(mask_path)}
    if structures is not None:
        summary["structures"] = structures
    run = Run(id=0, run_key=run_key, site_id=site.id, method=method, parameters=parameters,
              versions=versions, before_scene_id=b_scene.id, after_scene_id=a_scene.id,
              status=RunStatus.COMPLETED, started_at=started, finished_at=utcnow(),
              timings_s={"chips": round(t_chips, 3), "detect": round(t_detect, 3),
                         "total": round(time.perf_counter() - t0, 3)},
              summary=summary, detections=detections, flags=run_flags(facts, detections))
    return run


def _in_aoi(data: np.ndarray, idx: list[int], inside: np.ndarray) -> np.ndarray:
    """The chip's bands ``idx``, NaN outside the AOI: (bands, h, w) float32. A chip read for
    this analysis is masked in place when its bands are taken whole (no copy: at 4000 px a
    copy is 256 MB); otherwise one copy."""
    out = (data if idx == list(range(data.shape[0])) and data.dtype == np.float32
           else data[idx].astype(np.float32, copy=False))
    if not inside.all():
        out[:, ~inside] = np.nan
    return out


def _clear_share(scene: Scene) -> float | None:
    """The share of the AOI a STAC scene's QA band called clear, where it was measured."""
    value = scene.props.get("clear_fraction")
    return float(value) if isinstance(value, (int, float)) else None
