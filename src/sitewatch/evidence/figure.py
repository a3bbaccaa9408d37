"""The before/after figure, ready for print: dated panels with the same detection labels
(placed so that none overlaps another), change outlines, a scale bar and north arrow in
corners that hide no detection, coordinates in degrees, a locator inset and credits.

``render_figure`` gives PNG, SVG or PDF bytes; ``figure_layout`` returns where every label,
scale bar and detection ended up on the drawn figure (display pixels), so tests check the
real placement.
"""

from __future__ import annotations

import functools
import io
import math
import os
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import ParamSpec, TypeVar

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import FancyArrow, Rectangle  # noqa: E402
from shapely.geometry.base import BaseGeometry  # noqa: E402

from sitewatch.errors import InputValueError  # noqa: E402
from sitewatch.evidence.figure_layout import (  # noqa: E402
    Box,
    edge_ticks,
    free_corner,
    place_labels,
)
from sitewatch.evidence.locator import draw_locator  # noqa: E402
from sitewatch.fileio import atomic_path  # noqa: E402
from sitewatch.model.objects import change_label  # noqa: E402

FIGURE_FORMATS = ("png", "svg", "pdf")
RED, YELLOW = "#e4002b", "#ffd400"
LonLatFn = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class Panel:
    """One image of the figure. ``data``: (bands, h, w) float32 on the grid, NaN = no data;
    ``band_names`` say which band is red/green/blue."""

    data: np.ndarray
    band_names: Sequence[str]
    title: str
    credit: str


@dataclass(frozen=True)
class Mark:
    """One detection on the figure: its outline in grid pixels (col, row), its public id,
    area and one-pixel-outline uncertainty in m2 (None: unknown) and change-type code."""

    geom_px: BaseGeometry
    ref: str
    area_m2: float | None = None
    area_uncertainty_m2: float | None = None
    change_type: str = "change"


@dataclass(frozen=True)
class Building:
    """A structure on the figure (``sitewatch.evidence.structures``): its outline in grid
    pixels, ref, kind (new, extended, demolished, cleared_ground; unchanged: a standing
    building others are sized against) and one line of text. New, extended and unchanged
    buildings are drawn on the after panel, demolished ones on the before panel, cleared
    ground on both; the changed ones are listed under the footnote."""

    geom_px: BaseGeometry
    ref: str
    kind: str
    text: str


#: outline colours of the structures' kinds
BUILDING_COLOURS = {"new": "#00c8ff", "extended": "#ff8c00", "demolished": "#ff3df5",
                    "cleared_ground": "#a0522d", "unchanged": "#ffffff"}


@dataclass(frozen=True)
class FigureSpec:
    """Everything drawn. ``to_lonlat`` maps grid pixel (cols, rows) arrays to WGS84
    (lon, lat) arrays (None: no georeference, no coordinates drawn); ``centre_lat_lon`` is
    the site's centre for the locator; at most ``max_labels`` detections are labelled (the
    largest), the rest are left to the report's table."""

    before: Panel
    after: Panel
    res_m: float
    aoi_px: BaseGeometry | None
    marks: Sequence[Mark]
    heading: str
    caption: str = ""
    to_lonlat: LonLatFn | None = None
    centre_lat_lon: tuple[float, float] | None = None
    max_labels: int = 25
    cautions: Sequence[str] = ()  #: the run's warnings, printed under the heading
    buildings: Sequence[Building] = ()  #: changed structures, listed under the footnote


@dataclass(frozen=True)
class Layout:
    """Where things are on the drawn figure, in display pixels (origin bottom left), per
    panel (0 = before, 1 = after): ``labels`` (panel, detection id, box), ``detections``
    (panel, id, box of the outline), ``scale_bars`` and ``north_arrows`` (panel, box),
    ``titles`` (every title drawn), ``note`` (what the labels show), ``size_px``."""

    labels: tuple[tuple[int, str, Box], ...]
    detections: tuple[tuple[int, str, Box], ...]
    scale_bars: tuple[tuple[int, Box], ...]
    north_arrows: tuple[tuple[int, Box], ...]
    titles: tuple[str, ...]
    note: str
    labelled: tuple[str, ...] = field(default=())
    size_px: tuple[int, int] = (0, 0)


