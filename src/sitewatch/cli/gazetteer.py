"""``sitewatch gazetteer import FILE``: facilities the extractor looks up ahead of towns."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sitewatch.cli.common import out

app = typer.Typer(help="The analyst's gazetteer of facilities (used by 'extract').",
                  no_args_is_help=True)


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(
        metavar="FILE", help="A GeoNames dump (allCountries.txt or a country extract, "
        "tab-separated) or a CSV of known facilities (name, lat, lon[, kind, country, "
        "aliases separated by ';']).")],
) -> None:
    """Keep the facilities of FILE (air bases, ports, factories, mines, military sites,
    power plants) in the workspace's gazetteer; importing again updates, never
    duplicates."""
    from sitewatch.api import import_gazetteer

    new, updated, total, where = import_gazetteer(file)
    out.print(f"{new} facilit{'y' if new == 1 else 'ies'} added, {updated} updated; "
              f"{total} in {where}", markup=False)
