"""Change detectors by name, with what they need and where they work; ``auto`` chooses.

A detector is a pure function of two co-registered stacks plus metadata::

    func(before, after, band_names, gsd_m, params) -> ChangeResult

``before``/``after`` are (bands, h, w) float32 on one grid, NaN where there is no data,
and must not be changed (the caller goes on using them: structures are measured on
them);
``band_names`` their common names (``red``, ``green``, ``blue``, ``nir``, ``swir16``...);
``gsd_m`` the pixel size in metres or None when unknown; ``params`` the user's options
(reject unknown keys with :class:`~sitewatch.errors.InputValueError`). It returns a
:class:`~sitewatch.changemap.ChangeResult` of (h, w) arrays. It reads no files and no
catalog, so it runs in a Dask task or a test alike.

Register your own (then ``sitewatch detect A B --out M --method brightness`` runs it)::

    from sitewatch.detect.registry import register_detector

    def brightness(before, after, names, gsd_m, params):
        ...
        return ChangeResult(mask, change_type, magnitude, threshold, {"method": "brightness"})

    register_detector(name="brightness", func=brightness, modality="optical",
                      description="brightness difference above a threshold")

``register_detector`` acts in the calling process only. To make a detector available to
every process (command line, worker pools) declare it in your package's metadata as an
entry point of the group ``sitewatch.detectors`` whose value is a :class:`DetectorSpec`,
a mapping of its fields, or a function returning either::

    [project.entry-points."sitewatch.detectors"]
    brightness = "mypackage.detectors:BRIGHTNESS"

sitewatch's learned model is registered that way (``sitewatch.learn.detect:DETECTOR``), so
this package never imports ``sitewatch.learn``. Entry points are read once, on the first
question asked of the registry, not at import.

``auto`` (:func:`choose`) takes the detector of highest ``priority`` (ties: by name) whose
needs are installed and whose pixel-size range and bands fit the imagery. Detectors
without a priority run only when asked for by name. The built-in ones: ``model``
(priority 20, up to 5 m pixels or unknown pixel size, needs torch) and ``cva`` (priority
10, any imagery).
"""

from __future__ import annotations

import importlib.util
import logging
import math
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from importlib.metadata import entry_points
from typing import Any, Literal, get_args

import numpy as np

from sitewatch.changemap import ChangeResult
from sitewatch.detect.classical import CvaParams, cva_change
from sitewatch.errors import InputValueError

__all__ = ["AUTO", "ENTRY_POINT_GROUP", "Detector", "DetectorSpec", "Modality", "choose",
           "common_bands", "get_detector", "list_detectors", "register_detector", "resolve",
           "unregister_detector"]

log = logging.getLogger(__name__)

Detector = Callable[[np.ndarray, np.ndarray, Sequence[str], float | None, dict[str, Any]],
                    ChangeResult]
#: what kind of imagery a detector is made for: ``optical`` (visible RGB, any pixel size),
#: ``multispectral`` (reflectance bands, infrared included), ``sar``, or ``any``
Modality = Literal["optical", "multispectral", "sar", "any"]
AUTO = "auto"
ENTRY_POINT_GROUP = "sitewatch.detectors"
_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")


