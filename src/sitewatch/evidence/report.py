"""The self-contained HTML evidence report of one site (images inline, no network)."""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sitewatch.evidence.structures import structures_html
from sitewatch.evidence.swipe import CSS as SWIPE_CSS
from sitewatch.evidence.swipe import SCRIPT_CSP, SwipeView, swipe_html
from sitewatch.model import Chip, Flag, Run, Scene, Site
from sitewatch.model.dates import ObsDate
from sitewatch.model.objects import change_label
from sitewatch.version import __version__


def esc(value: Any) -> str:
    """Escape anything for HTML text and attributes."""
    return html.escape("" if value is None else str(value), quote=True)


@dataclass(frozen=True)
class ReportData:
    site: Site
    run: Run
    before: Scene
    after: Scene
    chips: Sequence[Chip]
    figure_png: bytes
    aoi_area_m2: float
    centroid_lon_lat: tuple[float, float]
    swipe: SwipeView | None = None


def when(scene: Scene) -> str:
    return ObsDate.parse(scene.acquired_text).describe()


def _rows(pairs: Sequence[tuple[str, Any]]) -> str:
    return "\n".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in pairs)


def _scene_rows(role: str, s: Scene) -> list[tuple[str, Any]]:
    return [
        (f"{role}: provider", s.provider), (f"{role}: acquired", when(s)),
        (f"{role}: credit", s.credit), (f"{role}: licence", s.licence or "not stated"),
        (f"{role}: file", s.path), (f"{role}: sha256", s.sha256),
        (f"{role}: size, bands", f"{s.width} x {s.height} px, {', '.join(s.band_names)}"),
        (f"{role}: CRS, pixel", f"{s.crs}, {s.gsd_m:.2f} m"),
        (f"{role}: georeference", "stated by the analyst (--bounds)"
         if s.georef_source == "user" else "from the file"),
        (f"{role}: notes", s.notes or ""),
    ]


def area_text(area_m2: float | None, unc_m2: float | None) -> str:
    """'1,234 ± 56' m2, or 'unknown' when the ground size is not known."""
    if area_m2 is None:
        return "unknown"
    return f"{area_m2:,.0f} ± {unc_m2:,.0f}" if unc_m2 is not None else f"{area_m2:,.0f}"


def latlon_text(lat: float | None, lon: float | None) -> str:
    """'lat, lon' in degrees: the one coordinate order of reports, figures and the CLI."""
    return "unknown" if lat is None or lon is None else f"{lat:.6f}, {lon:.6f}"


def summary_sentence(d: ReportData) -> str:
    dets = d.run.detections
    if not dets:
        return (f"No change above the detector's threshold between {when(d.before)} and "
                f"{when(d.after)} (run {d.run.ref}).")
    head = (f"Run {d.run.ref}: {len(dets)} changed area(s) between {when(d.before)} and "
            f"{when(d.after)}")
    if any(x.area_m2 is None for x in dets):
        return head + "; their areas are unknown (the pixel size is not known)."
    # the one total the CLI and the exports state too
    total, unc = d.run.changed_area_m2 or 0.0, d.run.changed_area_uncertainty_m2 or 0.0
    big = max(dets, key=lambda x: x.area_m2 or 0.0)
    return (f"{head}, {total:,.0f} m² in all (± {unc:,.0f} m²). The largest ({big.ref}, "
            f"{change_label(big.change_type)}) measures "
            f"{area_text(big.area_m2, big.area_uncertainty_m2)} m², "
            f"{100 * total / max(d.aoi_area_m2, 1):.1f}% of the site's "
            f"{d.aoi_area_m2:,.0f} m² AOI holds change.")


def flags_html(flags: Sequence[Flag], where: str) -> str:
    """The warnings beside a figure: a list of sentences (``where`` == "headline") or the
    flags' names, each with its sentence as a tooltip (in a table cell)."""
    if not flags:
        return "" if where == "headline" else "none"
    if where == "headline":
        items = "".join(f"<li>{esc(f.sentence)} <code>{esc(f.value)}</code></li>"
                        for f in flags)
        return f'<ul class="flags" aria-label="Warnings">{items}</ul>'
    return "<br>".join(f'<span class="flag" title="{esc(f.sentence)}">{esc(f.value)}</span>'
                       for f in flags)


def _flag_legend(r: Run) -> str:
    """What the flags in the detections table mean, for a reader of a printed report."""
    seen = {f for x in r.detections for f in x.flags}
    if not seen:
        return ""
    items = "".join(f"<li><code>{esc(f.value)}</code>: {esc(f.sentence)}</li>"
                    for f in Flag if f in seen)
    return f'<p class="credit">Warnings in the table:</p><ul class="credit">{items}</ul>'


def _sources_html(site: Site) -> str:
    """The texts the site was found in, each quote with its character offsets."""
    if not site.sources:
        return ""
    parts = ["<h2>Sources</h2>"]
    for src in site.sources:
        dated = f", dated {src.published}" if src.published else ""
        parts.append(f"<p><b>{esc(src.title or src.file)}</b>{esc(dated)}<br>"
                     f"<span class=credit>{esc(src.file)}; sha256 {esc(src.sha256)}</span></p>")
        parts.append("<ul>" + "".join(
            f"<li><q>{esc(q.get('quote', ''))}</q> "
            f"<span class=credit>[characters {esc(q.get('start'))}-{esc(q.get('end'))}]"
            f"</span></li>" for q in src.quotes) + "</ul>")
    return "\n".join(parts)


