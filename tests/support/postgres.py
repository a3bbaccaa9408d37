"""Throwaway PostgreSQL + PostGIS databases for the tests.

``SITEWATCH_TEST_PG`` names a server by an admin URL (a superuser, database ``postgres``):
``postgresql+psycopg://sitewatch@127.0.0.1:PORT/postgres`` as ``.ci/pg start`` prints it.
Each test gets a new empty database copied from a template that already has PostGIS, so a
fresh database costs a file copy, not a ``CREATE EXTENSION postgis`` (about a second).
"""

from __future__ import annotations

import os
import re
import uuid

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.pool import NullPool

#: the template every test database is copied from; made once per server (and kept)
TEMPLATE = "sitewatch_test_template_postgis"
_ready: set[str] = set()


def _admin(admin_url: str, database: str | None = None) -> Engine:
    url = make_url(admin_url)
    if database is not None:
        url = url.set(database=database)
    # CREATE/DROP DATABASE cannot run in a transaction; NullPool leaves no idle session
    # behind that would stop a template from being copied or a database from being dropped
    return create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _exists(engine: Engine, name: str) -> bool:
    with engine.connect() as conn:
        found = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
    return found is not None


def ensure_template(admin_url: str) -> str:
    """The name of the PostGIS template database on that server, made if it is missing.

    It is built under a private name and renamed when complete, so an interrupted run or
    a second test process never leaves or sees a template without PostGIS.
    """
    if admin_url in _ready:
        return TEMPLATE
    admin = _admin(admin_url)
    try:
        if not _exists(admin, TEMPLATE):
            building = f"{TEMPLATE}_{uuid.uuid4().hex[:8]}"
            with admin.connect() as conn:
                conn.execute(text(f"CREATE DATABASE {_quote(building)}"))
            try:
                tpl = _admin(admin_url, building)
                try:
                    with tpl.connect() as conn:
                        conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
                finally:
                    tpl.dispose()
                with admin.connect() as conn:
                    if not _exists(admin, TEMPLATE):
                        conn.execute(text(
                            f"ALTER DATABASE {_quote(building)} RENAME TO {_quote(TEMPLATE)}"))
            finally:
                with admin.connect() as conn:
                    conn.execute(text(f"DROP DATABASE IF EXISTS {_quote(building)} WITH (FORCE)"))
    finally:
        admin.dispose()
    _ready.add(admin_url)
    return TEMPLATE


def _name(name_hint: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", name_hint.lower()).strip("_")[:40] or "test"
    return f"sw_{slug}_{os.getpid()}_{uuid.uuid4().hex[:8]}"  # at most 63 bytes


def fresh_database_url(admin_url: str, name_hint: str) -> str:
    """Create a new empty database with PostGIS on the admin URL's server; its URL.

    ``name_hint`` (a test name, say) is folded into the database name to find it in logs.
    """
    template = ensure_template(admin_url)
    name = _name(name_hint)
    admin = _admin(admin_url)
    try:
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {_quote(name)} TEMPLATE {_quote(template)}"))
    finally:
        admin.dispose()
    url: URL = make_url(admin_url).set(database=name)
    return url.render_as_string(hide_password=False)


def drop_database(admin_url: str, url: str) -> None:
    """Drop the database that ``url`` names, ending any sessions still open on it."""
    name = make_url(url).database
    if not name or name in ("postgres", TEMPLATE) or name.startswith("template"):
        raise ValueError(f"refusing to drop database {name!r}")
    admin = _admin(admin_url)
    try:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {_quote(name)} WITH (FORCE)"))
    finally:
        admin.dispose()
