"""The learned detector as a method of ``sitewatch detect`` and ``analyze``.

:data:`DETECTOR` describes it to the detector registry (``sitewatch.detect.registry``),
which finds it through the entry point ``model`` of the group ``sitewatch.detectors``
declared in pyproject.toml: the registry never imports this package, nor this package
the registry, so neither depends on the other.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from sitewatch.changemap import ChangeResult, clean_mask
from sitewatch.errors import InputFileError, InputValueError
from sitewatch.learn.infer import (
    Predictor,
    default_onnx,
    default_weights,
    pair_scale,
    to_rgb,
)
from sitewatch.parallel import over_rows

MIN_OBJECT_M2 = 50.0


def file_sha256(path: Path) -> str:
    """sha256 of a weights file (cached by path, size and modification time)."""
    try:
        st = path.stat()
    except OSError as exc:
        raise InputFileError(f"weights {path} cannot be read: {exc.strerror}") from exc
    return _sha256(str(path.resolve()), st.st_size, st.st_mtime_ns)


@lru_cache(maxsize=8)
def _sha256(path: str, _size: int, _mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@lru_cache(maxsize=4)
def _predictor(weights: str | None) -> Predictor:
    return Predictor.open(weights)


TARGETS = ("any", "buildings")
# chosen by cross-validation on LEVIR-CD (MODEL_CARD.md): the building gate costs more
# recall than it gains in precision
DEFAULT_TARGET = "any"


def min_object_px(gsd_m: float | None) -> int:
    """Smallest change object kept: :data:`MIN_OBJECT_M2`, or 16 px at unknown scale."""
    return max(1, int(round(MIN_OBJECT_M2 / (gsd_m * gsd_m)))) if gsd_m else 16


def changed(prob: np.ndarray, threshold: float = 0.5, target: str = DEFAULT_TARGET
            ) -> np.ndarray:
    """(h, w) bool from the model's (3, h, w) probabilities. ``buildings``: change where a
    building stands on either date (new, removed or rebuilt buildings); ``any``: every
    change the model sees, earthworks and clearing included."""
    out = prob[0] >= threshold
    if target == "buildings":
        out &= np.maximum(prob[1], prob[2]) >= 0.5
    return out


def model_change(before: np.ndarray, after: np.ndarray, names: Sequence[str],
                 gsd_m: float | None, weights: str | Path | None = None,
                 threshold: float = 0.5, target: str = DEFAULT_TARGET) -> ChangeResult:
    """Change mask of two (bands, h, w) arrays; new buildings typed as built-up gain."""
    if not 0 < threshold < 1:
        raise InputValueError(f"threshold {threshold} must be between 0 and 1")
    if target not in TARGETS:
        raise InputValueError(f"target {target!r}: choose any or buildings")
    pred = _predictor(str(weights) if weights else None)
    h = before.shape[1]
    valid = np.empty(before.shape[1:], bool)

    def finite(r0: int, r1: int) -> None:
        np.logical_and(np.isfinite(before[:, r0:r1]).all(axis=0),
                       np.isfinite(after[:, r0:r1]).all(axis=0), out=valid[r0:r1])

    over_rows(h, _ROWS, finite)
    a, b = to_rgb(before, names), to_rgb(after, names)
    # each tile is scaled to [0, 1] as it is cut: no scaled copy of both images
    scale = pair_scale(a, b)
    # of unknown pixel size: at the scale its buildings suggest (areas stay unmeasured)
    prob, estimated = pred.as_detect_reads(a, b, gsd_m, scale)
    change = changed(prob, threshold, target)
    keep = clean_mask(change, min_object_px(gsd_m), 1)
    del change
    ctype = np.empty(keep.shape, np.uint8)
    mask = np.empty(keep.shape, np.uint8)
    magnitude = np.empty(keep.shape, np.float32)

    def outputs(r0: int, r1: int) -> None:
        rows = slice(r0, r1)
        k = keep[rows]
        k &= valid[rows]
        invalid = ~valid[rows]
        # in uint8 and in place: np.where with Python numbers would pass through int64
        ctype[rows] = k  # 1: change
        built = prob[2, rows] >= 0.5
        built &= prob[1, rows] < 0.5
        built &= k
        ctype[rows][built] = 3  # built-up gain
        mask[rows] = k
        mask[rows][invalid] = 255
        magnitude[rows] = prob[0, rows]
        magnitude[rows][invalid] = np.nan

    over_rows(h, _ROWS, outputs)
    return ChangeResult(mask, ctype, magnitude, threshold,
                        {"method": "model", "weights": str(pred.source),
                         "backend": pred.backend, "threshold": threshold, "target": target,
                         "min_object_m2": MIN_OBJECT_M2,
                         **({"pixel_size_estimated_m": estimated} if gsd_m is None else {}),
                         "model": {k: pred.meta.get(k) for k in ("format", "recipe", "data")}},
                        {"building_before": prob[1], "building_after": prob[2]})


#: rows of a block of the per-pixel steps of :func:`model_change`, one block per thread
_ROWS = 256

PARAMETERS = ("weights", "threshold", "target")


def detector(before: np.ndarray, after: np.ndarray, names: Sequence[str],
             gsd_m: float | None, params: dict[str, Any]) -> ChangeResult:
    """:func:`model_change` with the registry's calling convention; ``params`` may hold
    ``weights`` (a .pt or .onnx file), ``threshold`` (0-1) and ``target``."""
    unknown = sorted(set(params) - set(PARAMETERS))
    if unknown:
        raise InputValueError(f"unknown parameter for method 'model': {', '.join(unknown)}; "
                              f"it takes {', '.join(PARAMETERS)}")
    return model_change(before, after, names, gsd_m, params.get("weights"),
                        float(params.get("threshold", 0.5)),
                        str(params.get("target", DEFAULT_TARGET)))


def identity(params: dict[str, Any]) -> dict[str, Any]:
    """The parameters that decide the model's result: the threshold and target with their
    defaults, and the weights that will be used named by sha256 (the shipped ones when none
    are given), so that ``--target any`` or ``--weights`` naming the default weights is the
    same run as asking for nothing (the shipped ONNX export is named by the weights it
    was exported from: the two engines agree within 1e-4)."""
    unknown = sorted(set(params) - set(PARAMETERS))
    if unknown:
        raise InputValueError(f"unknown parameter for method 'model': {', '.join(unknown)}; "
                              f"it takes {', '.join(PARAMETERS)}")
    given = params.get("weights")
    path = Path(str(given)).expanduser() if given else default_weights()
    if path.resolve() == default_onnx().resolve():  # the shipped weights' own ONNX export
        path = default_weights()
    return {"threshold": float(params.get("threshold", 0.5)),
            "target": str(params.get("target", DEFAULT_TARGET)),
            "weights_sha256": file_sha256(path)}


#: the fields of a ``DetectorSpec`` (sitewatch.detect.registry): plain values, so that this
#: package need not import the registry. Trained on 0.3-0.5 m imagery (finer imagery is
#: resampled to 0.5 m), it is ``auto``'s choice up to 5 m pixels and at unknown pixel size.
DETECTOR: dict[str, Any] = {
    "name": "model",
    "func": detector,
    "modality": "optical",
    "required_bands": (),
    "min_bands": 1,
    "gsd_range_m": (None, 5.0),
    "needs": ("torch",),
    "priority": 20,
    "identity": identity,
    "description": "learned siamese change network (ChangeNet) on RGB; red, green and blue "
                   "by name, else the first three bands; params: weights, threshold, target",
}
