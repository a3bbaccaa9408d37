"""``sitewatch db upgrade``: apply the catalog's migrations."""

from __future__ import annotations

import typer

from sitewatch.cli.common import out

app = typer.Typer(help="The catalog database.", no_args_is_help=True)


@app.command("upgrade")
def upgrade() -> None:
    """Bring the catalog (SITEWATCH_DB, or the workspace's SQLite file) to this version's
    schema; safe to run while nothing else writes, and when already up to date."""
    from sitewatch.api import upgrade_catalog
    from sitewatch.catalog.schema import shown
    from sitewatch.config import layout

    before, head = upgrade_catalog()
    where = shown(layout().db_url)
    if before == head:
        out.print(f"catalog {where} is already at revision {head}", markup=False)
    else:
        out.print(f"catalog {where} upgraded from {before or 'empty'} to {head}", markup=False)
