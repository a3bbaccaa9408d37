"""``sitewatch sites``: the watchlist."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from sitewatch.cli.common import err, open_ws, out, print_json

if TYPE_CHECKING:
    from sitewatch.model import Site

app = typer.Typer(help="The watchlist: add, list, show, edit and remove sites.",
                  no_args_is_help=True)
SiteArg = Annotated[str, typer.Argument(help="Site id, name or alias.")]


def site_json(s: Site) -> dict[str, Any]:
    return {"id": s.id, "name": s.name, "aliases": list(s.aliases), "kind": s.kind,
            "country": s.country, "status": s.status.value, "bbox_wgs84": list(s.bbox_wgs84),
            "aoi": s.aoi, "notes": s.notes, "created_at": s.created_at,
            "sources": [{"file": x.file, "title": x.title, "sha256": x.sha256,
                         "published": x.published, "quotes": list(x.quotes)}
                        for x in s.sources]}


@app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="Site name (unique).")],
    lat: Annotated[float | None, typer.Option(help="Centre latitude (WGS84 degrees).")] = None,
    lon: Annotated[float | None, typer.Option(help="Centre longitude (WGS84 degrees).")] = None,
    radius_m: Annotated[float, typer.Option(help="AOI radius around the centre, metres.")] = 1000.0,
    geojson: Annotated[Path | None, typer.Option(
        help="AOI polygon file (its declared CRS is honoured; default lon/lat).")] = None,
    kind: Annotated[str | None, typer.Option(help="e.g. 'rocket-motor plant'.")] = None,
    country: Annotated[str | None, typer.Option(help="Country name.")] = None,
    alias: Annotated[list[str] | None, typer.Option(help="Other name (repeatable).")] = None,
    notes: Annotated[str | None, typer.Option(help="Free text.")] = None,
) -> None:
    """Add a site from a point and radius or from a GeoJSON polygon."""
    site = open_ws().add_site(name, lat=lat, lon=lon, radius_m=radius_m, geojson=geojson,
                              kind=kind, country=country, aliases=alias or (), notes=notes)
    c = site.aoi_geom.centroid
    out.print(f"site {site.id} {site.name!r} added, centre (lat, lon) {c.y:.5f}, {c.x:.5f}",
              markup=False)


@app.command("list")
def list_(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
          removed: Annotated[bool, typer.Option("--removed", help="Include removed sites.")
                             ] = False) -> None:
    """List the watched sites."""
    sites = _listed(removed)
    if as_json:
        print_json([site_json(s) for s in sites])
        return
    if not sites:
        out.print("no sites yet: add one with 'sitewatch sites add'")
    for s in sites:
        w, so, e, n = s.bbox_wgs84
        gone = "  (removed)" if s.status.value == "removed" else ""
        out.print(f"{s.id:4d}  {s.name}  [{s.kind or '-'}; {s.country or '-'}]  "
                  f"centre (lat, lon) {(so + n) / 2:.5f}, {(w + e) / 2:.5f}{gone}", markup=False)


def _listed(removed: bool) -> list[Site]:
    """The sites, read without SQLAlchemy when the catalog allows (see
    :mod:`sitewatch.catalog.quick`): this command must start fast."""
    from sitewatch.catalog import quick
    from sitewatch.config import layout

    lay = layout()
    found = quick.sites(lay.db_url, include_removed=removed)
    if found is None:
        return open_ws().sites(include_removed=removed)
    err.print(f"workspace: {lay.home}", markup=False, style="dim")
    return found


@app.command("show")
def show(site: SiteArg,
         as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Show a site: its facts, sources, scenes, runs and tracked changes."""
    ws = open_ws()
    s = ws.site(site)
    scenes, runs, changes = ws.scenes(s.id), ws.runs(s.id), ws.changes(s.id)
    if as_json:
        print_json(site_json(s) | {"scenes": [x.id for x in scenes],
                                   "runs": [r.ref for r in runs],
                                   "changes": {c.ref: c.status.value for c in changes}})
        return
    c = s.aoi_geom.centroid
    out.print(f"site {s.id} {s.name!r} ({s.status.value})", markup=False)
    for label, value in (("aliases", ", ".join(s.aliases) or "none"),
                         ("kind", s.kind or "not stated"), ("country", s.country or "not stated"),
                         ("centre (lat, lon)", f"{c.y:.6f}, {c.x:.6f}"),
                         ("notes", s.notes or "")):
        out.print(f"  {label}: {value}", markup=False)
    for src in s.sources:
        out.print(f"  source: {src.title or src.file} (sha256 {src.sha256[:12]}, "
                  f"{len(src.quotes)} quote(s))", markup=False)
    out.print(f"  {len(scenes)} scene(s), {len(runs)} run(s)"
              + (f", latest {runs[0].ref}" if runs else ""), markup=False)
    pending = sum(x.status.value == "unreviewed" for x in changes)
    out.print(f"  {len(changes)} tracked change(s), {pending} awaiting review", markup=False)


