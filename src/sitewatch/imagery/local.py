"""Local image files: validate, georeference, hash, and read onto a grid.

Every read goes through rasterio (GDAL); plain images (PNG/JPEG/BMP without a
georeference) get theirs from bounds stated by the user. Files are opened per call,
never shared across threads.
"""

from __future__ import annotations

import math
import os
import re
import struct
import warnings
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from rasterio.crs import CRS
from rasterio.enums import ColorInterp, Resampling
from rasterio.errors import NotGeoreferencedWarning, RasterioError, RasterioIOError
from rasterio.transform import from_bounds
from rasterio.vrt import WarpedVRT
from rasterio.windows import Window

from sitewatch.errors import InputFileError, InputValueError
from sitewatch.geo.aoi import check_bounds
from sitewatch.geo.grid import Grid
from sitewatch.imagery.hashes import sha256_file as sha256_file  # re-exported
from sitewatch.settings import max_memory_bytes

#: Largest image accepted, in decoded bytes (a declared size beyond this is an image bomb).
MAX_DECODED_BYTES = 4 * 1024**3
_CI_NAMES = {ColorInterp.red: "red", ColorInterp.green: "green", ColorInterp.blue: "blue",
             ColorInterp.gray: "gray", ColorInterp.alpha: "alpha"}


def decoding() -> rasterio.Env:
    """GDAL settings for reading many tiles at once: they are decoded on every core (GDAL
    decodes a window of a tiled GeoTIFF over several threads, and warps over them; the
    pixels are the same as on one), through a block cache of 64 MB: a window is read
    once, and GDAL's default cache (5% of the memory) held a second copy of a 4000 px
    window's 128 MB of blocks while it was read. The user's own ``GDAL_NUM_THREADS`` and
    ``GDAL_CACHEMAX`` are kept."""
    options: dict[str, str | int] = {
        "GDAL_NUM_THREADS": os.environ.get("GDAL_NUM_THREADS", "ALL_CPUS")}
    if "GDAL_CACHEMAX" not in os.environ:  # GDAL reads the user's own value itself
        options["GDAL_CACHEMAX"] = 64  # MB
    return rasterio.Env(**options)


