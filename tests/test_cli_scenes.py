import json
import shutil

import numpy as np
import pytest
import rasterio
from conftest import LEVIR_BOUNDS, LEVIR_TILE, one_error_line

PNG_A = f"levir-cd/tiles256/A/{LEVIR_TILE}.png"


def _scenes(cli, site):
    return json.loads(cli("scenes", "list", site, "--json").out)


def test_import_geotiff_keeps_provenance(cli, pr_site, samples):
    scenes = _scenes(cli, pr_site)
    assert [s["date"] for s in scenes] == ["2017-09-01", "2017-10"]
    assert scenes[1]["date_precision"] == "month"
    assert scenes[0]["crs"] == "EPSG:32619" and abs(scenes[0]["gsd_m"] - 0.305) < 0.01
    assert scenes[0]["credit"] == "Maxar Open Data" and scenes[0]["licence"] == "CC BY-NC 4.0"
    assert len(scenes[0]["sha256"]) == 64 and scenes[0]["georef"] == "file"
    assert "2017-09-01" in cli("scenes", "list", pr_site).out


def test_import_plain_png_with_bounds_and_year_only_dates(cli, levir_site):
    scenes = _scenes(cli, levir_site)
    assert [s["date"] for s in scenes] == ["2002/2013", "2007/2018"]
    assert scenes[0]["georef"] == "user" and scenes[0]["crs"] == "EPSG:4326"
    assert scenes[0]["bands"] == ["red", "green", "blue"]


def test_reimport_is_refused(cli, pr_site, samples):
    f = samples / "puerto-rico-maria/Pre_Event_Grids_In_TIFF/tile_0_107.tif"
    assert "already" in one_error_line(
        cli("scenes", "import", pr_site, f, "--date", "2017", "--provider", "Maxar"))
    assert len(_scenes(cli, pr_site)) == 2


@pytest.fixture
def austin(cli):
    assert cli("sites", "add", "austin", "--lat", "30.1609", "--lon", "-97.9987",
               "--radius-m", "70").code == 0
    return "austin"


def _import(cli, path, *extra, date="2010"):
    return cli("scenes", "import", "austin", path, "--date", date, "--provider", "Google Earth",
               *extra)


def test_plain_image_without_bounds(cli, austin, samples):
    assert "--bounds" in one_error_line(_import(cli, samples / PNG_A))


@pytest.mark.parametrize("bounds,needle", [
    (("-97.99", "30.16", "-98.0", "30.17"), "W < E"),
    (("-97.99", "30.17", "-97.98", "30.16"), "S < N"),
    (("-197.99", "30.16", "-97.98", "30.17"), "lon/lat range"),
    (("-97.99", "30.16", "-97.98", "95"), "lon/lat range"),
])
def test_bad_bounds(cli, austin, samples, bounds, needle):
    line = one_error_line(_import(cli, samples / PNG_A, "--bounds", *bounds))
    assert needle in line or "W < E and S < N" in line
    assert _scenes(cli, austin) == []


def test_scene_that_does_not_touch_the_site(cli, austin, samples):
    line = one_error_line(_import(cli, samples / PNG_A, "--bounds", "10", "50", "10.01", "50.01"))
    assert "does not touch" in line
    assert _scenes(cli, austin) == []


def test_georeferenced_scene_elsewhere(cli, austin, samples):
    f = samples / "puerto-rico-maria/Pre_Event_Grids_In_TIFF/tile_0_107.tif"
    assert "does not touch" in one_error_line(_import(cli, f))


def test_bad_date(cli, austin, samples):
    line = one_error_line(_import(cli, samples / PNG_A, "--bounds", *LEVIR_BOUNDS,
                                  date="last summer"))
    assert "does not parse" in line
    assert _scenes(cli, austin) == []


def test_unknown_site(cli, samples):
    assert "no site named" in one_error_line(
        cli("scenes", "import", "nowhere", samples / PNG_A, "--date", "2010", "--provider", "x"))


