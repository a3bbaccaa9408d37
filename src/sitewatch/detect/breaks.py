"""Break detection in irregular, gappy time series: a harmonic model of the seasons with a
robust sequential monitoring test, in the spirit of CCDC/COLD (Zhu & Woodcock 2014;
Zhu et al. 2020) and BFAST Monitor.

For each segment:

1. initialise on the first ``n_init`` clear observations spanning at least a year,
   fitted robustly (Tukey bisquare), refused while unstable (slope or end residuals
   large against the noise) by sliding the window on;
2. monitor the following observations: each gets the sum over features of its squared
   residual divided by the feature's noise (the larger of the model RMSE and the median
   absolute difference of consecutive observations); ``conse`` consecutive observations
   above the chi-square ``probability`` quantile make a break, dated at the first of them;
   isolated exceedances are outliers and are left out of the model;
3. refit as the segment grows by a third, then go on from the break.

Inputs are days (any ordinal or epoch) and an (n, k) feature array; NaN rows are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from scipy.stats import chi2

DAYS_PER_YEAR = 365.25


@dataclass(frozen=True)
class BreakParams:
    """Settings of the monitoring test (COLD's defaults for Landsat where they apply)."""

    probability: float = 0.99  # chi-square quantile of the change test
    conse: int = 6  # consecutive anomalous observations that confirm a break
    n_init: int = 12  # clear observations needed to start a segment
    min_years: float = 1.0  # and the years they must span
    outlier_probability: float = 0.999999  # a single residual this large is an outlier
    max_harmonics: int = 3

    def as_dict(self) -> dict[str, float | int]:
        return {"probability": self.probability, "conse": self.conse, "n_init": self.n_init,
                "min_years": self.min_years, "outlier_probability": self.outlier_probability,
                "max_harmonics": self.max_harmonics}


@dataclass(frozen=True)
class Break:
    """A confirmed break: first anomalous observation, its index and per-feature change."""

    day: float
    index: int  # row of ``values`` given to detect_breaks
    magnitude: np.ndarray  # (k,) median residual of the confirming observations
    score: float  # chi-square-like size of the change, in noise units


@dataclass(frozen=True)
class Segment:
    start_day: float
    end_day: float
    n_obs: int
    coefs: np.ndarray  # (p, k) for design(days, n_harm, origin=first clear day)
    rmse: np.ndarray  # (k,)


@dataclass
class BreakResult:
    breaks: list[Break] = field(default_factory=list)
    segments: list[Segment] = field(default_factory=list)
    outliers: int = 0


def design(days: np.ndarray, n_harm: int, origin: float) -> np.ndarray:
    """(n, 2 + 2*n_harm): intercept, slope per year, and annual harmonics."""
    t = (days - origin) / DAYS_PER_YEAR
    w = 2 * np.pi * days / DAYS_PER_YEAR
    cols = [np.ones_like(t), t]
    for h in range(1, n_harm + 1):
        cols += [np.cos(h * w), np.sin(h * w)]
    return np.stack(cols, axis=1)


def _n_harm(n: int, max_harm: int) -> int:
    # COLD: 4 coefficients below 18 observations, 6 below 24, 8 otherwise
    return min(max_harm, 1 if n < 18 else 2 if n < 24 else 3)


def _fit(x_all: np.ndarray, idx: np.ndarray, y: np.ndarray, max_harm: int,
         robust: bool = False) -> tuple[np.ndarray, int, np.ndarray]:
    """(coefs (p, k), n_harm, rmse (k,)) on rows ``idx``; Tukey bisquare IRLS if ``robust``."""
    n_harm = _n_harm(len(idx), max_harm)
    x = x_all[idx, : 2 + 2 * n_harm]
    yy = y[idx]
    coefs = np.linalg.lstsq(x, yy, rcond=None)[0]
    if robust:
        for _ in range(3):
            r = yy - x @ coefs
            s = 1.4826 * np.median(np.abs(r - np.median(r, axis=0)), axis=0) + 1e-9
            u = r / (4.685 * s)
            w = np.where(np.abs(u) < 1, (1 - u**2) ** 2, 0.0).min(axis=1)
            if w.sum() < x.shape[1] + 1:
                break
            sw = np.sqrt(w)[:, None]
            coefs = np.linalg.lstsq(x * sw, yy * sw, rcond=None)[0]
    resid = yy - x @ coefs
    dof = max(len(idx) - x.shape[1], 1)
    rmse = np.sqrt((resid**2).sum(axis=0) / dof)
    return coefs, n_harm, rmse


def _predict(x_all: np.ndarray, rows: slice | np.ndarray, coefs: np.ndarray) -> np.ndarray:
    return x_all[rows, : coefs.shape[0]] @ coefs


@lru_cache(maxsize=64)
def _chi2(probability: float, k: int) -> float:
    return float(chi2.ppf(probability, k))


def variogram(y: np.ndarray) -> np.ndarray:
    """Median absolute difference of consecutive observations per feature (noise floor)."""
    if len(y) < 2:
        return np.zeros(y.shape[1])
    return np.median(np.abs(np.diff(y, axis=0)), axis=0)


def _first_run(flags: np.ndarray, length: int) -> int:
    """Index of the first run of ``length`` True values, or -1."""
    if len(flags) < length:
        return -1
    c = np.convolve(flags.astype(np.int32), np.ones(length, dtype=np.int32), mode="valid")
    hits = np.flatnonzero(c == length)
    return int(hits[0]) if len(hits) else -1


def detect_breaks(days: np.ndarray, values: np.ndarray, params: BreakParams | None = None,
                  noise_floor: np.ndarray | None = None) -> BreakResult:
    """Breaks in one series. ``days`` (n,) increasing; ``values`` (n, k) with NaN = unclear.

    ``noise_floor`` (k,) overrides the variogram of the series as the smallest noise.
    """
    p = params or BreakParams()
    values = np.asarray(values, dtype=np.float64)
    if values.ndim == 1:
        values = values[:, None]
    ok = np.isfinite(values).all(axis=1) & np.isfinite(days)
    t, y = np.asarray(days, dtype=np.float64)[ok], values[ok]
    order = np.argsort(t, kind="stable")
    t, y = t[order], y[order]
    rows = np.flatnonzero(ok)[order]
    k = y.shape[1]
    n_all = len(t)
    thr, thr_out = _chi2(p.probability, k), _chi2(p.outlier_probability, k)
    # one design matrix for the whole series (a segment's origin only moves the intercept)
    x_all = design(t, p.max_harmonics, float(t[0]) if n_all else 0.0)
    floor = variogram(y) if noise_floor is None else np.asarray(noise_floor, dtype=np.float64)
    floor = np.maximum(floor, 1e-6)
    result = BreakResult()
    n = len(t)
    start = 0
    while start < n:
        # --- initialise: a stable window of n_init obs spanning min_years -----------------
        seg_idx: np.ndarray | None = None
        s = start
        while s + p.n_init <= n:
            e = s + p.n_init
            while e < n and t[e - 1] - t[s] < p.min_years * DAYS_PER_YEAR:
                e += 1
            if t[e - 1] - t[s] < p.min_years * DAYS_PER_YEAR:
                break
            idx = np.arange(s, e)
            coefs, _, rmse = _fit(x_all, idx, y, p.max_harmonics, robust=True)
            scale = np.maximum(rmse, floor)
            resid = y[idx] - _predict(x_all, idx, coefs)
            # drop gross outliers (clouds the mask missed) from the window
            z = ((resid / scale) ** 2).sum(axis=1)
            keep = z <= thr_out
            if keep.sum() >= p.n_init - 2 and not keep.all():
                idx = idx[keep]
                coefs, _, rmse = _fit(x_all, idx, y, p.max_harmonics)
                scale = np.maximum(rmse, floor)
                resid = y[idx] - _predict(x_all, idx, coefs)
                result.outliers += int((~keep).sum())
            slope = np.abs(coefs[1] * (t[idx[-1]] - t[idx[0]]) / DAYS_PER_YEAR)
            ends = np.maximum(np.abs(resid[0]), np.abs(resid[-1]))
            if (((slope + ends) / scale) ** 2).sum() <= thr:
                seg_idx = idx
                break
            s += 1
        if seg_idx is None:
            break
        pos = int(seg_idx[-1]) + 1
        coefs, _, rmse = _fit(x_all, seg_idx, y, p.max_harmonics)
        broke = False
        while pos < n:
            scale = np.maximum(rmse, floor)
            z = (((y[pos:] - _predict(x_all, slice(pos, None), coefs)) / scale) ** 2).sum(axis=1)
            exceed = z > thr
            k_break = _first_run(exceed, p.conse)
            grow = max(int(np.ceil(len(seg_idx) / 3)), 1)  # refit after a third more obs
            normal = np.flatnonzero(~exceed)
            k_refit = int(normal[grow - 1]) + 1 if len(normal) >= grow else len(exceed)
            if k_break >= 0 and k_break < k_refit:
                b = pos + k_break
                conf = slice(b, b + p.conse)
                mag = np.median(y[conf] - _predict(x_all, conf, coefs), axis=0)
                result.breaks.append(Break(float(t[b]), int(rows[b]), mag,
                                           float(np.sqrt(((mag / scale) ** 2).sum()))))
                result.segments.append(Segment(float(t[seg_idx[0]]), float(t[b - 1]),
                                               len(seg_idx), coefs, rmse))
                start = b
                broke = True
                break
            new = np.arange(pos, pos + k_refit)
            result.outliers += int(exceed[:k_refit].sum())
            seg_idx = np.concatenate([seg_idx, new[~exceed[:k_refit]]])
            pos += k_refit
            coefs, _, rmse = _fit(x_all, seg_idx, y, p.max_harmonics)
        if not broke:
            result.segments.append(Segment(float(t[seg_idx[0]]), float(t[n - 1]),
                                           len(seg_idx), coefs, rmse))
            break
    return result
