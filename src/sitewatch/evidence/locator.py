"""The locator inset: where on Earth the site is, drawn offline.

A plain lon/lat frame with a 30-degree graticule and the site marked. Country outlines
are drawn when a coarse Natural Earth layer (public domain) is found on this machine:
pyogrio's wheel ships one (``naturalearth_lowres``); nothing is ever downloaded.
"""

from __future__ import annotations

import functools
import logging
from importlib import resources
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes

log = logging.getLogger(__name__)


@functools.lru_cache(maxsize=1)
def _land() -> tuple[np.ndarray, ...]:
    """Exterior rings (n, 2) lon/lat of the countries, or () when no layer is at hand."""
    try:
        import pyogrio.raw
        import shapely

        base = Path(str(resources.files("pyogrio")))
        path = base / "tests" / "fixtures" / "naturalearth_lowres" / "naturalearth_lowres.shp"
        if not path.is_file():
            return ()
        _, _, wkb, _ = pyogrio.raw.read(path, read_geometry=True, columns=[])
        rings: list[np.ndarray] = []
        for g in shapely.from_wkb(wkb):
            for p in getattr(g, "geoms", [g]):
                rings.append(np.asarray(p.exterior.coords, dtype=np.float32))
        return tuple(rings)
    except Exception as exc:  # any failure only costs the outlines
        log.debug("no country outlines for the locator: %s", exc)
        return ()


def draw_locator(ax: Axes, centre_lat_lon: tuple[float, float]) -> None:
    """Draw the world (lon -180..180, lat -90..90) into ``ax`` with the site marked."""
    lat, lon = centre_lat_lon
    ax.set_xlim(-180, 180)
    ax.set_ylim(-90, 90)
    ax.set_aspect("equal", adjustable="box")
    ax.set_facecolor("#eef4fa")
    for ring in _land():
        ax.fill(ring[:, 0], ring[:, 1], fc="#d9d9d9", ec="#9a9a9a", lw=0.15)
    for g in range(-150, 180, 30):
        ax.axvline(g, color="#b8c4d0", lw=0.2, zorder=0.5)
    for g in (-60, -30, 0, 30, 60):
        ax.axhline(g, color="#b8c4d0", lw=0.2, zorder=0.5)
    ax.plot([lon], [lat], marker="o", ms=3.5, mfc="#e4002b", mec="white", mew=0.5, zorder=5)
    ax.set_xticks([])
    ax.set_yticks([])
    for s in ax.spines.values():
        s.set_linewidth(0.4)