def to_rgb(data: np.ndarray, names: Sequence[str]) -> np.ndarray:
    """(h, w, 3) float in [0, 1], stretched 2-98 percentile per band; no data is white."""
    order = [list(names).index(n) for n in ("red", "green", "blue") if n in names]
    if len(order) != 3:
        order = [0, 0, 0] if data.shape[0] < 3 else [0, 1, 2]
    rgb = np.stack([data[i] for i in order], axis=-1).astype(np.float32)
    valid = np.isfinite(rgb).all(axis=-1)
    out = np.ones_like(rgb)
    if valid.any():
        for k in range(3):
            v = rgb[..., k][valid]
            lo, hi = np.percentile(v, [2, 98])
            out[..., k] = np.clip((rgb[..., k] - lo) / max(hi - lo, 1e-6), 0, 1)
        out[~valid] = 1.0
    return out


def panel_png(panel: Panel) -> bytes:
    """The panel's image alone (one PNG pixel per grid pixel), for the report's swipe view."""
    from PIL import Image

    rgb = (to_rgb(panel.data, panel.band_names) * 255 + 0.5).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(rgb, "RGB").save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def nice_length(max_m: float) -> float:
    """Largest 1/2/5 x 10^k metres not above ``max_m``."""
    if max_m <= 0:
        return 0.0
    exp = 10 ** math.floor(math.log10(max_m))
    for step in (5, 2, 1):
        if step * exp <= max_m:
            return float(step * exp)
    return float(exp)


P = ParamSpec("P")
R = TypeVar("R")


def user_text(fn: Callable[P, R]) -> Callable[P, R]:
    """Run a figure function with mathtext off: text from users (site names, credits) is
    drawn as written ('$5 and $10'), never parsed as mathtext."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with plt.rc_context({"text.parse_math": False}):
            return fn(*args, **kwargs)

    return wrapper


def figure_format(path: str | os.PathLike[str]) -> str:
    """'png', 'svg' or 'pdf' from the file's extension; anything else is refused."""
    ext = Path(path).suffix.lower().lstrip(".")
    if ext not in FIGURE_FORMATS:
        raise InputValueError(
            f"cannot write a figure as {Path(path).suffix or 'a file without an extension'!r}:"
            f" name the file .png, .svg or .pdf (e.g. {Path(path).stem or 'figure'}.pdf)")
    return ext


def area_words(area_m2: float | None, unc_m2: float | None) -> str:
    if area_m2 is None:
        return "area unknown"
    if unc_m2 is None:
        return f"{area_m2:,.0f} m²"
    return f"{area_m2:,.0f} ± {unc_m2:,.0f} m²"


# --- geometry of the page (inches) ---------------------------------------------------------
_W_IN, _SIDE_IN, _LEFT_IN, _GAP_IN, _RIGHT_IN = 7.4, 1.45, 0.55, 0.12, 0.12
_TOP_IN, _BOTTOM_IN = 0.48, 0.78
_LABEL_PT, _TEXT_PT = 6.0, 6.0


def _panel_in(h: int, w: int) -> tuple[float, float]:
    pw = (_W_IN - _LEFT_IN - _GAP_IN - _RIGHT_IN - _SIDE_IN - 0.1) / 2
    return pw, pw * h / max(w, 1)


def _outline(ax: Axes, geoms: Sequence[BaseGeometry], color: str, lw: float) -> None:
    for g in geoms:
        for p in getattr(g, "geoms", [g]):
            if not hasattr(p, "exterior"):
                continue
            x, y = p.exterior.xy
            ax.plot(x, y, color=color, lw=lw, zorder=3)