def test_missing_file(cli, austin, tmp_path):
    assert "does not exist" in one_error_line(_import(cli, tmp_path / "missing.tif"))


def test_empty_file(cli, austin, tmp_path):
    f = tmp_path / "empty.tif"
    f.write_bytes(b"")
    assert "empty" in one_error_line(_import(cli, f))


def test_not_an_image(cli, austin, tmp_path):
    f = tmp_path / "notes.png"
    f.write_text("these are field notes, not pixels\n" * 20)
    assert "not a readable image" in one_error_line(_import(cli, f))


def test_truncated_png(cli, austin, samples, tmp_path):
    data = (samples / PNG_A).read_bytes()
    f = tmp_path / "cut.png"
    f.write_bytes(data[: len(data) // 2])
    line = one_error_line(_import(cli, f, "--bounds", *LEVIR_BOUNDS))
    assert "truncated" in line or "not a readable image" in line
    assert _scenes(cli, austin) == []


def test_corrupt_png(cli, austin, samples, tmp_path):
    """Bytes flipped inside the image data, the file's length intact: a whole-image read
    of it returns zeros without an error, so the chunks' checksums must catch it."""
    data = bytearray((samples / PNG_A).read_bytes())
    mid = len(data) // 2
    data[mid:mid + 64] = bytes(b ^ 0x55 for b in data[mid:mid + 64])
    f = tmp_path / "flipped.png"
    f.write_bytes(bytes(data))
    line = one_error_line(_import(cli, f, "--bounds", *LEVIR_BOUNDS))
    assert "corrupt" in line and "checksum" in line and "flipped.png" in line
    assert _scenes(cli, austin) == []


def test_truncated_geotiff(cli, samples, tmp_path):
    assert cli("sites", "add", "pr", "--lat", "18.3286", "--lon", "-66.19225").code == 0
    src = samples / "puerto-rico-maria/Pre_Event_Grids_In_TIFF/tile_0_107.tif"
    f = tmp_path / "cut.tif"
    f.write_bytes(src.read_bytes()[:200_000])
    line = one_error_line(cli("scenes", "import", "pr", f, "--date", "2017", "--provider", "M"))
    assert "truncated" in line or "not a readable image" in line


def test_truncated_envi(cli, samples, tmp_path):
    d = samples / "landsat-taizhou-nanjing/Taizhou"
    shutil.copy(d / "2000TM.HDR", tmp_path / "cut.hdr")
    (tmp_path / "cut").write_bytes((d / "2000TM").read_bytes()[:100_000])
    assert cli("sites", "add", "taizhou", "--lat", "32.5", "--lon", "119.9",
               "--radius-m", "20000").code == 0
    line = one_error_line(cli("scenes", "import", "taizhou", tmp_path / "cut", "--date", "2000",
                              "--provider", "Landsat"))
    assert "truncated" in line or "not a readable image" in line


def test_image_bomb(cli, austin, tmp_path):
    f = tmp_path / "bomb.tif"
    with rasterio.open(f, "w", driver="GTiff", width=120_000, height=120_000, count=1,
                       dtype="uint8", tiled=True, sparse_ok=True, compress="DEFLATE") as ds:
        ds.write(np.ones((1, 16, 16), np.uint8), window=((0, 16), (0, 16)))
    assert f.stat().st_size < 5_000_000
    assert "limit" in one_error_line(_import(cli, f, "--bounds", *LEVIR_BOUNDS))


def test_envi_import_names_bands(cli, samples):
    assert cli("sites", "add", "taizhou", "--lat", "32.5", "--lon", "119.9",
               "--radius-m", "20000").code == 0
    res = cli("scenes", "import", "taizhou", samples / "landsat-taizhou-nanjing/Taizhou/2000TM",
              "--date", "2000", "--provider", "Landsat 7")
    assert res.code == 0, res.err
    (scene,) = _scenes(cli, "taizhou")
    assert scene["bands"][:4] == ["blue", "green", "red", "nir"] and scene["gsd_m"] == 30.0
