"""Per-site chips: every scene cut to the site's grid, co-registered to the earliest scene,
stored as tiled ZSTD GeoTIFFs in the workspace and recorded in the catalog with their shift."""

from __future__ import annotations

import ctypes
import functools
import logging
import math
import os
import warnings
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from rasterio import features
from rasterio.errors import RasterioError

from sitewatch.catalog import Store
from sitewatch.config import Layout
from sitewatch.errors import GeometryError
from sitewatch.geo.aoi import to_crs
from sitewatch.geo.coreg import estimate_shift_in
from sitewatch.geo.grid import Grid, Lattice, site_grid
from sitewatch.imagery.local import ImageInfo, read_onto_grid
from sitewatch.imagery.write import hand_over, read_chip, write_chip, write_live
from sitewatch.model import Chip, Scene, Site
from sitewatch.pipeline.watchlist import scene_info

log = logging.getLogger(__name__)
#: a scene must have at least this many valid pixels inside the AOI to be compared
MIN_AOI_PIXELS = 64


@dataclass(frozen=True)
class ChipData:
    """A chip in memory: (bands, h, w) float32 on ``grid``, NaN = no data."""

    scene: Scene
    chip: Chip
    data: np.ndarray


def grid_for(site: Site, scenes: Sequence[Scene]) -> Grid:
    """The site's grid at the finest pixel size among its scenes, on the pixel lattice of
    the first of them at that size when it is in the site's CRS (that scene is then read
    without resampling)."""
    gsd = min(s.gsd_m for s in scenes)
    anchor = next(s for s in scenes if math.isclose(s.gsd_m, gsd, rel_tol=1e-9))
    return site_grid(site.aoi_geom, gsd, lattice=scene_lattice(anchor))


def scene_lattice(scene: Scene) -> Lattice:
    """The pixel lattice of a scene, from its bounds and size."""
    w, s, e, n = scene.bounds
    return (scene.crs, (e - w) / scene.width, (n - s) / scene.height, w, n)


def aoi_mask(site: Site, grid: Grid) -> np.ndarray:
    """(h, w) bool: True inside the site's AOI."""
    geom = to_crs(site.aoi_geom, "EPSG:4326", grid.crs)
    return features.geometry_mask([geom], out_shape=(grid.height, grid.width),
                                  transform=grid.transform, invert=True, all_touched=True)


def _load(path: Path) -> np.ndarray:
    return read_chip(path)


def _cached(path: Path, grid: Grid, scene: Scene) -> np.ndarray | None:
    """A stored chip's pixels, or None (and the chip is made again) when its file is
    missing, cannot be read to the end, or is not (bands, h, w) of ``grid`` and ``scene``."""
    if not path.is_file():
        return None
    try:
        data = _load(path)
    except (RasterioError, OSError) as exc:
        log.warning("chip %s cannot be read (%s): making it again", path, exc)
        return None
    bands = sum(name != "alpha" for name in scene.band_names)
    if data.shape != (bands, grid.height, grid.width):
        log.warning("chip %s is %s, not %s: making it again", path, data.shape,
                    (bands, grid.height, grid.width))
        return None
    return data


@dataclass(frozen=True)
class ChipPixels:
    """The result of chipping one scene: (bands, h, w) float32 on the grid, NaN = no data."""

    data: np.ndarray
    shift_dy_px: float
    shift_dx_px: float
    coreg_status: str
    valid_fraction: float


def chip_pixels(info: ImageInfo, grid: Grid, inside: np.ndarray, ref_data: np.ndarray | None,
                label: str) -> ChipPixels:
    """Read a scene onto ``grid`` and co-register it to ``ref_data`` (None: it is the
    reference). Pure but for reading ``info``'s file: no catalog, no workspace; it runs in
    a worker given the image facts and the grid. ``label`` names the scene in errors."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = read_onto_grid(info, grid)
    covered = np.isfinite(data).all(axis=0) & inside
    if covered.sum() < MIN_AOI_PIXELS:
        raise GeometryError(
            f"{label} has {int(covered.sum())} pixels inside the site: it does not overlap "
            "the AOI; import a scene over the site"
        )
    cover = float(covered.sum() / max(int(inside.sum()), 1))
    dy = dx = 0.0
    status = "reference"
    if ref_data is not None:
        shift = estimate_shift_in(ref_data, data, inside)
        status = shift.status
        if shift.status == "applied":
            dy, dx = shift.dy, shift.dx
            if abs(dy) > 0.01 or abs(dx) > 0.01:
                data = read_onto_grid(info, grid, (dy, dx))
        log.info("%s shift dy=%.2f dx=%.2f px (%s)", label, dy, dx, status)
    return ChipPixels(data, dy, dx, status, cover)


class ChipWriter:
    """Writes new chips' files on a background thread while the analysis goes on (GDAL
    compresses without the GIL). A chip's catalog row goes in only when its file is
    complete (:meth:`finish`): no row ever points at a file still being written, and a
    command that fails calls :meth:`abandon`, which waits and removes the files."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="sitewatch-chips")
        self._todo: list[tuple[Future[Path], Chip]] = []

    def submit(self, chip: Chip, data: np.ndarray, grid: Grid,
               changing: np.ndarray | None = None) -> None:
        """Write ``data`` as ``chip``'s file. It is read while the caller goes on, without a
        copy: until :meth:`finish` the caller changes none of it but the pixels
        ``changing`` ((h, w) bool; their values are kept now)."""
        live = hand_over(data, changing)
        self._todo.append((self._pool.submit(write_live, Path(chip.path), live,
                                             grid.crs, grid.transform), chip))

    def finish(self, store: Store, made: list[Chip] | None = None) -> list[Chip]:
        """Wait for every file, then record the chips (each appended to ``made``)."""
        try:
            for done, _ in self._todo:
                done.result()
        except BaseException:
            self.abandon(store)
            raise
        stored = []
        for _, chip in self._todo:
            stored.append(store.put_chip(chip))
            if made is not None:
                made.append(stored[-1])
        self._todo = []
        self._pool.shutdown()
        return stored

    def abandon(self, store: Store) -> None:
        """Wait for the writes and remove their files, unless another process has recorded
        a chip at that path since."""
        for done, chip in self._todo:
            try:
                done.result()
            except Exception:  # noqa: BLE001 - the command is failing already
                log.debug("chip %s was not written", chip.path, exc_info=True)
            if store.chip(chip.scene_id, chip.grid_key, chip.reference_scene_id) is None:
                Path(chip.path).unlink(missing_ok=True)
        self._todo = []
        self._pool.shutdown()


