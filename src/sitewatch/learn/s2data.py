"""OSCD (Onera Satellite Change Detection) cities for the multispectral change model.

:mod:`sitewatch.pipeline.oscd` reads each city's two dates as Sentinel-2 band folders by
the code ``sitewatch detect`` uses (a VRT on the B02 grid, 20 m and 60 m bands resampled
bilinear, the second date warped onto the first's grid); :func:`make_city` puts them in
:data:`~sitewatch.learn.s2bands.BANDS` order, standardised per date, as float16. Labels:
``train_labels/<city>/cm/<city>-cm.tif`` (1 = no change, 2 = change) on the 10 m grid.

:func:`sample` cuts random crops with the training augmentation: flips and quarter turns,
swapped dates, per-date radiometric gain and offset with a seasonal (vegetation-band)
term, haze, band dropout down to the four core bands, and misregistration of the second
date by up to one pixel.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
from rasterio.errors import NotGeoreferencedWarning
from scipy import ndimage

from sitewatch.errors import InputFileError
from sitewatch.learn.s2bands import BANDS, CORE, arrange, standardise

#: haze adds most to the short wavelengths (weights by band, BANDS order)
HAZE_WEIGHT = np.array([1.0, 0.9, 0.75, 0.6, 0.5, 0.45, 0.4, 0.35, 0.33, 0.3, 0.15, 0.08],
                       np.float32)
#: bands whose brightness follows vegetation (the seasonal term)
VEG = np.array([n in ("rededge2", "rededge3", "nir", "nir08", "nir09") for n in BANDS])
_CORE_IDX = [BANDS.index(n) for n in CORE]


@dataclass
class City:
    name: str
    a: np.ndarray  #: (12, h, w) float16, standardised
    b: np.ndarray
    label: np.ndarray  #: (h, w) uint8, 1 = change

    def __post_init__(self) -> None:
        self.changed = np.nonzero(self.label)  #: (ys, xs) of the change pixels


def oscd_root(samples: Path) -> Path:
    return samples / "oscd"


def city_names(root: Path) -> list[str]:
    """The cities of ``images/train.txt`` (comma separated)."""
    listing = root / "images" / "train.txt"
    if not listing.is_file():
        raise InputFileError(f"{listing} is missing: is {root} the OSCD folder?")
    return [c.strip() for c in listing.read_text(encoding="utf-8").split(",") if c.strip()]


def read_label(root: Path, city: str) -> np.ndarray:
    path = root / "train_labels" / city / "cm" / f"{city}-cm.tif"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with rasterio.open(path) as ds:
            return (ds.read(1) == 2).astype(np.uint8)


def make_city(name: str, before: np.ndarray, after: np.ndarray, names: list[str],
              label: np.ndarray) -> City:
    """A city from its two dates ((bands, h, w) on one grid, named by ``names``, any
    radiometry, NaN = no data) and its labels: standardised, float16."""
    out = [standardise(arrange(x, names)[0]).astype(np.float16) for x in (before, after)]
    if label.shape != out[0].shape[1:]:
        raise InputFileError(f"{name}: labels {label.shape} and bands {out[0].shape[1:]} "
                             "are not on one grid")
    return City(name, out[0], out[1], label)


# --- augmentation ----------------------------------------------------------------------
def _radiometry(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Per-date gain and offset (global and per band) and a seasonal vegetation term."""
    nb = x.shape[0]
    gain = np.exp(rng.normal(0, 0.08) + rng.normal(0, 0.06, nb), dtype=np.float32)
    offset = np.asarray(rng.normal(0, 0.15) + rng.normal(0, 0.08, nb), np.float32)
    season = np.float32(rng.normal(0, 0.35))
    offset = offset + np.where(VEG, season, -0.3 * season).astype(np.float32)
    return x * gain[:, None, None] + offset[:, None, None]


