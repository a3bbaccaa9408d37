"""Analysts' judgements as training pairs: every confirmed or rejected change becomes a
LEVIR-CD-style tile (``A/NAME.png``, ``B/NAME.png``, ``label/NAME.png``) cut from the chips
of the run that last saw it, which ``sitewatch model train --data DIR`` reads.

Labels: 255 inside confirmed changes (of any change on the tile), 0 elsewhere, so a
rejected change teaches "this is not a change". ``manifest.json`` records each tile's site,
change, decision, reason, run, scenes and credits.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from rasterio import features
from rasterio.windows import Window

from sitewatch.catalog import Store
from sitewatch.errors import InputValueError
from sitewatch.geo.aoi import to_crs
from sitewatch.geo.grid import Grid
from sitewatch.imagery.write import atomic_path, read_chip
from sitewatch.model import Change, ReviewStatus, Run


@dataclass(frozen=True)
class TrainingExport:
    folder: Path
    tiles: int
    confirmed: int
    rejected: int
    skipped: list[str]


def _rgb8(a: np.ndarray, b: np.ndarray, names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Both dates as (h, w, 3) uint8 with one shared 2-98% stretch per band."""
    order = [names.index(n) for n in ("red", "green", "blue") if n in names]
    if len(order) != 3:
        order = [0, 1, 2] if a.shape[0] >= 3 else [0, 0, 0]
    out = []
    both = np.concatenate([a[order], b[order]], axis=2)
    lo = np.nanpercentile(both.reshape(3, -1), 2, axis=1)[:, None, None]
    hi = np.nanpercentile(both.reshape(3, -1), 98, axis=1)[:, None, None]
    for img in (a[order], b[order]):
        x = np.clip((np.nan_to_num(img, nan=0.0) - lo) / np.maximum(hi - lo, 1e-6), 0, 1)
        out.append((x * 255).round().astype(np.uint8).transpose(1, 2, 0))
    return out[0], out[1]


def _window(grid: Grid, center_px: tuple[float, float], size: int) -> Window:
    w, h = min(size, grid.width), min(size, grid.height)
    col = int(np.clip(round(center_px[0] - w / 2), 0, grid.width - w))
    row = int(np.clip(round(center_px[1] - h / 2), 0, grid.height - h))
    return Window(col, row, w, h)


def _write_png(path: Path, data: np.ndarray) -> None:
    bands = data[None] if data.ndim == 2 else data.transpose(2, 0, 1)
    with atomic_path(path) as tmp, rasterio.open(
            tmp, "w", driver="PNG", width=bands.shape[2], height=bands.shape[1],
            count=bands.shape[0], dtype="uint8") as ds:
        ds.write(bands)


def _tile(store: Store, change: Change, run: Run, confirmed: list[Change], size: int,
          folder: Path) -> dict[str, Any]:
    p = run.parameters
    grid = Grid.from_dict(p["grid"])
    ref = p["coregistration"]["reference_scene_id"]
    chips = [store.chip(sid, p["grid_key"], ref) for sid in (run.before_scene_id,
                                                            run.after_scene_id)]
    if any(c is None or not Path(c.path).is_file() for c in chips):
        raise FileNotFoundError("its chips are no longer in the workspace")
    geom = to_crs(change.geometry, "EPSG:4326", grid.crs)
    c = geom.centroid
    col, row = ~grid.transform * (c.x, c.y)
    win = _window(grid, (col, row), size)
    data = []
    for chip in chips:
        assert chip is not None
        data.append(read_chip(chip.path, window=win))
    names = list(p["bands"])
    before, after = store.scene(run.before_scene_id), store.scene(run.after_scene_id)
    ib = [before.band_names.index(n) for n in names]
    ia = [after.band_names.index(n) for n in names]
    a8, b8 = _rgb8(data[0][ib], data[1][ia], names)
    tf = rasterio.windows.transform(win, grid.transform)
    shapes = [(to_crs(x.geometry, "EPSG:4326", grid.crs), 255) for x in confirmed]
    label = (features.rasterize(shapes, out_shape=(int(win.height), int(win.width)),
                                transform=tf, fill=0, dtype="uint8")
             if shapes else np.zeros((int(win.height), int(win.width)), np.uint8))
    name = f"site{change.site_id}_{change.ref}.png"
    _write_png(folder / "A" / name, a8)
    _write_png(folder / "B" / name, b8)
    _write_png(folder / "label" / name, label)
    last = change.reviews[-1] if change.reviews else None
    return {"tile": name, "site_id": change.site_id, "change": change.ref,
            "decision": change.status.value, "reason": last.reason.value if last and
            last.reason else None, "by": last.by if last else None, "run": run.ref,
            "before_scene": before.id, "after_scene": after.id,
            "before_date": before.acquired_text, "after_date": after.acquired_text,
            "credits": sorted({before.credit, after.credit}), "gsd_m": grid.res_m,
            "window_px": [int(win.col_off), int(win.row_off), int(win.width), int(win.height)]}


def export_training(store: Store, folder: Path, size_px: int = 256) -> TrainingExport:
    """Write every reviewed change as a training tile under ``folder``."""
    if size_px < 32:
        raise InputValueError(f"tile size {size_px} px is too small: give 32 or more")
    if folder.exists() and not folder.is_dir():
        raise InputValueError(f"{folder} exists and is not a folder: give a folder")
    judged = [c for c in store.changes() if c.status is not ReviewStatus.UNREVIEWED]
    if not judged:
        raise InputValueError("no change has been reviewed yet: confirm or reject some with "
                              "'sitewatch review ID --confirm|--reject --reason R'")
    by_site: dict[int, list[Change]] = {}
    for c in judged:
        by_site.setdefault(c.site_id, []).append(c)
    manifest, skipped = [], []
    for c in judged:
        run = store.run(c.last_run_id)
        near = [x for x in by_site[c.site_id] if x.status is ReviewStatus.CONFIRMED]
        try:
            manifest.append(_tile(store, c, run, near, size_px, folder))
        except FileNotFoundError as exc:
            skipped.append(f"{c.ref}: {exc}")
    with atomic_path(folder / "manifest.json") as tmp:
        tmp.write_text(json.dumps({"tiles": manifest, "skipped": skipped}, indent=2,
                                  ensure_ascii=False), encoding="utf-8")
    n_conf = sum(m["decision"] == "confirmed" for m in manifest)
    return TrainingExport(folder, len(manifest), n_conf, len(manifest) - n_conf, skipped)