@dataclass(frozen=True)
class ImageInfo:
    """What sitewatch knows of an image file. ``crs``/``transform`` are None for plain images."""

    path: Path
    driver: str
    width: int
    height: int
    count: int
    dtype: str
    crs: str | None
    transform: Affine | None
    nodata: float | None
    band_names: tuple[str, ...] = field(default_factory=tuple)

    @property
    def georeferenced(self) -> bool:
        return self.crs is not None and self.transform is not None

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(west, south, east, north) in ``crs`` units."""
        if self.transform is None:
            raise InputValueError(f"{self.path} has no georeference")
        t = self.transform
        xs = (t.c, t.c + t.a * self.width)
        ys = (t.f, t.f + t.e * self.height)
        return (min(xs), min(ys), max(xs), max(ys))

    @property
    def gsd_m(self) -> float:
        """Pixel size in metres (geometric mean of x and y; lon/lat converted at the centre)."""
        if self.transform is None or self.crs is None:
            raise InputValueError(f"{self.path} has no georeference: pixel size unknown")
        crs = CRS.from_user_input(self.crs)
        xres, yres = abs(self.transform.a), abs(self.transform.e)
        if crs.is_geographic:
            lat = math.radians((self.bounds[1] + self.bounds[3]) / 2)
            xres *= 111_320.0 * math.cos(lat)
            yres *= 110_574.0
        else:
            unit = crs.linear_units_factor[1] if crs.linear_units_factor else 1.0
            xres, yres = xres * unit, yres * unit
        return math.sqrt(xres * yres)

    @property
    def rgb_alpha_band(self) -> int | None:
        """1-based index of an alpha band, if any."""
        return self.band_names.index("alpha") + 1 if "alpha" in self.band_names else None

    def with_georeference(self, bounds: tuple[float, float, float, float], crs: str) -> ImageInfo:
        """Attach user-stated bounds (W S E N in ``crs``) to a plain image."""
        if self.georeferenced:
            raise InputValueError(
                f"{self.path} is already georeferenced ({self.crs}): drop --bounds/--crs"
            )
        try:
            crs_obj = CRS.from_user_input(crs)
        except (RasterioError, ValueError) as exc:
            raise InputValueError(f"CRS {crs!r} is not known: give e.g. EPSG:4326") from exc
        check_bounds(*bounds, geographic=crs_obj.is_geographic)
        tf = from_bounds(*bounds, width=self.width, height=self.height)
        return ImageInfo(self.path, self.driver, self.width, self.height, self.count, self.dtype,
                         crs_obj.to_string(), tf, self.nodata, self.band_names)


_WAVE = re.compile(r"(\d+(?:\.\d+)?)\s*(micrometers|micrometres|microns|um|µm|nm)", re.I)
#: (lowest, highest) centre wavelength in micrometres -> harmonised band name
_BANDS_UM = [(0.40, 0.45, "coastal"), (0.45, 0.52, "blue"), (0.52, 0.60, "green"),
             (0.62, 0.69, "red"), (0.69, 0.76, "rededge"), (0.76, 0.95, "nir"),
             (1.50, 1.80, "swir16"), (2.00, 2.40, "swir22"), (8.0, 14.0, "thermal")]
_S2 = {"b01": "coastal", "b02": "blue", "b03": "green", "b04": "red", "b08": "nir",
       "b8a": "nir08", "b11": "swir16", "b12": "swir22"}
KNOWN_BANDS = {"red", "green", "blue", "nir", "swir16", "swir22", "coastal", "rededge",
               "thermal", "gray", "pan", "alpha", "ndvi", "fmask", "qa_pixel", "scl", "clp",
               # the other Sentinel-2 bands, as Earth Search names them
               "rededge1", "rededge2", "rededge3", "nir08", "nir09", "cirrus"}


def band_name_from_text(text: str) -> str | None:
    """Harmonised band name from a band description ("B04", "red", "... (0.66 micrometers)")."""
    t = text.strip().lower()
    if t in KNOWN_BANDS:
        return t
    if t in _S2:
        return _S2[t]
    m = _WAVE.search(t)
    if m:
        um = float(m.group(1)) / (1000.0 if m.group(2).lower() == "nm" else 1.0)
        for lo, hi, name in _BANDS_UM:
            if lo <= um < hi:
                return name
    return None


def _band_names(ds: rasterio.io.DatasetReader, given: list[str] | None) -> tuple[str, ...]:
    if given:
        if len(given) != ds.count:
            raise InputValueError(
                f"{ds.name}: --bands names {len(given)} bands but the file has {ds.count}"
            )
        return tuple(given)
    names = []
    for i, ci in enumerate(ds.colorinterp, start=1):
        from_desc = band_name_from_text(ds.descriptions[i - 1] or "")
        names.append(from_desc or _CI_NAMES.get(ci, f"b{i}"))
    if len(set(names)) != len(names):  # never let two bands share a name
        names = [f"b{i}" for i in range(1, ds.count + 1)]
    return tuple(names)


def inspect_image(path: Path | str, band_names: list[str] | None = None,
                  max_bytes: int = MAX_DECODED_BYTES, verify: bool = True) -> ImageInfo:
    """Open and check an image file; raise InputFileError naming the problem.

    Checks: exists, not empty, recognised raster, decoded size within ``max_bytes``
    (image bombs), and, with ``verify``, readable to its last row (truncation): a scene
    is verified once, at import; the catalog is trusted after.
    """
    p = Path(path)
    if not p.exists():
        raise InputFileError(f"image {p} does not exist: check the path")
    if p.is_dir():
        raise InputFileError(f"{p} is a directory: give an image file")
    if p.stat().st_size == 0:
        raise InputFileError(f"image {p} is empty (0 bytes): re-download or re-export it")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            with rasterio.open(p) as ds:
                itemsize = np.dtype(ds.dtypes[0]).itemsize
                decoded = ds.width * ds.height * ds.count * itemsize
                if decoded > max_bytes:
                    raise InputFileError(
                        f"image {p} declares {ds.width} x {ds.height} x {ds.count} "
                        f"({decoded / 1024**3:.1f} GiB decoded), over the "
                        f"{max_bytes / 1024**3:.1f} GiB limit: crop it first "
                        "(gdal_translate -srcwin)"
                    )
                if verify:
                    _check_complete(p, ds)
                georef = ds.crs is not None and not ds.transform.is_identity
                return ImageInfo(
                    path=p.resolve(), driver=ds.driver, width=ds.width, height=ds.height,
                    count=ds.count, dtype=ds.dtypes[0],
                    crs=ds.crs.to_string() if georef else None,
                    transform=ds.transform if georef else None,
                    nodata=ds.nodata, band_names=_band_names(ds, band_names),
                )
    except RasterioIOError as exc:
        raise InputFileError(
            f"{p} is not a readable image ({str(exc).splitlines()[0][:160]}): "
            "give a GeoTIFF/COG, PNG, JPEG, BMP or ENVI file"
        ) from exc


def data_band_names(band_names: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """The names of the bands that reads return: an image's band names without its alpha
    band (which becomes the mask)."""
    names = list(band_names)
    if "alpha" in names:
        names.remove("alpha")
    return tuple(names)


def check_memory(need: int, what: str, fix: str) -> None:
    """Refuse, before anything is read, work that would allocate ``need`` bytes beyond the
    budget (SITEWATCH_MAX_MEMORY_MB): InputFileError naming ``what`` and the ``fix``."""
    budget = max_memory_bytes()
    if need > budget:
        raise InputFileError(
            f"{what} would need {need / 1024**3:.1f} GiB of memory, over the "
            f"{budget / 1024**3:.1f} GiB budget (SITEWATCH_MAX_MEMORY_MB={budget // 2**20}): "
            f"{fix}"
        )


def has_valid_pixels(info: ImageInfo, probes: int = 8, size: int = 64) -> bool:
    """Whether any pixel holds data (finite and not the nodata value on at least one band,
    not transparent). ``probes`` x ``probes`` small windows spread over the image answer most
    images (a decimated read would pass every block through GDAL's cache); only when they
    find nothing are the blocks scanned, one at a time, until one holds data."""
    alpha = info.rgb_alpha_band
    bands = [i for i in range(1, info.count + 1) if i != alpha]

    def any_valid(src: rasterio.io.DatasetReader, win: Window) -> bool:
        data = src.read(bands, window=win, out_dtype=np.float32)
        # data on any band counts: a cloud-masked frame still holds its cloud band
        held = np.isfinite(data)
        if info.nodata is not None and not np.isnan(info.nodata):
            held &= data != info.nodata
        ok = held.any(axis=0)
        if alpha is not None:
            ok &= src.read(alpha, window=win) > 0
        return bool(ok.any())

    w, h = min(size, info.width), min(size, info.height)
    cols = np.linspace(0, info.width - w, probes).astype(int)
    rows = np.linspace(0, info.height - h, probes).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with rasterio.open(info.path) as src:
            if any(any_valid(src, Window(int(c), int(r), w, h))
                   for r in sorted(set(rows)) for c in sorted(set(cols))):
                return True
            return any(any_valid(src, win) for _, win in src.block_windows(1))


@contextmanager
def _readable(path: Path | str) -> Iterator[None]:
    """A read of ``path`` that fails (a file truncated or corrupted since it was checked,
    or never checked) raises one InputFileError naming the file."""
    try:
        yield
    except RasterioError as exc:
        reason = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else "no reason"
        raise InputFileError(f"image {path} cannot be read ({reason}): it is truncated or "
                             "corrupt; re-download or re-export it") from exc


def _check_complete(p: Path, ds: rasterio.io.DatasetReader) -> None:
    """Read the last row of every band: a truncated file fails here, not mid-analysis.

    A PNG is checked by its chunks' checksums instead: its last row costs a decode of the
    whole image, and a whole-image read of a damaged PNG returns zeros without an error."""
    if ds.driver == "PNG":
        damage = png_damage(p)
        if damage is not None:
            raise InputFileError(f"image {p} is truncated or corrupt ({damage}): re-download "
                                 "or re-export it")
        return
    try:
        ds.read(window=Window(0, ds.height - 1, ds.width, 1))
    except RasterioError as exc:
        raise InputFileError(
            f"image {p} is truncated or corrupt (cannot read its last row): re-download it"
        ) from exc
    if ds.driver == "ENVI":
        need = ds.width * ds.height * ds.count * np.dtype(ds.dtypes[0]).itemsize
        if p.stat().st_size < need:
            raise InputFileError(
                f"ENVI image {p} holds {p.stat().st_size} bytes but its header needs {need}: "
                "the file is truncated"
            )


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_damage(path: Path, block: int = 1 << 20) -> str | None:
    """What is wrong with the PNG file at ``path``, or None: every chunk's CRC-32 is checked
    and the file must reach its IEND chunk (a truncated download does not)."""
    with open(path, "rb") as f:
        if f.read(8) != PNG_SIGNATURE:
            return "no PNG signature"
        while True:
            head = f.read(8)
            if len(head) < 8:
                return "it ends before its IEND chunk"
            size, kind = struct.unpack(">I4s", head)
            crc = zlib.crc32(kind)
            left = size
            while left:
                data = f.read(min(left, block))
                if not data:
                    return f"it ends inside a {kind.decode('latin-1')!r} chunk"
                crc = zlib.crc32(data, crc)
                left -= len(data)
            stored = f.read(4)
            if len(stored) < 4 or struct.unpack(">I", stored)[0] != crc:
                return f"a {kind.decode('latin-1')!r} chunk fails its checksum"
            if kind == b"IEND":
                return None


def read_onto_grid(info: ImageInfo, grid: Grid, shift_px: tuple[float, float] = (0.0, 0.0),
                   resampling: Resampling = Resampling.bilinear) -> np.ndarray:
    """Warp an image onto ``grid``: (bands, h, w) float32, NaN where there is no data.

    ``shift_px`` = (dy, dx) moves the content by that many grid pixels (co-registration).
    """
    dy, dx = shift_px
    dst_tf = grid.transform @ Affine.translation(-dx, -dy)
    return read_onto(info, grid.crs, dst_tf, grid.width, grid.height, resampling)


def read_onto(info: ImageInfo, crs: str, transform: Affine, width: int, height: int,
              resampling: Resampling = Resampling.bilinear) -> np.ndarray:
    """Warp an image onto any target raster: (bands, height, width) float32, NaN = no data.

    Only the part of the image under the target is read. Alpha bands become the mask.
    """
    if not info.georeferenced:
        raise InputValueError(f"{info.path} has no georeference: give --bounds and --crs")
    alpha = info.rgb_alpha_band
    bands = [i for i in range(1, info.count + 1) if i != alpha]
    window = _aligned_window(info, crs, transform)
    if window is not None:
        return _read_window(info, bands, alpha, window, width, height)
    with warnings.catch_warnings(), _readable(info.path), decoding():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with rasterio.open(info.path) as src:
            # a file with an alpha band of its own (RGBA) has it warped: GDAL adds none
            own = [i for i, ci in enumerate(src.colorinterp, 1) if ci == ColorInterp.alpha]
            with WarpedVRT(
                src, src_crs=info.crs, src_transform=info.transform, crs=crs,
                transform=transform, width=width, height=height,
                resampling=resampling, add_alpha=not own,
            ) as vrt:
                data = vrt.read(bands).astype(np.float32, copy=False)
                inside = vrt.read(own[0] if own else vrt.count) > 0
                if alpha is not None and alpha not in own:
                    inside &= vrt.read(alpha) > 0
    data[:, ~inside] = np.nan
    if info.nodata is not None and not np.isnan(info.nodata):
        data[:, (data == info.nodata).all(axis=0)] = np.nan
    return data


def _aligned_window(info: ImageInfo, crs: str, transform: Affine) -> tuple[int, int] | None:
    """(col, row) of the target's first pixel in the image when the target grid is the
    image's own (same CRS and pixel size, no rotation, whole-pixel offset), else None."""
    src = info.transform
    if src is None or info.crs is None or src.b or src.d or transform.b or transform.d:
        return None
    if not (math.isclose(src.a, transform.a, rel_tol=1e-9)
            and math.isclose(src.e, transform.e, rel_tol=1e-9)):
        return None
    col = (transform.c - src.c) / src.a
    row = (transform.f - src.f) / src.e
    if abs(col - round(col)) > 1e-6 or abs(row - round(row)) > 1e-6:
        return None
    if CRS.from_user_input(info.crs) != CRS.from_user_input(crs):
        return None
    return int(round(col)), int(round(row))


def _read_window(info: ImageInfo, bands: list[int], alpha: int | None, at: tuple[int, int],
                 width: int, height: int) -> np.ndarray:
    """The target window read straight from the file (no warping: the grids coincide);
    NaN outside the image and where it has no data."""
    col, row = at
    c0, r0 = max(col, 0), max(row, 0)
    c1, r1 = min(col + width, info.width), min(row + height, info.height)
    whole = (c0, r0, c1, r1) == (col, row, col + width, row + height)
    # a window inside the image fills the whole result: no NaN to write first
    shape = (len(bands), height, width)
    out = np.empty(shape, np.float32) if whole else np.full(shape, np.nan, np.float32)
    if c1 <= c0 or r1 <= r0:
        return out
    win = Window(c0, r0, c1 - c0, r1 - r0)
    with warnings.catch_warnings(), _readable(info.path), decoding():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with rasterio.open(info.path) as src:
            # a window inside the image is read straight into the result (no second copy)
            part = (src.read(bands, window=win, out=out) if whole
                    else src.read(bands, window=win, out_dtype=np.float32))
            valid = src.read_masks(bands[0], window=win) > 0
            if alpha is not None:
                valid &= src.read(alpha, window=win) > 0
    if info.nodata is not None and not np.isnan(info.nodata):
        valid &= ~(part == info.nodata).all(axis=0)
    if not valid.all():
        part[:, ~valid] = np.nan
    if not whole:
        out[:, r0 - row:r1 - row, c0 - col:c1 - col] = part
    return out


def read_plain(info: ImageInfo) -> np.ndarray:
    """Read a whole image as (bands, h, w) float32 with NaN nodata (alpha and nodata masked)."""
    alpha = info.rgb_alpha_band
    bands = [i for i in range(1, info.count + 1) if i != alpha]
    with warnings.catch_warnings(), _readable(info.path), decoding():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with rasterio.open(info.path) as src:
            data = src.read(bands).astype(np.float32, copy=False)
            if alpha is not None:
                data[:, src.read(alpha) == 0] = np.nan
    if info.nodata is not None and not np.isnan(info.nodata):
        data[:, (data == info.nodata).all(axis=0)] = np.nan
    return data