@dataclass(frozen=True)
class DetectorSpec:
    """A detector and the facts ``auto`` chooses by."""

    name: str
    """What users type after ``--method``: lower case letters, digits, ``-``, ``_``."""
    func: Detector
    """The detector itself (see the module's docstring for its signature)."""
    modality: Modality = "any"
    """The kind of imagery it is made for (descriptive; shown by :func:`list_detectors`)."""
    required_bands: tuple[str, ...] = ()
    """Common band names it cannot work without (``("red", "nir")``); () if any will do."""
    min_bands: int = 1
    """The fewest bands it can work with."""
    gsd_range_m: tuple[float | None, float | None] = (None, None)
    """(finest, coarsest) pixel size in metres it is meant for, both ends included; None
    leaves that end open. Imagery of unknown pixel size fits every range."""
    needs: tuple[str, ...] = ()
    """Importable modules ``auto`` requires before choosing it (``("torch",)``)."""
    description: str = ""
    """One line for listings."""
    priority: int | None = None
    """``auto`` prefers the highest; None: never chosen by ``auto``, only by name."""
    identity: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    """``params`` -> the parameters that decide the result, defaults filled in and files
    named by their sha256, so that a run's identity does not depend on how it was asked
    for; None: the params as given."""

    def __post_init__(self) -> None:
        def fix(name: str, value: Any) -> None:
            object.__setattr__(self, name, value)

        if not isinstance(self.name, str) or not _NAME.match(self.name) or self.name == AUTO:
            raise InputValueError(
                f"detector name {self.name!r}: give 1-40 lower case letters, digits, '-' or "
                f"'_', starting with a letter, other than {AUTO!r}")
        if not callable(self.func):
            raise InputValueError(f"detector {self.name!r}: func must be callable, "
                                  f"not {type(self.func).__name__}")
        if self.modality not in get_args(Modality):
            raise InputValueError(f"detector {self.name!r}: modality {self.modality!r}: "
                                  f"choose one of {', '.join(get_args(Modality))}")
        for name in ("required_bands", "needs"):
            value = getattr(self, name)
            value = (value,) if isinstance(value, str) else tuple(value)
            if not all(isinstance(v, str) and v for v in value):
                raise InputValueError(f"detector {self.name!r}: {name} must be names")
            fix(name, value)
        if not isinstance(self.min_bands, int) or self.min_bands < 1:
            raise InputValueError(f"detector {self.name!r}: min_bands must be at least 1")
        fix("min_bands", max(self.min_bands, len(self.required_bands)))
        lo, hi = self._range(self.gsd_range_m)
        fix("gsd_range_m", (lo, hi))
        if self.identity is not None and not callable(self.identity):
            raise InputValueError(f"detector {self.name!r}: identity must be callable")
        if self.priority is not None and not isinstance(self.priority, int):
            raise InputValueError(f"detector {self.name!r}: priority must be an integer or None")

    def _range(self, rng: Any) -> tuple[float | None, float | None]:
        try:
            lo, hi = (None if v is None else float(v) for v in rng)
        except (TypeError, ValueError):
            raise InputValueError(f"detector {self.name!r}: gsd_range_m must be (lo, hi) in "
                                  "metres, None for an open end") from None
        for v in (lo, hi):
            if v is not None and not (math.isfinite(v) and v > 0):
                raise InputValueError(f"detector {self.name!r}: pixel sizes must be positive")
        if lo is not None and hi is not None and lo > hi:
            raise InputValueError(f"detector {self.name!r}: gsd_range_m {rng}: lo > hi")
        return lo, hi

    # --- what auto asks -------------------------------------------------------------
    def missing(self) -> list[str]:
        """The modules of :attr:`needs` that cannot be imported here."""
        return [m for m in self.needs if importlib.util.find_spec(m) is None]

    def available(self) -> bool:
        return not self.missing()

    def fits_gsd(self, gsd_m: float | None) -> bool:
        """Whether ``gsd_m`` (metres; None = unknown, which always fits) is in range."""
        lo, hi = self.gsd_range_m
        return gsd_m is None or ((lo is None or gsd_m >= lo) and (hi is None or gsd_m <= hi))

    def band_problem(self, band_names: Sequence[str]) -> str | None:
        """Why these bands will not do, or None."""
        missing = [b for b in self.required_bands if b not in band_names]
        if missing:
            return f"needs band(s) {', '.join(missing)}"
        if len(band_names) < self.min_bands:
            return f"needs at least {self.min_bands} bands"
        return None

    # --- running --------------------------------------------------------------------
    def run(self, before: np.ndarray, after: np.ndarray, band_names: Sequence[str],
            gsd_m: float | None, params: dict[str, Any]) -> ChangeResult:
        """Check the bands, then call :attr:`func` (same arguments)."""
        problem = self.band_problem(band_names)
        if problem:
            raise InputValueError(f"method {self.name!r} {problem}; the images have "
                                  f"{', '.join(band_names) or 'no named band'}")
        if not self.fits_gsd(gsd_m):
            log.warning("method %r is meant for pixels of %s m; these are %.3g m",
                        self.name, _range_text(self.gsd_range_m), gsd_m)
        return self.func(before, after, band_names, gsd_m, params)

    def effective_params(self, params: dict[str, Any]) -> dict[str, Any]:
        """The parameters that decide this detector's result (see ``identity``)."""
        return dict(params) if self.identity is None else self.identity(dict(params))

    def as_dict(self) -> dict[str, Any]:
        """Its facts (no function), for listings and JSON."""
        return {"name": self.name, "modality": self.modality,
                "required_bands": list(self.required_bands), "min_bands": self.min_bands,
                "gsd_range_m": list(self.gsd_range_m), "needs": list(self.needs),
                "available": self.available(), "priority": self.priority,
                "description": self.description}


