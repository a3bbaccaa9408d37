"""Per-pixel quality masks of the common products: which pixels are clear."""

from __future__ import annotations

import numpy as np

#: Sentinel-2 scene classification: vegetation, not vegetated, water, unclassified
SCL_CLEAR = (4, 5, 6, 7)
#: Fmask: clear land, water
FMASK_CLEAR = (0, 1)
#: Landsat Collection 2 QA_PIXEL bits that make a pixel unusable: fill, dilated cloud,
#: cirrus, cloud, cloud shadow, snow
QA_PIXEL_BAD = 0b111111
MASK_KINDS = ("scl", "fmask", "qa_pixel")


def clear_mask(qa: np.ndarray, kind: str) -> np.ndarray:
    """(h, w) bool: True where the QA band (NaN = no data) says the pixel is clear."""
    finite = np.isfinite(qa)
    codes = np.where(finite, qa, -1).astype(np.int64)
    if kind == "scl":
        return finite & np.isin(codes, SCL_CLEAR)
    if kind == "fmask":
        return finite & np.isin(codes, FMASK_CLEAR)
    if kind == "qa_pixel":
        return finite & (codes >= 0) & ((codes & QA_PIXEL_BAD) == 0)
    raise ValueError(f"unknown mask kind {kind!r}: one of {', '.join(MASK_KINDS)}")
