"""The before/after figure: dated panels, change outlines, scale bar, north arrow, credits."""

from __future__ import annotations

import functools
import io
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.patches import FancyArrow, Rectangle  # noqa: E402
from shapely.geometry.base import BaseGeometry  # noqa: E402


@dataclass(frozen=True)
class Panel:
    """One image of the figure. ``data``: (bands, h, w) float32 on the grid, NaN = no data;
    ``band_names`` say which band is red/green/blue."""

    data: np.ndarray
    band_names: Sequence[str]
    title: str
    credit: str


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


def nice_length(max_m: float) -> float:
    """Largest 1/2/5 x 10^k metres not above ``max_m``."""
    if max_m <= 0:
        return 0.0
    exp = 10 ** math.floor(math.log10(max_m))
    for step in (5, 2, 1):
        if step * exp <= max_m:
            return float(step * exp)
    return float(exp)


def _outline(ax: plt.Axes, geoms: Sequence[BaseGeometry], color: str, lw: float,
             labels: bool) -> None:
    for i, g in enumerate(geoms, start=1):
        polys = getattr(g, "geoms", [g])
        for p in polys:
            x, y = p.exterior.xy
            ax.plot(x, y, color=color, lw=lw)
        if labels:
            c = g.representative_point()
            ax.text(c.x, c.y, str(i), color="white", fontsize=7, ha="center", va="center",
                    bbox={"boxstyle": "round,pad=0.15", "fc": color, "ec": "none", "alpha": 0.85})


def _decorate(ax: plt.Axes, width_px: int, height_px: int, res_m: float) -> None:
    bar_m = nice_length(width_px * res_m * 0.3)
    bar_px = bar_m / res_m
    x0, y0 = width_px * 0.05, height_px * 0.93
    ax.add_patch(Rectangle((x0 - 4, y0 - height_px * 0.06), bar_px + 8, height_px * 0.085,
                           fc="white", ec="none", alpha=0.75))
    ax.plot([x0, x0 + bar_px], [y0, y0], color="black", lw=3, solid_capstyle="butt")
    label = f"{bar_m:g} m" if bar_m < 1000 else f"{bar_m / 1000:g} km"
    ax.text(x0 + bar_px / 2, y0 - height_px * 0.015, label, ha="center", va="bottom", fontsize=8)
    ax_x, ax_y = width_px * 0.92, height_px * 0.2
    ax.add_patch(FancyArrow(ax_x, ax_y, 0, -height_px * 0.1, width=width_px * 0.012,
                            head_width=width_px * 0.045, head_length=height_px * 0.04,
                            color="black", ec="white", lw=0.6, length_includes_head=True))
    ax.text(ax_x, ax_y - height_px * 0.12, "N", ha="center", va="bottom", fontsize=10,
            fontweight="bold", color="black",
            bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.75})


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


@user_text
def before_after_png(before: Panel, after: Panel, res_m: float, aoi_px: BaseGeometry | None,
                     changes_px: Sequence[BaseGeometry], heading: str,
                     areas: Sequence[tuple[float | None, float | None]] = (),
                     labels: Sequence[str] = (), dpi: int = 130) -> bytes:
    """Render the two panels side by side; geometries are in grid pixel coordinates
    (col, row); ``areas`` are (area_m2, uncertainty_m2) of the changes (None: unknown) and
    ``labels`` their identifiers, in the same order. Returns PNG bytes."""
    h, w = before.data.shape[1:]
    fig, axes = plt.subplots(1, 2, figsize=(11, 5.8 * h / max(w, 1) + 1.0), dpi=dpi)
    for ax, panel, show in ((axes[0], before, False), (axes[1], after, True)):
        ax.imshow(to_rgb(panel.data, panel.band_names), interpolation="nearest")
        if aoi_px is not None:
            _outline(ax, [aoi_px], "#ffd400", 1.0, False)
        _outline(ax, changes_px, "#e4002b", 1.3 if show else 0.8, show)
        _decorate(ax, w, h, res_m)
        ax.set_title(panel.title, fontsize=10)
        ax.set_xlim(0, w)
        ax.set_ylim(h, 0)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_xlabel(panel.credit, fontsize=7, wrap=True)
    fig.suptitle(heading, fontsize=11)
    names = list(labels) or [f"#{i}" for i in range(1, len(areas) + 1)]
    listed = "; ".join(
        f"#{i} ({name}) " + (f"{a:,.0f} ± {u or 0:,.0f} m²" if a is not None else "area unknown")
        for i, ((a, u), name) in enumerate(zip(areas[:6], names, strict=False), start=1))
    more = f"; {len(areas) - 6} more in the table" if len(areas) > 6 else ""
    fig.text(0.5, 0.01, "Red outlines: detected change. Yellow: site AOI."
             + (f" Areas: {listed}{more}." if listed else ""), ha="center", fontsize=7,
             wrap=True)
    fig.tight_layout(rect=(0, 0.03, 1, 0.97))
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()
