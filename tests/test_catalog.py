"""The catalog as a team meets it: the schema applied on request only, clear refusals of a
catalog that cannot be used, and two processes writing one workspace at once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import LEVIR_BOUNDS, LEVIR_TILE, one_error_line
from sqlalchemy import create_engine, text

EXE = Path(sys.executable).parent / "sitewatch"


def _old_sqlite_catalog(path: Path) -> str:
    """A catalog at revision 0004 (before history and reviews) holding one site."""
    from alembic import command
    from alembic.config import Config

    from sitewatch.catalog.schema import MIGRATIONS

    url = f"sqlite:///{path}"
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    engine = create_engine(url)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0004")
        conn.execute(text(
            "INSERT INTO sites (name, aliases, aoi_geojson, created_at, min_lon, min_lat, "
            "max_lon, max_lat) VALUES ('old site', '[]', :g, '2026-11-01 00:00:00', 0, 0, 1, 1)"
        ), {"g": json.dumps({"type": "Polygon", "coordinates": [
            [[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]})})
    engine.dispose()
    return url


def test_old_schema_is_refused_until_db_upgrade(cli, tmp_path, monkeypatch):
    if os.environ.get("SITEWATCH_TEST_PG"):
        pytest.skip("builds an old SQLite catalog")
    url = _old_sqlite_catalog(tmp_path / "old.sqlite")
    monkeypatch.setenv("SITEWATCH_DB", url)
    line = one_error_line(cli("sites", "list"))
    assert "revision 0004" in line and "sitewatch db upgrade" in line
    res = cli("db", "upgrade")
    assert res.code == 0 and "upgraded from 0004" in res.out, res.err
    sites = json.loads(cli("sites", "list", "--json").out)
    assert [s["name"] for s in sites] == ["old site"] and sites[0]["status"] == "active"
    assert "already at revision" in cli("db", "upgrade").out


def test_new_sqlite_workspace_is_created_at_the_latest_schema(cli, workspace):
    if os.environ.get("SITEWATCH_TEST_PG"):
        pytest.skip("SQLite only")
    assert cli("sites", "list").code == 0
    from sitewatch.catalog.schema import current_revision, head_revision, make_engine

    engine = make_engine(f"sqlite:///{workspace / 'catalog.sqlite'}")
    assert current_revision(engine) == head_revision()
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    engine.dispose()


@pytest.mark.parametrize("url, why", [
    ("postgresql+psycopg://nobody@127.0.0.1:9/none", "cannot reach the catalog"),
    ("not a url", "is not a database URL"),
    ("oracle+nodriver://x@127.0.0.1/y", "no driver"),
])
def test_unusable_database_urls(cli, monkeypatch, url, why):
    monkeypatch.setenv("SITEWATCH_DB", url)
    assert why in one_error_line(cli("sites", "list"))


def test_empty_postgresql_database_asks_for_db_upgrade(cli, monkeypatch):
    admin = os.environ.get("SITEWATCH_TEST_PG")
    if not admin:
        pytest.skip("needs SITEWATCH_TEST_PG (make test-pg)")
    from support.postgres import drop_database, fresh_database_url

    url = fresh_database_url(admin, "empty", migrate=False)
    try:
        monkeypatch.setenv("SITEWATCH_DB", url)
        assert "sitewatch db upgrade" in one_error_line(cli("sites", "list"))
        assert cli("db", "upgrade").code == 0
        assert cli("sites", "add", "pg", "--lat", "1", "--lon", "1").code == 0
        engine = create_engine(url)
        with engine.connect() as conn:
            kind = conn.execute(text(
                "SELECT GeometryType(geom) FROM sites WHERE name = 'pg'")).scalar()
        engine.dispose()
        assert kind == "POLYGON"
    finally:
        drop_database(admin, url)


def _spawn(*args: object) -> subprocess.Popen[str]:
    return subprocess.Popen([str(EXE), *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=os.environ.copy())


def _finish(procs: list[subprocess.Popen[str]]) -> list[tuple[int, str]]:
    return [(p.wait(timeout=300), p.communicate()[1]) for p in procs]


def _scenes(cli, site: str) -> list[dict]:
    res = cli("scenes", "list", site, "--json")
    assert res.code == 0, res.err
    return json.loads(res.out)


def test_two_processes_write_one_workspace(cli, samples, tmp_path):
    """Two imports at once, then an analysis and an import at once: both succeed, nothing
    lost or doubled (SQLite waits for the other writer; PostgreSQL locks rows)."""
    w, s, e, n = (float(v) for v in LEVIR_BOUNDS)
    gj = tmp_path / "aoi.geojson"
    gj.write_text(json.dumps({"type": "Polygon", "coordinates": [
        [[w, s], [e, s], [e, n], [w, n], [w, s]]]}))
    assert cli("sites", "add", "austin", "--geojson", gj).code == 0
    tiles = samples / "levir-cd" / "tiles256"
    common = ("--provider", "Google Earth", "--bounds", *LEVIR_BOUNDS, "--crs", "EPSG:4326")
    both = _finish([
        _spawn("scenes", "import", "austin", tiles / "A" / f"{LEVIR_TILE}.png", "--date",
               "2002/2013", *common),
        _spawn("scenes", "import", "austin", tiles / "B" / f"{LEVIR_TILE}.png", "--date",
               "2007/2018", *common),
    ])
    assert [c for c, _ in both] == [0, 0], both
    assert len(_scenes(cli, "austin")) == 2
    third = tmp_path / "third.png"
    third.write_bytes((tiles / "B" / f"{LEVIR_TILE}.png").read_bytes() + b"\0")
    both = _finish([_spawn("analyze", "austin", "--method", "cva", "--after", "2007"),
                    _spawn("scenes", "import", "austin", third, "--date", "2019", *common)])
    assert [c for c, _ in both] == [0, 0], both
    assert len(_scenes(cli, "austin")) == 3
    runs = json.loads(cli("runs", "list", "austin", "--json").out)
    assert len(runs) == 1 and runs[0]["detections"]
    # the same analysis twice at once: one run, its detections stored once
    both = _finish([_spawn("analyze", "austin", "--method", "cva", "--after", "2019"),
                    _spawn("analyze", "austin", "--method", "cva", "--after", "2019")])
    assert [c for c, _ in both] == [0, 0], both
    runs = json.loads(cli("runs", "list", "austin", "--json").out)
    assert len(runs) == 2
    ids = [d["id"] for r in runs for d in r["detections"]]
    assert len(ids) == len(set(ids))


def test_migrations_match_the_models_on_this_database(cli, workspace):
    """On SQLite and, under make test-pg, on PostgreSQL with PostGIS."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from support.catalog import catalog_url

    from sitewatch.catalog.migrations.env_filter import include_object
    from sitewatch.catalog.rows import Base

    assert cli("sites", "list").code == 0  # creates a new SQLite catalog
    engine = create_engine(catalog_url(workspace))
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"include_object": include_object})
        diff = compare_metadata(ctx, Base.metadata)
    engine.dispose()
    assert diff == []


def test_revision_chain_read_without_alembic_matches_alembic():
    from alembic.script import ScriptDirectory

    from sitewatch.catalog.schema import _alembic, revisions

    script = ScriptDirectory.from_config(_alembic())
    chain = [s.revision for s in script.walk_revisions()][::-1]
    assert list(revisions()) == chain and script.get_current_head() == chain[-1]
