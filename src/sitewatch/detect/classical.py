"""Classical change detection: change-vector analysis (CVA) on radiometrically
normalised chips with an automatic (Otsu) threshold, plus spectral rules for
vegetation loss and bare/built-up gain where red and near-infrared bands exist.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import cv2
import numpy as np
from scipy import ndimage
from skimage.filters import threshold_otsu

# the change-map contract is shared with the learned detector; re-exported for callers
from sitewatch.changemap import CHANGE_TYPES as CHANGE_TYPES
from sitewatch.changemap import NODATA, ChangeResult, clean_mask
from sitewatch.detect.indices import ndbi, ndvi
from sitewatch.errors import InputValueError
from sitewatch.parallel import over_rows


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
_SAMPLE_BLOCK = 1 << 20


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
    for start in range(0, flat.size, _SAMPLE_BLOCK):
        where = np.flatnonzero(flat[start:start + _SAMPLE_BLOCK])
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

    The image is computed in blocks of whole rows, on as many threads as there are cores:
    each block's bands are differenced and smoothed with the kernel's reach of rows
    above and below it (the filter sees the rows it would see on the whole image, and
    reflects at the image's own edges only), and their squares summed in band order. At
    4000 px a band's difference is 64 MB; a block's, a few MB."""
    mb, sb, ma, sa, slope, intercept = _coefficients(before, after, valid,
                                                     invariant_quantile)
    bands, h, w = before.shape
    # slope * (a - ma) / sa + intercept - (b - mb) / sb, as a * gain - b * k + c
    gain = [np.float32(slope[i] / sa[i]) for i in range(bands)]
    k = [np.float32(1.0 / sb[i]) for i in range(bands)]
    c = [np.float32(intercept[i] - slope[i] * ma[i] / sa[i] + mb[i] / sb[i])
         for i in range(bands)]
    reach = int(4.0 * sigma + 0.5) if sigma > 0 else 0  # the kernel's radius (SciPy's)
    masked = sigma > 0 and not valid.all()
    out = np.empty((h, w), np.float32)

    def block(r0: int, r1: int) -> None:
        e0, e1 = max(r0 - reach, 0), min(r1 + reach, h)
        inner = slice(r0 - e0, r1 - e0)
        outside = weights = None
        if masked and not valid[e0:e1].all():
            outside = ~valid[e0:e1]
            weights = gaussian(valid[e0:e1].astype(np.float32), sigma)[inner]
        total = np.zeros((r1 - r0, w), np.float32)
        for i in range(bands):
            d = np.multiply(after[i, e0:e1], gain[i], dtype=np.float32)
            d -= np.multiply(before[i, e0:e1], k[i], dtype=np.float32)
            d += c[i]
            if sigma > 0:
                if outside is not None:
                    d[outside] = 0
                gaussian(d, sigma, out=d)
            part = d[inner]
            if weights is not None:
                with np.errstate(invalid="ignore", divide="ignore"):
                    np.divide(part, weights, out=part)
            part *= part
            total += part
        total /= np.float32(bands)
        np.sqrt(total, out=out[r0:r1])

    over_rows(h, _BLOCK_ROWS, block)
    return out


#: rows of a block of :func:`change_magnitude` (with the kernel's reach above and below)
_BLOCK_ROWS = 256


#: OpenCV filters on one thread: sitewatch smooths a block of rows per core itself, and
#: OpenCV's threaded filter copies an image that it filters in place
cv2.setNumThreads(1)


def gaussian(image: np.ndarray, sigma: float, out: np.ndarray | None = None) -> np.ndarray:
    """Gaussian smoothing of a 2-D float32 image (into ``out``, which may be ``image``):
    SciPy's ``gaussian_filter`` (kernel to 4 sigma, edges reflected, ``d c b a | a b c
    d``), computed by OpenCV's vectorised filter, seven times faster here; the values
    agree to float32 rounding (within 5e-7 of a unit-variance image)."""
    radius = int(4.0 * sigma + 0.5)  # SciPy's default truncation of the kernel
    size = (2 * radius + 1, 2 * radius + 1)
    smooth: np.ndarray = cv2.GaussianBlur(image, size, sigma, dst=out, sigmaY=sigma,
                                          borderType=cv2.BORDER_REFLECT)
    return smooth


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


def _index_types(ctype: np.ndarray, before: np.ndarray, after: np.ndarray,
                 band_names: Sequence[str], valid: np.ndarray, ndvi_drop: float) -> None:
    """Vegetation loss (2) and new built or bare ground (3) from NDVI and NDBI, written
    into ``ctype`` in place (pixel by pixel, so any block of rows may be given)."""
    nb, na = ndvi(before, band_names), ndvi(after, band_names)
    if nb is None or na is None:
        return
    veg_loss = valid & (nb > 0.3)
    drop = nb
    drop -= na  # in place: NDVI's drop, without a third image
    veg_loss &= drop > ndvi_drop
    bb, ba = ndbi(before, band_names), ndbi(after, band_names)
    if bb is not None and ba is not None:
        built = valid & (ba - bb > 0.1) & (na < 0.2)
    else:  # bare or built ground appears: vegetation gone and brighter surface
        built = valid & (na < 0.15) & (drop > ndvi_drop)
        veg_loss &= ~built
    ctype[veg_loss] = 2
    ctype[built] = 3


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
    del changed
    # the index images by blocks of rows (pixel by pixel: the same types as on the whole
    # image; at 4000 px the four indices and a difference were 320 MB at once)
    for r0 in range(0, valid.shape[0], _BLOCK_ROWS):
        rows = slice(r0, r0 + _BLOCK_ROWS)
        _index_types(ctype[rows], before[:, rows], after[:, rows], band_names, valid[rows],
                     p.ndvi_drop)
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
