"""Where things go on a figure panel: detection labels that never overlap (greedy, with
leader lines), the corner that a scale bar or north arrow may take without hiding a
detection, and graticule ticks in degrees.

Boxes are ``(x0, y0, x1, y1)`` with ``x0 <= x1`` and ``y0 <= y1``, in whatever units the
caller uses (display pixels for labels, grid pixels for corners).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

Box = tuple[float, float, float, float]
CORNERS = ("upper left", "upper right", "lower left", "lower right")


def overlaps(a: Box, b: Box) -> bool:
    """True when the boxes share an area (touching edges do not count)."""
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _overlap_area(a: Box, b: Box) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return max(w, 0.0) * max(h, 0.0)


def corner_box(corner: str, width: float, height: float, box_w: float, box_h: float,
               margin: float) -> Box:
    """The box of size (box_w, box_h) in ``corner`` of a (width, height) image in grid
    pixels (row 0 at the top: 'upper' means small rows)."""
    x0 = margin if "left" in corner else width - margin - box_w
    y0 = margin if "upper" in corner else height - margin - box_h
    return (x0, y0, x0 + box_w, y0 + box_h)


def free_corner(width: float, height: float, box_w: float, box_h: float, margin: float,
                obstacles: Sequence[Box], taken: Sequence[str] = (),
                order: Sequence[str] = CORNERS) -> tuple[str, Box] | None:
    """The first corner (in ``order``, skipping ``taken``) whose box hides none of the
    ``obstacles``; None when every corner would hide one."""
    for corner in order:
        if corner in taken:
            continue
        box = corner_box(corner, width, height, box_w, box_h, margin)
        if not any(overlaps(box, o) for o in obstacles):
            return corner, box
    return None


@dataclass(frozen=True)
class Placed:
    """One label's place: ``box`` (display px), its ``anchor`` on the detection and
    whether a leader line joins them (the label sits away from its detection)."""

    index: int
    box: Box
    anchor: tuple[float, float]
    leader: bool


def _candidates(anchor: tuple[float, float], target: Box, lw: float, lh: float,
                fits_inside: bool) -> list[tuple[Box, bool]]:
    """Label boxes to try, nearest first: on the detection when it is big enough, then
    touching its box on each side, then on rings further out (with a leader line)."""
    ax, ay = anchor
    out: list[tuple[Box, bool]] = []
    if fits_inside:
        out.append(((ax - lw / 2, ay - lh / 2, ax + lw / 2, ay + lh / 2), False))
    x0, y0, x1, y1 = target
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    gap = 1.0
    beside = [
        (x1 + gap, cy - lh / 2), (x0 - gap - lw, cy - lh / 2),
        (cx - lw / 2, y1 + gap), (cx - lw / 2, y0 - gap - lh),
        (x1 + gap, y1 + gap), (x0 - gap - lw, y1 + gap),
        (x1 + gap, y0 - gap - lh), (x0 - gap - lw, y0 - gap - lh),
    ]
    out += [((bx, by, bx + lw, by + lh), False) for bx, by in beside]
    step = max(lw, lh)
    for ring in (1.0, 1.8, 2.8, 4.0, 5.5, 7.5):
        r = step * ring
        for k in range(16):
            a = 2 * math.pi * k / 16
            px = cx + math.cos(a) * ((x1 - x0) / 2 + r)
            py = cy + math.sin(a) * ((y1 - y0) / 2 + r)
            out.append(((px - lw / 2, py - lh / 2, px + lw / 2, py + lh / 2), True))
    return out


def place_labels(sizes: Sequence[tuple[float, float]], anchors: Sequence[tuple[float, float]],
                 targets: Sequence[Box], frame: Box, blocked: Sequence[Box],
                 pad: float = 1.5) -> list[Placed]:
    """Greedy label placement, in the order given (largest detection first).

    ``sizes``: each label's (width, height); ``anchors``: a point on its detection;
    ``targets``: the detection's box; ``frame``: labels stay inside it; ``blocked``: boxes no
    label may cover (scale bar, north arrow). A label never overlaps another label (plus
    ``pad``) nor a blocked box; it avoids covering other detections when it can. A label
    with no free place is left out (the caller lists it in the table instead).
    """
    placed: list[Placed] = []
    taken: list[Box] = []
    leaders: list[tuple[tuple[float, float], tuple[float, float]]] = []
    det = np.asarray(targets, dtype=float).reshape(-1, 4)

    def inside(b: Box) -> bool:
        return b[0] >= frame[0] and b[1] >= frame[1] and b[2] <= frame[2] and b[3] <= frame[3]

    def clear(b: Box) -> bool:
        grown = (b[0] - pad, b[1] - pad, b[2] + pad, b[3] + pad)
        return (inside(b) and not any(overlaps(grown, t) for t in taken)
                and not any(overlaps(b, o) for o in blocked))

    def covers_others(b: Box, own: int) -> float:
        if not len(det):
            return 0.0
        w = np.clip(np.minimum(b[2], det[:, 2]) - np.maximum(b[0], det[:, 0]), 0, None)
        h = np.clip(np.minimum(b[3], det[:, 3]) - np.maximum(b[1], det[:, 1]), 0, None)
        area = w * h
        area[own] = 0.0
        return float(area.sum())

    for i, ((lw, lh), anchor, target) in enumerate(zip(sizes, anchors, targets, strict=True)):
        tw, th = target[2] - target[0], target[3] - target[1]
        cands = [c for c in _candidates(anchor, target, lw, lh, tw > 2.5 * lw and th > 2.5 * lh)
                 if clear(c[0])]
        if not cands:
            continue
        # near its detection, its leader crossing no other leader or label, covering no
        # other detection: distance (in label heights) + 3 per crossing + 2 for covering
        costs = []
        for k, (b, lead) in enumerate(cands):
            seg = (_centre(b), anchor)
            crossing = sum(_seg_box(s, b) for s in leaders) + (sum(
                _segs(seg, s) for s in leaders) + sum(_seg_box(seg, t) for t in taken)
                if lead else 0)
            cover = covers_others(b, i) / (lw * lh)
            dist = math.dist(seg[0], anchor) / lh if lead else 0.0
            costs.append((dist + 3.0 * crossing + (2.0 + cover if cover else 0.0), k))
        box, leader = cands[min(costs)[1]]
        placed.append(Placed(i, box, anchor, leader))
        taken.append(box)
        if leader:
            leaders.append((_centre(box), anchor))
    return placed


Seg = tuple[tuple[float, float], tuple[float, float]]


def _centre(b: Box) -> tuple[float, float]:
    return ((b[0] + b[2]) / 2, (b[1] + b[3]) / 2)


def _segs(a: Seg, b: Seg) -> bool:
    """True when two segments cross (shared end points do not count)."""
    def orient(p: tuple[float, float], q: tuple[float, float], r: tuple[float, float]) -> float:
        return (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])

    d1, d2 = orient(b[0], b[1], a[0]), orient(b[0], b[1], a[1])
    d3, d4 = orient(a[0], a[1], b[0]), orient(a[0], a[1], b[1])
    return d1 * d2 < 0 and d3 * d4 < 0


def _seg_box(seg: Seg, b: Box) -> bool:
    """True when the segment passes through the box (Liang-Barsky clipping); a segment
    that starts at the box's centre (its own leader) does not count."""
    (x0, y0), (x1, y1) = seg
    if _centre(b) == (x0, y0):
        return False
    t0, t1 = 0.0, 1.0
    dx, dy = x1 - x0, y1 - y0
    for p, q in ((-dx, x0 - b[0]), (dx, b[2] - x0), (-dy, y0 - b[1]), (dy, b[3] - y0)):
        if p == 0:
            if q < 0:
                return False
            continue
        t = q / p
        if p < 0:
            t0 = max(t0, t)
        else:
            t1 = min(t1, t)
        if t0 > t1:
            return False
    return True