def _scale_bar(ax: Axes, box: Box, bar_px: float, bar_m: float, pt_px: float) -> None:
    x0, y0, x1, y1 = box
    ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fc="white", ec="none", alpha=0.8,
                           zorder=7))
    bx = x0 + (x1 - x0 - bar_px) / 2
    by = y1 - 4 * pt_px
    ax.plot([bx, bx + bar_px], [by, by], color="black", lw=2, solid_capstyle="butt", zorder=8)
    label = f"{bar_m:g} m" if bar_m < 1000 else f"{bar_m / 1000:g} km"
    ax.text(bx + bar_px / 2, by - 2 * pt_px, label, ha="center", va="bottom",
            fontsize=_TEXT_PT, zorder=8)


def _north_arrow(ax: Axes, box: Box, pt_px: float) -> None:
    x0, y0, x1, y1 = box
    ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fc="white", ec="none", alpha=0.8,
                           zorder=7))
    cx = (x0 + x1) / 2
    ax.add_patch(FancyArrow(cx, y1 - 2 * pt_px, 0, -(y1 - y0) * 0.55, width=2.2 * pt_px,
                            head_width=6 * pt_px, head_length=5 * pt_px, color="black",
                            length_includes_head=True, zorder=8))
    ax.text(cx, y0 + 1 * pt_px, "N", ha="center", va="top", fontsize=7, fontweight="bold",
            zorder=8)


def _display_box(ax: Axes, b: Box) -> Box:
    """A grid-pixel box (col0, row0, col1, row1) in display pixels."""
    (xa, ya), (xb, yb) = ax.transData.transform([(b[0], b[1]), (b[2], b[3])])
    return (min(xa, xb), min(ya, yb), max(xa, xb), max(ya, yb))


def _order(marks: Sequence[Mark]) -> list[int]:
    """Indices of the marks, largest first (by area, else by outline size)."""
    def size(i: int) -> float:
        a = marks[i].area_m2
        return float(a) if a is not None else float(marks[i].geom_px.area)

    return sorted(range(len(marks)), key=lambda i: -size(i))


def _note(n_total: int, placed: list[str], wanted: list[str]) -> str:
    if not n_total:
        return "No change detected."
    missing = [r for r in wanted if r not in placed]
    if n_total <= len(wanted):
        text = f"Labels: detection ids, all {n_total}."
    else:
        text = f"Labels: the {len(wanted)} largest of {n_total}; all in the report's table."
    if missing:
        text += f" No room for the label of {', '.join(missing)} (see the table)."
    return text


