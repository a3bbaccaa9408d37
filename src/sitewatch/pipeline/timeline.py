"""Per-site time series: masked index statistics for every scene, breaks per site and per
pixel, break rasters and polygons, stored in the catalog as the site's timeline.

Every scene is read onto one timeline grid (UTM, the median pixel size of the site's
scenes, at most ``MAX_TIMELINE_PX`` a side) by nearest neighbour, so QA codes survive.
A pixel is clear when it is inside the AOI, has data in every band an index needs, its
QA band (``fmask``, ``qa_pixel`` or ``scl``) says clear, and, for scaled reflectance,
every band lies in [0, 1].
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import statistics
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from rasterio import features
from rasterio.enums import Resampling
from scipy import ndimage
from shapely.geometry import mapping, shape

from sitewatch.catalog import Store
from sitewatch.config import Layout
from sitewatch.detect.breaks import Break, BreakParams, detect_breaks
from sitewatch.detect.indices import band, normalized_difference
from sitewatch.errors import InputValueError
from sitewatch.faults import checkpoint
from sitewatch.geo.aoi import to_crs
from sitewatch.geo.area import area_perimeter_m
from sitewatch.geo.grid import Grid, site_grid
from sitewatch.imagery.local import read_onto_grid
from sitewatch.imagery.masks import MASK_KINDS, clear_mask
from sitewatch.imagery.write import atomic_path, write_cog
from sitewatch.model import Scene, Site, Timeline
from sitewatch.pipeline.analysis import software_versions
from sitewatch.pipeline.chips import aoi_mask, scene_lattice
from sitewatch.pipeline.watchlist import scene_info

log = logging.getLogger(__name__)
FEATURES = ("ndvi", "ndbi", "bsi", "brightness")
MAX_TIMELINE_PX = 256
#: scenes with less of the AOI clear than this are listed but not used for site breaks
MIN_CLEAR = 0.5
#: a pixel break counts toward a site break within this many days of it
AREA_WINDOW_DAYS = 183
_VISIBLE = ("blue", "green", "red")


@dataclass
class SceneFeatures:
    """Per-pixel features of one scene on the timeline grid: (F, h, w), NaN = not clear."""

    scene: Scene
    day: float | None  # ordinal day (middle of the date interval), None when open-ended
    stack: np.ndarray
    clear_fraction: float


def scene_day(scene: Scene) -> float | None:
    if scene.acquired_start is None or scene.acquired_end is None:
        return None
    return (scene.acquired_start.toordinal() + scene.acquired_end.toordinal()) / 2


def scene_features(data: np.ndarray, names: list[str], scene: Scene, inside: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray]:
    """((F, h, w) features with NaN where not clear, (h, w) clear mask) of one scene."""
    props = scene.props
    names = list(names)
    data = data.astype(np.float32, copy=True)
    clear = inside.copy()
    for kind in MASK_KINDS:
        if kind in names:
            clear &= clear_mask(data[names.index(kind)], kind)
    refl_names = [n for n in names if n not in {"fmask", "qa_pixel", "scl", "ndvi", "clp",
                                                  "thermal", "alpha"}]
    needed = [names.index(n) for n in refl_names] + ([names.index("ndvi")] if "ndvi" in names
                                                     else [])
    if needed:
        clear &= np.isfinite(data[needed]).all(axis=0)
    scale, offset = props.get("scale"), props.get("offset")
    scaled = scale is not None or offset is not None
    for n in refl_names:
        i = names.index(n)
        if scaled:
            data[i] = data[i] * (scale if scale is not None else 1.0) + (offset or 0.0)
    if scaled:
        for n in refl_names:
            v = data[names.index(n)]
            with np.errstate(invalid="ignore"):
                clear &= (v >= 0) & (v <= 1)
    stack = np.full((len(FEATURES), *inside.shape), np.nan, dtype=np.float32)
    given = band(data, names, "ndvi")
    nir, red, swir = (band(data, names, n) for n in ("nir", "red", "swir16"))
    blue = band(data, names, "blue")
    if given is not None:
        stack[0] = given
    elif nir is not None and red is not None:
        stack[0] = normalized_difference(nir, red)
    if nir is not None and swir is not None:
        stack[1] = normalized_difference(swir, nir)
    if nir is not None and swir is not None and red is not None and blue is not None:
        stack[2] = normalized_difference(swir + red, nir + blue)
    vis = [data[names.index(n)] for n in _VISIBLE if n in names]
    if vis and (scaled or scene.dtype == "uint8"):
        stack[3] = np.mean(vis, axis=0) / (1.0 if scaled else 255.0)
    stack[:, ~clear] = np.nan
    return stack, clear


def timeline_grid(site: Site, scenes: list[Scene]) -> Grid:
    gsd = statistics.median(s.gsd_m for s in scenes)
    anchor = next((s for s in scenes if math.isclose(s.gsd_m, gsd, rel_tol=1e-9)), None)
    return site_grid(site.aoi_geom, gsd, max_px=MAX_TIMELINE_PX,
                     lattice=None if anchor is None else scene_lattice(anchor))


def read_series(scenes: list[Scene], grid: Grid, inside: np.ndarray,
                progress: Callable[[int, int], None] | None = None) -> list[SceneFeatures]:
    out = []
    for i, scene in enumerate(scenes, start=1):
        info = scene_info(scene)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            data = read_onto_grid(info, grid, resampling=Resampling.nearest)
        if info.nodata is not None and np.isfinite(info.nodata):
            data[data == info.nodata] = np.nan  # per band: some bands may lack data alone
        names = [n for n in info.band_names if n != "alpha"]
        stack, clear = scene_features(data, names, scene, inside)
        frac = float(clear.sum() / max(int(inside.sum()), 1))
        out.append(SceneFeatures(scene, scene_day(scene), stack, frac))
        if progress:
            progress(i, len(scenes))
    return out


def _kind(delta: dict[str, float]) -> str:
    dv, db = delta.get("ndvi"), delta.get("ndbi")
    if db is not None and db > 0.05 and (dv is None or dv < 0):
        return "built_up_gain"
    if dv is not None and dv < -0.05:
        return "vegetation_loss"
    if dv is not None and dv > 0.05:
        return "vegetation_gain"
    return "change"


def _iso(day: float) -> str:
    return date.fromordinal(int(round(day))).isoformat()


@dataclass
class PixelBreaks:
    """Per-pixel result: the strongest break of each pixel."""

    day: np.ndarray  # (h, w) ordinal day, NaN = none
    score: np.ndarray  # (h, w)
    kind: np.ndarray  # (h, w) uint8 code into KINDS
    tested: np.ndarray  # (h, w) bool: enough clear observations to test


KINDS = ("none", "change", "vegetation_loss", "built_up_gain", "vegetation_gain")


def pixel_breaks(days: np.ndarray, cube: np.ndarray, feats: list[int], inside: np.ndarray,
                 params: BreakParams) -> PixelBreaks:
    """Run the break test on every AOI pixel of ``cube`` (T, F, h, w)."""
    h, w = inside.shape
    res = PixelBreaks(np.full((h, w), np.nan), np.full((h, w), np.nan),
                      np.zeros((h, w), np.uint8), np.zeros((h, w), bool))
    sub = cube[:, feats]
    counts = np.isfinite(sub).all(axis=1).sum(axis=0)
    for r, c in zip(*np.nonzero(inside & (counts >= params.n_init)), strict=True):
        res.tested[r, c] = True
        found = detect_breaks(days, sub[:, :, r, c], params)
        if not found.breaks:
            continue
        best = max(found.breaks, key=lambda b: b.score)
        res.day[r, c] = best.day
        res.score[r, c] = best.score
        delta = {FEATURES[f]: float(best.magnitude[j]) for j, f in enumerate(feats)}
        res.kind[r, c] = KINDS.index(_kind(delta))
    return res


def _polygons(pb: PixelBreaks, grid: Grid) -> list[dict[str, Any]]:
    broke = np.isfinite(pb.day)
    labels, n = ndimage.label(broke, structure=ndimage.generate_binary_structure(2, 1))
    feats = []
    for geom_doc, value in features.shapes(labels.astype(np.int32), mask=broke, connectivity=4,
                                           transform=grid.transform):
        lab = int(value)
        sel = labels == lab
        ll = to_crs(shape(geom_doc), grid.crs, "EPSG:4326")
        area, _ = area_perimeter_m(ll)
        kinds = np.bincount(pb.kind[sel], minlength=len(KINDS))
        kinds[0] = 0
        feats.append({"type": "Feature", "geometry": mapping(ll), "properties": {
            "first_date": _iso(float(np.nanmin(pb.day[sel]))),
            "median_date": _iso(float(np.nanmedian(pb.day[sel]))),
            "kind": KINDS[int(kinds.argmax())], "pixels": int(sel.sum()),
            "area_m2": round(area, 1), "max_magnitude": round(float(np.nanmax(pb.score[sel])), 2),
        }})
    feats.sort(key=lambda f: f["properties"]["area_m2"], reverse=True)
    return feats


def scenes_key(scenes: list[Scene], params: dict[str, Any]) -> str:
    doc = {"scenes": [(s.id, s.sha256, s.acquired_text, s.properties) for s in scenes],
           "params": params, "versions": software_versions()}
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()


def _number(v: float) -> float | None:
    return None if not np.isfinite(v) else round(float(v), 4)


def compute_timeline(store: Store, ws: Layout, site_name: str | int,
                     params: BreakParams | None = None, min_clear: float = MIN_CLEAR,
                     pixels: bool = True, force: bool = False,
                     progress: Callable[[int, int], None] | None = None,
                     render: Callable[[Timeline], object] | None = None) -> Timeline:
    """The site's timeline, recomputed unless a stored one used the same scenes and settings.

    ``render(timeline)`` (a figure of it) runs before anything is written: when it fails,
    no break raster is written and no timeline stored; the command's outputs are all
    written or none."""
    if not 0 <= min_clear <= 1:
        raise InputValueError(f"--min-clear {min_clear} is not a fraction: give 0 to 1")
    p = params or BreakParams()
    site = store.site(site_name)
    scenes = store.scenes(site.id)
    if not scenes:
        raise InputValueError(f"site {site.name!r} has no scenes: import some with "
                              "'sitewatch scenes import'")
    settings = {"breaks": p.as_dict(), "min_clear": min_clear, "pixels": pixels}
    key = scenes_key(scenes, settings)
    old = store.timeline(site.id)
    if old is not None and old.scenes_key == key and not force:
        if render is not None:
            render(old)
        return old
    t0 = time.perf_counter()
    grid = timeline_grid(site, scenes)
    inside = aoi_mask(site, grid)
    series = read_series(scenes, grid, inside, progress)
    t_read = time.perf_counter() - t0
    observations = []
    for sf in series:
        means = {}
        for i, name in enumerate(FEATURES):
            v = sf.stack[i][inside]
            v = v[np.isfinite(v)]
            means[name] = _number(float(v.mean())) if v.size else None
        observations.append({"date": sf.scene.acquired_text, "scene_id": sf.scene.id,
                             "provider": sf.scene.provider,
                             "clear_fraction": round(sf.clear_fraction, 4), **means})
    # features used for breaks: those present in at least 80% of the usable observations
    usable = [i for i, sf in enumerate(series) if sf.day is not None
              and sf.clear_fraction >= min_clear]
    feats = [f for f, name in enumerate(FEATURES)
             if usable and sum(observations[i][name] is not None for i in usable)
             >= 0.8 * len(usable)]
    site_breaks: list[dict[str, Any]] = []
    outputs: dict[str, str] = {}
    pb: PixelBreaks | None = None
    days = np.array([sf.day if sf.day is not None else np.nan for sf in series], dtype=float)
    if feats:
        y = np.array([[observations[i][FEATURES[f]] if i in usable else None for f in feats]
                      for i in range(len(series))], dtype=float)
        found = detect_breaks(days, y, p)
        if pixels:
            cube = np.stack([sf.stack for sf in series])
            pb = pixel_breaks(days, cube, feats, inside, p)
            outputs = {k: str(v) for k, v in _output_paths(ws, site).items()}
        for b in found.breaks:
            site_breaks.append(_site_break(b, feats, pb, grid))
    t_total = time.perf_counter() - t0
    timeline = Timeline(
        site_id=site.id, scenes_key=key, parameters=settings | {
            "grid": grid.to_dict(), "features": [FEATURES[f] for f in feats]},
        versions=software_versions(), observations=observations, breaks=site_breaks,
        outputs=outputs, timings_s={"read": round(t_read, 3), "total": round(t_total, 3)})
    checkpoint("timeline.computed")
    if render is not None:
        render(timeline)
    if pb is not None:
        _write_outputs(ws, site, grid, pb)
    checkpoint("timeline.written")
    return store.put_timeline(timeline)


def _site_break(b: Break, feats: list[int], pb: PixelBreaks | None, grid: Grid
                ) -> dict[str, Any]:
    delta = {FEATURES[f]: round(float(b.magnitude[j]), 4) for j, f in enumerate(feats)}
    area = None
    if pb is not None:
        near = np.abs(pb.day - b.day) <= AREA_WINDOW_DAYS
        area = round(float(np.count_nonzero(near)) * grid.res_m**2, 1)
    return {"date": _iso(b.day), "kind": _kind(delta), "magnitude": round(b.score, 2),
            "area_m2": area, "delta": delta}


def _output_paths(ws: Layout, site: Site) -> dict[str, Path]:
    folder = ws.timeline_dir(site.id)
    return {"break_date": folder / "break_date.tif",
            "break_magnitude": folder / "break_magnitude.tif",
            "break_polygons": folder / "break_polygons.geojson"}


def _write_outputs(ws: Layout, site: Site, grid: Grid, pb: PixelBreaks) -> dict[str, str]:
    paths = _output_paths(ws, site)
    ymd = np.zeros(pb.day.shape, np.int32)
    has = np.isfinite(pb.day)
    for r, c in zip(*np.nonzero(has), strict=True):
        d = date.fromordinal(int(round(pb.day[r, c])))
        ymd[r, c] = d.year * 10000 + d.month * 100 + d.day
    date_path = paths["break_date"]
    mag_path = paths["break_magnitude"]
    write_cog(date_path, ymd, grid.crs, grid.transform, nodata=0,
              descriptions=["break_date_yyyymmdd"],
              tags={"MEANING": "date of each pixel's strongest break as YYYYMMDD; 0 = none"})
    write_cog(mag_path, pb.score.astype(np.float32), grid.crs, grid.transform,
              descriptions=["break_magnitude"],
              tags={"MEANING": "size of the strongest break in noise units (chi statistic)"})
    poly_path = paths["break_polygons"]
    with atomic_path(poly_path) as tmp:
        Path(tmp).write_text(json.dumps({"type": "FeatureCollection",
                                         "features": _polygons(pb, grid)}))
    return {"break_date": str(date_path), "break_magnitude": str(mag_path),
            "break_polygons": str(poly_path)}


def timeline_json(site: Site, tl: Timeline) -> dict[str, Any]:
    return {"site": site.name, "observations": tl.observations, "breaks": tl.breaks,
            "features": tl.parameters.get("features", []), "outputs": tl.outputs,
            "parameters": {k: v for k, v in tl.parameters.items() if k != "grid"},
            "timings_s": tl.timings_s}
