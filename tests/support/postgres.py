"""Throwaway PostgreSQL + PostGIS databases for the tests.

``SITEWATCH_TEST_PG`` names a server by an admin URL (a superuser, database ``postgres``):
``postgresql+psycopg://sitewatch@127.0.0.1:PORT/postgres`` as ``.ci/pg start`` prints it.
Each test gets a new database copied from a template, so a fresh database costs a file copy
(about 0.2 s), not a ``CREATE EXTENSION postgis`` (about a second) and the migrations: one
template has PostGIS only, the other also the sitewatch schema at the latest revision (as
``sitewatch db upgrade`` leaves it; named by a hash of the migrations, so an edited migration
gets a new template).
"""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from collections.abc import Callable

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import NullPool

#: the template with PostGIS and nothing else; made once per server (and kept)
TEMPLATE = "sitewatch_test_template_postgis"
_ready: dict[tuple[str, str], str] = {}


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


def _url(admin_url: str, database: str) -> str:
    return make_url(admin_url).set(database=database).render_as_string(hide_password=False)


def _template(admin_url: str, name: str, source: str, build: Callable[[str], None]) -> str:
    """Database ``name`` on that server, made from ``source`` and ``build(url)`` if missing.

    It is built under a private name and renamed when complete, so an interrupted run or a
    second test process never leaves or sees a half-built template.
    """
    if (admin_url, name) in _ready:
        return name
    admin = _admin(admin_url)
    try:
        if not _exists(admin, name):
            building = f"{name[:50]}_{uuid.uuid4().hex[:8]}"
            with admin.connect() as conn:
                conn.execute(text(f"CREATE DATABASE {_quote(building)} TEMPLATE {_quote(source)}"))
            try:
                build(_url(admin_url, building))
                with admin.connect() as conn:
                    if not _exists(admin, name):
                        conn.execute(text(
                            f"ALTER DATABASE {_quote(building)} RENAME TO {_quote(name)}"))
            finally:
                with admin.connect() as conn:
                    conn.execute(text(f"DROP DATABASE IF EXISTS {_quote(building)} WITH (FORCE)"))
    finally:
        admin.dispose()
    _ready[(admin_url, name)] = name
    return name


def _add_postgis(url: str) -> None:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
    finally:
        engine.dispose()


def _migrate(url: str) -> None:
    from sitewatch.catalog.schema import upgrade

    upgrade(url)


def _schema_key() -> str:
    from sitewatch.catalog.schema import MIGRATIONS, head_revision

    digest = hashlib.sha256()
    for path in sorted(MIGRATIONS.rglob("*.py")):
        digest.update(path.relative_to(MIGRATIONS).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    return f"{head_revision()}_{digest.hexdigest()[:10]}"


def ensure_template(admin_url: str, *, migrate: bool = False) -> str:
    """The name of the template database: PostGIS only, or with ``migrate`` also the
    sitewatch schema at the latest revision."""
    postgis = _template(admin_url, TEMPLATE, "template1", _add_postgis)
    if not migrate:
        return postgis
    return _template(admin_url, f"sitewatch_test_template_schema_{_schema_key()}", postgis,
                     _migrate)


def _name(name_hint: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", name_hint.lower()).strip("_")[:40] or "test"
    return f"sw_{slug}_{os.getpid()}_{uuid.uuid4().hex[:8]}"  # at most 63 bytes


def fresh_database_url(admin_url: str, name_hint: str, *, migrate: bool = False) -> str:
    """Create a new database with PostGIS on the admin URL's server; its SQLAlchemy URL.

    Empty, or with ``migrate`` at the latest sitewatch schema (what a SQLite workspace gets
    on first use, and a PostgreSQL catalog from ``sitewatch db upgrade``). ``name_hint`` (a
    test name, say) is folded into the database name to find it in the server log.
    """
    template = ensure_template(admin_url, migrate=migrate)
    name = _name(name_hint)
    admin = _admin(admin_url)
    try:
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {_quote(name)} TEMPLATE {_quote(template)}"))
    finally:
        admin.dispose()
    return _url(admin_url, name)


def drop_database(admin_url: str, url: str) -> None:
    """Drop the database that ``url`` names, ending any sessions still open on it."""
    name = make_url(url).database
    if not name or name == "postgres" or name.startswith(("template", "sitewatch_test_template")):
        raise ValueError(f"refusing to drop database {name!r}")
    admin = _admin(admin_url)
    try:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {_quote(name)} WITH (FORCE)"))
    finally:
        admin.dispose()
