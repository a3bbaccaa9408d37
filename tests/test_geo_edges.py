"""Sites across the antimeridian and at the poles: circles built in the azimuthal projection
of their centre and split at 180 degrees (RFC 7946), polar caps closed along the pole; their
areas, their centres, the grid they get, and scenes imported and analysed over them."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import rasterio
from conftest import Result, one_error_line
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Transformer
from rasterio.transform import from_origin
from shapely.geometry import Point, box, shape

from sitewatch.geo.antimeridian import footprint_wgs84, lonlat_centre, split_lonlat
from sitewatch.geo.aoi import aoi_from_point, to_crs
from sitewatch.geo.area import area_perimeter_m
from sitewatch.geo.grid import site_grid

AM_LON, AM_LAT = 179.999, 51.4  # a 5 km site on the antimeridian (Amchitka, Aleutians)


def _close(area: float, radius_m: float, tol: float = 0.01) -> bool:
    return abs(area / (math.pi * radius_m**2) - 1.0) < tol


def test_antimeridian_site_is_split_not_a_band_around_the_globe() -> None:
    aoi = aoi_from_point(AM_LON, AM_LAT, 5000)
    assert aoi.geom_type == "MultiPolygon" and aoi.is_valid
    assert _close(area_perimeter_m(aoi)[0], 5000)
    assert aoi.contains(Point(AM_LON, AM_LAT))
    assert not aoi.contains(Point(0.0, AM_LAT))  # the old band around the globe did
    east, west = sorted(aoi.geoms, key=lambda p: p.bounds[0])
    assert east.bounds[0] > -180.0 - 1e-9 and east.bounds[2] < -179.9
    assert west.bounds[0] > 179.9 and west.bounds[2] == pytest.approx(180.0)
    grid = site_grid(aoi, 10.0)
    assert grid.crs == "EPSG:32660" and 1000 <= grid.width <= 1010  # 10 km across, not 40000
    lon, lat = lonlat_centre(aoi)
    assert abs(((lon - AM_LON + 180.0) % 360.0) - 180.0) < 1e-3 and lat == pytest.approx(AM_LAT)


@pytest.mark.parametrize("lat", [89.99, -89.99])
def test_polar_site_contains_its_centre_and_the_pole(lat: float) -> None:
    aoi = aoi_from_point(30.0, lat, 5000)
    assert aoi.is_valid and _close(area_perimeter_m(aoi)[0], 5000)
    assert aoi.contains(Point(30.0, lat))
    assert aoi.covers(Point(0.0, math.copysign(90.0, lat)))  # 1.1 km from the pole
    grid = site_grid(aoi, 10.0)
    assert grid.crs == ("EPSG:32661" if lat > 0 else "EPSG:32761")
    assert max(grid.width, grid.height) <= 1010
    # rasterised in the grid's CRS, the cap is a disc of the right area
    local = to_crs(aoi, "EPSG:4326", grid.crs)
    assert local.is_valid and _close(local.area, 5000, tol=0.02)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(lon=st.floats(-180.0, 180.0), lat=st.floats(-89.999, 89.999),
       radius=st.floats(50.0, 200_000.0))
def test_any_circle_contains_its_centre_and_has_its_area(lon: float, lat: float,
                                                         radius: float) -> None:
    aoi = aoi_from_point(lon, lat, radius)
    assert aoi.is_valid
    w, s, e, n = aoi.bounds
    assert w >= -180.0 and e <= 180.0 and s >= -90.0 and n <= 90.0
    # covers: a centre on the 180 degree seam lies on the boundary between the two parts
    assert aoi.covers(Point(lon, lat))
    assert _close(area_perimeter_m(aoi)[0], radius)


def test_geojson_across_the_antimeridian_is_split(cli: Callable[..., Result],
                                                  tmp_path: Path) -> None:
    ring = [[179.95, 51.38], [180.05, 51.38], [180.05, 51.42], [179.95, 51.42], [179.95, 51.38]]
    beyond = tmp_path / "beyond.geojson"
    beyond.write_text(json.dumps({"type": "Polygon", "coordinates": [ring]}))
    jump = tmp_path / "jump.geojson"  # the same square written with a jump at 180
    jump.write_text(json.dumps({"type": "Polygon", "coordinates": [[
        [179.95, 51.38], [-179.95, 51.38], [-179.95, 51.42], [179.95, 51.42],
        [179.95, 51.38]]]}))
    rfc = tmp_path / "rfc7946.geojson"  # already split, as RFC 7946 asks
    rfc.write_text(json.dumps({"type": "MultiPolygon", "coordinates": [
        [[[179.95, 51.38], [180, 51.38], [180, 51.42], [179.95, 51.42], [179.95, 51.38]]],
        [[[-180, 51.38], [-179.95, 51.38], [-179.95, 51.42], [-180, 51.42],
          [-180, 51.38]]]]}))
    areas = []
    for name, path in (("beyond", beyond), ("jump", jump), ("rfc", rfc)):
        res = cli("sites", "add", name, "--geojson", path)
        assert res.code == 0, res.err
        site = next(s for s in json.loads(cli("sites", "list", "--json").out)
                    if s["name"] == name)
        g = shape(site["aoi"])
        w, _, e, _ = g.bounds
        assert g.geom_type == "MultiPolygon" and w >= -180.0 and e <= 180.0
        assert g.contains(Point(-179.99, 51.4)) and g.contains(Point(179.99, 51.4))
        assert not g.contains(Point(0.0, 51.4))
        areas.append(area_perimeter_m(g)[0])
    assert areas[0] == pytest.approx(areas[1], rel=1e-6) == pytest.approx(areas[2], rel=1e-6)
    assert areas[0] == pytest.approx(0.1 / 360 * 2 * math.pi * 6.378e6 * math.cos(
        math.radians(51.4)) * 0.04 / 360 * 2 * math.pi * 6.37e6, rel=0.01)
    far = tmp_path / "far.geojson"
    far.write_text(json.dumps({"type": "Polygon", "coordinates": [[
        [1000, 1], [1001, 1], [1001, 2], [1000, 1]]]}))
    assert "outside lon/lat range" in one_error_line(cli("sites", "add", "far",
                                                          "--geojson", far))


def test_split_lonlat_leaves_ordinary_shapes_alone() -> None:
    sq = box(10.0, 50.0, 10.1, 50.1)
    assert split_lonlat(sq) is sq
    x, y = Transformer.from_crs("EPSG:4326", "EPSG:32660", always_xy=True).transform(
        AM_LON, AM_LAT)
    fp = footprint_wgs84((x - 5000, y - 5000, x + 5000, y + 5000), "EPSG:32660")
    assert fp.geom_type == "MultiPolygon"  # a UTM 60 scene over 180 degrees
    assert fp.contains(Point(AM_LON, AM_LAT)) and not fp.contains(Point(0.0, AM_LAT))
    assert area_perimeter_m(fp)[0] == pytest.approx(1e8, rel=0.01)


def _scene(path: Path, grow: bool) -> None:
    """A 3-band uint16 GeoTIFF in UTM zone 60 (EPSG:32660), 12 km square at 20 m, centred
    on the antimeridian site; ``grow`` adds a bright 400 m block across 180 degrees."""
    x, y = Transformer.from_crs("EPSG:4326", "EPSG:32660", always_xy=True).transform(
        AM_LON, AM_LAT)
    res, n = 20.0, 600
    rng = np.random.default_rng(7)
    base = (rng.normal(1200, 40, (n, n))).clip(0, 4000)
    data = np.stack([base, base * 1.1, base * 0.9]).astype(np.uint16)
    if grow:
        data[:, 260:280, 295:315] = 3800  # across 180 degrees (70 m east of the centre)
    with rasterio.open(path, "w", driver="GTiff", width=n, height=n, count=3,
                       dtype="uint16", crs="EPSG:32660",
                       transform=from_origin(x - n * res / 2, y + n * res / 2, res, res)) as ds:
        ds.write(data)


@pytest.mark.slow
def test_scene_at_the_antimeridian_is_imported_and_analysed(cli: Callable[..., Result],
                                                            tmp_path: Path) -> None:
    res = cli("sites", "add", "amchitka", "--lat", AM_LAT, "--lon", AM_LON,
              "--radius-m", "5000")
    assert res.code == 0, res.err
    for day, grow in (("2023-06-01", False), ("2024-06-01", True)):
        tif = tmp_path / f"{day}.tif"
        _scene(tif, grow)
        res = cli("scenes", "import", "amchitka", tif, "--date", day, "--provider", "Test")
        assert res.code == 0, res.err  # was: refused as outside the site
    res = cli("analyze", "amchitka", "--json")
    assert res.code == 0, res.err
    run = json.loads(res.out)
    assert run["parameters"]["grid"]["crs"] == "EPSG:32660"
    assert run["parameters"]["grid"]["width"] <= 510  # 10 km at 20 m, not a world band
    [det] = run["detections"]  # the 400 m block, across 180 degrees: split in two
    assert det["area_m2"] == pytest.approx(160_000, rel=0.15)
    assert det["area_uncertainty_m2"] < 0.25 * det["area_m2"]  # the seam is no boundary
    poly = shape(det["polygon"])
    assert poly.geom_type == "MultiPolygon" and poly.bounds[2] - poly.bounds[0] > 359
    assert abs(abs(det["centroid_lon"]) - 180.0) < 0.005 and det["centroid_lat"] > AM_LAT
    report = tmp_path / "amchitka.html"
    assert cli("report", "amchitka", "--out", report).code == 0
    gj = tmp_path / "amchitka.geojson"
    res = cli("export", "amchitka", "--format", "geojson", "--out", gj)
    assert res.code == 0, res.err
    [feat] = json.loads(gj.read_text())["features"]
    assert shape(feat["geometry"]).equals(poly)


def test_stac_search_over_the_antimeridian_asks_for_both_sides(
        cli: Callable[..., Result]) -> None:
    from support.junkstac import JunkStac, item

    assert cli("sites", "add", "amchitka", "--lat", AM_LAT, "--lon", AM_LON).code == 0
    east = item("S2_east", (-180.0, 51.3, -179.9, 51.5), "2024-06-01T00:00:00Z",
                {"red": "http://127.0.0.1/red.tif"})
    with JunkStac("items", [east]) as api:
        res = cli("stac", "search", "amchitka", "--url", api.url, "--json")
    assert res.code == 0, res.err
    [body] = api.bodies
    asked = shape(body["intersects"])  # RFC 7946: two parts, never a band round the globe
    assert asked.geom_type == "MultiPolygon" and len(asked.geoms) == 2
    assert asked.intersects(box(-180.0, 51.3, -179.9, 51.5))
    assert asked.intersects(box(179.9, 51.3, 180.0, 51.5))
    assert not asked.intersects(box(-10.0, 51.3, 10.0, 51.5))
    assert [i["id"] for i in json.loads(res.out)] == ["S2_east"]
