"""Hostile and broken STAC servers (tests/support/junkstac.py) through ``sitewatch stac search``
and ``stac fetch``: each ends in bounded time with one line on stderr and exit status 2 (or
does the right thing), never a traceback, and writes nothing to the catalog."""

from __future__ import annotations

import json
import os
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import rasterio
from conftest import Result, one_error_line
from pyproj import Transformer
from rasterio.transform import from_origin
from support.junkstac import JunkStac, item
from support.localstac import AssetServer

from sitewatch.errors import ConfigError
from sitewatch.pipeline.stacfetch import _safe
from sitewatch.settings import stac_allow_local, stac_max_bytes, stac_max_pages

LON, LAT = 20.0, 10.0
BBOX = (19.99, 9.99, 20.01, 10.01)


@pytest.fixture(autouse=True)
def _fast(monkeypatch: pytest.MonkeyPatch, cli: Callable[..., Result]) -> None:
    monkeypatch.setenv("SITEWATCH_HTTP_TIMEOUT", "1")
    for name in ("SITEWATCH_STAC_MAX_PAGES", "SITEWATCH_STAC_MAX_BYTES",
                 "SITEWATCH_STAC_DEADLINE", "SITEWATCH_STAC_ASSET_HOSTS",
                 "SITEWATCH_STAC_ALLOW_LOCAL"):
        monkeypatch.delenv(name, raising=False)
    assert cli("sites", "add", "plant", "--lat", LAT, "--lon", LON, "--radius-m", "500").code == 0


def _timed(cli: Callable[..., Result], *args: object) -> tuple[Result, float]:
    t0 = time.monotonic()
    res = cli(*args)
    return res, time.monotonic() - t0


def _nothing_written(cli: Callable[..., Result]) -> None:
    assert json.loads(cli("scenes", "list", "plant", "--json").out) == []
    assert not list(Path(os.environ["SITEWATCH_HOME"]).rglob("*.tif"))


@pytest.mark.parametrize("mode", ["hang", "hang-search", "trickle"])
def test_a_stalled_server_is_given_up_within_the_timeout(cli: Callable[..., Result],
                                                         mode: str) -> None:
    with JunkStac(mode) as api:
        res, took = _timed(cli, "stac", "search", "plant", "--url", api.url)
    line = one_error_line(res)  # not "0 items" with exit 0
    assert "stalled" in line and api.url in line and "SITEWATCH_HTTP_TIMEOUT" in line
    assert took < 3.0  # 1 s timeout: no retries of a stall, no 91 s wait
    assert api.requests[next(iter(api.requests))] == 1


