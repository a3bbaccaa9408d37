"""The evidence figure of an alert: the before/after chips of its run with the change's
outline, written once per (change, run) in the workspace's ``alerts`` folder."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from shapely import affinity
from shapely.geometry import shape

from sitewatch.catalog import Store
from sitewatch.config import Layout
from sitewatch.evidence.figure import Panel, before_after_png
from sitewatch.fileio import atomic_path
from sitewatch.geo.aoi import to_crs
from sitewatch.geo.grid import Grid
from sitewatch.imagery.write import read_chip
from sitewatch.model import Alert
from sitewatch.model.objects import change_label

log = logging.getLogger(__name__)


def _pixels(geom: Any, grid: Grid) -> Any:
    g = to_crs(geom, "EPSG:4326", grid.crs)
    inv = ~grid.transform
    return affinity.affine_transform(g, [inv.a, inv.b, inv.d, inv.e, inv.xoff, inv.yoff])


def alert_figure(store: Store, lay: Layout, alert: Alert) -> Path | None:
    """The PNG of ``alert`` (made on first use); None, logged, when its chips are gone."""
    p = alert.payload
    out = lay.home / "alerts" / f"{p['change']}-{p['run']}.png"
    if out.is_file():
        return out
    if alert.run_id is None:
        return None
    try:
        run = store.run(alert.run_id)
        site = store.site(alert.site_id)
        grid = Grid.from_dict(run.parameters["grid"])
        ref = run.parameters["coregistration"]["reference_scene_id"]
        names = run.parameters["bands"]
        panels = []
        for role, sid in (("Before", run.before_scene_id), ("After", run.after_scene_id)):
            scene = store.scene(sid)
            chip = store.chip(sid, run.parameters["grid_key"], ref)
            if chip is None or not Path(chip.path).is_file():
                return None
            data = read_chip(chip.path)
            idx = [scene.band_names.index(n) for n in names]
            panels.append(Panel(data[idx], names, f"{role}: {scene.acquired_text}",
                                scene.credit))
        png = before_after_png(panels[0], panels[1], grid.res_m, _pixels(site.aoi_geom, grid),
                               [_pixels(shape(p["polygon"]), grid)],
                               f"{site.name}: {p['change']} {change_label(p['change_type'])} "
                               f"({run.ref})",
                               [(p.get("area_m2"), p.get("area_uncertainty_m2"))],
                               [p["change"]], change_types=[p["change_type"]])
    except (OSError, KeyError, ValueError) as exc:
        log.info("no figure for %s: %s", p.get("change"), exc)
        return None
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out) as tmp:
        tmp.write_bytes(png)
    return out
