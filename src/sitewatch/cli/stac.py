"""``sitewatch stac``: free imagery (Sentinel-2, Landsat) from STAC APIs for a site."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import typer

from sitewatch.cli.common import err, open_ws, out, print_json
from sitewatch.errors import InputFileError, InputValueError

app = typer.Typer(help="Search STAC APIs over a site and load the AOI window of each item.",
                  no_args_is_help=True)

Collection = Annotated[str, typer.Option(
    help="STAC collection, e.g. sentinel-2-l2a or landsat-c2-l2.")]
Start = Annotated[str | None, typer.Option(help="First date, YYYY-MM-DD (or YYYY-MM, YYYY).")]
End = Annotated[str | None, typer.Option(help="Last date, YYYY-MM-DD (or YYYY-MM, YYYY).")]
MaxCloud = Annotated[float | None, typer.Option(
    help="Largest scene cloud cover, percent (eo:cloud_cover).")]
Url = Annotated[str | None, typer.Option(help="Any STAC API root URL (overrides the "
                                              "provider's).")]
ProviderOpt = Annotated[str, typer.Option(
    "--provider", help="earth-search or planetary-computer: band names, scaling, signing.")]


def _dates(start: str | None, end: str | None) -> tuple[date | None, date | None]:
    from sitewatch.model.dates import ObsDate

    s = ObsDate.from_user(start, "--start").start if start else None
    e = ObsDate.from_user(end, "--end").end if end else None
    if s and e and s > e:
        raise InputValueError(f"--start {start} is after --end {end}: swap them")
    return s, e


def _provider(name: str, url: str | None) -> Any:
    from sitewatch.imagery.stac import get_provider

    return get_provider(name, url)


@app.command("search")
def search_(
    site: Annotated[str, typer.Argument(help="Site id, name or alias.")],
    collection: Collection = "sentinel-2-l2a",
    start: Start = None,
    end: End = None,
    max_cloud: MaxCloud = None,
    url: Url = None,
    provider: ProviderOpt = "earth-search",
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
) -> None:
    """List the items over the site's AOI: id, date, cloud cover, platform, tile."""
    s, e = _dates(start, end)
    p = _provider(provider, url)
    found = open_ws().stac_search(site, p, collection, s, e, max_cloud)
    for bad in found.malformed:
        err.print(f"malformed item {bad.id}: {bad.problem}", markup=False)
    if as_json:
        print_json([i.summary() for i in found.items])
        return
    for i in found.items:
        cc = "   -" if i.cloud_cover is None else f"{i.cloud_cover:5.1f}%"
        when = i.acquired.strftime("%Y-%m-%d %H:%M") if i.acquired else "-"
        out.print(f"{i.id:50s} {when}  {cc}  {i.platform or '-':12s} {i.tile or '-'}",
                  markup=False)
    out.print(f"{len(found.items)} item(s) from {p.url} in {found.pages} page(s)"
              + (f"; {found.over_cloud} over --max-cloud" if found.over_cloud else "")
              + (f"; {len(found.malformed)} malformed" if found.malformed else ""),
              markup=False)


@app.command("fetch")
def fetch_(
    site: Annotated[str, typer.Argument(help="Site id, name or alias.")],
    collection: Collection = "sentinel-2-l2a",
    start: Start = None,
    end: End = None,
    max_cloud: MaxCloud = None,
    url: Url = None,
    provider: ProviderOpt = "earth-search",
    min_clear: Annotated[float, typer.Option(
        help="Least fraction of the AOI clear; cloudier items are recorded as skipped.")
    ] = 0.3,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
) -> None:
    """Load each matching item's AOI window as a masked, scaled scene of the site."""
    from sitewatch.cli.progress import progress
    from sitewatch.pipeline.stacfetch import outcome_json

    s, e = _dates(start, end)
    p = _provider(provider, url)
    ws = open_ws()
    with progress("fetching") as report:
        found, outcomes = ws.stac_fetch(site, p, collection, s, e, max_cloud, min_clear,
                                        lambda i, n, o: report(i, n, o.item.id))
    for bad in found.malformed:
        err.print(f"malformed item {bad.id}: {bad.problem}", markup=False)
    for o in outcomes:
        if o.status == "failed":
            err.print(f"failed {o.item.id}: {o.reason}", markup=False)
    if as_json:
        print_json([outcome_json(o) for o in outcomes])
    else:
        for o in outcomes:
            if o.status == "imported" and o.scene is not None:
                out.print(f"scene {o.scene.id} <- {o.item.id} ({o.clear_fraction:.0%} clear)",
                          markup=False)
            elif o.status == "skipped":
                out.print(f"skipped {o.item.id}: {o.reason}", markup=False)
        n = {k: sum(o.status == k for o in outcomes) for k in
             ("imported", "known", "skipped", "failed")}
        out.print(f"{n['imported']} imported, {n['known']} already known, {n['skipped']} "
                  f"skipped, {n['failed']} failed, of {len(outcomes)} item(s)"
                  + (f"; {len(found.malformed)} malformed" if found.malformed else ""),
                  markup=False)
    failed = [o for o in outcomes if o.status == "failed"]
    if failed and len(failed) == len(outcomes):
        raise InputFileError(f"no item could be loaded: {failed[0].item.id}: "
                             f"{failed[0].reason}")
