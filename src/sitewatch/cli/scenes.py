"""``sitewatch scenes``: images of a site, with their provenance."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from sitewatch.api import Workspace

from sitewatch.cli.common import err, open_ws, out, print_json
from sitewatch.errors import InputFileError

app = typer.Typer(help="Import and list the scenes of a site.", no_args_is_help=True)


@app.command("import")
def import_(
    site: Annotated[str, typer.Argument(help="Site id, name or alias.")],
    paths: Annotated[list[Path], typer.Argument(
        help="Image files (GeoTIFF/COG, PNG, JPEG, BMP, ENVI), folders of them, eo-learn "
             "EOPatch folders, or Sentinel-2 band folders (SAFE IMG_DATA, B02.tif ... "
             "B08.tif, *_Bxx.tif), each one scene.")],
    date: Annotated[str | None, typer.Option(
        help="Acquisition date: YYYY-MM-DD, YYYY-MM, YYYY or START/END. Read from Landsat and "
             "Sentinel-2 product names when not given.")] = None,
    provider: Annotated[str | None, typer.Option(
        help="Who captured it (e.g. Maxar); read from product names when not given.")] = None,
    credit: Annotated[str | None, typer.Option(help="Credit line to print.")] = None,
    licence: Annotated[str | None, typer.Option(help="Licence of the image.")] = None,
    bounds: Annotated[tuple[float, float, float, float] | None, typer.Option(
        help="Footprint W S E N of a plain image.")] = None,
    crs: Annotated[str | None, typer.Option(help="CRS of --bounds (default EPSG:4326).")] = None,
    bands: Annotated[str | None, typer.Option(
        help="Band names, comma separated (e.g. blue,green,red,nir,swir16,swir22,thermal,fmask); "
             "a band named fmask, qa_pixel or scl is used as the cloud mask.")] = None,
    scale: Annotated[float | None, typer.Option(
        help="Reflectance = DN * scale + offset (e.g. 0.0001).")] = None,
    offset: Annotated[float | None, typer.Option(help="See --scale.")] = None,
    notes: Annotated[str | None, typer.Option(help="Free text.")] = None,
) -> None:
    """Import images of a site, keeping their origin (sha256, provider, date, credit).

    One file: any problem is an error. Many files or folders: each bad file is reported
    and skipped, and a summary says how many were imported and why others were not.
    """
    facts: dict[str, Any] = dict(
        date=date, provider=provider, credit=credit, licence=licence, bounds=bounds, crs=crs,
        bands=[b.strip().lower() for b in bands.split(",")] if bands else None, notes=notes,
        scale=scale, offset=offset)
    from sitewatch.imagery.s2folder import is_band_folder

    ws = open_ws()
    if len(paths) == 1 and (not paths[0].is_dir() or is_band_folder(paths[0])):
        scene = ws.import_scene(site, paths[0], **facts)
        out.print(f"scene {scene.id} imported: {scene.width}x{scene.height} px, "
                  f"{scene.gsd_m:.2f} m, {scene.acquired_text}, {scene.provider}", markup=False)
        return
    _import_bulk(ws, site, paths, facts)


def _import_bulk(ws: Workspace, site: str, paths: list[Path], facts: dict[str, Any]) -> None:
    from sitewatch.cli.progress import progress

    s = ws.site(site)
    with progress("importing") as report:
        outcomes = ws.import_scenes(s, paths, lambda done, total, o: report(done, total,
                                                                            o.path.name),
                                    **facts)
    imported = [o for o in outcomes if o.scene is not None]
    dups = [o for o in outcomes if o.duplicate]
    failed = [o for o in outcomes if o.scene is None and not o.duplicate]
    for o in failed:
        err.print(f"skipped {o.path}: {o.reason}", markup=False)
    reasons = Counter(_reason_kind(o.reason or "") for o in failed)
    why = "; ".join(f"{n} {k}" for k, n in reasons.most_common())
    out.print(f"imported {len(imported)} scenes into site {s.name!r}; {len(dups)} already in the "
              f"catalog; {len(failed)} skipped" + (f" ({why})" if why else ""), markup=False)
    if failed and not imported and not dups:
        raise InputFileError(f"none of the {len(failed)} inputs could be imported: "
                             f"{failed[0].path}: {failed[0].reason}")


def _reason_kind(reason: str) -> str:
    """A short label grouping similar skip reasons for the summary."""
    text = reason.lower()
    for key, label in (("does not exist", "missing"), ("does not touch", "outside the site"),
                       ("no --date", "undated"), ("impossible date", "impossible date in the name"),
                       ("not a readable", "unreadable"), ("truncated", "truncated"),
                       ("empty", "empty"), ("georeference", "not georeferenced"),
                       ("--bands", "band mismatch"), ("lacks bands", "bands missing"),
                       ("mixes two", "mixed acquisitions or sensors"),
                       ("no acquisition date", "undated"),
                       ("cannot be resampled", "bands of another footprint or CRS")):
        if key in text:
            return label
    return "other errors"


@app.command("list")
def list_(
    site: Annotated[str, typer.Argument(help="Site id, name or alias.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List a site's scenes, earliest first."""
    ws = open_ws()
    s = ws.site(site)
    scenes = ws.scenes(s.id)
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
        out.print(f"{x.id:4d}  {x.acquired.describe():40s}  {x.provider:12s}"
                  f"  {x.gsd_m:6.2f} m  {Path(x.path).name}", markup=False)


@app.command("remove")
def remove(scene_id: Annotated[int, typer.Argument(help="Scene id (see 'scenes list').")]
           ) -> None:
    """Take a scene out of lists and analyses; runs that used it keep resolving."""
    x = open_ws().remove_scene(scene_id)
    out.print(f"scene {x.id} ({Path(x.path).name}) removed; runs that used it are kept",
              markup=False)
