"""Gather what the evidence layer needs from the catalog and the workspace."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sitewatch.catalog import Store
from sitewatch.config import Layout
from sitewatch.errors import NotFoundError
from sitewatch.evidence.export import export_run, resolve_format
from sitewatch.evidence.figure import (
    FigureSpec,
    check_dpi,
    figure_format,
    render_figure,
    write_figure,
)
from sitewatch.evidence.figure_data import figure_spec
from sitewatch.evidence.report import ReportData, render_html
from sitewatch.evidence.swipe import swipe_view
from sitewatch.geo.area import area_perimeter_m
from sitewatch.imagery.write import atomic_path, read_chip
from sitewatch.model import Chip, Run, Scene


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
    (b_chip, b_data), (a_chip, a_data) = _chip(store, run, before), _chip(store, run, after)
    aoi = site.aoi_geom
    area, _ = area_perimeter_m(aoi)
    spec = figure_spec(site, run, before, after, b_data, a_data)
    png = render_figure(spec, "png", dpi=150)
    c = aoi.centroid
    html_text = render_html(ReportData(site, run, before, after, [b_chip, a_chip], png, area,
                                       (c.x, c.y), swipe_view(spec)))
    with atomic_path(out) as tmp:
        tmp.write_text(html_text, encoding="utf-8")
    return out


def write_site_figure(store: Store, site_name: str | int, out: Path, run_id: int | None = None,
                      dpi: int = 300) -> Path:
    """Write the before/after figure alone (PNG, SVG or PDF, from ``out``'s extension)."""
    figure_format(out)  # an unwritable format or resolution is refused before any work
    check_dpi(dpi)
    return write_figure(site_figure_spec(store, site_name, run_id), out, dpi)


def site_figure_spec(store: Store, site_name: str | int, run_id: int | None = None
                     ) -> FigureSpec:
    """What the figure of the site's run (latest, or ``run_id``) draws."""
    site = store.site(site_name)
    run = _select_run(store, site.id, run_id)
    before, after = store.scene(run.before_scene_id), store.scene(run.after_scene_id)
    (_, b_data), (_, a_data) = _chip(store, run, before), _chip(store, run, after)
    return figure_spec(site, run, before, after, b_data, a_data)


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
