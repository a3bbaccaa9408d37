"""``sitewatch timeline`` and ``sitewatch rank``: time series of a site, and all sites ranked."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from sitewatch.cli.common import change_label, err, open_ws, out, print_json
from sitewatch.errors import InputValueError


def _fmt(v: float | None, digits: int = 3) -> str:
    return "      -" if v is None else f"{v:7.{digits}f}"


def timeline(
    site: Annotated[str, typer.Argument(help="Site id, name or alias.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    plot: Annotated[Path | None, typer.Option(help="Write the timeline figure (PNG).")] = None,
    min_clear: Annotated[float, typer.Option(
        help="Least fraction of the AOI clear for a scene to count in the site's breaks.")
    ] = 0.5,
    conse: Annotated[int, typer.Option(
        help="Consecutive anomalous observations that confirm a break.")] = 6,
    probability: Annotated[float, typer.Option(
        help="Chi-square quantile of the change test.")] = 0.99,
    no_pixels: Annotated[bool, typer.Option(
        "--no-pixels", help="Skip per-pixel break maps (faster on large sites).")] = False,
    recompute: Annotated[bool, typer.Option(help="Ignore the stored timeline.")] = False,
    table: Annotated[bool, typer.Option(
        "--table", help="Print every scene's row (default: a summary with a few key rows).")
    ] = False,
) -> None:
    """Index series (NDVI, built-up, bare soil, brightness) of a site's scenes, with breaks
    dated by a harmonic model and a sequential test; break rasters and polygons are written
    to the workspace."""
    from sitewatch.cli.progress import progress
    from sitewatch.detect.breaks import BreakParams
    from sitewatch.pipeline.timeline import timeline_json

    if conse < 1:
        raise InputValueError(f"--conse {conse} must be at least 1")
    if not 0.5 <= probability < 1:
        raise InputValueError(f"--probability {probability} must be in [0.5, 1), e.g. 0.99")
    if plot is not None and plot.suffix.lower() != ".png":
        raise InputValueError(f"--plot {plot} must end in .png")
    ws = open_ws()
    s = ws.site(site)
    params = BreakParams(probability=probability, conse=conse)
    with progress("reading scenes") as report:
        tl = ws.timeline(s.id, plot=plot, params=params, min_clear=min_clear,
                         pixels=not no_pixels, force=recompute,
                         progress=lambda i, n: report(i, n, ""))
    if plot is not None:
        err.print(f"plot written to {plot}", markup=False)
    if as_json:
        print_json(timeline_json(s, tl))
        return
    _observations(tl.observations, tl.breaks, min_clear, table)
    used = ", ".join(tl.parameters.get("features", [])) or "none (too few clear scenes)"
    out.print(f"{len(tl.breaks)} break(s) in {len(tl.observations)} scenes "
              f"(indices used: {used}):", markup=False)
    for b in tl.breaks:
        area = "" if b["area_m2"] is None else f", {b['area_m2']:,.0f} m² of pixels broke"
        out.print(f"  {b['date']}  {change_label(b['kind']):19s} magnitude "
                  f"{b['magnitude']:.1f}{area}",
                  markup=False)
    for name, path in tl.outputs.items():
        out.print(f"  {name}: {path}", markup=False)


#: the rows a timeline summary shows at each end of the series
SUMMARY_ENDS = 3


def key_rows(observations: list[dict[str, Any]], breaks: list[dict[str, Any]]) -> list[int]:
    """The rows a summary shows: the first and last few, and those dated at each break."""
    n = len(observations)
    keep = set(range(min(SUMMARY_ENDS, n))) | set(range(max(0, n - SUMMARY_ENDS), n))
    dates = {str(b.get("date")) for b in breaks}
    keep |= {i for i, o in enumerate(observations) if str(o["date"]) in dates}
    return sorted(keep)


def _observations(observations: list[dict[str, Any]], breaks: list[dict[str, Any]],
                  min_clear: float, table: bool) -> None:
    """Every row with ``table``; else a summary: count, date range, a few key rows."""
    n = len(observations)
    if n and not table:
        clear = sum(o["clear_fraction"] >= min_clear for o in observations)
        out.print(f"{n} scenes from {observations[0]['date']} to {observations[-1]['date']}"
                  f", {clear} at least {min_clear:.0%} clear", markup=False)
    rows = list(range(n)) if table else key_rows(observations, breaks)
    out.print(f"{'date':24s} {'scene':>6s} {'clear':>6s} {'ndvi':>7s} {'ndbi':>7s} "
              f"{'bsi':>7s} {'bright':>7s}", markup=False)
    last = -1
    for i in rows:
        if i > last + 1:
            out.print(f"{'...':24s} ({i - last - 1} more)", markup=False)
        o = observations[i]
        out.print(f"{o['date']:24s} {o['scene_id']:6d} {o['clear_fraction']:6.2f} "
                  f"{_fmt(o['ndvi'])} {_fmt(o['ndbi'])} {_fmt(o['bsi'])} "
                  f"{_fmt(o['brightness'])}", markup=False)
        last = i
    if len(rows) < n:
        out.print(f"(a summary of {n} rows: --table prints them all, --json everything)",
                  markup=False)


def rank(
    since: Annotated[str | None, typer.Option(
        help="Count change on or after this date (YYYY-MM-DD, YYYY-MM or YYYY).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
) -> None:
    """All sites, most changed first: area and strength of change since a date."""
    from sitewatch.model.dates import ObsDate

    start = None
    if since is not None:
        when = ObsDate.from_user(since, "--since")
        if when.start is None:
            raise InputValueError(f"--since {since!r} has no start: give a date such as "
                                  "2024-01-01")
        start = when.start
    ranked = open_ws().rank(start)
    if as_json:
        print_json([c.as_dict() for c in ranked])
        return
    if not ranked:
        out.print("no sites: add one with 'sitewatch sites add'", markup=False)
    for i, c in enumerate(ranked, start=1):
        kinds = ", ".join(c.kinds) or "-"
        first = c.first_date or "-"
        out.print(f"{i:3d}. {c.site:30s} {c.area_m2:12,.0f} m²  strength {c.strength:6.2f}  "
                  f"from {first:10s}  {kinds}  ({c.note})", markup=False)