def _make(store: Store, ws: Layout, site: Site, scene: Scene, grid: Grid, ref: Scene,
          ref_data: np.ndarray | None, inside: np.ndarray,
          made: list[Chip] | None = None, writer: ChipWriter | None = None) -> ChipData:
    """Load (a cached chip) -> compute (:func:`chip_pixels`) -> save (GeoTIFF + catalog,
    or handed to ``writer``); a chip saved here is appended to ``made``."""
    existing = store.chip(scene.id, grid.key, ref.id)
    cached = None if existing is None else _cached(Path(existing.path), grid, scene)
    if existing is not None and cached is not None:
        return ChipData(scene, existing, cached)
    px = chip_pixels(scene_info(scene), grid, inside, ref_data,
                     f"scene {scene.id} ({Path(scene.path).name}) of site {site.name!r}")
    path = ws.chip_path(site.id, scene.id, grid.key, ref.id)
    chip = Chip(scene_id=scene.id, grid_key=grid.key, grid=grid.to_dict(),
                reference_scene_id=ref.id, path=str(path), shift_x_px=px.shift_dx_px,
                shift_y_px=px.shift_dy_px, coreg_status=px.coreg_status,
                valid_fraction=px.valid_fraction)
    if writer is not None:  # the analysis sets NaN outside the AOI meanwhile
        writer.submit(chip, px.data, grid, ~inside)
        return ChipData(scene, chip, px.data)
    write_chip(path, px.data, grid.crs, grid.transform)
    chip = store.put_chip(chip)
    if made is not None:
        made.append(chip)
    return ChipData(scene, chip, px.data)


def site_chips(store: Store, ws: Layout, site: Site, wanted: Sequence[Scene],
               made: list[Chip] | None = None, writer: ChipWriter | None = None
               ) -> tuple[Grid, list[ChipData]]:
    """Chips of ``wanted`` scenes on the site's grid, co-registered to the site's earliest
    scene (which is chipped too, as the reference). Cached chips are reused; those made
    by this call are appended to ``made`` (so that a failed command can take them back
    with :func:`discard_chips`). With a ``writer``, new chips are written in the background
    and recorded by ``writer.finish``."""
    scenes = store.scenes(site.id)
    grid = grid_for(site, scenes)
    inside = aoi_mask(site, grid)
    ref = scenes[0]
    ref_chip = _make(store, ws, site, ref, grid, ref, None, inside, made, writer)
    release_free_memory()  # the freed blocks of a read, before the next read
    out = []
    for scene in wanted:
        out.append(ref_chip if scene.id == ref.id
                   else _make(store, ws, site, scene, grid, ref, ref_chip.data, inside, made,
                              writer))
        release_free_memory()
    return grid, out


@functools.cache
def _glibc() -> ctypes.CDLL | None:
    """The C library's handle when it is glibc (it has ``malloc_trim``), else None."""
    try:
        libc = ctypes.CDLL(None)
        libc.malloc_trim  # noqa: B018 - glibc only
    except (OSError, AttributeError):
        return None
    return libc


def release_free_memory() -> None:
    """Give the pages that the C heap holds free back to the system (glibc's
    ``malloc_trim``; nothing elsewhere). An analysis frees hundreds of MB of arrays and of
    GDAL's blocks, but glibc keeps the freed middle of its heap: in a watch loop the next
    site's analysis then peaked 250 MB higher than the first at 4000 px, and a scene's
    read raised the peak of the next read."""
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)


#: glibc's ``mallopt`` parameter for the most heaps ("arenas") that threads allocate from
_M_ARENA_MAX = -8


def share_one_heap() -> None:
    """Have every thread allocate from the one C heap (glibc's ``M_ARENA_MAX`` set to 1;
    nothing elsewhere, nor where the user set ``MALLOC_ARENA_MAX``). An analysis's threads
    (GDAL's decoding and compressing, the CVA's blocks) each got a heap of their own, and
    their freed blocks stayed resident (``malloc_trim`` does not reach them): the next
    site's analysis at 4000 px then started 100 MB higher. Measured no slower."""
    libc = _glibc()
    if libc is not None and "MALLOC_ARENA_MAX" not in os.environ:
        libc.mallopt(_M_ARENA_MAX, 1)


def discard_chips(store: Store, made: Sequence[Chip]) -> None:
    """Take back the chips a failed command made: their rows, and their files unless
    another process has stored a chip there since."""
    store.drop_chips([c.id for c in made if c.id is not None])
    for c in made:
        if store.chip(c.scene_id, c.grid_key, c.reference_scene_id) is None:
            Path(c.path).unlink(missing_ok=True)