@user_text
def draw_figure(spec: FigureSpec, dpi: int = 300) -> tuple[Figure, Layout]:
    """Draw the figure (caller closes it) and return it with its layout."""
    h, w = spec.before.data.shape[1:]
    pw, ph = _panel_in(h, w)
    title_chars = int(pw * 72 / (8 * 0.55))
    panel_titles = [textwrap.fill(t.title, title_chars) for t in (spec.before, spec.after)]
    n_title = max(t.count("\n") + 1 for t in panel_titles)
    caution = "\n".join(textwrap.fill(f"Caution: {c}", int(2 * pw * 72 / (6.5 * 0.52)))
                        for c in spec.cautions)
    n_caution = caution.count("\n") + 1 if caution else 0
    top_in = _TOP_IN + 0.125 * (n_title - 1) + (0.115 * n_caution + 0.06 if caution else 0)
    # the structures' lines under the footnote (at most MAX_BUILDING_LINES)
    b_lines = _building_lines(spec.buildings)
    extra_in = (len(b_lines) * _TEXT_PT * 1.3 / 72 + 0.2) if b_lines else 0.0
    bottom_in = _BOTTOM_IN + extra_in
    fh = top_in + ph + bottom_in
    fig = plt.figure(figsize=(_W_IN, fh), dpi=dpi)
    axes: list[Axes] = []
    for k in range(2):
        left = _LEFT_IN + k * (pw + _GAP_IN)
        axes.append(fig.add_axes((left / _W_IN, bottom_in / fh, pw / _W_IN, ph / fh)))
    pt_px = w / (pw * 72)  # grid pixels per typographic point
    det_boxes = [m.geom_px.bounds for m in spec.marks]
    det_px: list[Box] = [(b[0], b[1], b[2], b[3]) for b in det_boxes]

    # corners for the scale bar and north arrow that hide no detection
    bar_m = nice_length(w * spec.res_m * 0.25) if spec.res_m > 0 else 0.0
    bar_px = bar_m / spec.res_m if spec.res_m > 0 else 0.0
    bar_spot = None
    for shrink in (1.0, 0.5, 0.2):
        if bar_m <= 0:
            break
        cand_m = nice_length(w * spec.res_m * 0.25 * shrink)
        cand_px = cand_m / spec.res_m
        bw = max(cand_px + 10 * pt_px, 26 * pt_px)
        spot = free_corner(w, h, bw, 16 * pt_px, 3 * pt_px, det_px,
                           order=("lower left", "lower right", "upper left", "upper right"))
        if spot is not None:
            bar_spot, bar_m, bar_px = spot, cand_m, cand_px
            break
    taken = [bar_spot[0]] if bar_spot else []
    arrow_spot = free_corner(w, h, 12 * pt_px, 26 * pt_px, 3 * pt_px, det_px, taken=taken,
                             order=("upper right", "upper left", "lower right", "lower left"))
    furniture = [s[1] for s in (bar_spot, arrow_spot) if s is not None]

    titles = [spec.heading, spec.before.title, spec.after.title, *spec.cautions]
    for ax, panel in zip(axes, (spec.before, spec.after), strict=True):
        ax.imshow(to_rgb(panel.data, panel.band_names), interpolation="nearest", zorder=1)
        if spec.aoi_px is not None:
            _outline(ax, [spec.aoi_px], YELLOW, 0.8)
        _outline(ax, [m.geom_px for m in spec.marks], RED, 0.7)
        _draw_buildings(ax, spec.buildings, 0 if panel is spec.before else 1)
        if bar_spot is not None:
            _scale_bar(ax, bar_spot[1], bar_px, bar_m, pt_px)
        if arrow_spot is not None:
            _north_arrow(ax, arrow_spot[1], pt_px)
        ax.set_xlim(0, w)
        ax.set_ylim(h, 0)
        ax.set_title(panel_titles[0 if panel is spec.before else 1], fontsize=8, loc="left",
                     pad=3)
        ax.tick_params(labelsize=5.5, length=2, pad=1.5, direction="out")
        for s in ax.spines.values():
            s.set_linewidth(0.5)
    _ticks(axes, spec.to_lonlat, w, h)
    for k, panel in enumerate((spec.before, spec.after)):
        left = (_LEFT_IN + k * (pw + _GAP_IN)) / _W_IN
        chars = int(pw * 72 / (_TEXT_PT * 0.5))
        fig.text(left, (bottom_in - 0.2) / fh, textwrap.fill(panel.credit, chars,
                                                                max_lines=3, placeholder=" ..."),
                 fontsize=5.5, va="top", ha="left", color="#333")
    if caution:
        fig.text(_LEFT_IN / _W_IN, 1 - 0.36 / fh, caution, fontsize=6.5, color="#b54708",
                 va="top", ha="left")
    fig.suptitle(spec.heading, x=_LEFT_IN / _W_IN, ha="left", y=1 - 0.08 / fh, va="top",
                 fontsize=9, fontweight="bold")

    # labels: measured with the real renderer, placed greedily on the before panel, drawn
    # at the same grid positions on both panels
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    order = _order(spec.marks)
    wanted = order[:max(spec.max_labels, 0)]
    ax0 = axes[0]
    pad = _LABEL_PT * 0.2 * dpi / 72
    sizes, anchors, targets = [], [], []
    for i in wanted:
        t = ax0.text(0, 0, spec.marks[i].ref, fontsize=_LABEL_PT)
        bb = t.get_window_extent(renderer)
        t.remove()
        sizes.append((bb.width + 2 * pad, bb.height + 2 * pad))
        rp = spec.marks[i].geom_px.representative_point()
        anchors.append(tuple(ax0.transData.transform((rp.x, rp.y))))
        targets.append(_display_box(ax0, det_px[i]))
    frame = ax0.get_window_extent(renderer)
    frame_box: Box = (frame.x0 + 1, frame.y0 + 1, frame.x1 - 1, frame.y1 - 1)
    blocked = [_display_box(ax0, f) for f in furniture]
    placed = place_labels(sizes, anchors, targets, frame_box, blocked)
    inv = ax0.transData.inverted()
    label_artists = []
    for p in placed:
        mark = spec.marks[wanted[p.index]]
        cx, cy = inv.transform(((p.box[0] + p.box[2]) / 2, (p.box[1] + p.box[3]) / 2))
        ax_, ay_ = inv.transform(p.anchor)
        for k, ax in enumerate(axes):
            if p.leader:
                ax.plot([cx, ax_], [cy, ay_], color=RED, lw=0.5, zorder=5)
                ax.plot([ax_], [ay_], "o", ms=1.5, color=RED, zorder=5)
            t = ax.text(cx, cy, mark.ref, fontsize=_LABEL_PT, ha="center", va="center",
                        color="#111", zorder=6,
                        bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": RED,
                              "lw": 0.4, "alpha": 0.9})
            label_artists.append((k, mark.ref, t))
    placed_refs = [spec.marks[wanted[p.index]].ref for p in placed]
    note = _note(len(spec.marks), placed_refs, [spec.marks[i].ref for i in wanted])

    side_bar = _side_column(fig, spec, order, fh, top_in, pw, bar_spot is None and bar_m > 0,
                            bar_m, bar_px / w, extra_in)
    foot = ("Red outlines: detected change; yellow: the site's area of interest. "
            + note + (" North is up." if arrow_spot is None else "")
            + (f" {spec.caption}" if spec.caption else ""))
    if spec.buildings:
        foot += (" Structures: blue new, orange extended, pink demolished, brown dashed "
                 "cleared ground, white the standing buildings they are compared with.")
    fig.text(_LEFT_IN / _W_IN, (0.3 + extra_in) / fh, textwrap.fill(foot, 150),
             fontsize=_TEXT_PT, va="top", ha="left")
    if b_lines:
        fig.text(_LEFT_IN / _W_IN, (extra_in - 0.1) / fh, "\n".join(b_lines),
                 fontsize=_TEXT_PT, va="top", ha="left", linespacing=1.3)

    fig.canvas.draw()
    labels = tuple((k, ref, _bbox(t.get_bbox_patch(), renderer)) for k, ref, t in label_artists)
    dets = tuple((k, m.ref, _display_box(ax, b)) for k, ax in enumerate(axes)
                 for m, b in zip(spec.marks, det_px, strict=True))
    bars = tuple((k, _display_box(ax, bar_spot[1])) for k, ax in enumerate(axes)) \
        if bar_spot else ()
    if side_bar is not None:  # one bar for both panels, beside them
        bars = ((-1, _bbox(side_bar, renderer)),)
    arrows = tuple((k, _display_box(ax, arrow_spot[1])) for k, ax in enumerate(axes)) \
        if arrow_spot else ()
    size = fig.canvas.get_width_height()
    return fig, Layout(labels, dets, bars, arrows, tuple(titles), note, tuple(placed_refs),
                       (int(size[0]), int(size[1])))