def _range_text(rng: tuple[float | None, float | None]) -> str:
    lo, hi = rng
    if lo is None and hi is None:
        return "any size"
    if lo is None:
        return f"up to {hi:g}"
    return f"{lo:g} or more" if hi is None else f"{lo:g} to {hi:g}"


# --- the built-in classical detector --------------------------------------------------
def _cva(before: np.ndarray, after: np.ndarray, names: Sequence[str], gsd_m: float | None,
         params: dict[str, Any]) -> ChangeResult:
    try:
        p = CvaParams(**params)
    except TypeError as exc:
        raise InputValueError(f"unknown parameter for method 'cva': {exc}") from exc
    return cva_change(before, after, names, gsd_m, p)


def _cva_identity(params: dict[str, Any]) -> dict[str, Any]:
    """Every CVA parameter, defaults filled in, numbers as their field's type (50 and 50.0
    are one minimum mapping unit)."""
    try:
        given = asdict(CvaParams(**params))
    except TypeError as exc:
        raise InputValueError(f"unknown parameter for method 'cva': {exc}") from exc
    default = asdict(CvaParams())
    return {k: float(v) if isinstance(default[k], float) and isinstance(v, int | float)
            and not isinstance(v, bool) else v for k, v in given.items()}


_CVA = DetectorSpec(
    name="cva", func=_cva, modality="multispectral", priority=10, identity=_cva_identity,
    description="change-vector analysis on normalised bands, Otsu threshold; typed "
                "vegetation loss and built-up gain where red and nir exist")

# --- the registry ---------------------------------------------------------------------
_LOCK = threading.RLock()
_SPECS: dict[str, DetectorSpec] = {_CVA.name: _CVA}
_PLUGINS: dict[str, Any] = {"loaded": False, "errors": {}}


def _as_spec(spec_or_kwargs: DetectorSpec | Mapping[str, Any] | None,
             kwargs: dict[str, Any]) -> DetectorSpec:
    if isinstance(spec_or_kwargs, DetectorSpec):
        if kwargs:
            raise InputValueError("give a DetectorSpec or its fields, not both")
        return spec_or_kwargs
    given = dict(spec_or_kwargs or {}) | kwargs
    known = {f.name for f in fields(DetectorSpec)}
    unknown = sorted(set(given) - known)
    if unknown:
        raise InputValueError(f"unknown detector field(s) {', '.join(unknown)}: "
                              f"known are {', '.join(sorted(known))}")
    absent = [k for k in ("name", "func") if k not in given]
    if absent:
        raise InputValueError(f"a detector needs {' and '.join(absent)}")
    return DetectorSpec(**given)


def _add(spec: DetectorSpec, replace: bool) -> None:
    if spec.name in _SPECS and not replace:
        raise InputValueError(f"a detector named {spec.name!r} is already registered: "
                              "pass replace=True to replace it")
    _SPECS[spec.name] = spec


