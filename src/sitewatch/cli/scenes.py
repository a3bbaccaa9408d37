"""``sitewatch scenes``: images of a site, with their provenance."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sitewatch.cli.common import open_store, out, print_json

app = typer.Typer(help="Import and list the scenes of a site.", no_args_is_help=True)


@app.command("import")
def import_(
    site: Annotated[str, typer.Argument(help="Site name.")],
    image: Annotated[Path, typer.Argument(help="GeoTIFF/COG, PNG, JPEG, BMP or ENVI file.")],
    date: Annotated[str, typer.Option(help="Acquisition date: YYYY-MM-DD, YYYY-MM, YYYY "
                                      "or START/END.")],
    provider: Annotated[str, typer.Option(help="Who captured it (e.g. Maxar, Sentinel-2).")],
    credit: Annotated[str | None, typer.Option(help="Credit line to print.")] = None,
    licence: Annotated[str | None, typer.Option(help="Licence of the image.")] = None,
    bounds: Annotated[tuple[float, float, float, float] | None, typer.Option(
        help="Footprint W S E N of a plain image.")] = None,
    crs: Annotated[str | None, typer.Option(help="CRS of --bounds (default EPSG:4326).")] = None,
    bands: Annotated[str | None, typer.Option(help="Band names, comma separated "
                                              "(e.g. blue,green,red,nir).")] = None,
    notes: Annotated[str | None, typer.Option(help="Free text.")] = None,
) -> None:
    """Import one image of a site, keeping its origin (sha256, provider, date, credit)."""
    from sitewatch.monitor.watchlist import SceneSpec, import_scene

    spec = SceneSpec(path=image, date=date, provider=provider, credit=credit, licence=licence,
                     bounds=bounds, crs=crs,
                     bands=[b.strip().lower() for b in bands.split(",")] if bands else None,
                     notes=notes)
    _, store = open_store()
    scene = import_scene(store, site, spec)
    out.print(f"scene {scene.id} imported: {scene.width}x{scene.height} px, "
              f"{scene.gsd_m:.2f} m, {scene.acquired_text}, {scene.provider}", markup=False)


@app.command("list")
def list_(
    site: Annotated[str, typer.Argument(help="Site name.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List a site's scenes, earliest first."""
    from sitewatch.dates import ObsDate

    _, store = open_store()
    s = store.site(site)
    scenes = store.scenes(s.id)
    if as_json:
        print_json([{"id": x.id, "date": x.acquired_text, "date_precision": x.acquired_precision,
                     "provider": x.provider, "path": x.path, "sha256": x.sha256, "crs": x.crs,
                     "bounds": x.bounds, "gsd_m": x.gsd_m, "bands": x.band_names,
                     "credit": x.credit, "licence": x.licence, "georef": x.georef_source}
                    for x in scenes])
        return
    if not scenes:
        out.print(f"site {site!r} has no scenes: import with 'sitewatch scenes import'",
                  markup=False)
    for x in scenes:
        out.print(f"{x.id:4d}  {ObsDate.parse(x.acquired_text).describe():40s}  {x.provider:12s}"
                  f"  {x.gsd_m:6.2f} m  {Path(x.path).name}", markup=False)