MAX_BUILDING_LINES = 8


def _building_lines(buildings: Sequence[Building]) -> list[str]:
    if not any(b.kind != "unchanged" for b in buildings):
        return []
    lines = ["Structures (area ± one-pixel outline error; sizes relative to standing "
             "buildings):"]
    changed = [b for b in buildings if b.kind != "unchanged"]
    lines += [textwrap.shorten(b.text, 190, placeholder=" ...")
              for b in changed[:MAX_BUILDING_LINES]]
    if len(changed) > MAX_BUILDING_LINES:
        lines.append(f"{len(changed) - MAX_BUILDING_LINES} more in the report's table")
    return lines


def _draw_buildings(ax: Axes, buildings: Sequence[Building], panel: int) -> None:
    """Outlines and refs of the structures that belong on this panel (0 before, 1 after)."""
    for b in buildings:
        on = {"demolished": (0,), "cleared_ground": (0, 1)}.get(b.kind, (1,))
        if panel not in on:
            continue
        colour = BUILDING_COLOURS.get(b.kind, "#00c8ff")
        for p in getattr(b.geom_px, "geoms", [b.geom_px]):
            if not hasattr(p, "exterior"):
                continue
            x, y = p.exterior.xy
            ax.plot(x, y, color=colour, lw=0.8, zorder=4,
                    ls="--" if b.kind == "cleared_ground" else "-")
        rp = b.geom_px.representative_point()
        ax.text(rp.x, rp.y, b.ref, fontsize=4.5, color=colour, ha="center", va="center",
                zorder=4, fontweight="bold")


