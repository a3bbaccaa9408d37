"""The multispectral change model's bands and input scaling, without PyTorch (inference
on ONNX Runtime needs only this and NumPy).

:func:`standardise` makes each date's bands comparable whatever their radiometry: digital
numbers, reflectance, or baseline 04.00 counts with their +1000 offset all give the same
input (each band minus its median over its 5-95 % spread, an affine-invariant scale).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sitewatch.parallel import each

#: the model's bands in order (Earth Search names; Sentinel-2 B01-B09, B11, B12 with B8A)
BANDS = ("coastal", "blue", "green", "red", "rededge1", "rededge2", "rededge3", "nir",
         "nir08", "nir09", "swir16", "swir22")
#: the bands it cannot work without
CORE = ("blue", "green", "red", "nir")
#: height and width of a model input must be multiples of this
MULTIPLE = 8
CLIP = 6.0


def standardise(stack: np.ndarray, sample: int = 500_000, out: np.ndarray | None = None
                ) -> np.ndarray:
    """(bands, h, w) of any radiometry -> float32 with each band minus its median over its
    5-95 % percentile spread (from a regular sample of at most ``sample`` valid values),
    clipped to +-:data:`CLIP`; NaN (no data) become 0. ``out`` (float32, the shape of
    ``stack``, which may be ``stack`` itself) receives the result. The bands are
    standardised side by side, one per core (NumPy computes without the GIL)."""
    if out is None:
        out = np.zeros(stack.shape, np.float32)
    target = out

    def one(i: int) -> None:
        band = stack[i]
        flat = band.ravel()
        step = max(1, flat.size // sample)
        vals = flat[::step]
        vals = vals[np.isfinite(vals)]
        if vals.size == 0:
            target[i] = 0
            return
        lo, mid, hi = (float(v) for v in np.percentile(vals, [5, 50, 95]))
        span = max(hi - lo, 1e-6 * max(abs(mid), 1.0), 1e-12)
        y = target[i]  # written in place (``band`` itself when ``out`` is ``stack``)
        with np.errstate(over="ignore", invalid="ignore"):  # float32 extremes: clipped
            np.subtract(band, mid, out=y, dtype=np.float32)
            y /= np.float32(span)
        np.clip(y, -CLIP, CLIP, out=y)
        np.copyto(y, 0, where=np.isnan(y))

    each(len(stack), one)
    return out


def arrange(stack: np.ndarray, names: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(bands, h, w) named by ``names`` -> ((12, h, w) in :data:`BANDS` order with absent
    bands NaN-free zeros, (12,) float32 presence). Bands outside :data:`BANDS` are unused."""
    names = list(names)
    out = np.zeros((len(BANDS), *stack.shape[1:]), np.float32)
    present = np.zeros(len(BANDS), np.float32)
    for i, name in enumerate(BANDS):
        if name in names:
            out[i] = stack[names.index(name)]
            present[i] = 1.0
    return out, present