def render_html(d: ReportData) -> str:
    """The report as one HTML string; every value that came from a user is escaped."""
    s, r = d.site, d.run
    img = base64.b64encode(d.figure_png).decode("ascii")
    facts = _rows([
        ("Name", s.name), ("Aliases", ", ".join(s.aliases or []) or "none"),
        ("Kind", s.kind or "not stated"), ("Country", s.country or "not stated"),
        ("Centre (lat, lon)", latlon_text(d.centroid_lon_lat[1], d.centroid_lon_lat[0])),
        ("AOI area", f"{d.aoi_area_m2:,.0f} m²"), ("Notes", s.notes or ""),
    ])
    det_rows = "\n".join(
        f"<tr><td>{i}</td><td>{esc(x.ref)}</td><td>{esc(x.change_ref or '')}</td>"
        f"<td>{esc(change_label(x.change_type))}</td>"
        f"<td class=num>{esc(area_text(x.area_m2, x.area_uncertainty_m2))}</td>"
        f"<td class=num>{x.score:.2f}</td>"
        f"<td class=num>{esc(latlon_text(x.centroid_lat, x.centroid_lon))}</td>"
        f"<td>{esc(x.review_status.value)}</td><td>{flags_html(x.flags, 'cell')}</td></tr>"
        for i, x in enumerate(r.detections, start=1)
    ) or "<tr><td colspan=9>No detections.</td></tr>"
    chip_rows = _rows([
        (f"scene {c.scene_id} chip", f"shift dy={c.shift_y_px:+.2f} px, dx={c.shift_x_px:+.2f} px"
         f" ({c.coreg_status}); covers {c.valid_fraction:.0%} of the AOI; {c.path}")
        for c in d.chips
    ])
    run_rows = _rows([
        ("Run", f"{r.ref} ({r.status.value}), finished {r.finished_at}"),
        ("Method", r.method), ("Run key", r.run_key),
        ("Timings (s)", json.dumps(r.timings_s)),
        ("Software", ", ".join(f"{k} {v}" for k, v in sorted(r.versions.items()))),
    ])
    params = esc(json.dumps(r.parameters, indent=2, sort_keys=True))
    credits = "; ".join(sorted({d.before.credit, d.after.credit}))
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    sources = _sources_html(s)
    swipe = "" if d.swipe is None else (
        "<h2>Swipe between the dates</h2>\n<p class=credit>Drag the divider, or focus it and "
        "use the arrow keys: left of it is the before image, right of it the after image.</p>\n"
        + swipe_html(d.swipe, esc(when(d.before)), esc(when(d.after))))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy"
 content="default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src {SCRIPT_CSP}">
<title>sitewatch evidence: {esc(s.name)}</title>
<style>
body{{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#111}}
table{{border-collapse:collapse;margin:.5em 0 1.5em;font-size:.9em}}
th,td{{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}}
th{{background:#f3f3f3}} td.num{{text-align:right;font-variant-numeric:tabular-nums}}
img{{max-width:100%;border:1px solid #ccc}} pre{{background:#f7f7f7;padding:.5em;overflow:auto}}
.credit{{font-size:.85em;color:#444}} td{{word-break:break-all}}
.flags{{border-left:4px solid #b54708;background:#fff6ed;padding:.4em .4em .4em 2em}}
.flag{{color:#b54708;white-space:nowrap}}
{SWIPE_CSS}
</style></head><body>
<h1>{esc(s.name)}</h1>
<p>{esc(summary_sentence(d))}</p>
{flags_html(r.flags, "headline")}
<h2>Site</h2><table>{facts}</table>
{sources}
<h2>Before and after</h2>
<figure><img alt="Before/after figure of {esc(s.name)}" src="data:image/png;base64,{img}">
<figcaption class="credit">Before: {esc(when(d.before))}. After: {esc(when(d.after))}.
Imagery: {esc(credits)}.</figcaption></figure>
{swipe}
<h2>Detections</h2>
<table><tr><th>#</th><th>Detection</th><th>Tracked change</th><th>Change type</th>
<th>Area (m²)</th><th>Score</th><th>Centroid (lat, lon)</th><th>Review</th><th>Warnings</th></tr>
{det_rows}</table>
{_flag_legend(r)}
<p class="credit">Detection and change identifiers keep resolving: look one up with
<code>sitewatch show ID</code>. A tracked change gathers the detections of successive runs
that show the same change on the ground; its review state is the analyst's judgement.</p>
<p class="credit">Areas are geodesic, measured on the WGS84 ellipsoid; the uncertainty is that
of a one-pixel error along each outline (perimeter x pixel size).</p>
{structures_html(r)}
<h2>Provenance</h2>
<table>{_rows(_scene_rows("Before", d.before) + _scene_rows("After", d.after))}</table>
<table>{chip_rows}</table>
<table>{run_rows}</table>
<details><summary>Parameters</summary><pre>{params}</pre></details>
<p class="credit">Generated {esc(generated)} by sitewatch {esc(__version__)}.
Imagery credits: {esc(credits)}.</p>
</body></html>
"""
