"""sitewatch: watch industrial and military sites from space, offline first.

The Python API::

    import sitewatch
    ws = sitewatch.open_workspace("~/watch")
    site = ws.add_site("Votkinsk plant", lat=57.05, lon=53.99, radius_m=1500)
    ws.import_scene(site, "before.tif", date="2023-05-01", provider="Sentinel-2")
    run = ws.analyze(site).run

Heavy parts load on first use (``sitewatch --help`` stays fast).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from sitewatch.version import __version__

if TYPE_CHECKING:
    from sitewatch.api import Workspace, detect_pair, extract_sites, open_workspace, upgrade_catalog
    from sitewatch.detect.registry import list_detectors, register_detector
    from sitewatch.errors import SitewatchError
    from sitewatch.model import (
        Change,
        Chip,
        Detection,
        Flag,
        ObsDate,
        Provenance,
        RejectReason,
        Review,
        ReviewStatus,
        Run,
        Scene,
        Site,
    )

_LAZY = {
    "Workspace": "sitewatch.api", "open_workspace": "sitewatch.api",
    "detect_pair": "sitewatch.api", "extract_sites": "sitewatch.api",
    "upgrade_catalog": "sitewatch.api", "SitewatchError": "sitewatch.errors",
    "register_detector": "sitewatch.detect.registry",
    "list_detectors": "sitewatch.detect.registry",
    **{name: "sitewatch.model" for name in (
        "Change", "Chip", "Detection", "Flag", "ObsDate", "Provenance", "RejectReason",
        "Review", "ReviewStatus", "Run", "Scene", "Site")},
}

__all__ = [
    "Change", "Chip", "Detection", "Flag", "ObsDate", "Provenance", "RejectReason", "Review",
    "ReviewStatus", "Run", "Scene", "Site", "SitewatchError", "Workspace", "__version__",
    "detect_pair", "extract_sites", "list_detectors", "open_workspace", "register_detector",
    "upgrade_catalog",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'sitewatch' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
