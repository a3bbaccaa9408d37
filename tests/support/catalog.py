"""Read a test workspace's catalog directly, wherever it is: SQLite in the workspace, or the
PostgreSQL database that ``SITEWATCH_DB`` names under ``make test-pg``.

Use these instead of ``sqlite3.connect(workspace / "catalog.sqlite")``, which under
``make test-pg`` opens (and creates) an empty file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool


def catalog_url(workspace: Path) -> str:
    """The SQLAlchemy URL of the catalog the CLI uses for this workspace."""
    return os.environ.get("SITEWATCH_DB") or f"sqlite:///{workspace / 'catalog.sqlite'}"


def rows(workspace: Path, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    """The rows of one query on the workspace's catalog (a new connection, closed after)."""
    engine = create_engine(catalog_url(workspace), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql), params)]
    finally:
        engine.dispose()


def count(workspace: Path, table: str) -> int:
    """How many rows ``table`` has."""
    return int(rows(workspace, f"SELECT count(*) FROM {table}")[0][0])
