"""The multispectral change model's bands and input scaling, without PyTorch (inference
on ONNX Runtime needs only this and NumPy).

:func:`standardise` makes each date's bands comparable whatever their radiometry: digital
numbers, reflectance, or baseline 04.00 counts with their +1000 offset all give the same
input (each band minus its median over its 5-95 % spread, an affine-invariant scale).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sitewatch.parallel import each

#: the model's bands in order (Earth Search names; Sentinel-2 B01-B09, B11, B12 with B8A)
BANDS = ("coastal", "blue", "green", "red", "rededge1", "rededge2", "rededge3", "nir",
         "nir08", "nir09", "swir16", "swir22")
#: the bands it cannot work without
CORE = ("blue", "green", "red", "nir")
CLIP = 6.0


#: values sampled (regularly) per band for its median and spread
SAMPLE = 500_000


@dataclass(frozen=True)
class BandScale:
    """One band's standardisation: (x - mid) / span, clipped to +-:data:`CLIP`; ``span``
    None: the band has no valid value, and every value becomes 0."""

    mid: float = 0.0
    span: float | None = None

    def apply(self, band: np.ndarray, out: np.ndarray, nan: bool = True) -> None:
        """``band`` standardised into ``out`` (float32, its shape); NaN become 0 unless
        ``nan`` is False (the caller zeroes them itself)."""
        if self.span is None:
            out.fill(0)
            return
        with np.errstate(over="ignore", invalid="ignore"):  # float32 extremes: clipped
            np.subtract(band, self.mid, out=out, dtype=np.float32)
            out /= np.float32(self.span)
        np.clip(out, -CLIP, CLIP, out=out)
        if nan:
            np.copyto(out, 0, where=np.isnan(out))


def band_scale(band: np.ndarray, sample: int = SAMPLE, invalid: np.ndarray | None = None
               ) -> BandScale:
    """The :class:`BandScale` of a (h, w) band: its median over its 5-95 % percentile
    spread, from a regular sample of at most ``sample`` of its finite values (not those
    where ``invalid``, a (h, w) bool, is True)."""
    flat = band.ravel()
    step = max(1, flat.size // sample)
    vals = flat[::step]
    ok = np.isfinite(vals)
    if invalid is not None:
        ok &= ~invalid.ravel()[::step]
    vals = vals[ok]
    if vals.size == 0:
        return BandScale()
    lo, mid, hi = (float(v) for v in np.percentile(vals, [5, 50, 95], overwrite_input=True))
    return BandScale(mid, max(hi - lo, 1e-6 * max(abs(mid), 1.0), 1e-12))


def standardise(stack: np.ndarray, sample: int = SAMPLE, out: np.ndarray | None = None
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
        # written in place (``stack[i]`` itself when ``out`` is ``stack``)
        band_scale(stack[i], sample).apply(stack[i], target[i])

    each(len(stack), one)
    return out


@dataclass(frozen=True)
class Standardiser:
    """Two dates' bands as the model reads them, each tile standardised as it is cut,
    without a standardised copy of the whole images: band ``take[i]`` of each date's
    stack fills the model's band ``slots[i]`` (the others stay as the tile buffer holds
    them: zeros), scaled by that date's :class:`BandScale`; pixels where ``invalid`` is
    True, and NaN, become 0. Equal, tile for tile, to :func:`standardise` of the bands
    with the invalid pixels NaN. ``finite``: the caller found every value of the taken
    bands finite outside ``invalid``, so the search for NaN is left out."""

    take: tuple[int, ...]
    slots: tuple[int, ...]
    scales: tuple[tuple[BandScale, ...], tuple[BandScale, ...]]
    invalid: np.ndarray | None = None
    finite: bool = False

    @classmethod
    def of(cls, before: np.ndarray, after: np.ndarray, take: Sequence[int],
           slots: Sequence[int], invalid: np.ndarray | None = None,
           finite: bool = False, sample: int = SAMPLE) -> Standardiser:
        """Each date's scales from the pixels both have (``invalid``: where either lacks
        a band), the bands of both dates side by side, one per core."""
        take = tuple(int(i) for i in take)
        got: list[BandScale] = [BandScale()] * (2 * len(take))
        stacks = (before, after)

        def one(k: int) -> None:
            got[k] = band_scale(stacks[k // len(take)][take[k % len(take)]], sample, invalid)

        each(len(got), one)
        return cls(take, tuple(int(s) for s in slots),
                   (tuple(got[:len(take)]), tuple(got[len(take):])), invalid, finite)

    def cut(self, date: int, stack: np.ndarray, y0: int, x0: int, th: int, tw: int,
            out: np.ndarray) -> None:
        """Date ``date`` (0 or 1) of ``stack``'s window at (y0, x0), th x tw, standardised
        into ``out[:, :th, :tw]`` (``out``: a (12, >= th, >= tw) float32 tile buffer)."""
        win = (slice(y0, y0 + th), slice(x0, x0 + tw))
        holes = None if self.invalid is None else self.invalid[win]

        def one(i: int) -> None:
            o = out[self.slots[i], :th, :tw]
            self.scales[date][i].apply(stack[self.take[i]][win], o, nan=not self.finite)
            if holes is not None:
                np.copyto(o, 0, where=holes)

        each(len(self.take), one)


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
