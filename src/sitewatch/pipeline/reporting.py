"""Gather what the evidence layer needs from the catalog and the workspace."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from shapely import affinity
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from sitewatch.catalog import Store
from sitewatch.config import Layout
from sitewatch.errors import NotFoundError
from sitewatch.evidence.export import export_run, resolve_format
from sitewatch.evidence.figure import Panel, before_after_png
from sitewatch.evidence.report import ReportData, render_html, when
from sitewatch.geo.aoi import to_crs
from sitewatch.geo.area import area_perimeter_m
from sitewatch.geo.grid import Grid
from sitewatch.imagery.write import atomic_path, read_chip
from sitewatch.model import Chip, Run, Scene


def _to_pixels(geom_wgs84: BaseGeometry, grid: Grid) -> BaseGeometry:
    g = to_crs(geom_wgs84, "EPSG:4326", grid.crs)
    inv = ~grid.transform
    return affinity.affine_transform(g, [inv.a, inv.b, inv.d, inv.e, inv.xoff, inv.yoff])


def _chip(store: Store, run: Run, scene: Scene) -> tuple[Chip, np.ndarray]:
    p = run.parameters
    chip = store.chip(scene.id, p["grid_key"], p["coregistration"]["reference_scene_id"])
    if chip is None or not Path(chip.path).is_file():
        raise NotFoundError(
            f"the chip of scene {scene.id} is missing from the workspace: "
            "re-run 'sitewatch analyze' for this site"
        )
    return chip, read_chip(chip.path)


def write_report(store: Store, ws: Layout, site_name: str | int, out: Path,
                 run_id: int | None = None) -> Path:
    """Write the site's evidence report (latest run, or ``run_id``) to ``out``."""
    site = store.site(site_name)
    run = _select_run(store, site.id, run_id)
    before, after = store.scene(run.before_scene_id), store.scene(run.after_scene_id)
    grid = Grid.from_dict(run.parameters["grid"])
    (b_chip, b_data), (a_chip, a_data) = _chip(store, run, before), _chip(store, run, after)
    aoi = site.aoi_geom
    area, _ = area_perimeter_m(aoi)
    names = run.parameters["bands"]
    ib = [before.band_names.index(n) for n in names]
    ia = [after.band_names.index(n) for n in names]
    png = before_after_png(
        Panel(b_data[ib], names, f"BEFORE  {when(before)}", before.credit),
        Panel(a_data[ia], names, f"AFTER  {when(after)}", after.credit),
        grid.res_m, _to_pixels(aoi, grid),
        [_to_pixels(shape(d.polygon), grid) for d in run.detections],
        f"{site.name}: {len(run.detections)} change(s), method {run.method}, "
        f"grid {grid.crs} at {grid.res_m:g} m",
        [(d.area_m2, d.area_uncertainty_m2) for d in run.detections],
        [d.ref for d in run.detections],
    )
    c = aoi.centroid
    html_text = render_html(ReportData(site, run, before, after, [b_chip, a_chip], png, area,
                                       (c.x, c.y)))
    with atomic_path(out) as tmp:
        tmp.write_text(html_text, encoding="utf-8")
    return out


def _select_run(store: Store, site_id: int, run_id: int | None) -> Run:
    if run_id is None:
        return store.latest_run(site_id)
    run = store.run(run_id)
    if run.site_id != site_id:
        raise NotFoundError(
            f"run {run.ref} is not a run of this site: see 'sitewatch runs list SITE', or "
            "leave out --run to use the latest run"
        )
    return run


def export_site(store: Store, site_name: str | int, fmt: str | None, out: Path,
                run_id: int | None = None) -> Path:
    """Export the site's run (latest, or ``run_id``) to ``out``, in the format its
    extension names (``fmt`` must agree when given)."""
    resolve_format(out, fmt)  # a file name sitewatch cannot write fails before any read
    site = store.site(site_name)
    run = _select_run(store, site.id, run_id)
    return export_run(site, run, store.scene(run.before_scene_id),
                      store.scene(run.after_scene_id), out, fmt)
