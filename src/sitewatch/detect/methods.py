"""The names callers used before :mod:`sitewatch.detect.registry`; kept so they work.

New code should use the registry: ``get_detector``, ``list_detectors``, ``choose``,
``register_detector``.
"""

from __future__ import annotations

from collections.abc import Sequence

from sitewatch.detect.registry import AUTO, Detector, get_detector, resolve
from sitewatch.detect.registry import common_bands as common_bands
from sitewatch.errors import InputValueError

__all__ = ["DEFAULT_METHOD", "MODEL_MAX_GSD_M", "Method", "common_bands", "get_method",
           "model_available", "resolve_method"]

Method = Detector
DEFAULT_METHOD = AUTO
#: the coarsest pixel size (m) at which "auto" picks the learned model; the registry's
#: spec of ``model`` (its ``gsd_range_m``) is what decides
MODEL_MAX_GSD_M = 5.0


def model_available() -> bool:
    """Whether ``auto`` could choose the learned model (it is registered and PyTorch is
    installed)."""
    try:
        return get_detector("model").available()
    except InputValueError:
        return False


def resolve_method(name: str, gsd_m: float | None,
                   band_names: Sequence[str] | None = None) -> str:
    """The method to run: ``auto`` becomes the registry's choice (``model`` for imagery of
    5 m or finer, or of unknown pixel size, when PyTorch is installed, else ``cva``); any
    other name is checked to be registered."""
    return resolve(name, gsd_m, band_names)


def get_method(name: str) -> Method:
    """The detector called ``name``, checking the bands it needs before it runs."""
    return get_detector(name).run
