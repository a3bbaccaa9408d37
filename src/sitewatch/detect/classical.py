"""Classical change detection: change-vector analysis (CVA) on radiometrically
normalised chips with an automatic (Otsu) threshold, plus spectral rules for
vegetation loss and bare/built-up gain where red and near-infrared bands exist.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any, TypeVar

import cv2
import numpy as np
from scipy import ndimage
from skimage.filters import threshold_otsu

# the change-map contract is shared with the learned detector; re-exported for callers
from sitewatch.changemap import CHANGE_TYPES as CHANGE_TYPES
from sitewatch.changemap import NODATA, ChangeResult, clean_mask
from sitewatch.detect.indices import ndbi, ndvi
from sitewatch.errors import InputValueError

T = TypeVar("T")


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


#: pixels per block when valid pixels are counted out
_BLOCK = 1 << 20


def _sample(valid: np.ndarray) -> np.ndarray:
    """Flat positions of a regular subsample of at most about FIT_SAMPLE valid pixels:
    every k-th valid pixel in reading order (deterministic; every valid pixel of a small
    image), found block by block, without the positions of all of them (at 4000 px
    128 MB)."""
    if valid.all():
        return np.arange(0, valid.size, max(1, valid.size // FIT_SAMPLE))
    flat = valid.reshape(-1)
    step = max(1, int(np.count_nonzero(flat)) // FIT_SAMPLE)
    picks, seen = [], 0
    for start in range(0, flat.size, _BLOCK):
        where = np.flatnonzero(flat[start:start + _BLOCK])
        picks.append(where[(-seen) % step::step] + start)  # ranks that are multiples of k
        seen += where.size
    return np.concatenate(picks)


def _moments(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-band mean and standard deviation of (bands, n) samples, in float64; a constant
    or overflowing band gets a deviation of 1."""
    mean, sd = v.mean(axis=1), v.std(axis=1)
    sd[~((sd > 0) & (sd < np.inf))] = 1.0
    return mean, sd


def _coefficients(before: np.ndarray, after: np.ndarray, valid: np.ndarray,
                  invariant_quantile: float) -> tuple[np.ndarray, ...]:
    """(mb, sb, ma, sa, slope, intercept) per band, from a sample of the valid pixels: the
    z-scores of each date, and the line matching ``after``'s z-scores to ``before``'s over
    the pseudo-invariant pixels (those whose first-pass change magnitude is at most its
    ``invariant_quantile``). A sample of FIT_SAMPLE pixels gives the same lines as every
    pixel to well under 1e-3; images that small use every pixel."""
    n = before.shape[0]
    picks = _sample(valid)
    b = before.reshape(n, -1)[:, picks].astype(np.float64)
    a = after.reshape(n, -1)[:, picks].astype(np.float64)
    mb, sb = _moments(b)
    ma, sa = _moments(a)
    # z-scores of both dates at the sampled pixels, in place
    b -= mb[:, None]
    b /= sb[:, None]
    a -= ma[:, None]
    a /= sa[:, None]
    with np.errstate(over="ignore", invalid="ignore"):
        first = np.einsum("ij,ij->j", a - b, a - b)  # n times the mean square
    slope, intercept = np.ones(n), np.zeros(n)
    finite = np.isfinite(first)
    if finite.any():
        pif = finite & (first <= np.quantile(first[finite], invariant_quantile))
        if int(pif.sum()) >= 10:
            for i in range(n):
                x, y = a[i, pif], b[i, pif]
                # least squares y = slope * x + intercept, in closed form
                dx = x - x.mean()
                var = float(dx @ dx)
                if var > 0:  # a constant band (a blank scene): no gain to fit
                    slope[i] = float(dx @ (y - y.mean())) / var
                    intercept[i] = y.mean() - slope[i] * x.mean()
    return mb, sb, ma, sa, slope, intercept