def _load_plugins() -> None:
    """Register the entry points of :data:`ENTRY_POINT_GROUP`, once. A plugin that fails
    to load is skipped (and named when its detector is asked for); one whose name is
    taken (by an earlier registration in this process) does not replace it."""
    if _PLUGINS["loaded"]:
        return
    with _LOCK:
        if _PLUGINS["loaded"]:
            return
        seen: set[tuple[str, str]] = set()
        for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            if (ep.name, ep.value) in seen:  # one distribution found twice on sys.path
                continue
            seen.add((ep.name, ep.value))
            try:
                obj = ep.load()
                if callable(obj) and not isinstance(obj, DetectorSpec | Mapping):
                    obj = obj()
                spec = _as_spec(obj, {})
                if spec.name != ep.name:
                    raise InputValueError(f"it describes a detector named {spec.name!r}")
            except Exception as exc:  # a broken plugin must not break sitewatch
                _PLUGINS["errors"][ep.name] = f"{ep.value}: {exc}"
                log.warning("detector plugin %r (%s) not loaded: %s", ep.name, ep.value, exc)
                continue
            if spec.name in _SPECS:
                log.warning("detector plugin %r not loaded: the name is taken", ep.name)
                continue
            _SPECS[spec.name] = spec
        _PLUGINS["loaded"] = True


def register_detector(spec_or_kwargs: DetectorSpec | Mapping[str, Any] | None = None, /, *,
                      replace: bool = False, **kwargs: Any) -> DetectorSpec:
    """Register a detector in this process and return its spec.

    Give a :class:`DetectorSpec`, a mapping of its fields, or its fields as keywords
    (``register_detector(name="mine", func=mine, priority=None)``). A name already
    registered is refused (:class:`~sitewatch.errors.InputValueError`) unless
    ``replace=True``. Registering with a ``priority`` lets ``auto`` choose it.
    """
    spec = _as_spec(spec_or_kwargs, kwargs)
    _load_plugins()
    with _LOCK:
        _add(spec, replace)
    return spec


def unregister_detector(name: str) -> DetectorSpec:
    """Remove a detector from this process's registry and return its spec."""
    _load_plugins()
    with _LOCK:
        spec = get_detector(name)
        del _SPECS[name]
    return spec


def get_detector(name: str) -> DetectorSpec:
    """The spec registered as ``name``; unknown names raise
    :class:`~sitewatch.errors.InputValueError` naming the known ones."""
    _load_plugins()
    try:
        return _SPECS[name]
    except KeyError:
        pass
    hint = ""
    if name in _PLUGINS["errors"]:
        hint = f" (its plugin failed to load: {_PLUGINS['errors'][name]})"
    raise InputValueError(f"unknown method {name!r}{hint}: choose one of "
                          f"{', '.join([AUTO, *sorted(_SPECS)])}") from None


def list_detectors() -> list[DetectorSpec]:
    """Every registered detector, in ``auto``'s order of preference (then the ones
    ``auto`` never chooses, by name)."""
    _load_plugins()
    with _LOCK:
        specs = list(_SPECS.values())
    return sorted(specs, key=lambda s: (s.priority is None, -(s.priority or 0), s.name))


def choose(gsd_m: float | None, band_names: Sequence[str] | None = None) -> str:
    """The name of the detector ``auto`` runs on imagery of pixel size ``gsd_m`` (metres,
    None when unknown) with these bands (None: do not check bands).

    The first of :func:`list_detectors` with a priority whose needs are installed, whose
    ``gsd_range_m`` holds ``gsd_m`` and whose bands are there.
    """
    why: list[str] = []
    for spec in list_detectors():
        if spec.priority is None:
            continue
        problem = None if band_names is None else spec.band_problem(band_names)
        if not spec.fits_gsd(gsd_m):
            why.append(f"{spec.name} is for {_range_text(spec.gsd_range_m)} m pixels")
        elif spec.missing():
            why.append(f"{spec.name} needs {', '.join(spec.missing())}")
        elif problem:
            why.append(f"{spec.name} {problem}")
        else:
            return spec.name
    size = "unknown" if gsd_m is None else f"{gsd_m:g} m"
    raise InputValueError(f"no detector fits this imagery (pixel size {size}): "
                          f"{'; '.join(why) or 'none is registered for auto'}; "
                          "give --method")


def resolve(name: str, gsd_m: float | None, band_names: Sequence[str] | None = None) -> str:
    """``name`` itself once checked to be registered, or :func:`choose`'s pick for
    ``auto``."""
    if name == AUTO:
        return choose(gsd_m, band_names)
    return get_detector(name).name


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