def test_the_whole_search_has_a_deadline(cli: Callable[..., Result],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SITEWATCH_STAC_DEADLINE", "0.5")
    monkeypatch.setenv("SITEWATCH_HTTP_TIMEOUT", "5")
    with JunkStac("hang-search") as api:
        res, took = _timed(cli, "stac", "search", "plant", "--url", api.url)
    line = one_error_line(res)
    assert api.url in line and "SITEWATCH_STAC_DEADLINE" in line and took < 2.0


def test_endless_next_links_stop_at_the_page_cap(cli: Callable[..., Result],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SITEWATCH_STAC_MAX_PAGES", "5")
    with JunkStac("loop") as api:
        res, took = _timed(cli, "stac", "search", "plant", "--url", api.url)
        fetch = cli("stac", "fetch", "plant", "--url", api.url)
    line = one_error_line(res)
    assert "more than 5 pages" in line and "SITEWATCH_STAC_MAX_PAGES" in line
    assert api.requests["/search"] == 10 and took < 3.0  # 5 pages each, then refused
    assert "more than 5 pages" in one_error_line(fetch)
    _nothing_written(cli)


def test_the_default_page_cap(cli: Callable[..., Result]) -> None:
    assert stac_max_pages() == 100
    with JunkStac("loop") as api:
        res, took = _timed(cli, "stac", "search", "plant", "--url", api.url)
    assert "more than 100 pages" in one_error_line(res) and api.requests["/search"] == 100
    assert took < 8.0


def test_a_page_link_that_loops_back_is_refused(cli: Callable[..., Result]) -> None:
    with JunkStac("loop-same") as api:
        line = one_error_line(cli("stac", "search", "plant", "--url", api.url))
    assert "loop back" in line and api.url in line and api.requests["/search"] == 2


@pytest.mark.parametrize("mode", ["garbage", "garbage-search", "deep"])
def test_garbage_is_one_line(cli: Callable[..., Result], mode: str) -> None:
    with JunkStac(mode) as api:
        line = one_error_line(cli("stac", "search", "plant", "--url", api.url))
        fetch = one_error_line(cli("stac", "fetch", "plant", "--url", api.url))
    assert api.url in line and "not JSON" in line and fetch == line
    _nothing_written(cli)


@pytest.mark.parametrize("mode", ["huge", "huge-chunked"])
def test_a_huge_answer_is_not_read_into_memory(cli: Callable[..., Result], mode: str,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    if mode == "huge-chunked":  # no length declared: read up to the cap, then refused
        monkeypatch.setenv("SITEWATCH_STAC_MAX_BYTES", str(4 * 2**20))
    tracemalloc.start()
    try:
        with JunkStac(mode) as api:
            res, took = _timed(cli, "stac", "search", "plant", "--url", api.url)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    line = one_error_line(res)
    assert "SITEWATCH_STAC_MAX_BYTES" in line and api.url in line
    assert peak < 3 * stac_max_bytes() and took < 5.0  # the 200 MB body is never held


def test_redirects_are_followed_on_the_api_host_only(cli: Callable[..., Result]) -> None:
    with JunkStac("redirect") as api:
        res = cli("stac", "search", "plant", "--url", api.url)
    assert res.code == 0 and "0 item(s)" in res.out, res.err
    assert api.requests["/v1/"] == 1 and api.requests["/search"] == 1
    with JunkStac("redirect-away") as api:
        line = one_error_line(cli("stac", "search", "plant", "--url", api.url))
    assert "off its own host" in line and api.requests["/v1/"] == 0


# --- items and their assets ----------------------------------------------------------------
def _cog(path: Path) -> None:
    """A single-band uint16 GeoTIFF in UTM 34N, 4 km square at 10 m, over the site."""
    x, y = Transformer.from_crs("EPSG:4326", "EPSG:32634", always_xy=True).transform(LON, LAT)
    rng = np.random.default_rng(3)
    data = rng.integers(500, 3000, (1, 400, 400), dtype=np.uint16)
    with rasterio.open(path, "w", driver="GTiff", width=400, height=400, count=1,
                       dtype="uint16", crs="EPSG:32634", tiled=True, blockxsize=256,
                       blockysize=256, transform=from_origin(x - 2000, y + 2000, 10, 10)) as ds:
        ds.write(data)


@pytest.fixture
def assets(tmp_path: Path) -> Iterator[AssetServer]:
    root = tmp_path / "assets"
    root.mkdir()
    _cog(root / "band.tif")
    with AssetServer(root) as server:
        yield server


def _bands(href: str) -> dict[str, str]:
    return {k: href for k in ("red", "green", "blue", "nir")}


COLLIDING = ["S2A tile:1", "S2A/tile/1", "S2A_tile_1", "../../../escape", "..",
             "CON", "nul\\dir\\x", "é/é"]


def test_an_item_id_with_a_nul_character_is_refused_in_one_line(
        cli: Callable[..., Result], assets: AssetServer) -> None:
    """No catalog keeps text with NUL (PostgreSQL refuses it): the fetch says so."""
    items = [item("a\x00b", BBOX, "2024-01-01T10:00:00Z", _bands(assets.url + "/band.tif"))]
    with JunkStac("items", items) as api:
        res = cli("stac", "fetch", "plant", "--url", api.url)
    assert res.code == 2 and "NUL character" in one_error_line(res)


def test_colliding_and_path_like_ids_get_distinct_safe_files(
        cli: Callable[..., Result], assets: AssetServer) -> None:
    items = [item(i, BBOX, f"2024-01-{n + 1:02d}T10:00:00Z", _bands(assets.url + "/band.tif"))
             for n, i in enumerate(COLLIDING)]
    with JunkStac("items", items) as api:
        res = cli("stac", "fetch", "plant", "--url", api.url, "--json")
    assert res.code == 0, res.err
    out = json.loads(res.out)
    assert [o["status"] for o in out] == ["imported"] * len(COLLIDING)
    paths = [Path(o["path"]) for o in out]
    home = Path(os.environ["SITEWATCH_HOME"]).resolve()
    assert len(set(paths)) == len(COLLIDING)  # no scene's pixels overwritten by another's
    for p in paths:
        assert p.resolve().parent == home / "stac" / "site1" / "sentinel-2-l2a"
        assert p.is_file() and "\x00" not in p.name and "/" not in p.name
    scenes = json.loads(cli("scenes", "list", "plant", "--json").out)
    assert sorted(s["path"] for s in scenes) == sorted(map(str, paths))
    names = [_safe(i) for i in COLLIDING]
    assert len(set(names)) == len(names) and all(n and not n.startswith(".") for n in names)


def test_hostile_asset_hrefs_are_refused_and_nothing_is_read(
        cli: Callable[..., Result], assets: AssetServer, tmp_path: Path) -> None:
    other = f"http://localhost:{assets.port}/band.tif"  # a host the API did not name
    local = tmp_path / "assets" / "band.tif"
    hostile = {"file": "file:///etc/passwd", "metadata": "http://169.254.169.254/latest/x.tif",
               "vsi": f"/vsicurl/{assets.url}/band.tif", "path": str(local),
               "relative": "../../band.tif", "other-host": other, "ftp": "ftp://x/band.tif"}
    items = [item(f"hostile-{k}", BBOX, f"2024-02-{n + 1:02d}T10:00:00Z", _bands(h))
             for n, (k, h) in enumerate(hostile.items())]
    assets.reset()
    with JunkStac("items", items) as api:
        res = cli("stac", "fetch", "plant", "--url", api.url)
    assert res.code == 2 and "Traceback" not in res.err
    lines = [ln for ln in res.err.splitlines() if ln.strip()
             and not ln.startswith(("workspace:", "fetching"))]  # progress lines off a tty
    fails = [ln for ln in lines if ln.startswith("failed hostile-")]
    assert len(fails) == len(hostile) and all("refused" in ln for ln in fails)
    assert lines[-1].startswith("sitewatch: error: no item could be loaded")
    assert len(lines) == len(hostile) + 1
    assert assets.bytes_sent == 0  # GDAL read none of them
    _nothing_written(cli)


def test_asset_hosts_and_local_files_on_request(cli: Callable[..., Result],
                                                assets: AssetServer, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    other = item("other-host", BBOX, "2024-03-01T10:00:00Z",
                 _bands(f"http://localhost:{assets.port}/band.tif"))
    local = item("local-file", BBOX, "2024-03-02T10:00:00Z",
                 _bands(str(tmp_path / "assets" / "band.tif")))
    monkeypatch.setenv("SITEWATCH_STAC_ASSET_HOSTS", "localhost")
    with JunkStac("items", [other, local]) as api:
        res = cli("stac", "fetch", "plant", "--url", api.url)
        assert res.code == 0 and "1 imported" in res.out, res.err
        assert "failed local-file" in res.err and "SITEWATCH_STAC_ALLOW_LOCAL" in res.err
        monkeypatch.setenv("SITEWATCH_STAC_ALLOW_LOCAL", "1")
        res = cli("stac", "fetch", "plant", "--url", api.url)
    assert res.code == 0 and "1 imported, 1 already known" in res.out, res.err
    monkeypatch.setenv("SITEWATCH_STAC_ALLOW_LOCAL", "maybe")
    with pytest.raises(ConfigError, match="SITEWATCH_STAC_ALLOW_LOCAL"):
        stac_allow_local()