def _haze(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A smooth random veil, strongest in the blue: lifts and flattens the bands."""
    h, w = x.shape[1:]
    coarse = rng.random((max(2, h // 32), max(2, w // 32))).astype(np.float32)
    field = ndimage.zoom(coarse, (h / coarse.shape[0], w / coarse.shape[1]), order=1)[:h, :w]
    field = np.clip(field * rng.uniform(0.3, 1.0), 0, 1)
    wt = HAZE_WEIGHT[:, None, None] * field[None]
    return x * (1 - 0.6 * wt) + 1.5 * wt


def _shift(x: np.ndarray, dy: float, dx: float) -> np.ndarray:
    """(bands, h, w) moved by (dy, dx) px, |dy|, |dx| <= 1, bilinear, edges repeated."""
    h, w = x.shape[1:]
    p = np.pad(x, ((0, 0), (2, 2), (2, 2)), mode="edge")
    iy, ix = int(np.floor(-dy)), int(np.floor(-dx))
    fy, fx = np.float32(-dy - iy), np.float32(-dx - ix)

    def at(oy: int, ox: int) -> np.ndarray:
        return p[:, 2 + oy:2 + oy + h, 2 + ox:2 + ox + w]

    top = at(iy, ix) * (1 - fx) + at(iy, ix + 1) * fx
    bottom = at(iy + 1, ix) * (1 - fx) + at(iy + 1, ix + 1) * fx
    return top * (1 - fy) + bottom * fy


def _presence(rng: np.random.Generator) -> np.ndarray:
    """Which bands a sample keeps: all (50 %), the four core bands (25 %), or the core
    bands and a random half of the others."""
    p = np.ones(len(BANDS), np.float32)
    u = rng.random()
    if u < 0.5:
        return p
    if u < 0.75:
        p[:] = 0
    else:
        p = (rng.random(len(BANDS)) < 0.5).astype(np.float32)
    p[_CORE_IDX] = 1
    return p


def sample(cities: list[City], rng: np.random.Generator, n: int, crop: int,
           augment: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``n`` crops: (a, b) (n, 12, crop, crop) float32, presence (n, 12), labels (n, 1,
    crop, crop). Cities are drawn by area; half the crops are centred on a change pixel."""
    sizes = np.array([c.label.size for c in cities], np.float64)
    pick = rng.choice(len(cities), size=n, p=sizes / sizes.sum())
    xa = np.zeros((n, len(BANDS), crop, crop), np.float32)
    xb = np.zeros_like(xa)
    pres = np.ones((n, len(BANDS)), np.float32)
    lab = np.zeros((n, 1, crop, crop), np.float32)
    for k, ci in enumerate(pick):
        c = cities[ci]
        h, w = c.label.shape
        ch, cw = min(crop, h), min(crop, w)
        ys, xs = c.changed if rng.random() < 0.5 else ((), ())
        if len(ys):
            j = rng.integers(len(ys))
            y0 = int(np.clip(ys[j] - ch // 2 + rng.integers(-ch // 4, ch // 4 + 1), 0, h - ch))
            x0 = int(np.clip(xs[j] - cw // 2 + rng.integers(-cw // 4, cw // 4 + 1), 0, w - cw))
        else:
            y0, x0 = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
        a = c.a[:, y0:y0 + ch, x0:x0 + cw].astype(np.float32)
        b = c.b[:, y0:y0 + ch, x0:x0 + cw].astype(np.float32)
        y = c.label[y0:y0 + ch, x0:x0 + cw].astype(np.float32)
        if augment:
            if rng.random() < 0.5:
                a, b = b, a
            a, b = _radiometry(a, rng), _radiometry(b, rng)
            if rng.random() < 0.3:
                if rng.random() < 0.5:
                    a = _haze(a, rng)
                else:
                    b = _haze(b, rng)
            if rng.random() < 0.7:
                shift = rng.uniform(-1.0, 1.0, 2)
                b = _shift(b, float(shift[0]), float(shift[1]))
            turns, flip = int(rng.integers(4)), rng.random() < 0.5
            a, b, y = (np.rot90(t, turns, axes=(-2, -1)) for t in (a, b, y))
            if flip:
                a, b, y = (t[..., ::-1] for t in (a, b, y))
            p = _presence(rng)
            pres[k] = p
            a, b = a * p[:, None, None], b * p[:, None, None]
        th, tw = y.shape
        xa[k, :, :th, :tw], xb[k, :, :th, :tw], lab[k, 0, :th, :tw] = a, b, y
    return xa, xb, pres, lab
