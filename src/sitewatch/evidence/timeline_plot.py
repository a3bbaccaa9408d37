"""The timeline figure: one panel per index over time, breaks marked and dated, credits."""

from __future__ import annotations

import re
import textwrap
from datetime import date
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402

from sitewatch.evidence.figure import user_text  # noqa: E402
from sitewatch.fileio import atomic_path  # noqa: E402

_LABELS = {"ndvi": "NDVI", "ndbi": "built-up index (NDBI)", "bsi": "bare-soil index",
           "brightness": "brightness (reflectance)"}
_KIND_COLOUR = {"vegetation_loss": "#d62728", "built_up_gain": "#9467bd",
                "vegetation_gain": "#2ca02c", "change": "#ff7f0e"}


def credit_line(credits: list[str]) -> str:
    """Distinct credits, those differing only in a trailing year merged: "... data 2015-2017"."""
    years: dict[str, set[int]] = {}
    for c in credits:
        m = re.match(r"^(.*?)\s*((?:19|20)\d\d)$", c.strip())
        base, year = (m.group(1), int(m.group(2))) if m else (c.strip(), None)
        years.setdefault(base, set())
        if year is not None:
            years[base].add(year)
    parts = []
    for base, ys in sorted(years.items()):
        if not ys:
            parts.append(base)
        elif len(ys) == 1 or max(ys) - min(ys) + 1 != len(ys):
            parts.append(f"{base} {', '.join(map(str, sorted(ys)))}")
        else:
            parts.append(f"{base} {min(ys)}-{max(ys)}")
    return "; ".join(parts)


def _day(text: str) -> date:
    return date.fromisoformat(text[:10])


@user_text
def timeline_png(path: Path, site: str, observations: list[dict[str, Any]],
                 breaks: list[dict[str, Any]], credits: list[str], min_clear: float) -> Path:
    """Write the figure; panels only for indices with at least one value."""
    names = [n for n in _LABELS if any(o.get(n) is not None for o in observations)]
    if not names:
        names = ["ndvi"]
    fig, axes = plt.subplots(len(names), 1, figsize=(10, 2.2 * len(names) + 1.2), sharex=True,
                             squeeze=False)
    dated = [o for o in observations if len(o["date"]) >= 10 and "/" not in o["date"]]
    for ax, name in zip(axes[:, 0], names, strict=True):
        good = [o for o in dated if o.get(name) is not None and o["clear_fraction"] >= min_clear]
        weak = [o for o in dated if o.get(name) is not None and o["clear_fraction"] < min_clear]
        ax.plot([_day(o["date"]) for o in good], [o[name] for o in good], "o", ms=3,
                color="#1f77b4", label=f"clear >= {min_clear:.0%} of AOI")
        if weak:
            ax.plot([_day(o["date"]) for o in weak], [o[name] for o in weak], "o", ms=3,
                    mfc="none", color="#999999", label="mostly cloudy (not used)")
        for b in breaks:
            ax.axvline(_day(b["date"]), color=_KIND_COLOUR.get(b["kind"], "k"), ls="--", lw=1.2)
        ax.set_ylabel(_LABELS[name], fontsize=8)
        ax.grid(alpha=0.3)
    top = axes[0, 0]
    for b in breaks:
        area = f", {b['area_m2']:,.0f} m²" if b.get("area_m2") else ""
        top.annotate(f"{b['date']} {b['kind'].replace('_', ' ')}{area}",
                     xy=(_day(b["date"]), 1.0), xycoords=("data", "axes fraction"),
                     xytext=(3, 2), textcoords="offset points", fontsize=7, rotation=0,
                     color=_KIND_COLOUR.get(b["kind"], "k"), va="bottom")
    top.legend(fontsize=7, loc="lower left")
    axes[-1, 0].xaxis.set_major_locator(mdates.AutoDateLocator())
    axes[-1, 0].xaxis.set_major_formatter(mdates.ConciseDateFormatter(
        axes[-1, 0].xaxis.get_major_locator()))
    n_used = sum(1 for o in dated if o["clear_fraction"] >= min_clear)
    fig.suptitle(f"{site}: {len(observations)} scenes, {n_used} clear enough; "
                 f"{len(breaks)} break(s)", fontsize=10)
    note = (f"{credit_line(credits)}. AOI means of clear pixels; dashed lines: breaks "
            "(harmonic model, sequential chi-square test).")
    fig.text(0.01, 0.005, "\n".join(textwrap.wrap(note, 180)[:3]), fontsize=6, color="#444444")
    fig.tight_layout(rect=(0, 0.04, 1, 0.97))
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=120, format="png")
    plt.close(fig)
    return path
