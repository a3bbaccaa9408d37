"""Time series on real stacks: bulk import, timeline JSON and plot, break dating, rank."""

from __future__ import annotations

import json
import tarfile
from collections.abc import Callable
from datetime import date
from pathlib import Path

import numpy as np
import pytest
import rasterio
from conftest import Result, one_error_line

from sitewatch.detect.breaks import BreakParams, detect_breaks
from sitewatch.errors import InputValueError
from sitewatch.imagery.names import parse_product_name

YATSM_BANDS = "blue,green,red,nir,swir16,swir22,thermal,fmask"
# the centre of the 5 x 5 px p035r032 stack (EPSG:32613 336450 E, 4462350 N)
YATSM_CENTRE = ("40.295660", "-106.924275")
EOPATCH_CENTRE = ("45.870459", "14.557815")


@pytest.fixture(scope="session")
def yatsm_images(samples: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The 447-scene Landsat stack, unpacked once into a temporary folder."""
    dest = tmp_path_factory.mktemp("yatsm")
    with tarfile.open(samples / "timeseries/yatsm-landsat-p035r032/p035r032_testdata.tar.gz") as t:
        t.extractall(dest, filter="data")
    return dest / "p035r032" / "images"


def test_product_names() -> None:
    p = parse_product_name("LE70350322005237EDC00_stack.gtif")
    assert p is not None and p.acquired == date(2005, 8, 25)
    assert (p.platform, p.sensor, p.tile) == ("Landsat 7", "ETM+", "035032")
    p = parse_product_name("LC08_L2SP_035032_20200101_20200113_02_T1_SR_B4.TIF")
    assert p is not None and p.acquired == date(2020, 1, 1) and p.level == "L2SP"
    p = parse_product_name("S2A_MSIL2A_20230715T083601_N0509_R064_T36UXV_20230715T120000.SAFE")
    assert p is not None and p.acquired == date(2023, 7, 15) and p.tile == "36UXV"
    assert p.credit == "Contains modified Copernicus Sentinel data 2023"
    p = parse_product_name("T36UXV_20220301T083601_B04_10m.jp2")
    assert p is not None and p.acquired == date(2022, 3, 1)
    p = parse_product_name("S2B_36UXV_20230716_0_L2A")
    assert p is not None and p.platform == "Sentinel-2B"
    assert parse_product_name("tile_0_107.tif") is None
    assert parse_product_name("LT50350322000296XXX02") is not None
    with pytest.raises(InputValueError, match="impossible date"):
        parse_product_name("LE70350321999366EDC00_stack.gtif")


def test_bulk_import_timeline_plot_rank(cli: Callable[..., Result], yatsm_images: Path,
                                        tmp_path: Path, workspace: Path) -> None:
    assert cli("sites", "add", "p035r032", "--lat", YATSM_CENTRE[0], "--lon", YATSM_CENTRE[1],
               "--radius-m", "70").code == 0
    res = cli("scenes", "import", "p035r032", yatsm_images, "--bands", YATSM_BANDS,
              "--scale", "0.0001")
    assert res.code == 0, res.err
    # 447 files: one names day 366 of 1999, and two files are byte-identical
    assert "imported 445 scenes" in res.out
    assert "1 already in the catalog; 1 skipped (1 impossible date in the name)" in res.out
    assert "LE70350321999366EDC00" in res.err
    scenes = json.loads(cli("scenes", "list", "p035r032", "--json").out)
    assert len(scenes) == 445
    by_name = {Path(s["path"]).name: s for s in scenes}
    first = by_name["LT50350322000296XXX02_stack.gtif"]
    assert first["date"] == "2000-10-22" and first["provider"] == "USGS Landsat 5 TM"
    assert first["bands"][-1] == "fmask" and "Geological Survey" in first["credit"]
    again = cli("scenes", "import", "p035r032", yatsm_images, "--bands", YATSM_BANDS,
                "--scale", "0.0001")
    assert again.code == 0 and "imported 0 scenes" in again.out
    assert "446 already in the catalog" in again.out

    plot = tmp_path / "timeline.png"
    res = cli("timeline", "p035r032", "--json", "--plot", plot)
    assert res.code == 0, res.err
    doc = json.loads(res.out)
    assert doc["site"] == "p035r032" and len(doc["observations"]) == 445
    obs = doc["observations"]
    assert [o["date"] for o in obs] == sorted(o["date"] for o in obs)
    assert set(obs[0]) >= {"date", "scene_id", "clear_fraction", "ndvi", "ndbi", "bsi",
                           "brightness"}
    cloudy = [o for o in obs if o["clear_fraction"] == 0]
    assert cloudy and all(o["ndvi"] is None for o in cloudy)
    clear = [o for o in obs if o["clear_fraction"] >= 0.5]
    assert clear and all(-1 <= o["ndvi"] <= 1 and 0 <= o["brightness"] <= 1 for o in clear)
    # the stack shows one step change in mid-1999: NDVI falls, NDBI and bare soil rise
    assert len(doc["breaks"]) == 1
    brk = doc["breaks"][0]
    assert abs((date.fromisoformat(brk["date"]) - date(1999, 6, 30)).days) <= 40
    assert brk["kind"] == "built_up_gain" and brk["delta"]["ndvi"] < -0.1
    assert brk["magnitude"] > 3 and brk["area_m2"] > 0

    with rasterio.open(doc["outputs"]["break_date"]) as ds:
        ymd = ds.read(1)
        assert ds.crs.to_epsg() == 32613 and ds.nodata == 0
    broke = ymd[ymd > 0]
    assert broke.size and (np.abs(broke // 10000 - 1999) <= 1).mean() > 0.5
    polys = json.loads(Path(doc["outputs"]["break_polygons"]).read_text())
    assert polys["features"] and polys["features"][0]["properties"]["first_date"] <= "2000-12-31"
    png = plot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000

    text = cli("timeline", "p035r032")
    assert text.code == 0 and "1 break(s) in 445 scenes" in text.out

    assert cli("sites", "add", "empty", "--lat", "10", "--lon", "10").code == 0
    ranked = json.loads(cli("rank", "--json").out)
    assert [r["site"] for r in ranked] == ["p035r032", "empty"]
    assert ranked[0]["area_m2"] == brk["area_m2"] and ranked[0]["sources"] == ["timeline"]
    since = json.loads(cli("rank", "--since", "2005-01-01", "--json").out)
    assert all(r["area_m2"] == 0 for r in since)
    assert "p035r032" in cli("rank").out.splitlines()[0]


def test_eopatch_series_runs_through_timeline(cli: Callable[..., Result], samples: Path,
                                              tmp_path: Path) -> None:
    patch = samples / "eo-learn-testeopatch" / "TestEOPatch"
    assert cli("sites", "add", "slovenia", "--lat", EOPATCH_CENTRE[0], "--lon",
               EOPATCH_CENTRE[1], "--radius-m", "450").code == 0
    res = cli("scenes", "import", "slovenia", patch)
    assert res.code == 0, res.err
    assert "imported 68 scenes" in res.out
    scenes = json.loads(cli("scenes", "list", "slovenia", "--json").out)
    assert scenes[0]["bands"] == ["clp", "ndvi"] and scenes[0]["date"] == "2015-07-11"
    assert scenes[0]["credit"] == "Contains modified Copernicus Sentinel data 2015"
    res = cli("timeline", "slovenia", "--json", "--plot", tmp_path / "s.png")
    assert res.code == 0, res.err
    doc = json.loads(res.out)
    assert len(doc["observations"]) == 68 and doc["features"] == ["ndvi"]
    ndvi = np.load(patch / "data" / "NDVI.npy")
    clm = np.load(patch / "mask" / "CLM.npy")
    # the first date is cloud free: the AOI mean lies within the patch's own NDVI range
    first = doc["observations"][0]
    assert first["clear_fraction"] == 1.0 and clm[0].max() == 0
    assert float(ndvi[0].min()) < first["ndvi"] < float(ndvi[0].max())
    covered = [o for i, o in enumerate(doc["observations"]) if clm[i].min() == 1]
    assert covered and all(o["ndvi"] is None and o["clear_fraction"] == 0 for o in covered)
    assert all(o["ndbi"] is None for o in doc["observations"])  # no SWIR in the patch


def test_break_dates_match_cold_on_the_landsat_pixel(samples: Path) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "compare_cold", Path(__file__).parents[1] / "scripts" / "compare_cold.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    res = mod.compare(samples / "timeseries" / "pycold-landsat-pixel")
    assert res["clear"] == 224
    diffs = [abs(r["difference_days"]) for r in res["pairs"]]
    assert min(diffs) <= 16  # one Landsat revisit


def test_breaks_on_the_p013r030_row(samples: Path) -> None:
    """A real Landsat row: stable pixels give no break, and the test is deterministic."""
    data = np.load(samples / "timeseries/yatsm-landsat-p013r030-row50/p013r030_r50_n423_b8.npz")
    y, days = data["Y"], data["dates"]
    assert y.shape[:2] == (8, 423)
    px = y[:, :, 0].T.astype(float)
    fmask = px[:, 7]
    sr = px[:, 1:6]
    sr[(fmask > 1) | ~((sr > 0) & (sr < 10000)).all(axis=1)] = np.nan
    a = detect_breaks(days, sr, BreakParams())
    b = detect_breaks(days, sr, BreakParams())
    assert [x.day for x in a.breaks] == [x.day for x in b.breaks]
    assert a.segments and a.segments[0].n_obs >= 12
    for brk in a.breaks:
        assert days.min() <= brk.day <= days.max()


def test_bulk_import_reports_bad_files(cli: Callable[..., Result], yatsm_images: Path,
                                       tmp_path: Path) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    good = sorted(yatsm_images.glob("LT5*/*.gtif"))[:2]
    for g in good:
        (folder / g.name).write_bytes(g.read_bytes())
    (folder / "LT50350322000296XXX09_bad.tif").write_bytes(b"not a tiff at all")
    (folder / "LT50350322001296XXX09_empty.tif").write_bytes(b"")
    (folder / "notes.txt").write_text("ignored")
    assert cli("sites", "add", "p035r032", "--lat", YATSM_CENTRE[0], "--lon", YATSM_CENTRE[1],
               "--radius-m", "70").code == 0
    res = cli("scenes", "import", "p035r032", folder, tmp_path / "missing.tif",
              "--bands", YATSM_BANDS)
    assert res.code == 0, res.err
    assert "imported 2 scenes" in res.out and "3 skipped" in res.out
    assert "missing" in res.out and "unreadable" in res.out and "empty" in res.out
    assert res.err.count("skipped ") == 3 and "Traceback" not in res.err
    undated = tmp_path / "undated"
    undated.mkdir()
    (undated / "scene.tif").write_bytes(good[0].read_bytes())
    line = one_error_line(cli("scenes", "import", "p035r032", undated / "scene.tif",
                              "--bands", YATSM_BANDS))
    assert "--date" in line


def test_timeline_and_rank_refuse_bad_input(cli: Callable[..., Result], tmp_path: Path) -> None:
    assert "no site" in one_error_line(cli("timeline", "nowhere")).lower()
    assert cli("sites", "add", "bare", "--lat", "10", "--lon", "10").code == 0
    assert "no scenes" in one_error_line(cli("timeline", "bare"))
    assert ".png" in one_error_line(cli("timeline", "bare", "--plot", tmp_path / "x.jpg"))
    assert "--probability" in one_error_line(cli("timeline", "bare", "--probability", "1.5"))
    assert "fraction" in one_error_line(cli("timeline", "bare", "--min-clear", "2"))
    assert "does not parse" in one_error_line(cli("rank", "--since", "last week"))
    assert not list(tmp_path.glob("*.png"))
