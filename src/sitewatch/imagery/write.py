"""Raster writers. Every file is written to a temporary name and renamed into place,
so a crash never leaves a half-written raster where a finished one is expected."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import rasterio.errors
import rasterio.shutil
from affine import Affine
from rasterio.windows import Window

# re-exported: atomic_path lives in sitewatch.fileio, which every layer may use
from sitewatch.fileio import atomic_path as atomic_path
from sitewatch.imagery.local import decoding


def write_cog(path: Path, data: np.ndarray, crs: str, transform: Affine,
              nodata: float | None = np.nan, descriptions: list[str] | None = None,
              tags: dict[str, str] | None = None, blocksize: int = 512) -> Path:
    """Write (bands, h, w) data as a Cloud-Optimised GeoTIFF (deflate), with optional band
    descriptions and dataset tags (provenance)."""
    arr = data if data.ndim == 3 else data[None]
    profile = {
        "driver": "GTiff", "width": arr.shape[2], "height": arr.shape[1], "count": arr.shape[0],
        "dtype": str(arr.dtype), "crs": crs, "transform": transform, "nodata": nodata,
    }
    # the COG driver only copies: write a plain GTiff in memory, then copy it as a COG
    with atomic_path(path) as tmp, rasterio.MemoryFile() as mem:
        with mem.open(**profile) as ds:
            ds.write(arr)
            if descriptions:
                ds.descriptions = tuple(descriptions)
            if tags:
                ds.update_tags(**tags)
        with mem.open() as src:
            rasterio.shutil.copy(src, tmp, driver="COG", compress="DEFLATE", predictor="YES",
                                 blocksize=blocksize)
    return path


#: integer types a chip of whole numbers is stored in, smallest first, with the value kept
#: for "no data" (NaN in memory)
_CHIP_INTS = (("uint8", 255), ("uint16", 65535), ("int16", -32768))


#: rows per block when a chip is checked and converted (a block of a band stays in cache)
_ROWS = 256


def _whole_number_range(arr: np.ndarray) -> tuple[float, float] | None:
    """(lowest, highest) finite value of (bands, h, w) ``arr`` ((inf, -inf) when it has
    none), or None when a finite value has a fraction."""
    lo, hi = np.inf, -np.inf
    for band in arr:
        for r in range(0, band.shape[0], _ROWS):
            block = band[r:r + _ROWS]
            finite = block[np.isfinite(block)]
            if finite.size == 0:
                continue
            if not np.array_equal(finite, np.rint(finite)):
                return None
            lo, hi = min(lo, float(finite.min())), max(hi, float(finite.max()))
    return lo, hi


def _int_type(lo: float, hi: float) -> tuple[str, int] | None:
    """The smallest integer type that holds [lo, hi] with a no-data value outside it."""
    for name, nodata in _CHIP_INTS:
        info = np.iinfo(name)
        if info.min <= lo and hi <= info.max and not lo <= nodata <= hi:
            return name, nodata
    return None


def _as_ints(arr: np.ndarray, name: str, nodata: int) -> np.ndarray:
    """``arr`` in integer type ``name``, NaN as ``nodata``, block by block."""
    out = np.empty(arr.shape, name)
    for b, band in enumerate(arr):
        for r in range(0, band.shape[0], _ROWS):
            block = band[r:r + _ROWS]
            out[b, r:r + _ROWS] = np.where(np.isfinite(block), block, nodata)
    return out


#: a chip's tiles are 512 px; it is converted and written one row of tiles at a time
CHIP_BLOCK = 512


@dataclass(frozen=True)
class LiveChip:
    """A chip handed to a writer (another thread) while its owner goes on using the pixels,
    without a copy of them: ``data`` is read as the file is written, so the owner must not
    change it, except the pixels ``changing`` ((h, w) bool, True where the owner may still
    write, e.g. NaN outside the AOI), whose values at hand-over ``kept`` holds
    ((bands, n), in the order of ``data[:, changing]``)."""

    data: np.ndarray
    changing: np.ndarray | None
    kept: np.ndarray | None
    nodata: float | None


def hand_over(data: np.ndarray, changing: np.ndarray | None = None,
              nodata: float | None = np.nan) -> LiveChip:
    """``data`` (bands, h, w) as a writer takes it; ``changing`` as in :class:`LiveChip`
    (their values are copied now: a few pixels outside the AOI, not the chip)."""
    arr = data if data.ndim == 3 else data[None]
    if changing is None or not changing.any():
        return LiveChip(arr, None, None, nodata)
    return LiveChip(arr, changing.copy(), arr[:, changing], nodata)


def write_chip(path: Path, data: np.ndarray, crs: str, transform: Affine,
               nodata: float | None = np.nan) -> Path:
    """Write a working chip: a tiled GeoTIFF compressed with ZSTD level 1, no overviews.

    A float chip whose values are all whole numbers (pixels read straight from an integer
    scene, not resampled) is stored in the smallest integer type that holds them, NaN as
    that type's no-data value: half the bytes of float32 or less, and about three times
    faster to compress. :func:`read_chip` gives back the same float32 array.

    Chips are site-sized caches that sitewatch itself reads whole or by window; a COG's
    overviews and DEFLATE cost several times the read and nobody reads them.
    """
    return write_live(path, hand_over(data, None, nodata), crs, transform)


def _stored_type(chip: LiveChip) -> tuple[str, float | None, bool]:
    """(dtype, no-data value, whether whole numbers are converted) of ``chip``'s file."""
    arr = chip.data
    if not (np.issubdtype(arr.dtype, np.floating) and chip.nodata is not None
            and np.isnan(chip.nodata)):
        return str(arr.dtype), chip.nodata, False
    # the pixels the owner may have set to NaN since are judged by their kept values
    lo, hi = np.inf, -np.inf
    for part in (arr, None if chip.kept is None else chip.kept[:, None, :]):
        span = (np.inf, -np.inf) if part is None else _whole_number_range(part)
        if span is None:
            return str(arr.dtype), chip.nodata, False
        lo, hi = min(lo, span[0]), max(hi, span[1])
    compact = _int_type(lo, hi) if lo <= hi else None
    if compact is None:
        return str(arr.dtype), chip.nodata, False
    return compact[0], compact[1], True