def nice_step(span: float, target_ticks: int = 4) -> float:
    """A 1/2/5 x 10^k step giving about ``target_ticks`` ticks over ``span``."""
    if span <= 0:
        return 1.0
    raw = span / target_ticks
    exp = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if m * exp >= raw:
            return float(m * exp)
    return float(10 * exp)


def degree_text(value: float, axis: str, step: float) -> str:
    """32.48 (lat) -> '32.48°N'; -66.19 (lon) -> '66.19°W'; decimals follow the step."""
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    hemi = ("N" if value >= 0 else "S") if axis == "lat" else ("E" if value >= 0 else "W")
    return f"{abs(value):.{decimals}f}°{hemi}"


def edge_ticks(to_lonlat: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]],
               width: int, height: int, axis: str) -> list[tuple[float, str]]:
    """Tick positions (grid px along the bottom edge for 'lon', the left edge for 'lat')
    at round degree values, with their labels."""
    n = 64
    if axis == "lon":
        pos = np.linspace(0, width, n)
        vals = to_lonlat(pos, np.full(n, float(height)))[0]
    else:
        pos = np.linspace(0, height, n)
        vals = to_lonlat(np.zeros(n), pos)[1]
    vals = np.asarray(vals, dtype=float)
    if not np.isfinite(vals).all() or vals[0] == vals[-1]:
        return []
    if vals[0] > vals[-1]:  # latitude falls as rows grow
        pos, vals = pos[::-1], vals[::-1]
    step = nice_step(float(vals[-1] - vals[0]))
    first = math.ceil(vals[0] / step) * step
    ticks = []
    v = first
    while v <= vals[-1] + 1e-12:
        ticks.append((float(np.interp(v, vals, pos)), degree_text(v, axis, step)))
        v = round(v + step, 12)
    return ticks