def _bbox(patch: object, renderer: object) -> Box:
    bb = patch.get_window_extent(renderer)  # type: ignore[attr-defined]
    return (float(bb.x0), float(bb.y0), float(bb.x1), float(bb.y1))


def _ticks(axes: list[Axes], to_lonlat: LonLatFn | None, w: int, h: int) -> None:
    """Longitude along the bottom of both panels, latitude up the left of the first."""
    if to_lonlat is None:
        for ax in axes:
            ax.set_xticks([])
            ax.set_yticks([])
        return
    lon = edge_ticks(to_lonlat, w, h, "lon")
    lat = edge_ticks(to_lonlat, w, h, "lat")
    for k, ax in enumerate(axes):
        ax.set_xticks([p for p, _ in lon], [t for _, t in lon])
        ax.set_yticks([p for p, _ in lat], [t for _, t in lat] if k == 0 else [])
    axes[0].tick_params(axis="y", labelrotation=90)
    for lab in axes[0].get_yticklabels():
        lab.set_verticalalignment("center")


def _side_column(fig: Figure, spec: FigureSpec, order: list[int], fh: float, top_in: float,
                 pw: float, bar_here: bool, bar_m: float, bar_frac: float,
                 reserve_in: float = 0.0) -> Axes | None:
    """Locator inset, the site's centre (lat, lon), the largest changes, and the scale bar
    when no panel corner could take it (its axes are returned)."""
    x = (_LEFT_IN + 2 * pw + _GAP_IN + 0.18) / _W_IN
    width_in = _SIDE_IN - 0.1
    top = 1 - top_in / fh
    if spec.centre_lat_lon is not None:
        loc = fig.add_axes((x, top - (width_in / 2) / fh, width_in / _W_IN, (width_in / 2) / fh))
        draw_locator(loc, spec.centre_lat_lon)
        lat, lon = spec.centre_lat_lon
        ns, ew = ("N" if lat >= 0 else "S"), ("E" if lon >= 0 else "W")
        fig.text(x, top - (width_in / 2 + 0.06) / fh,
                 f"Site centre (lat, lon):\n{abs(lat):.4f}°{ns}, {abs(lon):.4f}°{ew}",
                 fontsize=_TEXT_PT, va="top", ha="left")
        top -= (width_in / 2 + 0.36) / fh
    y = top - 0.06 / fh
    bar_ax = None
    if bar_here:
        ax = fig.add_axes((x, y - 0.2 / fh, width_in / _W_IN, 0.2 / fh))
        ax.set_axis_off()
        ax.set_xlim(0, width_in)
        length = bar_frac * pw
        ax.plot([0, length], [0.3, 0.3], color="black", lw=2, solid_capstyle="butt")
        lab = f"{bar_m:g} m" if bar_m < 1000 else f"{bar_m / 1000:g} km"
        ax.text(0, 0.5, f"Scale (both panels): {lab}", fontsize=_TEXT_PT, va="bottom")
        ax.set_ylim(0, 1)
        y -= 0.3 / fh
        bar_ax = ax
    if not spec.marks:
        return bar_ax
    line_in = _TEXT_PT * 1.25 / 72
    # entries of two lines above the footnote (and the structures' lines under it)
    room = int(((y * fh - 0.5 - reserve_in) / line_in - 3) // 2)
    shown = order[:max(min(room, 10), 0)]
    lines = ["Largest changes", "(area ± one-pixel outline error)"]
    for i in shown:
        m = spec.marks[i]
        nb = "\u00a0"  # no-break spaces: SVG viewers collapse ordinary ones
        lines.append(f"{m.ref}{nb * 2}{change_label(m.change_type)}")
        lines.append(f"{nb * 6}{area_words(m.area_m2, m.area_uncertainty_m2)}")
    if len(spec.marks) > len(shown):
        lines.append(f"{len(spec.marks) - len(shown)} more in the table")
    fig.text(x, y, "\n".join(lines), fontsize=_TEXT_PT, va="top", ha="left", linespacing=1.25)
    return bar_ax


def render_figure(spec: FigureSpec, fmt: str = "png", dpi: int = 300) -> bytes:
    """The figure as PNG (``dpi`` recorded in the file), SVG (text kept as text) or PDF
    (one page, fonts embedded) bytes; no timestamps, so the same input gives the same file."""
    if fmt not in FIGURE_FORMATS:
        raise InputValueError(f"figure format {fmt!r}: choose png, svg or pdf")
    with plt.rc_context({"svg.fonttype": "none", "pdf.fonttype": 42,
                         "svg.hashsalt": "sitewatch"}):
        fig, _ = draw_figure(spec, dpi)
        try:
            buf = io.BytesIO()
            metas: dict[str, dict[str, str | None]] = {
                "png": {"Software": "sitewatch"}, "svg": {"Date": None},
                "pdf": {"CreationDate": None}}
            meta = metas[fmt]
            fig.savefig(buf, format=fmt, dpi=dpi, metadata=meta)
        finally:
            plt.close(fig)
    return buf.getvalue()


def figure_layout(spec: FigureSpec, dpi: int = 300) -> Layout:
    """Where the labels, scale bars and detections are on the figure drawn at ``dpi``."""
    fig, layout = draw_figure(spec, dpi)
    plt.close(fig)
    return layout


def check_dpi(dpi: int) -> int:
    if not 50 <= dpi <= 1200:
        raise InputValueError(f"--dpi {dpi}: give a resolution from 50 to 1200 (print: 300)")
    return dpi


def write_figure(spec: FigureSpec, path: Path, dpi: int = 300) -> Path:
    """Write the figure to ``path`` in the format its extension names (atomically)."""
    fmt = figure_format(path)
    check_dpi(dpi)
    data = render_figure(spec, fmt, dpi)
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return path


def before_after_png(before: Panel, after: Panel, res_m: float, aoi_px: BaseGeometry | None,
                     changes_px: Sequence[BaseGeometry], heading: str,
                     areas: Sequence[tuple[float | None, float | None]] = (),
                     labels: Sequence[str] = (), dpi: int = 130,
                     change_types: Sequence[str] = ()) -> bytes:
    """PNG bytes of the two panels from plain geometries (col, row) in grid pixels,
    ``areas`` (area_m2, uncertainty_m2), ``labels`` and ``change_types`` in the same order."""
    marks = [Mark(g, labels[i] if i < len(labels) else f"#{i + 1}",
                  *(areas[i] if i < len(areas) else (None, None)),
                  change_types[i] if i < len(change_types) else "change")
             for i, g in enumerate(changes_px)]
    return render_figure(FigureSpec(before, after, res_m, aoi_px, marks, heading), "png", dpi)
