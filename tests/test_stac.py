"""STAC search and fetch against a real STAC API (rustac serve) on 127.0.0.1, whose items are
COGs made from the real Sentinel-2 L2A chips and their real cloud masks."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pytest
import rasterio
from conftest import Result, one_error_line
from support.localstac import (
    AssetServer,
    RustacServer,
    add_items,
    build_s2_collection,
    free_port,
)

from sitewatch.imagery.stac import (
    AssetInfo,
    CollectionFacts,
    StacItem,
    get_provider,
    parse_item,
    radiometry,
    search,
)

# 800 m AOIs on the 'adwp' chip: one under no cloud, one under thick cloud (real mask)
CLEAR = ("-2.536886", "32.844513")
CLOUDY = ("-2.541412", "32.867001")


@dataclass
class Api:
    url: str
    assets: AssetServer
    root: Path


@pytest.fixture(scope="module")
def stac_api(samples: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    root = tmp_path_factory.mktemp("stac")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    col, items, made = build_s2_collection(samples, root, base)
    adwp = json.loads(items.read_text())["features"][0]
    broken = json.loads(json.dumps(adwp))
    broken["id"] = "S2_missing_asset_20210101_L2A"
    broken["properties"]["datetime"] = "2021-01-01T08:20:47Z"
    broken["properties"]["eo:cloud_cover"] = 10.0
    broken["assets"]["B04"]["href"] = f"{base}/nowhere/B04.tif"
    bad_cloud = json.loads(json.dumps(adwp))
    bad_cloud["id"] = "S2_bad_cloud_20200501_L2A"
    bad_cloud["properties"]["datetime"] = "2020-05-01T08:20:47Z"
    bad_cloud["properties"]["eo:cloud_cover"] = "lots"
    no_assets = json.loads(json.dumps(adwp))
    no_assets["id"] = "S2_no_assets_20200502_L2A"
    no_assets["properties"]["datetime"] = "2020-05-02T08:20:47Z"
    no_assets["assets"] = {}
    add_items(items, [broken, bad_cloud, no_assets])
    with AssetServer(root / "assets", port) as assets, RustacServer([col, items]) as api:
        yield Api(api.url, assets, root)


def _site(cli: Callable[..., Result], name: str, where: tuple[str, str]) -> None:
    assert cli("sites", "add", name, "--lat", where[0], "--lon", where[1],
               "--radius-m", "400").code == 0


def test_search_by_aoi_dates_and_cloud(cli: Callable[..., Result], stac_api: Api,
                                       tmp_path: Path) -> None:
    _site(cli, "clear", CLEAR)
    res = cli("stac", "search", "clear", "--url", stac_api.url, "--json")
    assert res.code == 0, res.err
    ids = [i["id"] for i in json.loads(res.out)]
    # the three versions of the chip under the AOI and the item with a missing asset;
    # the other chip lies 77 km west and is not returned
    assert ids == ["S2_Chifunfu_adwp_20200429_L2A", "S2_missing_asset_20210101_L2A",
                   "S2_Chifunfu_adwp_20220504_L2A", "S2_Chifunfu_adwp_20220608_L2A"]
    assert "malformed item S2_bad_cloud_20200501_L2A" in res.err
    assert "malformed item S2_no_assets_20200502_L2A" in res.err
    first = json.loads(res.out)[0]
    assert first["cloud_cover"] == pytest.approx(47.93, abs=0.01)
    assert first["processing_baseline"] == "02.14" and first["self_href"].startswith("http")
    dated = json.loads(cli("stac", "search", "clear", "--url", stac_api.url, "--start",
                           "2022-05", "--end", "2022-05-31", "--json").out)
    assert [i["id"] for i in dated] == ["S2_Chifunfu_adwp_20220504_L2A"]
    empty = cli("stac", "search", "clear", "--url", stac_api.url, "--end", "2019-12-31")
    assert empty.code == 0 and "0 item(s)" in empty.out
    # a wide AOI over both chips: 'aeey' is 93% cloudy, 'adwp' 48%
    gj = tmp_path / "wide.geojson"
    gj.write_text(json.dumps({"type": "Polygon", "coordinates": [[
        [32.14, -2.57], [32.89, -2.57], [32.89, -2.52], [32.14, -2.52], [32.14, -2.57]]]}))
    assert cli("sites", "add", "wide", "--geojson", gj).code == 0
    every = json.loads(cli("stac", "search", "wide", "--url", stac_api.url, "--json").out)
    assert len(every) == 7
    res = cli("stac", "search", "wide", "--url", stac_api.url, "--max-cloud", "60")
    assert res.code == 0 and "4 item(s)" in res.out and "3 over --max-cloud" in res.out
    assert "aeey" not in res.out


def test_search_pages_through_results(stac_api: Api) -> None:
    from shapely.geometry import box

    p = get_provider("earth-search", stac_api.url)
    aoi = box(32.14, -2.57, 32.89, -2.52)
    one = search(p, "sentinel-2-l2a", aoi, None, None, page_size=100)
    paged = search(p, "sentinel-2-l2a", aoi, None, None, page_size=2)
    assert paged.pages >= 5 and one.pages == 1
    assert [i.id for i in paged.items] == [i.id for i in one.items]
    assert len(paged.malformed) == len(one.malformed) == 2


def test_fetch_masked_scaled_scenes_then_analyze_and_report(
        cli: Callable[..., Result], stac_api: Api, tmp_path: Path) -> None:
    _site(cli, "clear", CLEAR)
    stac_api.assets.reset()
    res = cli("stac", "fetch", "clear", "--url", stac_api.url)
    assert res.code == 0, res.err
    assert "3 imported, 0 already known, 0 skipped, 1 failed, of 4 item(s)" in res.out
    assert "failed S2_missing_asset_20210101_L2A" in res.err and "404" in res.err
    # only the AOI windows were read: 256 px tiles of 512 px assets
    full = sum(f.stat().st_size for f in (stac_api.root / "assets").rglob("*.tif")
               if "adwp" in str(f))
    assert 0 < stac_api.assets.bytes_sent < full
    scenes = json.loads(cli("scenes", "list", "clear", "--json").out)
    assert [s["date"] for s in scenes] == ["2020-04-29", "2022-05-04", "2022-06-08"]
    assert scenes[0]["bands"] == ["blue", "green", "red", "nir"]
    assert scenes[1]["credit"] == ("Contains modified Copernicus Sentinel data 2022; via the "
                                   f"STAC API at {stac_api.url}")
    data = []
    for s in scenes:
        with rasterio.open(s["path"]) as ds:
            assert ds.crs.to_epsg() == 32736 and ds.res == (10.0, 10.0)
            data.append(ds.read())
    # surface reflectance whatever the baseline: 02.14 numbers, 04.00 numbers with the
    # offset in raster:bands, and 04.00 numbers whose metadata lack it, all agree
    assert 0.0 < float(np.nanmedian(data[0])) < 0.5
    for other in data[1:]:
        assert np.allclose(other, data[0], atol=1e-6, equal_nan=True)
    with rasterio.open(stac_api.root / "assets" / "S2_Chifunfu_adwp_20200429_L2A" / "B02.tif"
                       ) as ds:
        raw = ds.read(1)
    assert float(np.nanmax(data[0][0])) <= raw.max() * 1e-4 + 1e-6
    again = cli("stac", "fetch", "clear", "--url", stac_api.url)
    assert "0 imported, 3 already known" in again.out

    import sitewatch

    ws = sitewatch.open_workspace()
    props = ws.scenes("clear")[2].props
    assert props["stac_item"] == "S2_Chifunfu_adwp_20220608_L2A"
    assert props["processing_baseline"] == "04.00" and props["mask"] == "scl"
    assert props["radiometry"]["red"] == [0.0001, -0.1]
    assert any("no offset" in n for n in props["radiometry_notes"])
    assert set(props["stac_assets"]) == {"blue", "green", "red", "nir", "mask"}
    assert props["datetime_utc"].startswith("2022-06-08T08:20:47")

    assert cli("analyze", "clear").code == 0
    report = tmp_path / "clear.html"
    assert cli("report", "clear", "--out", report).code == 0
    html = report.read_text()
    assert "Contains modified Copernicus Sentinel data 2020" in html


def test_cloudy_items_are_recorded_as_skipped(cli: Callable[..., Result], stac_api: Api
                                              ) -> None:
    _site(cli, "cloudy", CLOUDY)
    res = cli("stac", "fetch", "cloudy", "--url", stac_api.url, "--end", "2020-12-31",
              "--json")
    assert res.code == 0, res.err
    out = json.loads(res.out)
    assert [o["status"] for o in out] == ["skipped"]
    assert "of the AOI is clear" in out[0]["reason"] and out[0]["clear_fraction"] < 0.3
    assert json.loads(cli("scenes", "list", "cloudy", "--json").out) == []
    again = json.loads(cli("stac", "fetch", "cloudy", "--url", stac_api.url, "--end",
                           "2020-12-31", "--json").out)
    assert again[0]["status"] == "known" and "skipped before" in again[0]["reason"]


def test_unreachable_and_garbage_servers(cli: Callable[..., Result], stac_api: Api,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SITEWATCH_HTTP_RETRIES", "1")
    _site(cli, "clear", CLEAR)
    down = f"http://127.0.0.1:{free_port()}"
    line = one_error_line(cli("stac", "search", "clear", "--url", down))
    assert "cannot reach the STAC API" in line and down in line
    line = one_error_line(cli("stac", "fetch", "clear", "--url", stac_api.assets.url +
                              "/garbage"))
    assert "STAC" in line
    assert not list((Path(__import__("os").environ["SITEWATCH_HOME"])).rglob("*.tif"))


def test_bad_options(cli: Callable[..., Result], stac_api: Api) -> None:
    _site(cli, "clear", CLEAR)
    assert "--max-cloud" in one_error_line(cli("stac", "search", "clear", "--url",
                                               stac_api.url, "--max-cloud", "150"))
    assert "after" in one_error_line(cli("stac", "search", "clear", "--start", "2022-01-01",
                                         "--end", "2021-01-01"))
    assert "unknown STAC provider" in one_error_line(cli("stac", "search", "clear",
                                                         "--provider", "nope"))
    assert "http" in one_error_line(cli("stac", "search", "clear", "--url", "ftp://x"))
    assert "no site" in one_error_line(cli("stac", "search", "nowhere", "--url",
                                           stac_api.url)).lower()


def _item(baseline: str | None, when: str, flag: bool | None = None) -> StacItem:
    props: dict[str, object] = {}
    if flag is not None:
        props["earthsearch:boa_offset_applied"] = flag
    return StacItem("x", "sentinel-2-l2a", datetime.fromisoformat(when).replace(tzinfo=UTC),
                    None, None, None, None, baseline, None, {}, props)


def test_sentinel2_offset_rule() -> None:
    facts = get_provider("earth-search").facts("sentinel-2-l2a")
    plain = AssetInfo("red", "h", 0.0001, None, 0, "red")
    with_off = AssetInfo("red", "h", 0.0001, -0.1, 0, "red")
    assert radiometry(_item("02.14", "2021-06-01"), facts, plain)[:2] == (0.0001, 0.0)
    assert radiometry(_item("04.00", "2022-02-01"), facts, with_off) == (0.0001, -0.1, [])
    assert radiometry(_item("05.09", "2023-07-01"), facts, plain)[:2] == (0.0001, -0.1)
    # a wrong offset or flag does not win over the baseline, and is recorded
    s, o, notes = radiometry(_item("03.01", "2021-09-01", flag=True), facts, with_off)
    assert o == 0.0 and len(notes) == 2
    # no baseline: the date decides
    assert radiometry(_item(None, "2022-03-01"), facts, plain)[1] == -0.1
    assert radiometry(_item(None, "2021-03-01"), facts, plain)[1] == 0.0
    landsat = get_provider("earth-search").facts("landsat-c2-l2")
    assert radiometry(_item(None, "2021-03-01"), landsat,
                      AssetInfo("red", "h", None, None, 0, "red"))[:2] == (0.0000275, -0.2)
    assert isinstance(CollectionFacts.generic("x"), CollectionFacts)


def test_parse_item_reads_baselines_and_flags_problems() -> None:
    doc = {"id": "S2B_36UXV_20230716_0_L2A", "geometry": {"type": "Point",
                                                           "coordinates": [0, 0]},
           "properties": {"datetime": "2023-07-16T08:36:01.123Z", "eo:cloud_cover": 3,
                          "s2:product_uri": "S2B_MSIL2A_20230716T083601_N0509_R064_T36UXV_"
                                            "20230716T100000.SAFE", "s2:mgrs_tile": "36UXV"},
           "assets": {"red": {"href": "https://x/B04.tif"}}}
    item = parse_item(doc)
    assert item.problem is None and item.baseline == "05.09" and item.tile == "36UXV"
    assert item.acquired == datetime(2023, 7, 16, 8, 36, 1, 123000, tzinfo=UTC)
    assert item.acquired.date() == date(2023, 7, 16)
    assert "datetime" in (parse_item({"id": "a", "properties": {}}).problem or "")
    assert parse_item([1, 2]).problem == "not a JSON object"
