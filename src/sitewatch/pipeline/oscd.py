"""The OSCD training cities read the way ``sitewatch detect`` reads two band folders, for
the multispectral change model (:mod:`sitewatch.learn.s2data`, ``scripts/train_s2.py``)."""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path

import numpy as np
from rasterio.errors import NotGeoreferencedWarning

from sitewatch.imagery.local import inspect_image, read_onto, read_plain
from sitewatch.imagery.s2folder import read_band_folder
from sitewatch.learn.s2data import City, city_names, make_city, read_label


def read_pair(before: Path, after: Path) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Two band folders as ``sitewatch detect`` reads them: (bands, h, w) float32 each on
    BEFORE's grid (AFTER warped onto it, bilinear), NaN = no data, reflectance (each
    folder's scale and offset applied), and the band names."""
    out, names = [], []
    with tempfile.TemporaryDirectory(prefix="sitewatch-oscd-") as tmp:
        infos = []
        for k, folder in enumerate((before, after)):
            s2 = read_band_folder(folder)
            vrt = Path(tmp) / f"{k}.vrt"
            vrt.write_text(s2.vrt_xml(), encoding="utf-8")
            infos.append((inspect_image(vrt, list(s2.band_names)), s2))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            (ia, sa), (ib, sb) = infos
            a = read_plain(ia)
            assert ia.crs is not None and ia.transform is not None
            b = read_onto(ib, ia.crs, ia.transform, ia.width, ia.height)
        for data, s2 in ((a, sa), (b, sb)):
            if s2.scale is not None:
                data = data * np.float32(s2.scale) + np.float32(s2.offset or 0.0)
            out.append(data)
        names = list(sa.band_names)
    return out[0], out[1], names


def load_city(root: Path, city: str) -> City:
    """One OSCD city (``root`` is the ``oscd`` folder)."""
    d = root / "images" / city
    a, b, names = read_pair(d / "imgs_1", d / "imgs_2")
    return make_city(city, a, b, names, read_label(root, city))


def load_cities(root: Path, names: list[str] | None = None) -> list[City]:
    return [load_city(root, c) for c in (names or city_names(root))]
