"""The multispectral change model as the method ``s2model`` of ``sitewatch detect`` and
``analyze``.

:data:`DETECTOR` describes it to the detector registry, which finds it through the entry
point ``s2model`` of the group ``sitewatch.detectors`` (pyproject.toml), as it finds the
RGB ``model``. It needs blue, green, red and NIR by name and reads those four by default
(``bands=all``: also whichever other Sentinel-2 bands of
:data:`~sitewatch.learn.s2bands.BANDS` both dates have); the values may be counts or
reflectance, of any processing baseline (each date is standardised on its own,
:func:`~sitewatch.learn.s2bands.standardise`, tile by tile as the model reads them).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from sitewatch.changemap import ChangeResult
from sitewatch.errors import InputValueError
from sitewatch.learn.detect import file_sha256
from sitewatch.learn.s2bands import BANDS, CORE, Standardiser
from sitewatch.learn.s2infer import S2Predictor, default_onnx, default_weights

PARAMETERS = ("weights", "threshold", "bands")
#: which bands the model reads: ``core`` (blue, green, red, NIR: the 10 m bands) or ``all``
#: (every Sentinel-2 band both dates have). Chosen by the cross-validation over the OSCD
#: cities (MODEL_CARD_S2.md): pooled F1 0.360 on the four 10 m bands, 0.330 on all twelve
#: (the 20 m and 60 m bands, resampled, blur the small changes the labels mark).
BAND_SETS = ("core", "all")
DEFAULT_BANDS = "core"


@lru_cache(maxsize=4)
def _predictor(weights: str | None) -> S2Predictor:
    return S2Predictor.open(weights)


def _finite(stack: np.ndarray, bands: Sequence[int]) -> np.ndarray:
    """(h, w) bool: where every one of ``bands`` of ``stack`` is finite."""
    out = np.isfinite(stack[bands[0]])
    for i in bands[1:]:
        out &= np.isfinite(stack[i])
    return out


def _check(params: dict[str, Any]) -> None:
    unknown = sorted(set(params) - set(PARAMETERS))
    if unknown:
        raise InputValueError(f"unknown parameter for method 's2model': {', '.join(unknown)}; "
                              f"it takes {', '.join(PARAMETERS)}")


def _bands(params: dict[str, Any]) -> str:
    value = str(params.get("bands", DEFAULT_BANDS))
    if value not in BAND_SETS:
        raise InputValueError(f"bands {value!r}: choose core (blue, green, red, nir) or all")
    return value


def _threshold(params: dict[str, Any], pred: S2Predictor | None) -> float:
    given = params.get("threshold")
    if given is None:
        return float((pred.meta if pred else {}).get("threshold", 0.5))
    try:
        value = float(given)
    except (TypeError, ValueError):
        raise InputValueError(f"threshold {given!r} must be a number between 0 and 1"
                              ) from None
    if not 0 < value < 1:
        raise InputValueError(f"threshold {given} must be between 0 and 1")
    return value


def s2_change(before: np.ndarray, after: np.ndarray, names: Sequence[str],
              gsd_m: float | None, params: dict[str, Any]) -> ChangeResult:
    """Change mask of two co-registered (bands, h, w) stacks named by ``names``."""
    _check(params)
    missing = [b for b in CORE if b not in names]
    if missing:
        raise InputValueError(f"method 's2model' needs band(s) {', '.join(missing)}; the "
                              f"images have {', '.join(names) or 'no named band'}")
    if params.get("threshold") is not None:
        _threshold(params, None)  # a bad threshold fails before the model loads
    band_set = _bands(params)
    # the bands the model reads: the core four, or every band of BANDS both dates have
    chosen = (list(CORE) if band_set == "core"
              else list(dict.fromkeys(n for n in names if n in BANDS)))
    keep = [list(names).index(n) for n in chosen]
    weights = params.get("weights")
    pred = _predictor(str(weights) if weights else None)
    threshold = _threshold(params, pred)
    # valid where every band given is (in ``all`` mode, bands the model ignores too)
    checked = keep if band_set == "core" else range(len(names))
    valid = _finite(before, checked)
    valid &= _finite(after, checked)
    invalid = ~valid
    holes = bool(invalid.any())
    # the caller's arrays stay as they are: each tile is standardised as it is cut, both
    # dates' statistics from the pixels both have; bands the model reads but the images
    # lack are zeros (what standardising them gave)
    slots = [BANDS.index(n) for n in chosen]
    prepared = Standardiser.of(before, after, keep, slots, invalid if holes else None,
                               finite=True)
    present = np.zeros(len(BANDS), np.float32)
    present[slots] = 1.0
    prob = pred.probabilities(before, after, present, prepared=prepared)
    change = prob >= threshold
    if holes:
        change &= valid
    ctype = change.view(np.uint8)  # a new array of its own
    mask = ctype.copy()
    magnitude = np.ascontiguousarray(prob)  # the model's own buffer, unless it was cropped
    if holes:
        mask[invalid] = 255
        magnitude[invalid] = np.nan
    used = [n for n, p in zip(BANDS, present, strict=True) if p]
    return ChangeResult(mask, ctype, magnitude, threshold,
                        {"method": "s2model", "weights": str(pred.source),
                         "backend": pred.backend, "threshold": threshold, "bands": used,
                         "band_set": band_set,
                         "model": {k: pred.meta.get(k) for k in ("format", "recipe", "data")}})


def identity(params: dict[str, Any]) -> dict[str, Any]:
    """The threshold (the weights' own when none is given), the band set and the weights
    by sha256 (the shipped .pt for the shipped ONNX export: the engines agree within
    1e-4)."""
    _check(params)
    given = params.get("weights")
    path = Path(str(given)).expanduser() if given else default_weights()
    if path.resolve() == default_onnx().resolve():
        path = default_weights()
    pred = None if params.get("threshold") is not None else _predictor(
        str(given) if given else None)
    threshold = _threshold(params, pred)
    return {"threshold": threshold, "bands": _bands(params),
            "weights_sha256": file_sha256(path)}


#: the fields of a ``DetectorSpec`` (sitewatch.detect.registry). Trained on Sentinel-2
#: 10 m; ``auto`` prefers it to ``cva`` (priority 10) from 5 to 20 m, and the RGB ``model``
#: (priority 20, up to 5 m and at unknown pixel size) to it: at exactly 5 m and at unknown
#: pixel size the RGB model runs, as before; imagery without NIR goes to cva. Not beyond
#: 20 m: on the 30 m Landsat pair of ``make eval`` (Taizhou)
#: it scores F1 0.737 (P 0.998, R 0.584) where cva scores 0.851, so Landsat stays cva.
DETECTOR: dict[str, Any] = {
    "name": "s2model",
    "func": s2_change,
    "modality": "multispectral",
    "required_bands": CORE,
    "min_bands": 4,
    "gsd_range_m": (5.0, 20.0),
    "needs": ("onnxruntime",),
    "priority": 15,
    "identity": identity,
    "description": "learned siamese change network for multispectral 5-20 m imagery "
                   "(blue, green, red, nir; bands=all adds the other Sentinel-2 bands); "
                   "params: weights, threshold, bands",
}
