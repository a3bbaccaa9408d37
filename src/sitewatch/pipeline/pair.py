"""``sitewatch detect``: change between any two image files of the same ground."""

from __future__ import annotations

import json
import math
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sitewatch.detect.classical import ChangeResult
from sitewatch.detect.methods import DEFAULT_METHOD, common_bands, get_method, resolve_method
from sitewatch.detect.objects import ChangeObject, extract_objects
from sitewatch.detect.structures import structures_geojson, structures_of
from sitewatch.errors import GeometryError, InputValueError
from sitewatch.imagery.local import (
    ImageInfo,
    check_memory,
    data_band_names,
    has_valid_pixels,
    inspect_image,
    read_onto,
    read_plain,
)
from sitewatch.imagery.s2folder import is_band_folder, read_band_folder
from sitewatch.imagery.write import atomic_path, write_mask


@dataclass
class PairResult:
    result: ChangeResult
    objects: list[ChangeObject]
    georeferenced: bool
    method: str
    #: buildings of both dates and their change (``sitewatch.detect.structures``), when
    #: asked for and the detector gives building maps; else None
    structures: dict[str, Any] | None = None


def detect_files(before: Path, after: Path, out: Path, method: str = DEFAULT_METHOD,
                 geojson: Path | None = None, gsd_m: float | None = None,
                 params: dict[str, Any] | None = None,
                 structures: Path | None = None) -> PairResult:
    """Detect change from ``before`` to ``after`` and write the contract's mask to ``out``;
    ``structures``: also write the buildings of both dates and their change (new,
    extended, demolished, unchanged, cleared ground) as GeoJSON, for detectors that give
    building maps (the learned one; for the others the file holds no feature).

    Either may be a Sentinel-2 band folder (one acquisition): its bands are stacked on the
    grid of its B02 file, 20 m and 60 m bands resampled on read.

    Georeferenced inputs are aligned on BEFORE's grid; plain images must have the same size.
    ``gsd_m`` gives the pixel size of plain images so that areas can be measured.
    """
    if method != "auto":
        get_method(method)  # an unknown method fails before any file is read
    with tempfile.TemporaryDirectory(prefix="sitewatch-bands-") as tmp:
        a_info, b_info = (_inspect(p, Path(tmp) / f"{k}.vrt")
                          for k, p in (("before", before), ("after", after)))
        return _detect(a_info, b_info, before, after, out, method, geojson, gsd_m, params,
                       structures)


def _inspect(path: Path, vrt: Path) -> ImageInfo:
    """An image file, or a Sentinel-2 band folder read through a VRT written at ``vrt``
    (its bands on the B02 file's grid)."""
    if not is_band_folder(path):
        return inspect_image(path)
    folder = read_band_folder(path)
    vrt.write_text(folder.vrt_xml(), encoding="utf-8")
    return inspect_image(vrt, list(folder.band_names))


def _detect(a_info: ImageInfo, b_info: ImageInfo, before: Path, after: Path, out: Path,
            method: str, geojson: Path | None, gsd_m: float | None,
            params: dict[str, Any] | None, structures: Path | None = None) -> PairResult:
    if gsd_m is not None and not (math.isfinite(gsd_m) and 0.001 <= gsd_m <= 100_000):
        raise InputValueError(f"--gsd {gsd_m} is not a pixel size: give metres, from 0.001 "
                              "to 100000, such as 0.5")
    _check_memory(a_info, b_info, before, method, gsd_m)
    a = read_plain(a_info)
    _check_has_data(a, before)
    if a_info.crs and a_info.transform and b_info.georeferenced:
        b = read_onto(b_info, a_info.crs, a_info.transform, a_info.width, a_info.height)
        if np.isfinite(b).all(axis=0).mean() < 0.01:
            if not has_valid_pixels(b_info):
                raise _no_data(after)
            raise GeometryError(
                f"{after} does not overlap {before}: give two images of the same ground"
            )
    else:
        if (a_info.width, a_info.height) != (b_info.width, b_info.height):
            raise InputValueError(
                f"{before} is {a_info.width}x{a_info.height} px and {after} is "
                f"{b_info.width}x{b_info.height} px, and they are not both georeferenced: "
                "give images of the same size or georeferenced images"
            )
        b = read_plain(b_info)
        _check_has_data(b, after)
    if not (np.isfinite(a).all(axis=0) & np.isfinite(b).all(axis=0)).any():
        raise InputValueError(f"no pixel holds data in both {before} and {after}: give "
                              "images whose valid areas overlap")
    ia, ib, names = common_bands(data_band_names(a_info.band_names),
                                 data_band_names(b_info.band_names))
    georef = a_info.georeferenced
    pixel = gsd_m if gsd_m is not None else (a_info.gsd_m if georef else None)
    used = resolve_method(method, pixel, names)
    run = get_method(used)
    result = run(a[ia], b[ib], names, pixel, params or {})
    crs = a_info.crs if georef else None
    tf = a_info.transform if georef else None
    objects = extract_objects(result, tf, crs, pixel,
                              px_area_m2=None if georef or gsd_m is None else gsd_m * gsd_m)
    doc = None if structures is None else structures_of(
        result, a[ia], b[ib], names, pixel, tf, crs, [o.geometry for o in objects])
    _write_outputs(out, geojson, result, objects, georef, crs, tf,
                   None if structures is None else (structures, doc))
    return PairResult(result, objects, georef, used, doc)


