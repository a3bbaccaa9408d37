"""Sub-pixel co-registration of a chip to a reference chip by phase correlation."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import ndimage
from skimage.registration import phase_cross_correlation


@dataclass(frozen=True)
class Shift:
    """Shift (rows, cols) in pixels that moves the chip onto the reference:
    ``reference[r, c] ~ moving[r - dy, c - dx]``. ``status`` is "applied" or why not."""

    dy: float
    dx: float
    error: float
    status: str


def _gray(chip: np.ndarray) -> np.ndarray:
    """(bands, h, w) float32 with NaN nodata -> (h, w) float32, each band standardised."""
    out = np.zeros(chip.shape[1:], dtype=np.float32)
    chip = chip.astype(np.float32, copy=False)
    for band in chip:
        ok = np.isfinite(band)
        if ok.sum() < 2:
            continue
        mu, sd = float(band[ok].mean()), float(band[ok].std()) or 1.0
        out += np.where(ok, (band - mu) / sd, 0.0).astype(np.float32)
    return out / max(len(chip), 1)


#: phase correlation runs on at most this many pixels a side: a translation is the same
#: over the whole chip, so a large chip is measured on its central window of this size
WINDOW_PX = 512


def _central(a: np.ndarray, size: int) -> np.ndarray:
    h, w = a.shape[-2:]
    y, x = max(0, (h - size) // 2), max(0, (w - size) // 2)
    return a[..., y:y + size, x:x + size]


def estimate_shift_in(reference: np.ndarray, moving: np.ndarray, inside: np.ndarray
                      ) -> Shift:
    """:func:`estimate_shift` of the two chips' pixels inside the (h, w) mask ``inside``,
    with the shift limit of the whole chip, masking only the central window it measures
    (no whole-chip copies)."""
    h, w = reference.shape[1:]
    keep = _central(inside, WINDOW_PX)
    ref, mov = (np.where(keep, _central(x, WINDOW_PX), np.nan) for x in (reference, moving))
    return estimate_shift(ref, mov, max_shift_px=max(3.0, 0.1 * min(h, w)))


def estimate_shift(reference: np.ndarray, moving: np.ndarray, max_shift_px: float | None = None,
                   upsample: int = 20, min_gain: float = 0.02) -> Shift:
    """Estimate the translation of ``moving`` against ``reference`` (both (bands, h, w)).

    Shifts larger than ``max_shift_px`` (default: 10% of the smaller side, at least 3 px)
    are reported but marked as rejected: such a shift means the images differ too much
    (or do not show the same ground) for phase correlation to be trusted. So is a shift
    that does not raise the correlation of the two images by ``min_gain``.
    """
    h, w = reference.shape[1:]
    limit = max_shift_px if max_shift_px is not None else max(3.0, 0.1 * min(h, w))
    if max(h, w) > WINDOW_PX:
        reference, moving = _central(reference, WINDOW_PX), _central(moving, WINDOW_PX)
        h, w = reference.shape[1:]
    if min(h, w) < 16:
        return Shift(0.0, 0.0, 1.0, "skipped: chip smaller than 16 px")
    valid = np.isfinite(reference).all(axis=0) & np.isfinite(moving).all(axis=0)
    if valid.mean() < 0.25:
        return Shift(0.0, 0.0, 1.0, "skipped: under 25% common valid pixels")
    win = np.outer(np.hanning(h), np.hanning(w)).astype(np.float32)
    g_ref, g_mov = _gray(reference), _gray(moving)
    (dy, dx), error, _ = phase_cross_correlation(g_ref * win * valid, g_mov * win * valid,
                                                 upsample_factor=upsample)
    if np.hypot(dy, dx) > limit:
        return Shift(float(dy), float(dx), float(error),
                     f"rejected: shift {np.hypot(dy, dx):.1f} px exceeds {limit:.1f} px")
    # accept only a shift that makes the images agree better: where most of the ground
    # changed, phase correlation locks onto noise
    g_ref[~valid] = np.nan
    g_mov[~valid] = np.nan
    moved = ndimage.shift(g_mov, (dy, dx), order=1, mode="constant", cval=np.nan)
    before, after = _corr(g_ref, g_mov), _corr(g_ref, moved)
    if after < before + min_gain:
        return Shift(float(dy), float(dx), float(error),
                     f"rejected: correlation {before:.2f} -> {after:.2f} does not improve")
    return Shift(float(dy), float(dx), float(error), "applied")


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 16:
        return -1.0
    return float(np.corrcoef(a[ok], b[ok])[0, 1])


#: a shift that "does not improve" the correlation means "already aligned" only when the two
#: dates agree this well; below WEAK_CORR the alignment could not be established at all
ALIGNED_CORR = 0.8
WEAK_CORR = 0.5
_CORR = re.compile(r"correlation (-?\d+(?:\.\d+)?) ->")

CoregOutcome = Literal["reference", "applied", "aligned", "weak", "rejected", "unapplied"]


def coreg_outcome(status: str) -> CoregOutcome:
    """What a chip's co-registration status (as :func:`estimate_shift` words it) means for
    the result: "reference" or "applied" (aligned by a measured shift); "aligned" (no shift
    improved an already high correlation); "weak" (not measured, or a middling correlation
    that no shift improved); "rejected" (the images agree too little to be aligned);
    "unapplied" (a shift was measured but too large to apply: the images are offset)."""
    if status in ("reference", "applied"):
        return status  # type: ignore[return-value]
    if status.startswith("rejected") and "exceeds" in status:
        return "unapplied"
    m = _CORR.search(status)
    if status.startswith("rejected") and m:
        before = float(m.group(1))
        if before >= ALIGNED_CORR:
            return "aligned"
        return "weak" if before >= WEAK_CORR else "rejected"
    return "weak"  # skipped (chip too small, too little in common) or unknown wording
