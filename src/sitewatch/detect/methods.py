"""Registry of change-detection methods: name -> pure function of arrays."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from sitewatch.detect.classical import ChangeResult, CvaParams, cva_change
from sitewatch.errors import InputValueError

Method = Callable[[np.ndarray, np.ndarray, Sequence[str], float | None, dict[str, Any]],
                  ChangeResult]
DEFAULT_METHOD = "auto"
#: "auto" uses the learned model on imagery this fine (it was trained at 0.3-0.5 m) and
#: classical change-vector analysis on coarser imagery (Sentinel-2, Landsat)
MODEL_MAX_GSD_M = 5.0


def _cva(before: np.ndarray, after: np.ndarray, names: Sequence[str], gsd_m: float | None,
         params: dict[str, Any]) -> ChangeResult:
    try:
        p = CvaParams(**params)
    except TypeError as exc:
        raise InputValueError(f"unknown parameter for method 'cva': {exc}") from exc
    return cva_change(before, after, names, gsd_m, p)


def _model(before: np.ndarray, after: np.ndarray, names: Sequence[str], gsd_m: float | None,
           params: dict[str, Any]) -> ChangeResult:
    """The learned detector (``sitewatch.learn``); params: weights, threshold, target."""
    unknown = set(params) - {"weights", "threshold", "target"}
    if unknown:
        raise InputValueError(f"unknown parameter for method 'model': {', '.join(unknown)}")
    from sitewatch.learn.detect import DEFAULT_TARGET, model_change

    return model_change(before, after, names, gsd_m, params.get("weights"),
                        float(params.get("threshold", 0.5)),
                        str(params.get("target", DEFAULT_TARGET)))


METHODS: dict[str, Method] = {"cva": _cva, "model": _model}


def model_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("torch") is not None


def resolve_method(name: str, gsd_m: float | None) -> str:
    """The method to run: ``auto`` becomes ``model`` for imagery of ``MODEL_MAX_GSD_M``
    or finer (or of unknown pixel size) when PyTorch is installed, else ``cva``."""
    if name != "auto":
        get_method(name)
        return name
    fine = gsd_m is None or gsd_m <= MODEL_MAX_GSD_M
    return "model" if fine and model_available() else "cva"


def get_method(name: str) -> Method:
    try:
        return METHODS[name]
    except KeyError:
        raise InputValueError(
            f"unknown method {name!r}: choose one of auto, {', '.join(sorted(METHODS))}"
        ) from None


def common_bands(a: Sequence[str], b: Sequence[str]) -> tuple[list[int], list[int], list[str]]:
    """Indices into ``a`` and ``b`` of the bands both have, and their names.

    Bands are matched by name; when no names match but the counts do, by position.
    """
    shared = [n for n in a if n in b and n != "alpha"]
    if shared:
        return [list(a).index(n) for n in shared], [list(b).index(n) for n in shared], shared
    if len(a) == len(b):
        return list(range(len(a))), list(range(len(b))), list(a)
    raise InputValueError(
        f"the images share no band: {', '.join(a)} vs {', '.join(b)}; "
        "name the bands with --bands when importing"
    )
