"""Sentinel-2 as it really comes: a folder of single-band files is ONE multi-band scene.

On the real data: the OSCD city folders (``*_Bxx.tif`` at 10/20/60 m, dates in dates.txt),
the Sentinel-2 L2A chip folders (``B02.tif ... B08.tif``, date in the GDAL tags) and the
8-band L1C export (``S2B_L1C_20181013_Bxx.tif``). Synthetic folders for the SAFE layout
with its metadata files and for each kind of bad folder.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine
from conftest import Result, one_error_line
from pyproj import Transformer

import sitewatch
from sitewatch.imagery.s2folder import S2_BANDS, read_band_folder

OSCD = "oscd/images"
CITY = "bercy"  # the smallest OSCD city: 360 x 395 px at 10 m
CHIPS = "georef-rasters/sentinel2-cloudcover-chips/train_features"
L1C = "georef-rasters/sentinel2-l1c-20181013"
ESA_ORDER = list(S2_BANDS.values())


def _scenes(cli: Callable[..., Result], site: str) -> list[dict]:
    res = cli("scenes", "list", site, "--json")
    assert res.code == 0, res.err
    return list(json.loads(res.out))


def _imports(home: Path) -> list[Path]:
    return sorted(p for p in (home / "imports").rglob("*") if p.is_file()) \
        if (home / "imports").exists() else []


# --- real data -----------------------------------------------------------------------------
def test_oscd_city_is_two_scenes_with_their_dates(cli: Callable[..., Result], samples: Path,
                                                  workspace: Path) -> None:
    city = samples / OSCD / CITY
    assert cli("sites", "add", "bercy", "--lat", "48.8436", "--lon", "2.3800",
               "--radius-m", "600").code == 0
    res = cli("scenes", "import", "bercy", city)  # a folder of band folders (and previews)
    assert res.code == 0, res.err
    assert "imported 2 scenes" in res.out
    scenes = _scenes(cli, "bercy")
    assert [s["date"] for s in scenes] == ["2016-11-30", "2017-08-29"]  # dates.txt, names
    for s, year in zip(scenes, ("2016", "2017"), strict=True):
        assert s["bands"] == ESA_ORDER
        assert s["credit"] == f"Contains modified Copernicus Sentinel data {year}"
        assert s["provider"] == "ESA Copernicus Sentinel-2"
        assert s["crs"] == "EPSG:4326"
        with rasterio.open(s["path"]) as ds, \
                rasterio.open(next((city / "imgs_1").glob("*_B02.tif"))) as b02:
            assert ds.driver == "VRT" and ds.count == 13
            assert (ds.width, ds.height) == (b02.width, b02.height) == (360, 395)
            assert ds.transform == b02.transform
    # the VRT points at the band files: nothing was copied
    assert sum(p.stat().st_size for p in _imports(workspace)) < 40_000
    with sitewatch.open_workspace(workspace) as ws:
        first, second = ws.scenes(ws.site("bercy").id)
    p = first.props
    assert p["tile"] == "31UDQ" and p["platform"] == "Sentinel-2A" and p["level"] == "L1C"
    assert p["date_source"] == "bercy/dates.txt" and p["band_ids"][8] == "B8A"
    assert p["scale"] == pytest.approx(1e-4) and p["offset"] == 0.0  # baseline < 04.00
    assert p["source"] == str((city / "imgs_1").resolve())
    assert first.sha256 != second.sha256 and len(first.sha256) == 64
    assert second.props["date_source"] == "file names"
    # analyze compares the two dates (13 bands each), not one band with another
    with sitewatch.open_workspace(workspace) as ws:
        run = ws.analyze("bercy").run
    assert (run.before_scene_id, run.after_scene_id) == (first.id, second.id)
    # importing again finds both scenes (the digest of the band files)
    again = cli("scenes", "import", "bercy", city / "imgs_1", city / "imgs_2")
    assert again.code == 0 and "imported 0 scenes" in again.out
    assert "2 already in the catalog" in again.out


def test_resampled_bands_match_their_files(samples: Path, tmp_path: Path) -> None:
    """20 m and 60 m bands on the 10 m grid keep their values (bilinear on read)."""
    folder = read_band_folder(samples / OSCD / CITY / "imgs_2")
    vrt = tmp_path / "s.vrt"
    vrt.write_text(folder.vrt_xml())
    with rasterio.open(vrt) as ds:
        stack = ds.read()
    for bid in ("B05", "B01", "B02"):
        band = next(b for b in folder.bands if b.band_id == bid)
        with rasterio.open(band.path) as src:
            raw = src.read(1).astype(np.float64)
        got = stack[list(folder.band_ids).index(bid)].astype(np.float64)
        assert abs(got.mean() - raw.mean()) / raw.mean() < 0.01, bid
        # one source pixel well inside: the 10 m pixels under its centre agree with it
        r, c = raw.shape[0] // 2, raw.shape[1] // 2
        k = round(band.transform.a / folder.reference.transform.a)
        centre = got[r * k + k // 2, c * k + k // 2]
        assert abs(centre - raw[r, c]) <= 0.2 * raw[r, c] + 1, bid
    assert np.array_equal(stack[1], rasterio.open(folder.reference.path).read(1))


def test_detect_on_two_oscd_band_folders_writes_the_10m_mask(
        cli: Callable[..., Result], samples: Path, tmp_path: Path) -> None:
    city = samples / OSCD / CITY
    out, gj = tmp_path / "mask.tif", tmp_path / "change.geojson"
    res = cli("detect", city / "imgs_1", city / "imgs_2", "--out", out, "--geojson", gj)
    assert res.code == 0, res.err
    with rasterio.open(out) as m, rasterio.open(next((city / "imgs_1").glob("*_B02.tif"))) as b:
        assert (m.width, m.height, m.count, m.dtypes[0]) == (b.width, b.height, 1, "uint8")
        assert m.transform == b.transform and m.crs == b.crs and m.nodata == 255
        mask = m.read(1)
    assert set(np.unique(mask)) <= {0, 1, 255} and (mask == 1).any() and (mask == 0).any()
    assert json.loads(gj.read_text())["type"] == "FeatureCollection"


def test_chip_folders_and_the_l1c_export_import_as_one_scene_each(
        cli: Callable[..., Result], samples: Path, tmp_path: Path) -> None:
    aoi = tmp_path / "wide.geojson"
    aoi.write_text(json.dumps({"type": "Polygon", "coordinates": [[
        [32.14, -2.57], [32.89, -2.57], [32.89, -2.52], [32.14, -2.52], [32.14, -2.57]]]}))
    assert cli("sites", "add", "chifunfu", "--geojson", aoi).code == 0
    res = cli("scenes", "import", "chifunfu", samples / CHIPS)
    assert res.code == 0, res.err
    scenes = _scenes(cli, "chifunfu")
    assert len(scenes) == 2 and {s["date"] for s in scenes} == {"2020-04-29"}  # GDAL tags
    assert all(s["bands"] == ["blue", "green", "red", "nir"] for s in scenes)
    assert all(s["credit"] == "Contains modified Copernicus Sentinel data 2020" for s in scenes)
    assert all(s["gsd_m"] == pytest.approx(10.0) for s in scenes)
    # the 8-band L1C export, one folder given: one scene, its date and satellite in the names
    assert cli("sites", "add", "nc", "--lat", "34.65", "--lon", "-76.6", "--radius-m",
               "2000").code == 0
    one = cli("scenes", "import", "nc", samples / L1C)
    assert one.code == 0, one.err
    assert "2018-10-13" in one.out and "2629x2201" in one.out
    [s] = _scenes(cli, "nc")
    assert s["bands"] == ESA_ORDER[:8]
    assert s["credit"] == "Contains modified Copernicus Sentinel data 2018"
    with sitewatch.open_workspace() as ws:
        props = ws.scene(s["id"]).props
    assert props["platform"] == "Sentinel-2B" and props["level"] == "L1C"
    assert "scale" not in props  # 8-bit stretched numbers are not reflectance


# --- synthetic folders ---------------------------------------------------------------------
UTM = "EPSG:32633"
X0, Y0 = 500_000.0, 5_500_000.0


def _centre() -> tuple[str, str]:
    lon, lat = Transformer.from_crs(UTM, "EPSG:4326", always_xy=True).transform(X0 + 200,
                                                                                 Y0 - 200)
    return f"{lat:.6f}", f"{lon:.6f}"


def _band(path: Path, res: float = 10.0, size: int = 40, crs: str = UTM, value: int = 1200,
          tags: dict[str, str] | None = None, x0: float = X0) -> Path:
    n = max(1, round(size * 10.0 / res))
    data = (np.arange(n * n, dtype=np.uint16).reshape(n, n) % 50 + value)[None]
    path.parent.mkdir(parents=True, exist_ok=True)
    jp2 = path.suffix == ".jp2"  # as the SAFE products ship them
    with rasterio.open(path, "w", driver="JP2OpenJPEG" if jp2 else "GTiff", width=n, height=n,
                       count=1, dtype="uint16", crs=crs,
                       transform=Affine(res, 0, x0, 0, -res, Y0), nodata=None if jp2 else 0
                       ) as ds:
        ds.write(data)
        if tags:
            ds.update_tags(**tags)
    return path


def _folder(root: Path, prefix: str = "T33UXQ_20230601T100559_",
            bands: tuple[str, ...] = ("B02", "B03", "B04", "B08", "B05", "B11", "B01")) -> Path:
    for b in bands:
        res = 60.0 if b in ("B01", "B09", "B10") else 20.0 if b in ("B05", "B11", "B8A") else 10.0
        _band(root / f"{prefix}{b}.tif", res)
    return root


@pytest.fixture
def s2_site(cli: Callable[..., Result]) -> str:
    lat, lon = _centre()
    assert cli("sites", "add", "synthetic", "--lat", lat, "--lon", lon,
               "--radius-m", "150").code == 0
    return "synthetic"


def test_safe_granule_with_metadata_files(cli: Callable[..., Result], s2_site: str,
                                          tmp_path: Path) -> None:
    """SAFE L2A: bands in R10m/R20m/R60m (the finest copy used), date, tile and baseline from
    MTD_TL.xml and MTD_MSIL2A.xml, baseline 05.09 -> offset -1000 counts (-0.1)."""
    safe = tmp_path / "S2B_MSIL2A_20230601T100559_N0509_R022_T33UXQ_20230601T130000.SAFE"
    img = safe / "GRANULE" / "L2A_T33UXQ_A032500_20230601T100559" / "IMG_DATA"
    stem = "T33UXQ_20230601T100559"
    for b, res in (("B02", 10), ("B03", 10), ("B04", 10), ("B08", 10), ("B02", 20),
                   ("B05", 20), ("B8A", 20), ("B01", 60), ("B02", 60)):
        _band(img / f"R{res}m" / f"{stem}_{b}_{res}m.{'jp2' if b == 'B05' else 'tif'}",
              float(res))
    (img / "R10m" / f"{stem}_TCI_10m.tif").write_bytes(b"")  # not a band: ignored
    (img.parent / "MTD_TL.xml").write_text(
        "<n1:Level-2A_Tile_ID xmlns:n1='x'><General_Info>"
        "<TILE_ID>S2B_OPER_MSI_L2A_TL_2BPS_20230601T130000_A032500_T33UXQ_N05.09</TILE_ID>"
        "<SENSING_TIME>2023-06-01T10:12:34.024Z</SENSING_TIME></General_Info>"
        "</n1:Level-2A_Tile_ID>")
    (safe / "MTD_MSIL2A.xml").write_text(
        "<n1:Level-2A_User_Product xmlns:n1='x'><General_Info><Product_Info>"
        "<PRODUCT_START_TIME>2023-06-01T10:05:59.024Z</PRODUCT_START_TIME>"
        "<PROCESSING_LEVEL>Level-2A</PROCESSING_LEVEL>"
        "<PROCESSING_BASELINE>05.09</PROCESSING_BASELINE>"
        "<Datatake><SPACECRAFT_NAME>Sentinel-2B</SPACECRAFT_NAME></Datatake></Product_Info>"
        "<Product_Image_Characteristics><QUANTIFICATION_VALUES_LIST>"
        "<BOA_QUANTIFICATION_VALUE unit='none'>10000</BOA_QUANTIFICATION_VALUE>"
        "</QUANTIFICATION_VALUES_LIST><BOA_ADD_OFFSET_VALUES_LIST>"
        "<BOA_ADD_OFFSET band_id='0'>-1000</BOA_ADD_OFFSET></BOA_ADD_OFFSET_VALUES_LIST>"
        "</Product_Image_Characteristics></General_Info></n1:Level-2A_User_Product>")
    res = cli("scenes", "import", s2_site, safe)
    assert res.code == 0, res.err
    [s] = _scenes(cli, s2_site)
    assert s["date"] == "2023-06-01"
    with rasterio.open(s["path"]) as ds:  # the 10 m copy of B02 sets the grid
        assert (ds.width, ds.height, ds.res) == (40, 40, (10.0, 10.0))
    assert s["bands"] == ["coastal", "blue", "green", "red", "rededge1", "nir", "nir08"]
    with sitewatch.open_workspace() as ws:
        p = ws.scene(s["id"]).props
    assert p["band_files"][1].endswith("_B02_10m.tif")
    assert p["band_files"][4].endswith("_B05_20m.jp2")
    with rasterio.open(s["path"]) as ds:
        b05 = ds.read(5)
    assert b05.min() >= 1200 and b05.max() <= 1249  # the JPEG 2000 band, on the 10 m grid
    assert p["platform"] == "Sentinel-2B" and p["tile"] == "33UXQ" and p["level"] == "L2A"
    assert p["processing_baseline"] == "05.09" and p["date_source"] == "MTD_TL.xml"
    assert p["acquired_utc"].startswith("2023-06-01T10:12:34")
    assert p["scale"] == pytest.approx(1e-4) and p["offset"] == pytest.approx(-0.1)


def test_baseline_from_a_tile_name_sets_the_offset(tmp_path: Path) -> None:
    new = _folder(tmp_path / "S2A_MSIL1C_20230601T100559_N0400_R022_T33UXQ_20230601T120000.SAFE")
    old = _folder(tmp_path / "old", "T33UXQ_20210601T100559_")
    later = _folder(tmp_path / "later", "T33UXQ_20230601T100559_")
    assert read_band_folder(new).offset == pytest.approx(-0.1)
    assert read_band_folder(new).baseline == "04.00"
    assert read_band_folder(old).offset == 0.0  # before 2022-01-25, baseline unknown
    assert read_band_folder(later).offset == pytest.approx(-0.1)
    assert "baseline unknown" in read_band_folder(later).notes[0]


def test_earth_search_asset_names(cli: Callable[..., Result], s2_site: str,
                                  tmp_path: Path) -> None:
    item = tmp_path / "S2B_33UXQ_20230715_0_L2A"
    for name, res in (("blue", 10), ("green", 10), ("red", 10), ("nir", 10), ("swir16", 20),
                      ("rededge1", 20)):
        _band(item / f"{name}.tif", float(res))
    res = cli("scenes", "import", s2_site, item)
    assert res.code == 0, res.err
    [s] = _scenes(cli, s2_site)
    assert s["date"] == "2023-07-15"
    assert s["bands"] == ["blue", "green", "red", "rededge1", "nir", "swir16"]
    with sitewatch.open_workspace() as ws:
        p = ws.scene(s["id"]).props
    assert p["platform"] == "Sentinel-2B" and p["tile"] == "33UXQ"


def _bad(tmp_path: Path, case: str) -> Path:
    root = tmp_path / case
    if case == "two-dates":
        _folder(root)
        _band(root / "T33UXQ_20230611T100559_B03.tif")
        (root / "T33UXQ_20230601T100559_B03.tif").unlink()
    elif case == "two-tiles":
        _folder(root)
        (root / "T33UXQ_20230601T100559_B04.tif").rename(root / "T33UXR_20230601T100559_B04.tif")
    elif case == "two-sensors":
        _folder(root, "S2A_OPER_MSI_L1C_TL_2APS_20230601T120000_A041000_T33UXQ_")
        (root / "S2A_OPER_MSI_L1C_TL_2APS_20230601T120000_A041000_T33UXQ_B08.tif").rename(
            root / "S2B_OPER_MSI_L1C_TL_2BPS_20230601T120000_A041000_T33UXQ_B08.tif")
    elif case == "landsat":
        _folder(root)
        _band(root / "LC08_L2SP_190026_20230601_20230607_02_T1_SR_B5.TIF", 30.0)
    elif case == "missing":
        _folder(root, bands=("B02", "B03", "B04", "B05"))
    elif case == "size":
        _folder(root)
        _band(root / "T33UXQ_20230601T100559_B03.tif", 10.0, size=30)
    elif case == "crs":
        _folder(root)
        _band(root / "T33UXQ_20230601T100559_B11.tif", 20.0, crs="EPSG:32632")
    return root


BAD = {"two-dates": "mixes two acquisitions (2023-06-01 in T33UXQ_20230601T100559_B01.tif, "
                    "2023-06-11 in T33UXQ_20230611T100559_B03.tif)",
       "two-tiles": "mixes two tiles (33UXQ in",
       "two-sensors": "mixes two sensors (A in",
       "landsat": "mixes two sensors: LC08_L2SP_190026_20230601_20230607_02_T1_SR_B5.TIF is "
                  "Landsat 8",
       "missing": "lacks bands B08 (nir) (found: B02, B03, B04, B05)",
       "size": "band B03 is 30x30 px",
       "crs": "band B11 is in EPSG:32632 but B02"}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_folder_is_refused_in_one_line(cli: Callable[..., Result], s2_site: str,
                                             tmp_path: Path, workspace: Path, case: str) -> None:
    folder = _bad(tmp_path, case)
    res = cli("scenes", "import", s2_site, folder)
    line = one_error_line(res)
    assert BAD[case] in line and str(folder) in line, line
    assert _scenes(cli, s2_site) == [] and _imports(workspace) == []
    good = _folder(tmp_path / "good")
    out = tmp_path / "mask.tif"
    line = one_error_line(cli("detect", good, folder, "--out", out))
    assert BAD[case] in line
    assert not out.exists() and not list(tmp_path.glob(".mask.tif*"))


def test_a_folder_outside_the_site_leaves_no_vrt(cli: Callable[..., Result], samples: Path,
                                                 s2_site: str, workspace: Path) -> None:
    line = one_error_line(cli("scenes", "import", s2_site, samples / OSCD / CITY / "imgs_1"))
    assert "does not touch site" in line
    assert _imports(workspace) == []


def test_stac_items_from_another_api_are_credited_to_it(
        cli: Callable[..., Result], samples: Path, tmp_path: Path) -> None:
    from support.localstac import AssetServer, RustacServer, build_s2_collection, free_port

    port = free_port()
    col, items, _ = build_s2_collection(samples, tmp_path / "stac", f"http://127.0.0.1:{port}",
                                        extra_dates=0)
    assert cli("sites", "add", "clear", "--lat", "-2.536886", "--lon", "32.844513",
               "--radius-m", "300").code == 0
    with AssetServer(tmp_path / "stac" / "assets", port), RustacServer([col, items]) as api:
        res = cli("stac", "fetch", "clear", "--url", api.url)
    assert res.code == 0, res.err
    [s] = _scenes(cli, "clear")
    assert s["credit"] == f"Contains modified Copernicus Sentinel data 2020; via the STAC API " \
                          f"at {api.url}"
    assert api.url in s["provider"] and "Element 84" not in s["provider"] + s["credit"]


def test_a_folder_of_band_folders_imports_the_good_and_names_the_bad(
        cli: Callable[..., Result], s2_site: str, tmp_path: Path) -> None:
    _folder(tmp_path / "all" / "2023-06-01")
    _bad(tmp_path / "all", "missing")
    _bad(tmp_path / "all", "two-dates")
    res = cli("scenes", "import", s2_site, tmp_path / "all")
    assert res.code == 0, res.err
    assert "imported 1 scenes" in res.out and "2 skipped" in res.out
    assert "1 bands missing" in res.out and "1 mixed acquisitions or sensors" in res.out
    assert f"skipped {tmp_path / 'all' / 'missing'}" in res.err
    [s] = _scenes(cli, s2_site)
    assert s["date"] == "2023-06-01" and len(s["bands"]) == 7