def write_live(path: Path, chip: LiveChip, crs: str, transform: Affine) -> Path:
    """Write ``chip`` as :func:`write_chip` does, one row of tiles at a time: each is read
    from the owner's array, its changing pixels put back from ``kept``, converted and
    written (the writer holds one row of tiles, never a copy of the chip)."""
    dtype, nodata, whole = _stored_type(chip)
    floating = np.issubdtype(np.dtype(dtype), np.floating)
    bands, height, width = chip.data.shape
    profile = {
        "driver": "GTiff", "width": width, "height": height, "count": bands,
        "dtype": dtype, "crs": crs, "transform": transform,
        "nodata": nodata if floating or nodata is None or np.isfinite(nodata) else None,
        "compress": "ZSTD", "zstd_level": 1, "predictor": 3 if floating else 2,
        "interleave": "band", "BIGTIFF": "IF_SAFER",
        # tiles are compressed on every core (the bytes are the same as on one)
        "num_threads": "ALL_CPUS",
    }
    if height > CHIP_BLOCK or width > CHIP_BLOCK:
        profile |= {"tiled": True, "blockxsize": CHIP_BLOCK, "blockysize": CHIP_BLOCK}
    taken = 0  # how many kept pixels the rows so far used
    with atomic_path(path) as tmp, rasterio.open(tmp, "w", **profile) as ds:
        for r in range(0, height, CHIP_BLOCK):
            block = chip.data[:, r:r + CHIP_BLOCK]
            kept = sel = None
            if chip.changing is not None and chip.kept is not None:
                sel = chip.changing[r:r + CHIP_BLOCK]
                n = int(np.count_nonzero(sel))
                kept = chip.kept[:, taken:taken + n] if n else None
                taken += n
            if whole:  # converted from the live rows, then the kept pixels put back
                assert nodata is not None
                block = _as_ints(block, dtype, int(nodata))
                if kept is not None:
                    block[:, sel] = _as_ints(kept[:, None, :], dtype, int(nodata))[:, 0]
            elif kept is not None:
                block = block.copy()
                block[:, sel] = kept
            ds.write(block, window=Window(0, r, width, block.shape[1]))
    return path


def read_chip(path: Path | str, window: Any = None) -> np.ndarray:
    """A chip written by :func:`write_chip` (or by an older sitewatch, as float32), whole or
    a window of it: (bands, h, w) float32, NaN where there is no data."""
    with decoding(), rasterio.open(path) as ds:
        data = ds.read(window=window, out_dtype=np.float32)
        nodata = ds.nodata
    if nodata is not None and not np.isnan(nodata) and not np.issubdtype(
            np.dtype(ds.dtypes[0]), np.floating):
        data[data == np.float32(nodata)] = np.nan
    return data


def write_mask(path: Path, mask: np.ndarray, crs: str | None = None,
               transform: Affine | None = None, tags: dict[str, str] | None = None) -> Path:
    """The contract's change mask: single-band uint8 GeoTIFF, 0 unchanged, 1 changed,
    255 no data (declared nodata), georeferenced when ``crs``/``transform`` are given.

    It is a Cloud-Optimised GeoTIFF (256 px tiles, DEFLATE, overviews by nearest value so
    that they hold only 0, 1 and 255, layout COG) that QGIS and web viewers read by tile.
    """
    profile: dict[str, Any] = {"driver": "GTiff", "width": mask.shape[1],
                               "height": mask.shape[0], "count": 1, "dtype": "uint8",
                               "nodata": 255}
    if crs is not None and transform is not None:
        profile |= {"crs": crs, "transform": transform}
    with atomic_path(path) as tmp, rasterio.MemoryFile() as mem, warnings.catch_warnings():
        # a plain image's mask has no georeference, which is what the contract says
        warnings.simplefilter("ignore", rasterio.errors.NotGeoreferencedWarning)
        with mem.open(**profile) as ds:
            ds.write(mask.astype(np.uint8, copy=False), 1)
            ds.set_band_description(1, "change: 0 unchanged, 1 changed, 255 no data")
            if tags:
                ds.update_tags(**tags)
        with mem.open() as src:
            rasterio.shutil.copy(src, tmp, driver="COG", compress="DEFLATE", predictor="YES",
                                 blocksize=256, overview_resampling="NEAREST")
    return path
