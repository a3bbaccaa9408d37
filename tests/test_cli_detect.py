import json

import numpy as np
import rasterio
from conftest import LEVIR_TILE, one_error_line


def test_detect_levir_tiles_writes_the_contract_mask(cli, samples, tmp_path):
    a = samples / "levir-cd/tiles256/A" / f"{LEVIR_TILE}.png"
    b = samples / "levir-cd/tiles256/B" / f"{LEVIR_TILE}.png"
    out, gj = tmp_path / "m.tif", tmp_path / "m.geojson"
    res = cli("detect", a, b, "--out", out, "--geojson", gj, "--gsd", "0.5")
    assert res.code == 0, res.err
    with rasterio.open(out) as ds:
        assert (ds.count, ds.dtypes[0], ds.nodata, ds.width, ds.height) == (1, "uint8", 255,
                                                                             256, 256)
        m = ds.read(1)
    assert set(np.unique(m)) <= {0, 1, 255} and (m == 1).any()
    fc = json.loads(gj.read_text())
    assert fc["features"] and all(f["properties"]["area_m2"] > 0 for f in fc["features"])
    # areas of plain images come from --gsd: pixels x 0.25 m2
    f0 = fc["features"][0]["properties"]
    assert abs(f0["area_m2"] - f0["pixels"] * 0.25) < 0.1


def test_detect_without_polygons_counts_and_gives_the_same_objects(cli, samples, tmp_path):
    """A mask alone is not vectorised, yet the summary counts the objects that --geojson
    writes, and the API still gives them (traced on first use)."""
    import sitewatch

    a = samples / "levir-cd/tiles256/A" / f"{LEVIR_TILE}.png"
    b = samples / "levir-cd/tiles256/B" / f"{LEVIR_TILE}.png"
    gj = tmp_path / "m.geojson"
    with_polygons = cli("detect", a, b, "--out", tmp_path / "m.tif", "--geojson", gj,
                        "--gsd", "0.5")
    mask_only = cli("detect", a, b, "--out", tmp_path / "n.tif", "--gsd", "0.5")
    assert with_polygons.code == 0 and mask_only.code == 0, mask_only.err
    n = len(json.loads(gj.read_text())["features"])
    assert n > 0
    assert with_polygons.out.split()[0] == mask_only.out.split()[0] == str(n)
    res = sitewatch.detect_pair(a, b, tmp_path / "o.tif", gsd_m=0.5)
    assert res.object_count == n
    traced = json.loads(json.dumps([o.feature() for o in res.objects]))
    assert traced == json.loads(gj.read_text())["features"]


def test_detect_georeferenced_pair_keeps_before_georeference(cli, samples, tmp_path):
    base = samples / "puerto-rico-maria"
    a = base / "Pre_Event_Grids_In_TIFF/tile_0_107.tif"
    b = base / "Post_Event_Grids_In_TIFF/tile_0_107.tif"
    out, gj = tmp_path / "m.tif", tmp_path / "m.geojson"
    assert cli("detect", a, b, "--out", out, "--geojson", gj).code == 0
    with rasterio.open(out) as m, rasterio.open(a) as src:
        assert m.crs == src.crs and m.transform == src.transform and m.shape == src.shape
    feats = json.loads(gj.read_text())["features"]
    lon, lat = feats[0]["geometry"]["coordinates"][0][0]
    assert -66.3 < lon < -66.1 and 18.2 < lat < 18.4
    assert feats[0]["properties"]["area_uncertainty_m2"] > 0


def test_detect_aligns_after_on_before_grid(cli, samples, tmp_path):
    # AFTER cropped and shifted: still aligned by georeference; outside it is no data
    src = samples / "puerto-rico-maria/Post_Event_Grids_In_TIFF/tile_0_107.tif"
    crop = tmp_path / "crop.tif"
    with rasterio.open(src) as ds:
        win = rasterio.windows.Window(100, 50, 300, 300)
        prof = ds.profile | {"width": 300, "height": 300,
                             "transform": ds.window_transform(win)}
        with rasterio.open(crop, "w", **prof) as out:
            out.write(ds.read(window=win))
    before = samples / "puerto-rico-maria/Pre_Event_Grids_In_TIFF/tile_0_107.tif"
    assert cli("detect", before, crop, "--out", tmp_path / "m.tif").code == 0
    with rasterio.open(tmp_path / "m.tif") as m:
        mask = m.read(1)
    assert mask.shape == (512, 512)
    assert (mask[:50] == 255).all() and (mask[60:340, 110:390] != 255).all()


def test_plain_images_of_different_sizes_are_refused(cli, samples, tmp_path):
    a = samples / "levir-cd/tiles256/A" / f"{LEVIR_TILE}.png"
    b = samples / "xbd/images/joplin-tornado_00000000_post_disaster.png"
    assert "same size" in one_error_line(cli("detect", a, b, "--out", tmp_path / "m.tif"))
    assert not (tmp_path / "m.tif").exists()


def test_georeferenced_images_that_do_not_overlap(cli, samples, tmp_path):
    a = samples / "puerto-rico-maria/Pre_Event_Grids_In_TIFF/tile_0_107.tif"
    b = samples / "georef-rasters/rasterio/RGB.byte.tif"
    assert "does not overlap" in one_error_line(cli("detect", a, b, "--out", tmp_path / "m.tif"))


def test_unknown_method(cli, samples, tmp_path):
    a = samples / "levir-cd/tiles256/A" / f"{LEVIR_TILE}.png"
    assert "unknown method" in one_error_line(
        cli("detect", a, a, "--out", tmp_path / "m.tif", "--method", "magic"))


def test_detect_on_bad_file(cli, tmp_path, samples):
    bad = tmp_path / "x.jpg"
    bad.write_bytes(b"\xff\xd8\xff" + b"junk" * 10)
    a = samples / "levir-cd/tiles256/A" / f"{LEVIR_TILE}.png"
    one_error_line(cli("detect", a, bad, "--out", tmp_path / "m.tif"))