@app.command("edit")
def edit(
    site: SiteArg,
    name: Annotated[str | None, typer.Option(help="New name.")] = None,
    kind: Annotated[str | None, typer.Option(help="New kind ('' clears it).")] = None,
    country: Annotated[str | None, typer.Option(help="New country ('' clears it).")] = None,
    notes: Annotated[str | None, typer.Option(help="New notes ('' clears them).")] = None,
    alias: Annotated[list[str] | None, typer.Option(help="Alias to add (repeatable).")] = None,
    drop_alias: Annotated[list[str] | None, typer.Option(help="Alias to remove.")] = None,
    lat: Annotated[float | None, typer.Option(help="New centre latitude.")] = None,
    lon: Annotated[float | None, typer.Option(help="New centre longitude.")] = None,
    radius_m: Annotated[float | None, typer.Option(help="New radius with --lat/--lon.")
                        ] = None,
    geojson: Annotated[Path | None, typer.Option(help="New AOI polygon file.")] = None,
) -> None:
    """Change a site's name, aliases, kind, country, notes or AOI."""
    s = open_ws().edit_site(site, name=name, kind=kind, country=country, notes=notes,
                            add_aliases=alias or (), remove_aliases=drop_alias or (), lat=lat,
                            lon=lon, radius_m=radius_m, geojson=geojson)
    out.print(f"site {s.id} {s.name!r} updated", markup=False)


@app.command("remove")
def remove(site: SiteArg) -> None:
    """Take a site off the watchlist. Nothing is deleted: its runs, detections and reviews
    keep resolving, and 'sitewatch sites restore' brings it back."""
    s = open_ws().remove_site(site)
    out.print(f"site {s.id} {s.name!r} removed from the watchlist (its history is kept)",
              markup=False)


@app.command("restore")
def restore(site: SiteArg) -> None:
    """Put a removed site back on the watchlist."""
    s = open_ws().restore_site(site)
    out.print(f"site {s.id} {s.name!r} is on the watchlist again", markup=False)


@app.command("from-text")
def from_text(
    article: Annotated[Path, typer.Argument(help="Article: text, Markdown, HTML or PDF file.")],
    accept: Annotated[list[str] | None, typer.Option(
        help="Candidate name (or alias) to add; repeatable. See 'sitewatch extract'.")] = None,
    take_all: Annotated[bool, typer.Option("--all", help="Add every placed candidate.")
                        ] = False,
    date: Annotated[str | None, typer.Option(help="The article's date, YYYY-MM-DD.")] = None,
) -> None:
    """Add candidates of an article to the watchlist, with the article and every quote."""
    from sitewatch.model.dates import ObsDate

    published = ObsDate.from_user(date, "--date").start if date else None
    art, results = open_ws().sites_from_text(article, accept or (), take_all, published)
    for r in results:
        extra = f" ({r.reason})" if r.reason else ""
        ident = f" as site {r.site_id}" if r.site_id else ""
        out.print(f"{r.status}: {r.name}{ident}{extra}", markup=False)
    n = sum(r.status == "added" for r in results)
    out.print(f"{n} site(s) added from {art.path.name} (sha256 {art.sha256[:12]})",
              markup=False)
