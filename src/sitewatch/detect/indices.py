"""Spectral indices on (h, w) float32 reflectance (or digital number) arrays."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def band(stack: np.ndarray, names: Sequence[str], name: str) -> np.ndarray | None:
    """The (h, w) band called ``name`` in a (bands, h, w) stack, or None."""
    return stack[list(names).index(name)] if name in names else None


def normalized_difference(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(a - b) / (a + b) as float32, NaN where the sum is zero or either input is NaN."""
    a32, b32 = a.astype(np.float32, copy=False), b.astype(np.float32, copy=False)
    total = a32 + b32
    out = a32 - b32
    with np.errstate(divide="ignore", invalid="ignore"):
        out /= total  # in place: two images held, not three
    out[total == 0] = np.nan
    return out


def ndvi(stack: np.ndarray, names: Sequence[str]) -> np.ndarray | None:
    """Normalised difference vegetation index (nir - red) / (nir + red), or None."""
    red, nir = band(stack, names, "red"), band(stack, names, "nir")
    return None if red is None or nir is None else normalized_difference(nir, red)


def ndbi(stack: np.ndarray, names: Sequence[str]) -> np.ndarray | None:
    """Normalised difference built-up index (swir16 - nir) / (swir16 + nir), or None."""
    nir, swir = band(stack, names, "nir"), band(stack, names, "swir16")
    return None if nir is None or swir is None else normalized_difference(swir, nir)


def bare_soil_index(stack: np.ndarray, names: Sequence[str]) -> np.ndarray | None:
    """BSI = ((swir16 + red) - (nir + blue)) / ((swir16 + red) + (nir + blue)), or None."""
    parts = [band(stack, names, n) for n in ("swir16", "red", "nir", "blue")]
    if any(p is None for p in parts):
        return None
    swir, red, nir, blue = (p for p in parts if p is not None)
    return normalized_difference(swir + red, nir + blue)


def brightness(stack: np.ndarray) -> np.ndarray:
    """Mean over bands, (h, w) float32."""
    return stack.mean(axis=0, dtype=np.float32)
