"""eo-learn EOPatch folders: a time series of arrays with timestamps and a bounding box.

An EOPatch holds ``data/*.npy`` features shaped (time, height, width, channels),
``mask/*.npy`` masks of the same shape, ``timestamps.json`` and ``bbox.geojson``
(a polygon with its CRS). Each date becomes one float32 raster whose masked pixels
(cloud mask ``CLM`` = 1, ``IS_DATA`` = 0, ``IS_VALID`` = false) are NaN.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
from affine import Affine
from rasterio.crs import CRS
from rasterio.transform import from_bounds

from sitewatch.errors import InputFileError

#: masks whose value marks a pixel as unusable: name -> value that means "masked"
_MASKS = {"CLM": 1, "IS_DATA": 0, "IS_VALID": 0}
_S2_L1C = ["coastal", "blue", "green", "red", "rededge1", "rededge2", "rededge3", "nir",
           "nir08", "wv", "cirrus", "swir16", "swir22"]


def is_eopatch(path: Path) -> bool:
    return path.is_dir() and (path / "timestamps.json").is_file() and (path / "data").is_dir()


@dataclass(frozen=True)
class EOPatchSlice:
    """One date of an EOPatch as a (bands, h, w) float32 array, NaN where masked."""

    acquired: datetime
    index: int
    data: np.ndarray
    band_names: list[str]
    crs: str
    transform: Affine


def _load(path: Path) -> np.ndarray:
    try:
        arr = np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise InputFileError(f"EOPatch array {path} is not a readable .npy file: {exc}") from exc
    if arr.ndim != 4:
        raise InputFileError(f"EOPatch array {path} has shape {arr.shape}: expected "
                             "(time, height, width, channels)")
    return arr


def _georeference(patch: Path, height: int, width: int) -> tuple[str, Affine]:
    try:
        bbox = json.loads((patch / "bbox.geojson").read_text())
        crs_name = bbox.get("crs", {}).get("properties", {}).get("name", "EPSG:4326")
        xs = [p[0] for p in bbox["coordinates"][0]]
        ys = [p[1] for p in bbox["coordinates"][0]]
        crs = CRS.from_user_input(crs_name.replace("urn:ogc:def:crs:", "").replace("::", ":"))
    except (OSError, ValueError, KeyError, IndexError, TypeError) as exc:
        raise InputFileError(f"EOPatch {patch} has no usable bbox.geojson ({exc}): "
                             "it needs a polygon with its CRS") from exc
    return crs.to_string(), from_bounds(min(xs), min(ys), max(xs), max(ys), width, height)


def read_eopatch(patch: Path) -> Iterator[EOPatchSlice]:
    """Yield each date of an EOPatch with all its data features as bands."""
    try:
        stamps = [datetime.fromisoformat(t) for t in json.loads(
            (patch / "timestamps.json").read_text())]
    except (OSError, ValueError, TypeError) as exc:
        raise InputFileError(f"EOPatch {patch}: timestamps.json is not a list of ISO dates "
                             f"({exc})") from exc
    features = sorted((patch / "data").glob("*.npy"))
    if not features:
        raise InputFileError(f"EOPatch {patch} has no data/*.npy features")
    arrays = {f.stem: _load(f) for f in features}
    shapes = {a.shape[:3] for a in arrays.values()}
    if len(shapes) != 1 or next(iter(shapes))[0] != len(stamps):
        raise InputFileError(f"EOPatch {patch}: features disagree in shape {sorted(shapes)} or "
                             f"with its {len(stamps)} timestamps")
    t, h, w = next(iter(shapes))
    names: list[str] = []
    for stem, arr in arrays.items():
        c = arr.shape[3]
        if c == 1:
            names.append(stem.lower())
        elif c == len(_S2_L1C) and "BANDS" in stem.upper():
            names.extend(_S2_L1C)
        else:
            names.extend(f"{stem.lower()}_{i + 1}" for i in range(c))
    masks = {}
    for name, bad in _MASKS.items():
        f = patch / "mask" / f"{name}.npy"
        if f.is_file():
            masks[name] = (_load(f), bad)
    crs, transform = _georeference(patch, h, w)
    for i, when in enumerate(stamps):
        data = np.concatenate([np.moveaxis(np.asarray(a[i], dtype=np.float32), -1, 0)
                               for a in arrays.values()])
        for arr, bad in masks.values():
            data[:, np.asarray(arr[i, :, :, 0]) == bad] = np.nan
        yield EOPatchSlice(when, i, data, names, crs, transform)
