"""PostGIS geometry columns on PostgreSQL: sites, scenes and detections get a GIST-indexed
``geom`` (SRID 4326) for spatial queries

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 09:00:00

The GeoJSON text and the bounding-box columns stay the source of truth, on every
database. On PostgreSQL a BEFORE INSERT OR UPDATE trigger derives ``geom`` from them on
every write, so the ORM rows never name ``geom`` and SQLite needs nothing: this revision
does nothing there. A row whose text is not a geometry PostGIS can read gets a NULL
``geom`` and a WARNING in the server log rather than a failed write.
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

#: table -> (geometry type of its geom, the SQL expression on NEW that makes it)
GEOMETRIES = {
    "sites": ("Geometry",
              "ST_SetSRID(ST_Force2D(ST_GeomFromGeoJSON(NEW.aoi_geojson)), 4326)"),
    "scenes": ("Polygon",
               "ST_MakeEnvelope(NEW.min_lon, NEW.min_lat, NEW.max_lon, NEW.max_lat, 4326)"),
    "detections": ("Geometry",
                   "ST_SetSRID(ST_Force2D(ST_GeomFromGeoJSON(NEW.polygon_geojson)), 4326)"),
}


def _function(table: str) -> str:
    return f"sitewatch_{table}_geom"


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    available = bind.exec_driver_sql(
        "SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'").scalar()
    if available is None:
        raise RuntimeError(
            "this PostgreSQL server has no PostGIS: install it (Debian: "
            "postgresql-15-postgis-3) or point SITEWATCH_DB at one that has it")
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    for table, (geometry_type, expression) in GEOMETRIES.items():
        fn = _function(table)
        op.execute(f"ALTER TABLE {table} ADD COLUMN geom geometry({geometry_type}, 4326)")
        op.execute(f"""
            CREATE FUNCTION {fn}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                BEGIN
                    NEW.geom := {expression};
                EXCEPTION WHEN OTHERS THEN
                    RAISE WARNING '{table} %: no geometry (%)', NEW.id, SQLERRM;
                    NEW.geom := NULL;
                END;
                RETURN NEW;
            END
            $$""")
        op.execute(f"CREATE TRIGGER {fn} BEFORE INSERT OR UPDATE ON {table} "
                   f"FOR EACH ROW EXECUTE FUNCTION {fn}()")
        # fill the rows already there: the trigger sets geom on this no-op update
        op.execute(f"UPDATE {table} SET id = id")
        op.execute(f"CREATE INDEX ix_{table}_geom ON {table} USING gist (geom)")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    for table in reversed(list(GEOMETRIES)):
        fn = _function(table)
        op.execute(f"DROP TRIGGER IF EXISTS {fn} ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS {fn}()")
        op.execute(f"DROP INDEX IF EXISTS ix_{table}_geom")
        op.execute(f"ALTER TABLE {table} DROP COLUMN IF EXISTS geom")
