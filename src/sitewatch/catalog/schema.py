"""Engines and the schema: connecting to SQLite or PostgreSQL, checking the revision, and
``sitewatch db upgrade``.

The schema is migrated only on request (or once, when a new embedded SQLite workspace is
first used), never on every open: several processes open one catalog at once.
"""

from __future__ import annotations

import fcntl
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from sitewatch.catalog.revision import MIGRATIONS, head_revision, revisions
from sitewatch.errors import ConfigError, InputValueError

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)
#: seconds a writer waits for another process's transaction on SQLite
SQLITE_BUSY_S = 60


def _alembic() -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def shown(url: str) -> str:
    """The URL with any password hidden, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def _sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
    # pysqlite's own BEGIN is turned off so that every transaction starts with BEGIN
    # IMMEDIATE: a writer waits for another (busy timeout) instead of failing at its first
    # write with "database is locked"
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_S * 1000}")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def _sqlite_begin(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_has_nul(v) for v in value)
    return False


def _refuse_nul(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any,
                executemany: bool) -> None:
    """No text with a NUL character is written, on either backend: PostgreSQL refuses it
    (an internal error mid-command) and SQLite would keep what the other cannot."""
    if _has_nul(parameters):
        raise InputValueError("a text given (a name, alias, note, credit, ...) contains a NUL "
                              "character (\\x00): remove it and run the command again")


def make_engine(url: str, foreign_keys: bool = True) -> Engine:
    """An engine for ``url``; ConfigError naming the URL when it cannot be used."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError(f"SITEWATCH_DB={url!r} is not a database URL: give "
                          "sqlite:///PATH or postgresql+psycopg://USER@HOST/DB") from exc
    if parsed.drivername in {"postgresql", "postgres"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    try:
        if parsed.get_backend_name() == "sqlite":
            engine = create_engine(parsed, connect_args={"timeout": SQLITE_BUSY_S})
            if foreign_keys:
                event.listen(engine, "connect", _sqlite_connect)
            else:
                event.listen(engine, "connect", lambda c, _r: setattr(c, "isolation_level",
                                                                      None))
            event.listen(engine, "begin", _sqlite_begin)
        else:
            engine = create_engine(parsed, pool_pre_ping=True)
        event.listen(engine, "before_cursor_execute", _refuse_nul)
        return engine
    except (NoSuchModuleError, ModuleNotFoundError) as exc:
        raise ConfigError(f"no driver for {shown(url)} ({exc}): use sqlite:/// or "
                          "postgresql+psycopg://") from exc


def current_revision(engine: Engine) -> str | None:
    """The catalog's schema revision (None for an empty database), read with one query."""
    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return None
            found = conn.execute(text("SELECT version_num FROM alembic_version")).scalars()
            versions = list(found)
            return versions[0] if len(versions) == 1 else None
    except DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        raise ConfigError(f"cannot reach the catalog at {shown(str(engine.url))}: {reason}; "
                          "check SITEWATCH_DB and that the server is running") from exc


def check_schema(engine: Engine) -> None:
    """Refuse a catalog whose schema is not this version's; create a new SQLite one."""
    current = current_revision(engine)
    head = head_revision()
    if current == head:
        return
    url = shown(str(engine.url))
    if current is None and engine.dialect.name == "sqlite" and _is_empty(engine):
        upgrade(str(engine.url))
        return
    if current is None:
        raise ConfigError(f"the catalog at {url} has no sitewatch schema: run "
                          "'sitewatch db upgrade' to create it")
    if current not in revisions():
        raise ConfigError(f"the catalog at {url} has schema revision {current}, newer than "
                          f"this sitewatch knows ({head}): upgrade sitewatch")
    raise ConfigError(f"the catalog at {url} has schema revision {current}; this sitewatch "
                      f"needs {head}: run 'sitewatch db upgrade' (back up the catalog first)")


def _is_empty(engine: Engine) -> bool:
    with engine.connect() as conn:
        return not inspect(conn).get_table_names()


def upgrade(url: str) -> tuple[str | None, str]:
    """Bring the catalog at ``url`` to the latest revision; (from, to). Safe to run by
    several processes at once: SQLite under a file lock, PostgreSQL under an advisory lock."""
    from alembic import command
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(url, foreign_keys=False)  # batch migrations recreate tables
    try:
        lock = _lock_file(engine)
        try:
            before = current_revision(engine)
            head = head_revision()
            if before != head:
                cfg = _alembic()
                with engine.begin() as conn:
                    if engine.dialect.name == "postgresql":
                        conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7361029)")
                    before = MigrationContext.configure(conn).get_current_revision()
                    if before != head:
                        log.info("upgrading catalog %s from %s to %s", shown(url), before, head)
                        cfg.attributes["connection"] = conn
                        command.upgrade(cfg, "head")
            if engine.dialect.name == "sqlite":
                raw = engine.raw_connection()  # autocommit (see _sqlite_connect)
                try:
                    raw.execute("PRAGMA journal_mode=WAL")  # readers never wait for a writer
                finally:
                    raw.close()
            return before, head
        finally:
            if lock is not None:
                lock.close()
    finally:
        engine.dispose()


def _lock_file(engine: Engine) -> Any:
    db = engine.url.database
    if engine.dialect.name != "sqlite" or not db or db == ":memory:":
        return None
    path = Path(db).with_name(Path(db).name + ".lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a")  # noqa: SIM115 - held until the upgrade ends
    fcntl.flock(handle, fcntl.LOCK_EX)
    return handle
