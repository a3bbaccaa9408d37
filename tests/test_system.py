"""The installed command, the migrations and the demo, as a user meets them."""

import os
import subprocess
import sys
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from conftest import one_error_line
from sqlalchemy import create_engine

from sitewatch.catalog import Store
from sitewatch.catalog.rows import Base
from sitewatch.version import __version__

EXE = Path(sys.executable).parent / "sitewatch"


def test_version_and_help(cli):
    res = cli("--version")
    assert res.code == 0 and __version__ in res.out
    assert cli("--help").code == 0


def test_real_entry_point_bad_input_has_no_traceback(tmp_path):
    env = os.environ | {"SITEWATCH_HOME": str(tmp_path / "ws")}
    proc = subprocess.run([str(EXE), "scenes", "import", "nowhere", str(tmp_path / "x.tif"),
                           "--date", "2020", "--provider", "x"], capture_output=True, text=True,
                          env=env, timeout=60)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "sitewatch: error:" in proc.stderr


def test_migration_matches_models(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'c.sqlite'}")
    engine = create_engine(store.url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
    store.close()


def test_db_url_override(cli, tmp_path, monkeypatch):
    db = tmp_path / "elsewhere.sqlite"
    monkeypatch.setenv("SITEWATCH_DB", f"sqlite:///{db}")
    assert cli("sites", "add", "x", "--lat", "1", "--lon", "1").code == 0
    assert db.is_file()


def test_demo_on_real_samples(cli, samples, workspace):
    res = cli("demo")
    assert res.code == 0, res.err
    reports = sorted((workspace / "reports").glob("*.html"))
    assert len(reports) == 3
    assert "report" in res.out
    text = reports[0].read_text() + reports[1].read_text()
    assert "between 2002 and 2013 (exact date unknown)" in text
    # idempotent: a second demo adds nothing twice
    assert cli("demo").code == 0
    import json

    # three analysed pairs, the five sites of the sample article, the Landsat stack
    names = [s["name"] for s in json.loads(cli("sites", "list", "--json").out)]
    assert len(names) == 9 and "rocket-motor plant in Perm" in names
    assert (workspace / "reports" / "timeline-landsat-p035r032.png").is_file()
    assert "1999-06-30 new construction" in res.out  # change types in plain words


def test_demo_without_samples(cli, monkeypatch, tmp_path):
    monkeypatch.setenv("SITEWATCH_SAMPLES", str(tmp_path / "nothing"))
    assert "SITEWATCH_SAMPLES" in one_error_line(cli("demo"))


def test_evaluation_script_runs_on_the_real_pairs(samples):
    import importlib.util

    path = Path(__file__).parents[1] / "scripts" / "evaluate_detect.py"
    spec = importlib.util.spec_from_file_location("evaluate_detect", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    res = mod.evaluate("cva")
    assert set(res) == {"levir-cd", "dsifn-cd", "pooled", "taizhou"}
    for v in res.values():
        assert 0 < v["f1"] < 1 and v["tp"] > 0
