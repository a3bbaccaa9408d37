"""The schema revisions this sitewatch knows, read from the migration files without
SQLAlchemy or Alembic (a quick read of the catalog checks them before anything heavy is
imported)."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from sitewatch.errors import ConfigError

__all__ = ["MIGRATIONS", "head_revision", "revisions"]

MIGRATIONS = Path(__file__).parent / "migrations"
_REV = re.compile(r'^(down_revision|revision)\s*=\s*(None|"([^"]*)"|\'([^\']*)\')', re.M)


@lru_cache(maxsize=1)
def revisions() -> tuple[str, ...]:
    """The migrations' revision ids in order, read from their files' ``revision`` and
    ``down_revision`` lines (opening a catalog need not import Alembic; a test checks that
    Alembic reads the same chain)."""
    parent: dict[str, str | None] = {}
    for path in sorted((MIGRATIONS / "versions").glob("*.py")):
        found = {m.group(1): m.group(3) or m.group(4) for m in _REV.finditer(path.read_text())}
        if "revision" in found:
            parent[found["revision"] or ""] = found.get("down_revision")
    children = {p: r for r, p in parent.items()}
    chain: list[str] = []
    here = children.get(None)
    while here is not None:
        chain.append(here)
        here = children.get(here)
    if len(chain) != len(parent):
        raise ConfigError(f"the migrations in {MIGRATIONS} do not form one chain")
    return tuple(chain)


def head_revision() -> str:
    return revisions()[-1]