#: peak bytes a detector holds per pixel of BEFORE's grid: (fixed, per band). Measured on
#: 3000 px pairs (peak resident memory over the size of the grid): cva 42 (1 band) and
#: 72 (3 bands), the model 85 and 100; rounded up. Other detectors get the larger terms.
BYTES_PER_PIXEL = {"cva": (32, 16), "model": (96, 8)}
_OTHER = (96, 16)


def _check_memory(a_info: ImageInfo, b_info: ImageInfo, before: Path, method: str,
                  gsd_m: float | None) -> None:
    """Refuse, before anything is read, a pair whose working memory (both images as float32
    on BEFORE's grid and the detector's own arrays) is over the budget."""
    pixel = gsd_m if gsd_m is not None else (a_info.gsd_m if a_info.georeferenced else None)
    fixed, per_band = BYTES_PER_PIXEL.get(resolve_method(method, pixel), _OTHER)
    bands = max(a_info.count, b_info.count)
    check_memory(
        a_info.width * a_info.height * (fixed + per_band * bands),
        f"detect on {before} ({a_info.width} x {a_info.height} px, {a_info.count} band(s))",
        "crop the images first (gdal_translate -srcwin), or add a site over the area and "
        "import them ('sitewatch scenes import'): 'sitewatch analyze' reads only the "
        "site's window")


def _check_has_data(data: np.ndarray, path: Path) -> None:
    """(bands, h, w) float32 read from ``path``: refuse it when no pixel holds data."""
    if not np.isfinite(data).all(axis=0).any():
        raise _no_data(path)


def _no_data(path: Path) -> InputValueError:
    return InputValueError(f"{path} holds no data (every pixel is NaN, the nodata value or "
                           "transparent): give an image with data")


def _write_outputs(out: Path, geojson: Path | None, result: ChangeResult,
                   objects: list[ChangeObject], georef: bool, crs: str | None,
                   tf: Any, structures: tuple[Path, dict[str, Any] | None] | None = None
                   ) -> None:
    """The mask and the polygons together or neither: both are written to temporary files
    first, and renamed into place only when both are complete (the GeoJSON first, so that
    a mask never stands without the polygons asked for with it)."""
    with ExitStack() as stack:
        mask_tmp = stack.enter_context(atomic_path(out))
        gj_tmp = None if geojson is None else stack.enter_context(atomic_path(geojson))
        st_tmp = None if structures is None else stack.enter_context(
            atomic_path(structures[0]))
        write_mask(mask_tmp, result.mask, crs, tf)
        if gj_tmp is not None:
            fc: dict[str, Any] = {"type": "FeatureCollection",
                                  "features": [o.feature() for o in objects]}
            if not georef:
                fc["note"] = "geometry in pixel coordinates (column, row) of BEFORE"
            gj_tmp.write_text(json.dumps(fc), encoding="utf-8")
        if st_tmp is not None and structures is not None:
            st_tmp.write_text(json.dumps(structures_geojson(structures[1])), encoding="utf-8")
