"""Shared fixtures: the real sample data, a fresh workspace per test, and a CLI runner."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import settings

from sitewatch.cli.main import main
from sitewatch.config import find_samples

SAMPLES = find_samples()

# `make fuzz`: HYPOTHESIS_PROFILE=fuzz runs tests/test_fuzz.py with many more examples
settings.register_profile("fuzz", max_examples=200, deadline=None)
if os.environ.get("HYPOTHESIS_PROFILE"):
    settings.load_profile(os.environ["HYPOTHESIS_PROFILE"])


@pytest.fixture(scope="session")
def samples() -> Path:
    if SAMPLES is None:
        pytest.skip("sample data not found: set SITEWATCH_SAMPLES (CI has ../shared/data)")
    return SAMPLES


@pytest.fixture(autouse=True)
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
              request: pytest.FixtureRequest) -> Iterator[Path]:
    """A new workspace; its catalog is SQLite in it, or with ``SITEWATCH_TEST_PG`` set (an
    admin URL of a PostgreSQL server with PostGIS, ``make test-pg``) a new database there."""
    home = tmp_path / "ws"
    monkeypatch.setenv("SITEWATCH_HOME", str(home))
    admin_url = os.environ.get("SITEWATCH_TEST_PG")
    if not admin_url:
        monkeypatch.delenv("SITEWATCH_DB", raising=False)
        yield home
        return
    from support.postgres import drop_database, fresh_database_url

    url = fresh_database_url(admin_url, request.node.name, migrate=True)  # db upgrade done
    monkeypatch.setenv("SITEWATCH_DB", url)
    try:
        yield home
    finally:
        drop_database(admin_url, url)


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    def run(*args: object) -> Result:
        capsys.readouterr()
        code = main([str(a) for a in args])
        cap = capsys.readouterr()
        return Result(code, cap.out, cap.err)

    return run


def one_error_line(res: Result) -> str:
    """The stderr of a refused command: exactly one 'sitewatch: error:' line, no traceback."""
    from sitewatch.cli.progress import PLAIN_LINE  # progress of a long step is no error

    lines = [ln for ln in res.err.splitlines() if ln.strip() and not ln.startswith("workspace:")
             and not PLAIN_LINE.match(ln)]
    assert res.code == 2, (res.code, res.err)
    assert len(lines) == 1, lines
    assert lines[0].startswith("sitewatch: error:"), lines
    assert "Traceback" not in res.err
    return lines[0]


LEVIR_TILE = "test_2_0000_0000"
LEVIR_BOUNDS = ("-97.9994175", "30.1602146", "-97.9980442", "30.1615879")


@pytest.fixture
def levir_site(cli: Callable[..., Result], samples: Path, tmp_path: Path) -> str:
    """A site over one LEVIR-CD tile, with its A and B images imported."""
    import json

    w, s, e, n = (float(v) for v in LEVIR_BOUNDS)
    gj = tmp_path / "aoi.geojson"
    gj.write_text(json.dumps({"type": "Polygon", "coordinates": [
        [[w, s], [e, s], [e, n], [w, n], [w, s]]]}))
    assert cli("sites", "add", "austin", "--geojson", gj).code == 0
    for ab, date in (("A", "2002/2013"), ("B", "2007/2018")):
        res = cli("scenes", "import", "austin",
                  samples / "levir-cd" / "tiles256" / ab / f"{LEVIR_TILE}.png",
                  "--date", date, "--provider", "Google Earth", "--credit", "LEVIR-CD",
                  "--bounds", *LEVIR_BOUNDS, "--crs", "EPSG:4326")
        assert res.code == 0, res.err
    return "austin"


@pytest.fixture
def pr_site(cli: Callable[..., Result], samples: Path) -> str:
    """A site over the Puerto Rico tile with its pre and post images imported."""
    assert cli("sites", "add", "pr", "--lat", "18.3286", "--lon", "-66.19225",
               "--radius-m", "60").code == 0
    base = samples / "puerto-rico-maria"
    for sub, date in (("Pre_Event_Grids_In_TIFF", "2017-09-01"),
                      ("Post_Event_Grids_In_TIFF", "2017-10")):
        res = cli("scenes", "import", "pr", base / sub / "tile_0_107.tif", "--date", date,
                  "--provider", "Maxar", "--credit", "Maxar Open Data", "--licence",
                  "CC BY-NC 4.0")
        assert res.code == 0, res.err
    return "pr"
