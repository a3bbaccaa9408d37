"""Classical change detection: change-vector analysis (CVA) on radiometrically
normalised chips with an automatic (Otsu) threshold, plus spectral rules for
vegetation loss and bare/built-up gain where red and near-infrared bands exist.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy import ndimage
from skimage.filters import threshold_otsu

# the change-map contract is shared with the learned detector; re-exported for callers
from sitewatch.changemap import CHANGE_TYPES as CHANGE_TYPES
from sitewatch.changemap import NODATA, ChangeResult, clean_mask
from sitewatch.detect.indices import ndbi, ndvi
from sitewatch.errors import InputValueError


@dataclass(frozen=True)
class CvaParams:
    """Parameters of the classical detector (stored with every run).

    smooth_sigma_px: Gaussian smoothing before differencing (pixels).
    min_threshold: floor of the Otsu threshold, in standard deviations of change.
    ndvi_drop: NDVI decrease that counts as vegetation loss.
    mmu_m2: minimum mapping unit in m2 (``mmu_px`` when the pixel size is unknown).
    """

    smooth_sigma_px: float = 2.0
    min_threshold: float = 0.75
    invariant_quantile: float = 0.5
    ndvi_drop: float = 0.15
    mmu_m2: float = 50.0
    mmu_px: int = 20
    opening_px: int = 1

    def __post_init__(self) -> None:
        if not 0 < self.invariant_quantile <= 1:
            raise InputValueError("invariant_quantile must lie in (0, 1]")
        if self.smooth_sigma_px < 0 or self.min_threshold < 0 or self.mmu_m2 < 0:
            raise InputValueError("CVA parameters must not be negative")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


#: pixels used to find the invariant pixels' threshold and to fit each band's line
FIT_SAMPLE = 250_000


def _standardise(x: np.ndarray, valid: np.ndarray | None) -> tuple[float, float]:
    """Mean and standard deviation of ``x`` over ``valid`` (None: every pixel)."""
    v = x if valid is None else x[valid]
    # float64 accumulators: float32 sums of values near its largest overflow to inf
    sd = float(v.std(dtype=np.float64))
    return float(v.mean(dtype=np.float64)), sd if 0 < sd < np.inf else 1.0


def normalise_pair(before: np.ndarray, after: np.ndarray, valid: np.ndarray,
                   invariant_quantile: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Relative radiometric normalisation; returns both stacks as z-scores of ``before``.

    Each band of ``after`` is matched to ``before`` by a linear fit over pseudo-invariant
    pixels (those whose first-pass change magnitude is below ``invariant_quantile``),
    which removes gain/offset differences of illumination, season and sensor.
    Inputs are (bands, h, w) float32; outputs too.
    """
    zb = np.empty_like(before, dtype=np.float32)
    za = np.empty_like(after, dtype=np.float32)
    where = None if valid.all() else valid
    for i in range(before.shape[0]):
        mb, sb = _standardise(before[i], where)
        ma, sa = _standardise(after[i], where)
        zb[i] = (before[i] - mb) / sb
        za[i] = (after[i] - ma) / sa
    first = _rms_difference(za, zb)
    # the fit needs a sample, not every pixel: a regular subsample of at most
    # FIT_SAMPLE pixels (deterministic) gives the same line to well under 1e-3
    first_valid = first.ravel() if where is None else first[valid]
    step = max(1, first_valid.size // FIT_SAMPLE)
    cut = np.quantile(first_valid[::step], invariant_quantile)
    # the pseudo-invariant pixels' positions, every step-th: the fit reads only those
    picks = np.flatnonzero(valid & (first <= cut))
    n_pif = int(picks.size)
    if n_pif >= 10:
        picks = picks[::max(1, n_pif // FIT_SAMPLE)]
        for i in range(before.shape[0]):
            x, y = za[i].ravel()[picks], zb[i].ravel()[picks]
            if not np.ptp(x) > 0:  # a constant band (a blank scene): no gain to fit
                continue
            slope, intercept = np.polyfit(x.astype(np.float64), y.astype(np.float64), 1)
            za[i] *= np.float32(slope)
            za[i] += np.float32(intercept)
    return zb, za


def _rms_difference(a: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
    """sqrt(mean over bands of (a - b)^2), (h, w) float32, accumulated band by band (no
    (bands, h, w) temporaries); ``b`` None: of ``a`` itself."""
    acc = np.zeros(a.shape[1:], np.float32)
    for i in range(a.shape[0]):
        d = a[i] if b is None else a[i] - b[i]
        acc += d * d
    acc /= np.float32(a.shape[0])
    return np.sqrt(acc, out=acc)


def _smooth(stack: np.ndarray, valid: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian smoothing of each band over valid pixels only (normalised convolution),
    in float32. Where every pixel is valid the weights are 1 (reflected edges) and are not
    computed."""
    if sigma <= 0:
        return stack
    out = np.empty_like(stack, dtype=np.float32)
    if valid.all():
        for i, b in enumerate(stack):
            ndimage.gaussian_filter(b.astype(np.float32, copy=False), sigma, output=out[i])
        return out
    w = ndimage.gaussian_filter(valid.astype(np.float32), sigma)
    for i, b in enumerate(stack):
        s = ndimage.gaussian_filter(np.where(valid, b, 0).astype(np.float32), sigma)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[i] = s / w
    return out


def cva_change(before: np.ndarray, after: np.ndarray, band_names: Sequence[str],
               gsd_m: float | None = None, params: CvaParams | None = None) -> ChangeResult:
    """Detect change between two co-registered stacks.

    before, after: (bands, h, w) float32 on the same grid, NaN where there is no data.
    band_names: harmonised names of the bands ("red", "nir", ...).
    gsd_m: pixel size in metres (for the minimum mapping unit), None if unknown.
    """
    p = params or CvaParams()
    if before.shape != after.shape:
        raise InputValueError(f"stacks differ in shape: {before.shape} vs {after.shape}")
    valid = np.isfinite(before).all(axis=0) & np.isfinite(after).all(axis=0)
    if valid.sum() < 64:
        raise InputValueError("fewer than 64 pixels have data in both images: nothing to compare")
    zb, za = normalise_pair(before, after, valid, p.invariant_quantile)
    # smoothing is linear: smoothing the difference equals the difference of the smoothed
    # stacks, at half the filtering
    za -= zb
    diff = _smooth(za, valid, p.smooth_sigma_px)
    del za, zb
    magnitude = _rms_difference(diff)
    del diff
    magnitude[~valid] = np.nan
    values = magnitude[valid]
    values = values[np.isfinite(values)]  # a magnitude that overflowed is not a threshold
    otsu = float(threshold_otsu(values)) if values.size else np.inf
    threshold = max(otsu, p.min_threshold)
    changed = valid & (magnitude > threshold)

    ctype = np.zeros(valid.shape, dtype=np.uint8)
    ctype[changed] = 1
    nb, na = ndvi(before, band_names), ndvi(after, band_names)
    if nb is not None and na is not None:
        veg_loss = valid & (nb - na > p.ndvi_drop) & (nb > 0.3)
        bb, ba = ndbi(before, band_names), ndbi(after, band_names)
        if bb is not None and ba is not None:
            built = valid & (ba - bb > 0.1) & (na < 0.2)
        else:  # bare or built ground appears: vegetation gone and brighter surface
            built = valid & (na < 0.15) & (nb - na > p.ndvi_drop)
            veg_loss &= ~built
        ctype[veg_loss] = 2
        ctype[built] = 3
    mmu_px = p.mmu_px if gsd_m is None else max(4, math.ceil(p.mmu_m2 / (gsd_m * gsd_m)))
    keep = clean_mask(ctype > 0, mmu_px, p.opening_px) & valid
    # pixels filled by the clean-up take the type of their nearest typed pixel
    if (keep & (ctype == 0)).any():
        idx = ndimage.distance_transform_edt(ctype == 0, return_distances=False,
                                             return_indices=True)
        ctype = ctype[tuple(idx)]
    ctype[~keep] = 0
    mask = keep.astype(np.uint8)
    mask[~valid] = NODATA
    params_out = p.to_dict() | {"otsu_threshold": otsu, "threshold": threshold,
                                "mmu_px_applied": mmu_px}
    return ChangeResult(mask=mask, change_type=ctype, magnitude=magnitude,
                        threshold=threshold, parameters=params_out)
