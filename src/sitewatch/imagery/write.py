"""Raster writers. Every file is written to a temporary name and renamed into place,
so a crash never leaves a half-written raster where a finished one is expected."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import rasterio
import rasterio.shutil
from affine import Affine

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


def write_chip(path: Path, data: np.ndarray, crs: str, transform: Affine,
               nodata: float | None = np.nan, blocksize: int = 512) -> Path:
    """Write a working chip: a tiled GeoTIFF in the array's own dtype, compressed with
    ZSTD level 1 (fast, with the floating-point predictor for floats), no overviews.

    Chips are site-sized caches that sitewatch itself reads whole or by window; a COG's
    overviews and DEFLATE cost several times the read and nobody reads them.
    """
    arr = data if data.ndim == 3 else data[None]
    floating = np.issubdtype(arr.dtype, np.floating)
    tiled = arr.shape[1] > blocksize or arr.shape[2] > blocksize
    profile = {
        "driver": "GTiff", "width": arr.shape[2], "height": arr.shape[1], "count": arr.shape[0],
        "dtype": str(arr.dtype), "crs": crs, "transform": transform,
        "nodata": nodata if floating or nodata is None or np.isfinite(nodata) else None,
        "compress": "ZSTD", "zstd_level": 1, "predictor": 3 if floating else 2,
        "interleave": "band", "BIGTIFF": "IF_SAFER",
    }
    if tiled:
        profile |= {"tiled": True, "blockxsize": blocksize, "blockysize": blocksize}
    with atomic_path(path) as tmp, rasterio.open(tmp, "w", **profile) as ds:
        ds.write(arr)
    return path


def write_mask(path: Path, mask: np.ndarray, crs: str | None = None,
               transform: Affine | None = None) -> Path:
    """The contract's change mask: single-band uint8 GeoTIFF, 0 unchanged, 1 changed,
    255 no data (declared nodata), georeferenced when ``crs``/``transform`` are given."""
    profile = {"driver": "GTiff", "width": mask.shape[1], "height": mask.shape[0], "count": 1,
               "dtype": "uint8", "nodata": 255, "compress": "DEFLATE"}
    if crs is not None and transform is not None:
        profile |= {"crs": crs, "transform": transform}
    with atomic_path(path) as tmp, rasterio.open(tmp, "w", **profile) as ds:
        ds.write(mask.astype(np.uint8), 1)
    return path
