"""Which detections of a new run show a change already tracked from earlier runs.

Pure geometry: outlines are WGS84 polygons of one site, so ratios of their areas in degrees
are ratios on the ground to well under a percent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

#: a detection continues a tracked change when the outlines overlap this much (IoU) ...
MIN_IOU = 0.2
#: ... or when this share of the smaller outline lies inside the other (a change that grew)
MIN_COVER = 0.5


def overlap(a: BaseGeometry, b: BaseGeometry) -> tuple[float, float]:
    """(IoU, share of the smaller outline inside the other) of two polygons."""
    if not a.intersects(b):
        return 0.0, 0.0
    inter = a.intersection(b).area
    if inter <= 0:
        return 0.0, 0.0
    union = a.union(b).area
    return inter / union, inter / max(min(a.area, b.area), 1e-30)


def match(new: Sequence[Mapping[str, Any]], tracked: Mapping[int, Mapping[str, Any]]
          ) -> dict[int, int]:
    """Index of each new outline -> id of the tracked change it continues, one to one,
    best overlap first. Outlines are GeoJSON mappings; unmatched indexes are left out."""
    tracked_geoms = {cid: shape(g) for cid, g in tracked.items()}
    pairs: list[tuple[float, float, int, int]] = []
    for i, g in enumerate(new):
        geom = shape(g)
        for cid, other in tracked_geoms.items():
            iou, cover = overlap(geom, other)
            if iou >= MIN_IOU or cover >= MIN_COVER:
                pairs.append((iou, cover, i, cid))
    pairs.sort(key=lambda p: (-p[0], -p[1], p[2], p[3]))
    out: dict[int, int] = {}
    used: set[int] = set()
    for _, _, i, cid in pairs:
        if i in out or cid in used:
            continue
        out[i] = cid
        used.add(cid)
    return out
