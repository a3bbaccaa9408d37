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


def _whole_number_dtype(arr: np.ndarray) -> tuple[str, int] | None:
    """The smallest integer type that holds every finite value of ``arr`` exactly, with a
    no-data value none of them takes; None if a value has a fraction or none fits."""
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
    if lo > hi:
        return None
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


#: a chip's tiles are 512 px; its strips are whole rows of tiles
CHIP_BLOCK = 512

#: the smallest strip, in bytes: above the C allocator's largest mmap threshold (glibc:
#: 32 MiB), so that each strip is mapped on its own and given back to the system when it
#: is freed (smaller blocks land in the heap, whose freed middle stays resident)
STRIP_BYTES = 33 << 20


@dataclass
class PreparedChip:
    """A chip as :func:`write_prepared` stores it: strips of ``rows`` rows (whole rows of
    tiles), each an array of its own that the writer drops once written (the memory comes
    back as the file grows), in the type and with the no-data value the file will have."""

    strips: list[np.ndarray | None]
    rows: int
    dtype: str
    nodata: float | None
    shape: tuple[int, int, int]


def _strip_rows(bands: int, width: int, itemsize: int) -> int:
    """Rows per strip: the fewest whole rows of tiles that make :data:`STRIP_BYTES`."""
    tile_row = max(1, bands * CHIP_BLOCK * width * itemsize)
    return CHIP_BLOCK * max(1, -(-STRIP_BYTES // tile_row))


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
    return write_prepared(path, prepare_chip(data, nodata, copy=False), crs, transform)


def prepare_chip(data: np.ndarray, nodata: float | None = np.nan, copy: bool = True
                 ) -> PreparedChip:
    """``data`` as :func:`write_chip` stores it. With ``copy`` every strip is an array of
    its own (whole numbers converted, anything else copied), so ``data`` may change while
    it is written on another thread."""
    arr = data if data.ndim == 3 else data[None]
    shape = (arr.shape[0], arr.shape[1], arr.shape[2])
    if np.issubdtype(arr.dtype, np.floating) and nodata is not None and np.isnan(nodata):
        compact = _whole_number_dtype(arr)
        if compact is not None:
            name, whole = compact
            n = _strip_rows(shape[0], shape[2], np.dtype(name).itemsize)
            return PreparedChip([_as_ints(arr[:, r:r + n], name, whole)
                                 for r in range(0, shape[1], n)], n, name, whole, shape)
    n = _strip_rows(shape[0], shape[2], arr.dtype.itemsize)
    return PreparedChip([arr[:, r:r + n].copy() if copy else arr[:, r:r + n]
                         for r in range(0, shape[1], n)], n, str(arr.dtype), nodata, shape)


def write_prepared(path: Path, prepared: PreparedChip, crs: str, transform: Affine) -> Path:
    """Write what :func:`prepare_chip` gave, as :func:`write_chip` does, dropping each strip
    once it is written."""
    floating = np.issubdtype(np.dtype(prepared.dtype), np.floating)
    bands, height, width = prepared.shape
    nodata = prepared.nodata
    profile = {
        "driver": "GTiff", "width": width, "height": height, "count": bands,
        "dtype": prepared.dtype, "crs": crs, "transform": transform,
        "nodata": nodata if floating or nodata is None or np.isfinite(nodata) else None,
        "compress": "ZSTD", "zstd_level": 1, "predictor": 3 if floating else 2,
        "interleave": "band", "BIGTIFF": "IF_SAFER",
        # tiles are compressed on every core (the bytes are the same as on one)
        "num_threads": "ALL_CPUS",
    }
    if height > CHIP_BLOCK or width > CHIP_BLOCK:
        profile |= {"tiled": True, "blockxsize": CHIP_BLOCK, "blockysize": CHIP_BLOCK}
    with atomic_path(path) as tmp, rasterio.open(tmp, "w", **profile) as ds:
        for i, strip in enumerate(prepared.strips):
            prepared.strips[i] = None
            if strip is None:
                raise ValueError(f"chip {path}: a strip was written already")
            ds.write(strip, window=Window(0, i * prepared.rows, width, strip.shape[1]))
            del strip
    return path


def read_chip(path: Path | str, window: Any = None) -> np.ndarray:
    """A chip written by :func:`write_chip` (or by an older sitewatch, as float32), whole or
    a window of it: (bands, h, w) float32, NaN where there is no data."""
    with rasterio.open(path) as ds:
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
