"""Web-mercator PNG tiles of a scene, read by rio-tiler from the workspace's chip GeoTIFFs.

A scene is shown through its newest chip (the scene cut to the site's grid and
co-registered), so before and after line up; a scene with its own georeferencing and no
chip yet is read from its file. The colour stretch is one range for all three bands (the
2nd-98th percentiles of the chip, computed once per file), so colours are not shifted.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from rio_tiler.errors import TileOutsideBounds
from rio_tiler.io import Reader

from sitewatch.api import Workspace
from sitewatch.errors import NotFoundError
from sitewatch.model import Scene

TILE_PX = 256


@dataclass(frozen=True)
class TileSource:
    path: Path
    indexes: tuple[int, ...]
    in_range: tuple[float, float]


def _indexes(scene: Scene, count: int) -> tuple[int, ...]:
    names = [b.lower() for b in scene.band_names]
    if all(b in names for b in ("red", "green", "blue")):
        return tuple(names.index(b) + 1 for b in ("red", "green", "blue"))
    return (1, 2, 3) if count >= 3 else (1,)


class Tiler:
    """Finds and remembers each scene's tile source (thread-safe; files opened per call)."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self._sources: dict[int, TileSource] = {}
        self._lock = threading.Lock()

    def source(self, scene_id: int) -> TileSource:
        with self._lock:
            known = self._sources.get(scene_id)
        if known is not None and known.path.is_file():
            return known
        scene = self.ws.scene(scene_id)
        chips = [c for c in self.ws.chips(scene.site_id) if c.scene_id == scene_id]
        path = next((Path(c.path) for c in chips if Path(c.path).is_file()), None)
        if path is None and scene.georef_source == "file" and Path(scene.path).is_file():
            path = Path(scene.path)
        if path is None:
            raise NotFoundError(f"scene {scene_id} has no chip yet: run an analysis of its "
                                "site ('sitewatch analyze SITE') to see it on the map")
        with Reader(str(path)) as src:
            idx = _indexes(scene, src.dataset.count)
            stats = src.statistics(indexes=idx, percentiles=[2, 98], max_size=512)
        lows = [s.percentile_2 for s in stats.values() if s.percentile_2 is not None]
        highs = [s.percentile_98 for s in stats.values() if s.percentile_98 is not None]
        lo, hi = (min(lows), max(highs)) if lows and highs else (0.0, 255.0)
        found = TileSource(path, idx, (float(lo), float(hi) if hi > lo else float(lo) + 1.0))
        with self._lock:
            self._sources[scene_id] = found
        return found

    def tile(self, scene_id: int, z: int, x: int, y: int) -> bytes:
        """A 256 px PNG (transparent where there is no data)."""
        src = self.source(scene_id)
        return render_tile(src, z, x, y)


def render_tile(src: TileSource, z: int, x: int, y: int) -> bytes:
    try:
        with Reader(str(src.path)) as r:
            img = r.tile(x, y, z, tilesize=TILE_PX, indexes=src.indexes)
    except TileOutsideBounds:
        raise NotFoundError(f"tile {z}/{x}/{y} is outside the scene") from None
    img.array.set_fill_value(0)  # masked pixels: transparent in the PNG, not NaN cast to uint8
    img = img.rescale(in_range=(src.in_range,) * len(src.indexes))
    return img.render(img_format="PNG")
