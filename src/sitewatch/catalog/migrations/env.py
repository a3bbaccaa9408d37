"""Alembic environment: run with a connection handed over by :class:`sitewatch.catalog.Store`,
or standalone with ``sqlalchemy.url`` set in the config."""

from __future__ import annotations

from alembic import context
from sqlalchemy import engine_from_config, pool

from sitewatch.catalog.migrations.env_filter import include_object
from sitewatch.catalog.rows import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=True, include_object=include_object)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = engine_from_config(config.get_section(config.config_ini_section) or {},
                                prefix="sqlalchemy.", poolclass=pool.NullPool)
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True,
                          include_object=include_object)
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
