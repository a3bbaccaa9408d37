"""``sitewatch stac fetch``: every matching STAC item becomes a masked, scaled scene of a site.

For each item not yet in the catalog: the AOI window of each band and of the mask is read
(never the whole tile), turned into surface reflectance, masked (clouds, shadows, snow,
no data become NaN), and written as a float32 COG in the workspace. Items whose clear
fraction over the AOI is below ``min_clear`` are recorded as skipped with the reason;
items that fail to load are reported and tried again next time.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from sitewatch.catalog import Store
from sitewatch.config import Layout
from sitewatch.errors import ConflictError, InputValueError, SitewatchError
from sitewatch.geo.grid import Grid, site_grid
from sitewatch.imagery.stac import (
    Provider,
    SearchResult,
    StacItem,
    asset_hosts,
    load_window,
    mask_asset,
    resolve_bands,
    search,
    signer,
)
from sitewatch.imagery.stacnet import check_asset_href
from sitewatch.imagery.write import write_cog
from sitewatch.model import Scene, Site, StacSkip
from sitewatch.pipeline.chips import aoi_mask
from sitewatch.pipeline.watchlist import SceneSpec, add_scene_file

DEFAULT_MIN_CLEAR = 0.3


@dataclass(frozen=True)
class FetchOutcome:
    item: StacItem
    status: str  # "imported" | "known" | "skipped" | "failed"
    reason: str | None = None
    scene: Scene | None = None
    clear_fraction: float | None = None


def known_items(store: Store, site: Site, collection: str) -> dict[str, str]:
    """item id -> why it is known (already a scene, or skipped before)."""
    known = {}
    for s in store.scenes(site.id):
        p = s.props
        if p.get("stac_collection") == collection and p.get("stac_item"):
            known[str(p["stac_item"])] = f"already scene {s.id}"
    for k in store.stac_skips(site.id):
        if k.collection == collection:
            known.setdefault(k.item_id, f"skipped before: {k.reason}")
    return known


def _safe(name: str) -> str:
    """A file name for a STAC id. Ids that differ only in characters made safe here
    ("S2A tile:1", "S2A/tile/1") must not share a file: a digest of the exact id is kept."""
    clean = re.sub(r"[^A-Za-z0-9._-]+", "_", name)[:120].strip(".") or "item"
    if clean == name:
        return clean
    return f"{clean}-{hashlib.sha256(name.encode('utf-8')).hexdigest()[:12]}"


def fetch_grid(site: Site, provider: Provider, collection: str) -> Grid:
    gsd = provider.facts(collection).gsd_m or 10.0
    return site_grid(site.aoi_geom, float(gsd))


def fetch_item(store: Store, ws: Layout, site: Site, provider: Provider, collection: str,
               item: StacItem, grid: Grid, inside: np.ndarray, min_clear: float, sign: Any
               ) -> FetchOutcome:
    """Load one item's AOI window (``inside``: the AOI mask of ``grid``) as a scene."""
    facts = provider.facts(collection)
    try:
        # a STAC server names what GDAL opens: only http(s) on allowed hosts, no local files
        for asset in _assets_used(item, provider, collection).values():
            check_asset_href(asset.href, provider.url, asset_hosts(provider.name))
        win = load_window(item, facts, grid, inside, sign)
    except SitewatchError as exc:
        return FetchOutcome(item, "failed", str(exc))
    acquired = item.acquired.isoformat() if item.acquired else None
    if win.clear_fraction < min_clear:
        reason = (f"only {win.clear_fraction:.0%} of the AOI is clear "
                  f"({win.mask_kind or 'no'} mask), below --min-clear {min_clear:.0%}")
        store.add_stac_skip(StacSkip(site_id=site.id, collection=collection, item_id=item.id,
                                     acquired=acquired, clear_fraction=win.clear_fraction,
                                     reason=reason))
        return FetchOutcome(item, "skipped", reason, clear_fraction=win.clear_fraction)
    assert item.acquired is not None  # malformed items never get here
    path = ws.stac_scene_path(site.id, _safe(collection), _safe(item.id))
    write_cog(path, win.data, grid.crs, grid.transform, descriptions=win.band_names,
              tags={"STAC_ITEM": item.id, "STAC_COLLECTION": collection,
                    "STAC_SELF": item.self_href or "", "DATETIME_UTC": acquired or "",
                    "UNITS": "surface reflectance; NaN = no data or masked"})
    year = item.acquired.year
    resolved = {n: a.href for n, a in _assets_used(item, provider, collection).items()}
    props = {"stac_collection": collection, "stac_item": item.id, "stac_api": provider.url,
             "stac_self_href": item.self_href, "stac_assets": resolved,
             "datetime_utc": acquired, "processing_baseline": item.baseline,
             "cloud_cover": item.cloud_cover, "clear_fraction": round(win.clear_fraction, 4),
             "mask": win.mask_kind, "radiometry": win.radiometry,
             "radiometry_notes": win.notes, "platform": item.platform, "tile": item.tile}
    spec = SceneSpec(path=path, date=item.acquired.date().isoformat(),
                     provider=f"{facts.platform} via {provider.title}",
                     credit=f"{facts.credit.format(year=year)}; via {provider.title}",
                     licence=facts.licence,
                     bands=win.band_names, scale=1.0, offset=0.0,
                     notes=f"STAC item {item.id} of {collection}", properties=props)
    try:
        scene = add_scene_file(store, site, spec)
    except ConflictError as exc:
        return FetchOutcome(item, "known", str(exc))
    except SitewatchError:
        path.unlink(missing_ok=True)
        raise
    return FetchOutcome(item, "imported", scene=scene, clear_fraction=win.clear_fraction)


def _assets_used(item: StacItem, provider: Provider, collection: str) -> dict[str, Any]:
    facts = provider.facts(collection)
    used: dict[str, Any] = dict(resolve_bands(item, facts))
    m = mask_asset(item, facts)
    if m is not None:
        used["mask"] = m[0]
    return used


def fetch(store: Store, ws: Layout, site_name: str | int, provider: Provider, collection: str,
          start: date | None, end: date | None, max_cloud: float | None,
          min_clear: float = DEFAULT_MIN_CLEAR,
          progress: Callable[[int, int, FetchOutcome], None] | None = None
          ) -> tuple[SearchResult, list[FetchOutcome]]:
    if not 0 <= min_clear <= 1:
        raise InputValueError(f"--min-clear {min_clear} is not a fraction: give 0 to 1")
    site = store.site(site_name)
    found = search(provider, collection, site.aoi_geom, start, end, max_cloud)
    known = known_items(store, site, collection)
    grid = fetch_grid(site, provider, collection)
    inside = aoi_mask(site, grid)
    sign = signer(provider, collection) if found.items else None
    outcomes = []
    for i, item in enumerate(found.items, start=1):
        if item.id in known:
            outcome = FetchOutcome(item, "known", known[item.id])
        else:
            outcome = fetch_item(store, ws, site, provider, collection, item, grid, inside,
                                 min_clear, sign)
        outcomes.append(outcome)
        if progress:
            progress(i, len(found.items), outcome)
    return found, outcomes


def outcome_json(o: FetchOutcome) -> dict[str, Any]:
    return {"item": o.item.id, "datetime": o.item.acquired.isoformat() if o.item.acquired
            else None, "status": o.status, "reason": o.reason,
            "scene_id": o.scene.id if o.scene else None,
            "clear_fraction": None if o.clear_fraction is None else round(o.clear_fraction, 4),
            "path": str(Path(o.scene.path)) if o.scene else None}