def change_magnitude(before: np.ndarray, after: np.ndarray, valid: np.ndarray,
                     invariant_quantile: float = 0.5, sigma: float = 0.0) -> np.ndarray:
    """The change vector's length: (h, w) float32, the root mean square over bands of
    ``after`` minus ``before`` after relative radiometric normalisation, in z-scores of
    ``before``, each band's difference smoothed first (Gaussian ``sigma`` px, over valid
    pixels only: a normalised convolution).

    Each band of ``after`` is matched to ``before`` by a linear fit over pseudo-invariant
    pixels, which removes gain/offset differences of illumination, season and sensor.
    Bands are differenced and smoothed on as many threads as there are cores, one band
    per thread at a time (at 4000 px a stack of differences is 256 MB, a band 64 MB);
    the filter releases the GIL and smooths in place, and the squares are summed in band
    order whatever the threads."""
    mb, sb, ma, sa, slope, intercept = _coefficients(before, after, valid,
                                                     invariant_quantile)
    weights = outside = None
    if sigma > 0 and not valid.all():
        weights = gaussian(valid.astype(np.float32), sigma)
        outside = ~valid

    def difference(i: int) -> np.ndarray:
        # slope * (a - ma) / sa + intercept - (b - mb) / sb, as a * k - b / sb + c
        out = np.multiply(after[i], np.float32(slope[i] / sa[i]), dtype=np.float32)
        k = np.float32(1.0 / sb[i])
        for r in range(0, out.shape[0], _ROWS):
            out[r:r + _ROWS] -= np.multiply(before[i, r:r + _ROWS], k, dtype=np.float32)
        out += np.float32(intercept[i] - slope[i] * ma[i] / sa[i] + mb[i] / sb[i])
        if sigma > 0:
            _smooth_band(out, sigma, outside, weights)
        return out

    acc = np.zeros(before.shape[1:], np.float32)
    _per_band(difference, before.shape[0], lambda d: _add_square(acc, d))
    acc /= np.float32(before.shape[0])
    return np.sqrt(acc, out=acc)


#: rows per block of a band's temporaries
_ROWS = 256


def _add_square(acc: np.ndarray, d: np.ndarray) -> None:
    d *= d
    acc += d


#: OpenCV filters on one thread: sitewatch smooths one band per core itself, and OpenCV's
#: threaded filter copies an image that it filters in place (64 MB a band at 4000 px)
cv2.setNumThreads(1)


def gaussian(image: np.ndarray, sigma: float, out: np.ndarray | None = None) -> np.ndarray:
    """Gaussian smoothing of a 2-D float32 image (into ``out``, which may be ``image``):
    SciPy's ``gaussian_filter`` (kernel to 4 sigma, edges reflected, ``d c b a | a b c
    d``), computed by OpenCV's vectorised filter, seven times faster here; the values
    agree to float32 rounding (within 5e-7 of a unit-variance image)."""
    radius = int(4.0 * sigma + 0.5)  # SciPy's default truncation of the kernel
    size = (2 * radius + 1, 2 * radius + 1)
    if out is None:
        return cv2.GaussianBlur(image, size, sigma, sigmaY=sigma,
                                borderType=cv2.BORDER_REFLECT)
    cv2.GaussianBlur(image, size, sigma, dst=out, sigmaY=sigma,
                     borderType=cv2.BORDER_REFLECT)
    return out


def _smooth_band(band: np.ndarray, sigma: float, outside: np.ndarray | None,
                 weights: np.ndarray | None) -> None:
    """Gaussian smoothing of one band in place; with ``weights`` (the smoothed validity),
    over the valid pixels only (``outside`` set to 0 first, then divided by the weights).
    Where every pixel is valid the weights are 1 (reflected edges) and are not given."""
    if weights is not None and outside is not None:
        band[outside] = 0
    gaussian(band, sigma, out=band)
    if weights is not None:
        with np.errstate(invalid="ignore", divide="ignore"):
            np.divide(band, weights, out=band)


