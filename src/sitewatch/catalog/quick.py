"""Read-only questions to the embedded (SQLite) catalog, answered with the standard
library's ``sqlite3`` before SQLAlchemy is imported.

Importing SQLAlchemy's ORM costs more than half a second of CPU on a small machine, longer
than a listing should take. For the common case (a SQLite file at this version's schema)
these functions read the rows directly and build the same domain objects as
:class:`~sitewatch.catalog.store.Store`; in every other case (PostgreSQL, a missing or
older catalog, any database error) they return None and the caller asks the Store, which
gives the usual errors. A test checks that both ways give equal objects.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from datetime import datetime
from pathlib import Path

from sitewatch.catalog.revision import head_revision
from sitewatch.model import Site, SiteSource, SiteStatus

__all__ = ["sites"]

_PREFIX = "sqlite:///"
#: seconds to wait for a writer's transaction (the Store's busy timeout is longer: a
#: listing that waits this long is better answered by the Store)
_BUSY_S = 5.0


def _file(db_url: str) -> Path | None:
    """The file of a plain ``sqlite:///PATH`` URL, None for anything else."""
    if not db_url.startswith(_PREFIX):
        return None
    name = db_url[len(_PREFIX):]
    if not name or name == ":memory:" or any(c in name for c in "?%#"):
        return None
    path = Path(name)
    return path if path.is_file() else None


def _connect(path: Path) -> sqlite3.Connection | None:
    try:
        con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True,
                              timeout=_BUSY_S)
    except sqlite3.Error:
        return None
    try:
        found = con.execute("SELECT version_num FROM alembic_version").fetchall()
    except sqlite3.Error:
        con.close()
        return None
    if found != [(head_revision(),)]:
        con.close()
        return None
    return con


def _when(text: str | None) -> datetime | None:
    # SQLAlchemy stores SQLite datetimes as text without a zone and reads them back naive
    return None if text is None else datetime.fromisoformat(text)


def sites(db_url: str, include_removed: bool = False) -> list[Site] | None:
    """The watched sites, as ``Store.sites`` gives them, or None when this catalog must be
    asked through the Store."""
    path = _file(db_url)
    con = _connect(path) if path is not None else None
    if con is None:
        return None
    where = "" if include_removed else " WHERE status = 'active'"
    try:
        with closing(con):
            site_rows = con.execute(
                "SELECT id, name, aliases, kind, country, aoi_geojson, notes, created_at, "
                f"status FROM sites{where} ORDER BY name").fetchall()
            sources: dict[int, list[SiteSource]] = {}
            for sid, file, title, sha, published, quotes, candidate, added in con.execute(
                    "SELECT site_id, file, title, sha256, published, quotes, candidate, "
                    "added_at FROM site_sources ORDER BY id"):
                sources.setdefault(sid, []).append(SiteSource(
                    file=file, sha256=sha, title=title, published=published,
                    quotes=tuple(json.loads(quotes) or ()) if quotes else (),
                    candidate=dict(json.loads(candidate) or {}) if candidate else {},
                    added_at=_when(added)))
    except (sqlite3.Error, ValueError, TypeError):
        return None
    try:
        return [Site(id=sid, name=name, aoi=json.loads(aoi),
                     aliases=tuple(json.loads(aliases) or ()) if aliases else (),
                     kind=kind, country=country, notes=notes,
                     status=SiteStatus(status or "active"), created_at=_when(created),
                     sources=tuple(sources.get(sid, ())))
                for sid, name, aliases, kind, country, aoi, notes, created, status in site_rows]
    except (ValueError, TypeError):
        return None
