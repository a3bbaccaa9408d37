"""``sitewatch sites``: the watchlist."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sitewatch.cli.common import open_store, out, print_json
from sitewatch.errors import InputValueError

app = typer.Typer(help="Add and list watched sites.", no_args_is_help=True)


@app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="Site name (unique).")],
    lat: Annotated[float | None, typer.Option(help="Centre latitude (WGS84 degrees).")] = None,
    lon: Annotated[float | None, typer.Option(help="Centre longitude (WGS84 degrees).")] = None,
    radius_m: Annotated[float, typer.Option(help="AOI radius around the centre, metres.")] = 1000.0,
    geojson: Annotated[Path | None, typer.Option(help="AOI polygon file (lon/lat).")] = None,
    kind: Annotated[str | None, typer.Option(help="e.g. 'rocket-motor plant'.")] = None,
    country: Annotated[str | None, typer.Option(help="Country name.")] = None,
    alias: Annotated[list[str] | None, typer.Option(help="Other name (repeatable).")] = None,
    notes: Annotated[str | None, typer.Option(help="Free text.")] = None,
) -> None:
    """Add a site from a point and radius or from a GeoJSON polygon."""
    from sitewatch.geo.aoi import aoi_from_geojson, aoi_from_point
    from sitewatch.monitor.watchlist import add_site

    if geojson is not None and (lat is not None or lon is not None):
        raise InputValueError("give either --geojson or --lat/--lon, not both")
    if geojson is not None:
        aoi = aoi_from_geojson(geojson)
    elif lat is not None and lon is not None:
        aoi = aoi_from_point(lon, lat, radius_m)
    else:
        raise InputValueError("give the AOI: --lat LAT --lon LON [--radius-m M] or --geojson FILE")
    _, store = open_store()
    site = add_site(store, name, aoi, kind, country, alias, notes)
    c = aoi.centroid
    out.print(f"site {site.id} {site.name!r} added, centre {c.y:.5f}, {c.x:.5f}")


@app.command("list")
def list_(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """List the watched sites."""
    _, store = open_store()
    sites = store.sites()
    if as_json:
        print_json([{"id": s.id, "name": s.name, "aliases": s.aliases, "kind": s.kind,
                     "country": s.country, "bbox_wgs84": list(s.bbox_wgs84), "aoi": s.aoi,
                     "notes": s.notes}
                    for s in sites])
        return
    if not sites:
        out.print("no sites yet: add one with 'sitewatch sites add'")
    for s in sites:
        c = s.aoi_geom.centroid
        out.print(f"{s.id:4d}  {s.name}  [{s.kind or '-'}; {s.country or '-'}]  "
                  f"centre {c.y:.5f}, {c.x:.5f}", markup=False)


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
    from sitewatch.dates import ObsDate
    from sitewatch.monitor.fromtext import add_from_text

    published = ObsDate.parse(date).start if date else None
    _, store = open_store()
    art, results = add_from_text(store, article, accept, take_all, published)
    for r in results:
        extra = f" ({r.reason})" if r.reason else ""
        ident = f" as site {r.site_id}" if r.site_id else ""
        out.print(f"{r.status}: {r.name}{ident}{extra}", markup=False)
    n = sum(r.status == "added" for r in results)
    out.print(f"{n} site(s) added from {art.path.name} (sha256 {art.sha256[:12]})",
              markup=False)