def _per_band(work: Callable[[int], T], bands: int,
              then: Callable[[T], None] | None = None) -> None:
    """``work(i)`` for every band, on up to one thread per core, and ``then`` of each
    result in band order (at most one result per thread is held at a time)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
        os.cpu_count() or 1)
    if bands < 2 or cores < 2:
        for i in range(bands):
            out = work(i)
            if then is not None:
                then(out)
            del out
        return
    threads = min(cores, bands)
    with ThreadPoolExecutor(threads) as pool:
        for start in range(0, bands, threads):
            group = [pool.submit(work, i) for i in range(start, min(start + threads, bands))]
            for done in group:
                out = done.result()
                if then is not None:
                    then(out)
                del out
            del group


def otsu_of_finite(image: np.ndarray) -> float:
    """Otsu's threshold of the finite values of ``image`` (inf when it has none): the same
    value as scikit-image's ``threshold_otsu`` of those values, from a histogram counted
    in place (NumPy counts by blocks; NaN falls in no bin) instead of a copy of them and
    scikit-image's flattened copy of that (at 4000 px, 128 MB at the analysis's peak)."""
    if np.isinf(image).any():  # an overflowed magnitude is no threshold: copy the others
        values = image[np.isfinite(image)]
        return float(threshold_otsu(values)) if values.size else np.inf
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all NaN
        lo, hi = np.nanmin(image), np.nanmax(image)
    if np.isnan(lo):
        return np.inf
    if lo == hi:
        return float(lo)
    # the bins scikit-image takes: 256 between the lowest and the highest value
    counts, edges = np.histogram(image, bins=256, range=(lo, hi))
    return float(threshold_otsu(hist=(counts, (edges[:-1] + edges[1:]) / 2.0)))


def _type_filled(ctype: np.ndarray, keep: np.ndarray) -> None:
    """Pixels that the clean-up added to an object (gaps closed, holes filled) take, in
    place, the type of the nearest typed pixel of the same object: one distance transform
    per object that has such pixels, over the object's box, not over the whole image."""
    filled = keep & (ctype == 0)
    if not filled.any():
        return
    labels, _ = ndimage.label(keep, structure=ndimage.generate_binary_structure(2, 1))
    for i, box in enumerate(ndimage.find_objects(labels), start=1):
        if box is None:
            continue
        mine = labels[box] == i
        gaps = filled[box] & mine
        if not gaps.any():
            continue
        sub = ctype[box]  # a view: written in place
        typed = mine & (sub > 0)
        if not typed.any():
            continue
        rows, cols = ndimage.distance_transform_edt(~typed, return_distances=False,
                                                    return_indices=True)
        sub[gaps] = sub[rows[gaps], cols[gaps]]


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
    # smoothing is linear: smoothing the difference equals the difference of the smoothed
    # stacks, at half the filtering
    magnitude = change_magnitude(before, after, valid, p.invariant_quantile,
                                 p.smooth_sigma_px)
    magnitude[~valid] = np.nan
    otsu = otsu_of_finite(magnitude)
    threshold = max(otsu, p.min_threshold)
    changed = valid & (magnitude > threshold)

    ctype = np.zeros(valid.shape, dtype=np.uint8)
    ctype[changed] = 1
    nb, na = ndvi(before, band_names), ndvi(after, band_names)
    if nb is not None and na is not None:
        veg_loss = valid & (nb > 0.3)
        drop = nb
        drop -= na  # in place: NDVI's drop, without a third image
        veg_loss &= drop > p.ndvi_drop
        bb, ba = ndbi(before, band_names), ndbi(after, band_names)
        if bb is not None and ba is not None:
            built = valid & (ba - bb > 0.1) & (na < 0.2)
        else:  # bare or built ground appears: vegetation gone and brighter surface
            built = valid & (na < 0.15) & (drop > p.ndvi_drop)
            veg_loss &= ~built
        ctype[veg_loss] = 2
        ctype[built] = 3
        del veg_loss, built, bb, ba, drop
    del nb, na  # the index images are freed before the clean-up
    mmu_px = p.mmu_px if gsd_m is None else max(4, math.ceil(p.mmu_m2 / (gsd_m * gsd_m)))
    keep = clean_mask(ctype > 0, mmu_px, p.opening_px) & valid
    _type_filled(ctype, keep)
    ctype[~keep] = 0
    mask = keep.astype(np.uint8)
    mask[~valid] = NODATA
    params_out = p.to_dict() | {"otsu_threshold": otsu, "threshold": threshold,
                                "mmu_px_applied": mmu_px}
    return ChangeResult(mask=mask, change_type=ctype, magnitude=magnitude,
                        threshold=threshold, parameters=params_out)
