"""``sitewatch detect``: change between any two image files of the same ground."""

from __future__ import annotations

import functools
import json
import math
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from scipy import ndimage

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
    """What ``detect`` found: the detector's result, the method used, the structures
    document and the change objects. The objects are vectorised when the polygons were
    asked for (``geojson``, ``structures``), else on first use of :attr:`objects`: a mask
    alone does not pay for tracing hundreds of outlines (:attr:`object_count` counts them
    without)."""

    result: ChangeResult
    georeferenced: bool
    method: str
    #: buildings of both dates and their change (``sitewatch.detect.structures``), when
    #: asked for and the detector gives building maps; else None
    structures: dict[str, Any] | None = None
    _vectorise: Callable[[], list[ChangeObject]] | None = field(default=None, repr=False)
    _objects: list[ChangeObject] | None = field(default=None, repr=False)

    @property
    def objects(self) -> list[ChangeObject]:
        """The change objects, largest first."""
        if self._objects is None:
            self._objects = self._vectorise() if self._vectorise is not None else []
        return self._objects

    @property
    def object_count(self) -> int:
        """How many change objects there are: 4-connected groups of changed pixels."""
        if self._objects is not None:
            return len(self._objects)
        return int(ndimage.label(self.result.mask == 1)[1])


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
    onto = bool(a_info.crs and a_info.transform and b_info.georeferenced)
    if not onto and (a_info.width, a_info.height) != (b_info.width, b_info.height):
        raise InputValueError(
            f"{before} is {a_info.width}x{a_info.height} px and {after} is "
            f"{b_info.width}x{b_info.height} px, and they are not both georeferenced: "
            "give images of the same size or georeferenced images"
        )
    # AFTER is decoded on a second thread while BEFORE is (GDAL reads without the GIL);
    # BEFORE's errors still come first
    with ThreadPoolExecutor(1) as pool:
        crs0, tf0 = a_info.crs, a_info.transform
        later = (pool.submit(read_onto, b_info, crs0, tf0, a_info.width, a_info.height)
                 if onto and crs0 and tf0 else pool.submit(read_plain, b_info))
        a = read_plain(a_info)
        va = np.isfinite(a).all(axis=0)
        if not va.any():
            raise _no_data(before)
        b = later.result()
    vb = np.isfinite(b).all(axis=0)
    if onto and vb.mean() < 0.01:
        if not has_valid_pixels(b_info):
            raise _no_data(after)
        raise GeometryError(
            f"{after} does not overlap {before}: give two images of the same ground"
        )
    if not vb.any():
        raise _no_data(after)
    if not (va & vb).any():
        raise InputValueError(f"no pixel holds data in both {before} and {after}: give "
                              "images whose valid areas overlap")
    del va, vb
    ia, ib, names = common_bands(data_band_names(a_info.band_names),
                                 data_band_names(b_info.band_names))
    georef = a_info.georeferenced
    pixel = gsd_m if gsd_m is not None else (a_info.gsd_m if georef else None)
    used = resolve_method(method, pixel, names)
    run = get_method(used)
    a, b = _bands(a, ia), _bands(b, ib)
    result = run(a, b, names, pixel, params or {})
    crs = a_info.crs if georef else None
    tf = a_info.transform if georef else None
    with ExitStack() as stack:
        # the mask and the polygons together or neither: each is written to a temporary
        # file, and all are renamed into place only when all are complete (the mask last,
        # so that it never stands without the polygons asked for with it)
        mask_tmp = stack.enter_context(atomic_path(out))
        gj_tmp = None if geojson is None else stack.enter_context(atomic_path(geojson))
        st_tmp = None if structures is None else stack.enter_context(atomic_path(structures))
        pool = stack.enter_context(ThreadPoolExecutor(1))
        # the mask is compressed on a second thread (GDAL, without the GIL) while the
        # objects are vectorised, where polygons are asked for
        written = pool.submit(write_mask, mask_tmp, result.mask, crs, tf)
        found = PairResult(result, georef, used, None, functools.partial(
            extract_objects, result, tf, crs, pixel,
            px_area_m2=None if georef or gsd_m is None else gsd_m * gsd_m))
        if gj_tmp is not None or st_tmp is not None:
            found.structures = None if structures is None else structures_of(
                result, a, b, names, pixel, tf, crs, [o.geometry for o in found.objects])
            _write_polygons(gj_tmp, st_tmp, found.objects, georef, found.structures)
        written.result()
    return found


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


def _bands(data: np.ndarray, index: list[int]) -> np.ndarray:
    """These bands of (bands, h, w) ``data``: the array itself when they are all of them."""
    return data if index == list(range(len(data))) else data[index]


def _no_data(path: Path) -> InputValueError:
    return InputValueError(f"{path} holds no data (every pixel is NaN, the nodata value or "
                           "transparent): give an image with data")


def _write_polygons(gj_tmp: Path | None, st_tmp: Path | None, objects: list[ChangeObject],
                    georef: bool, structures: dict[str, Any] | None) -> None:
    """The change polygons and the structures, as GeoJSON, where they were asked for."""
    if gj_tmp is not None:
        # the geometries written by GEOS in one call (the same numbers as json.dumps of
        # their mappings, in a third of the time), the properties by json
        shapes = np.empty(len(objects), object)
        shapes[:] = [o.geometry for o in objects]
        features = ", ".join(
            f'{{"type": "Feature", "geometry": {g}, "properties": {json.dumps(o.properties())}}}'
            for o, g in zip(objects, shapely.to_geojson(shapes), strict=True))
        note = ("" if georef else ', "note": '
                + json.dumps("geometry in pixel coordinates (column, row) of BEFORE"))
        gj_tmp.write_text(f'{{"type": "FeatureCollection", "features": [{features}]{note}}}',
                          encoding="utf-8")
    if st_tmp is not None:
        st_tmp.write_text(json.dumps(structures_geojson(structures)), encoding="utf-8")
