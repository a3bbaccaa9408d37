"""Persistence: the :class:`Store` facade over SQLite or PostgreSQL/PostGIS, rows mapped to
domain objects, and Alembic migrations applied by ``sitewatch db upgrade``.

The names below load on first use, so that :mod:`sitewatch.catalog.quick` (the embedded
catalog read with the standard library, for commands that must start fast) does not pull
SQLAlchemy in.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sitewatch.catalog.schema import upgrade
    from sitewatch.catalog.store import Store, scene_sort_key

__all__ = ["Store", "scene_sort_key", "upgrade"]

_WHERE = {"Store": "sitewatch.catalog.store", "scene_sort_key": "sitewatch.catalog.store",
          "upgrade": "sitewatch.catalog.schema"}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(_WHERE[name]), name)
    globals()[name] = value
    return value
