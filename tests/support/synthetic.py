"""Tiny synthetic rasters for edge cases: small georeferenced GeoTIFFs, and image bombs
that are small on disk but huge in pixels."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import rasterio
from rasterio.transform import from_origin

#: where :func:`geotiff` puts its images: 1 m pixels in UTM 33N, near lon 15.0, lat 45.153
ORIGIN = (500_000.0, 5_000_000.0)
CENTRE_LONLAT = (15.0004, 45.15318)


def geotiff(path: Path, data: np.ndarray, nodata: float | None = None,
            crs: str = "EPSG:32633", pixel_m: float = 1.0) -> Path:
    """(bands, h, w) ``data`` as a GeoTIFF at :data:`ORIGIN`."""
    bands, h, w = data.shape
    with rasterio.open(path, "w", driver="GTiff", width=w, height=h, count=bands,
                       dtype=data.dtype, crs=crs, nodata=nodata,
                       transform=from_origin(*ORIGIN, pixel_m, pixel_m)) as ds:
        ds.write(data)
    return path


def sparse_geotiff_bomb(path: Path, width: int, height: int, bands: int = 1,
                        dtype: str = "uint8") -> Path:
    """A tiled DEFLATE GeoTIFF of ``width`` x ``height`` pixels that holds no tile at all
    (GDAL's SPARSE_OK): a few hundred KB on disk, every pixel reads as 0."""
    with rasterio.open(path, "w", driver="GTiff", width=width, height=height, count=bands,
                       dtype=dtype, crs="EPSG:32633", transform=from_origin(*ORIGIN, 1, 1),
                       tiled=True, blockxsize=512, blockysize=512, compress="deflate",
                       sparse_ok=True):
        pass
    return path


def png_bomb(path: Path, width: int, height: int, value: int = 0) -> Path:
    """An 8-bit greyscale PNG of one constant ``value``, written row by row (nothing of
    its decoded size is ever held in memory): about 1/1000 of its pixels in bytes."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))

    row = b"\x00" + bytes([value]) * width  # filter type 0, then the row
    comp = zlib.compressobj(9)
    idat = bytearray()
    for _ in range(height):
        idat += comp.compress(row)
    idat += comp.flush()
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)))
        f.write(chunk(b"IDAT", bytes(idat)))
        f.write(chunk(b"IEND", b""))
    return path
