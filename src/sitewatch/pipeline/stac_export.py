"""``sitewatch export SITE --stac DIR``: a run's outputs as a STAC Item with its assets.

DIR receives ``<site>-<run>.json`` (the item) beside its assets: ``-mask.tif`` (the run's
change mask as a Cloud-Optimised GeoTIFF), ``.geojson`` and ``.gpkg`` (the detections, the
AOI and the footprints, styled for QGIS). The item is written last, so an item never names
a file that is not there; if anything fails, the files of this call are removed again.
"""

from __future__ import annotations

import json
import logging
import unicodedata
from pathlib import Path

import numpy as np
import rasterio

from sitewatch.catalog import Store
from sitewatch.errors import InputFileError, NotFoundError
from sitewatch.evidence.export import export_run
from sitewatch.evidence.stac_item import ItemAsset, run_item
from sitewatch.fileio import atomic_path
from sitewatch.imagery.write import write_mask
from sitewatch.model import Run, Site
from sitewatch.pipeline.reporting import _select_run

log = logging.getLogger(__name__)
COG_MEDIA_TYPE = "image/tiff; application=geotiff; profile=cloud-optimized"
MASK_CLASSES = ((0, "unchanged", "no change detected"), (1, "changed", "change detected"),
                (255, "no-data", "outside the AOI, clouds or no data in either image"))


def item_name(site: Site, run: Run) -> str:
    """A file-name-safe item id: the site's name in ASCII letters and digits, and the run."""
    ascii_name = unicodedata.normalize("NFKD", site.name).encode("ascii", "ignore").decode()
    keep = "".join(c if c.isalnum() else "-" for c in ascii_name.lower())
    slug = "-".join(p for p in keep.split("-") if p)[:48] or f"site{site.id}"
    return f"{slug}-{run.ref}"


def _mask_asset(run: Run, out: Path, run_ref: str) -> ItemAsset:
    src = run.summary.get("mask_path")
    if not src or not Path(src).is_file():
        raise NotFoundError(
            f"the change mask of run {run_ref} is not in the workspace ({src or 'not recorded'})"
            ": export the detections with --out FILE instead, or analyse the site again"
        )
    with rasterio.open(src) as ds:
        mask = ds.read(1).astype(np.uint8, copy=False)
        crs = ds.crs.to_string() if ds.crs else None
        tf = ds.transform if ds.crs else None
    # written again (not copied): a mask of an older sitewatch becomes a COG too
    write_mask(out, mask, crs, tf, tags={"sitewatch_run": run_ref})
    return ItemAsset("mask", out, COG_MEDIA_TYPE,
                     "Change mask: 0 unchanged, 1 changed, 255 no data",
                     crs=crs, shape=(int(mask.shape[0]), int(mask.shape[1])),
                     transform=None if tf is None else tuple(tf)[:6], classes=MASK_CLASSES)


def export_stac(store: Store, site_ref: str | int, out_dir: Path,
                run_id: int | None = None) -> Path:
    """Write the STAC Item of the site's run (latest, or ``run_id``) and its assets into
    ``out_dir``; return the item's path."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise InputFileError(f"--stac {out_dir} is a file: give a folder to write the STAC "
                             "item and its assets into")
    site = store.site(site_ref)
    run = _select_run(store, site.id, run_id)
    before, after = store.scene(run.before_scene_id), store.scene(run.after_scene_id)
    name = item_name(site, run)
    paths = {"mask": out_dir / f"{name}-mask.tif", "geojson": out_dir / f"{name}.geojson",
             "gpkg": out_dir / f"{name}.gpkg", "item": out_dir / f"{name}.json"}
    fresh = [p for p in paths.values() if not p.exists()]
    try:
        assets = [_mask_asset(run, paths["mask"], run.ref)]
        export_run(site, run, before, after, paths["geojson"])
        export_run(site, run, before, after, paths["gpkg"])
        assets += [
            ItemAsset("detections", paths["geojson"], "application/geo+json",
                      f"Detections of run {run.ref} (GeoJSON, WGS84)"),
            ItemAsset("geopackage", paths["gpkg"], "application/geopackage+sqlite3",
                      f"Detections, AOI and scene footprints of run {run.ref} (GeoPackage, "
                      "WGS84, styled for QGIS)"),
        ]
        item = run_item(site, run, before, after, name, assets)
        with atomic_path(paths["item"]) as tmp:
            tmp.write_text(json.dumps(item.to_dict(include_self_link=False), indent=1,
                                      ensure_ascii=False), encoding="utf-8")
    except BaseException:
        for p in fresh:  # what this call made, not what was there before
            p.unlink(missing_ok=True)
        raise
    log.info("STAC item %s written with %d assets", paths["item"], len(assets))
    return paths["item"]
