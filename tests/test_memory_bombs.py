"""Images small on disk but huge in pixels are refused on what detecting change in them
would allocate, before a pixel is read; the site path reads only the site's window."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from support.synthetic import CENTRE_LONLAT, png_bomb, sparse_geotiff_bomb

from sitewatch.errors import InputFileError
from sitewatch.settings import max_memory_bytes

TESTS = Path(__file__).resolve().parent
#: runs sitewatch's CLI in a fresh interpreter and reports the growth of its peak resident
#: memory over the command (the imports are done before the baseline is taken)
PROBE = """
import json, resource, sys
import sitewatch.api, sitewatch.pipeline.pair, sitewatch.pipeline.analysis, rasterio
from sitewatch.cli.main import main
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
codes = [main(args) for args in json.loads(sys.argv[1])]
grew = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base
print(json.dumps({"codes": codes, "grew_mb": grew / 1024}), file=sys.__stdout__)
"""


def _probe(commands: list[list[str]], home: Path, budget_mb: int = 1024
           ) -> tuple[list[int], float, str]:
    env = {**os.environ, "SITEWATCH_HOME": str(home), "SITEWATCH_MAX_MEMORY_MB": str(budget_mb)}
    res = subprocess.run([sys.executable, "-c", PROBE, json.dumps(commands)], env=env,
                         capture_output=True, text=True, timeout=120, cwd=TESTS)
    report = json.loads(res.stdout.strip().splitlines()[-1])
    return report["codes"], report["grew_mb"], res.stderr


def _error_lines(stderr: str) -> list[str]:
    return [ln for ln in stderr.splitlines() if ln.strip() and not ln.startswith("workspace:")]


@pytest.mark.parametrize("kind", ["geotiff", "png"])
def test_bomb_refused_before_it_is_read(tmp_path, kind):
    if kind == "geotiff":  # 40000 x 40000 x 2 uint8: 3.0 GiB decoded, under the size limit
        bomb = sparse_geotiff_bomb(tmp_path / "bomb.tif", 40_000, 40_000, bands=2)
    else:  # 6000 x 6000 grey: 36 MB decoded, 144 MB as float32, about 35 KB on disk
        bomb = png_bomb(tmp_path / "bomb.png", 6000, 6000)
    assert bomb.stat().st_size < 400_000
    codes, grew_mb, stderr = _probe(
        [["detect", str(bomb), str(bomb), "--out", str(tmp_path / "m.tif")]], tmp_path / "ws")
    lines = _error_lines(stderr)
    assert codes == [2], stderr
    assert len(lines) == 1, lines
    assert lines[0].startswith("sitewatch: error: detect on ") and str(bomb) in lines[0]
    assert "GiB of memory" in lines[0] and "SITEWATCH_MAX_MEMORY_MB=1024" in lines[0]
    assert "gdal_translate -srcwin" in lines[0] and "site" in lines[0]
    assert grew_mb < 100, f"the refusal allocated {grew_mb:.0f} MB"
    assert not (tmp_path / "m.tif").exists()


@pytest.mark.slow
def test_bomb_imported_over_a_site_is_analysed_by_window(tmp_path):
    """The fix the error names: a site over the area reads only its window of the bomb."""
    lon, lat = CENTRE_LONLAT
    a = sparse_geotiff_bomb(tmp_path / "a.tif", 40_000, 40_000)
    b = sparse_geotiff_bomb(tmp_path / "b.tif", 39_999, 40_000)
    codes, grew_mb, stderr = _probe([
        ["sites", "add", "big", "--lat", str(lat), "--lon", str(lon), "--radius-m", "50"],
        ["scenes", "import", "big", str(a), "--date", "2020-01-01", "--provider", "test"],
        ["scenes", "import", "big", str(b), "--date", "2021-01-01", "--provider", "test"],
        ["analyze", "big", "--method", "cva"],
    ], tmp_path / "ws")
    assert codes == [0, 0, 0, 0], stderr
    assert grew_mb < 300, f"the site path allocated {grew_mb:.0f} MB"


def test_detect_pair_refuses_through_the_api(tmp_path, monkeypatch):
    import sitewatch

    monkeypatch.setenv("SITEWATCH_MAX_MEMORY_MB", "64")
    bomb = sparse_geotiff_bomb(tmp_path / "bomb.tif", 20_000, 20_000)
    with pytest.raises(InputFileError, match="over the 0.1 GiB budget"):
        sitewatch.detect_pair(bomb, bomb, tmp_path / "m.tif", method="cva")


def test_memory_budget_setting(monkeypatch):
    monkeypatch.delenv("SITEWATCH_MAX_MEMORY_MB", raising=False)
    physical = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    assert abs(max_memory_bytes() - physical / 2) < 2**21  # half the machine, to the MiB
    monkeypatch.setenv("SITEWATCH_MAX_MEMORY_MB", "300")
    assert max_memory_bytes() == 300 * 2**20
    for bad in ("lots", "nan", "0"):
        monkeypatch.setenv("SITEWATCH_MAX_MEMORY_MB", bad)
        with pytest.raises(Exception, match="SITEWATCH_MAX_MEMORY_MB"):
            max_memory_bytes()
