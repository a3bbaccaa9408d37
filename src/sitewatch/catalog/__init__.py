"""Persistence: the :class:`Store` facade over SQLite or PostgreSQL/PostGIS, rows mapped to
domain objects, and Alembic migrations applied by ``sitewatch db upgrade``."""

from sitewatch.catalog.schema import upgrade
from sitewatch.catalog.store import Store, scene_sort_key

__all__ = ["Store", "scene_sort_key", "upgrade"]
