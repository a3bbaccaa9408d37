"""Reading a scene onto a grid that is its own: a plain windowed read, equal to the warp."""

from __future__ import annotations

import numpy as np
import rasterio
from affine import Affine

from sitewatch.imagery import local


def test_aligned_grid_reads_the_window_like_the_warp(samples, tmp_path, monkeypatch):
    src = samples / "georef-rasters" / "sentinel2-cloudcover-chips"
    chip = sorted((src / "train_features").iterdir())[0]
    bands = []
    for b in ("B02", "B03", "B04", "B08"):
        with rasterio.open(chip / f"{b}.tif") as ds:
            bands.append(ds.read(1))
            crs, tf = ds.crs, ds.transform
    data = np.stack(bands)
    data[:, :40, :40] = 0  # a corner of no data
    path = tmp_path / "scene.tif"
    with rasterio.open(path, "w", driver="GTiff", width=data.shape[2], height=data.shape[1],
                       count=4, dtype=data.dtype, crs=crs, transform=tf, nodata=0) as ds:
        ds.write(data)
    info = local.inspect_image(path)
    # a target grid on the scene's pixels, hanging over its top-left edge
    target = tf * Affine.translation(-25, -30)
    assert local._aligned_window(info, crs.to_string(), target) == (-25, -30)
    fast = local.read_onto(info, crs.to_string(), target, 300, 200)
    monkeypatch.setattr(local, "_aligned_window", lambda *a: None)
    warped = local.read_onto(info, crs.to_string(), target, 300, 200)
    assert fast.shape == warped.shape == (4, 200, 300)
    assert np.array_equal(np.isnan(fast), np.isnan(warped))
    ok = ~np.isnan(fast)
    assert np.allclose(fast[ok], warped[ok])
    assert np.isnan(fast[:, :30, :]).all() and np.isnan(fast[:, 30:70, 25:65]).all()
    # half a pixel off, or another pixel size: not the scene's grid
    assert local._aligned_window(info, crs.to_string(), target * Affine.translation(0.5, 0)
                                 ) is None
    assert local._aligned_window(info, crs.to_string(), target * Affine.scale(2)) is None


def test_site_grid_follows_the_scene_lattice(samples, tmp_path):
    """The cloud-cover chips' 10 m pixels start 5 m off multiples of 10 m (Landsat's 30 m
    pixels start 15 m off, too): the site's grid takes the scene's lattice, so the scene
    is read as it is, pixel for pixel, not resampled by half a pixel."""
    from pyproj import Transformer

    import sitewatch
    from sitewatch.geo.grid import site_grid
    from sitewatch.pipeline.chips import grid_for

    chip = sorted((samples / "georef-rasters" / "sentinel2-cloudcover-chips"
                   / "train_features").iterdir())[0]
    with rasterio.open(chip / "B04.tif") as ds:
        crs, tf, pixels = ds.crs, ds.transform, ds.read(1)
    assert tf.c % 10 != 0  # the real lattice is off multiples of the pixel size
    lon, lat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True).transform(
        *(tf * (256, 256)))
    ws = sitewatch.open_workspace(tmp_path / "ws")
    site = ws.add_site("lattice", lat=lat, lon=lon, radius_m=600)
    scene = ws.import_scene(site, chip / "B04.tif", date="2020-05-01", bands=["red"],
                            provider="Copernicus Sentinel-2")
    grid = grid_for(site, [scene])
    plain = site_grid(site.aoi_geom, scene.gsd_m)
    assert plain.west % 10 == 0 and (grid.west - tf.c) % 10 == 0
    assert grid.crs == plain.crs and grid.res_m == plain.res_m
    assert abs(grid.west - plain.west) <= 10 and abs(grid.north - plain.north) <= 10
    info = local.inspect_image(chip / "B04.tif")
    at = local._aligned_window(info, grid.crs, grid.transform)
    assert at is not None
    col, row = at
    read = local.read_onto(info, grid.crs, grid.transform, grid.width, grid.height)
    np.testing.assert_array_equal(read[0], pixels[row:row + grid.height,
                                                  col:col + grid.width].astype(np.float32))


def test_a_scene_corrupted_after_import_is_one_clear_error(samples, tmp_path, cli):
    """The catalog trusts a scene after import: if its file is damaged later, analyze
    refuses it in one line naming the file, with nothing left behind."""
    from pyproj import Transformer
    from support.integrity import check_integrity

    chip = sorted((samples / "georef-rasters" / "sentinel2-cloudcover-chips"
                   / "train_features").iterdir())[0]
    with rasterio.open(chip / "B04.tif") as ds:
        crs, tf, red = ds.crs, ds.transform, ds.read(1)
    paths = []
    for k, data in enumerate((red, np.flipud(red).copy())):
        path = tmp_path / f"scene{k}.tif"
        with rasterio.open(path, "w", driver="GTiff", width=512, height=512, count=1,
                           dtype=data.dtype, crs=crs, transform=tf, tiled=True,
                           blockxsize=128, blockysize=128, compress="deflate") as ds:
            ds.write(data, 1)
        paths.append(path)
    lon, lat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True).transform(
        *(tf * (256, 256)))
    assert cli("sites", "add", "damaged", "--lat", lat, "--lon", lon,
               "--radius-m", 2000).code == 0
    for path, when in zip(paths, ("2020-05-01", "2020-06-01"), strict=True):
        res = cli("scenes", "import", "damaged", path, "--date", when, "--provider",
                  "Copernicus Sentinel-2", "--bands", "red")
        assert res.code == 0, res.err
    data = paths[1].read_bytes()
    paths[1].write_bytes(data[:len(data) // 2])  # its last tiles are gone
    res = cli("analyze", "damaged", "--method", "cva")
    errors = [ln for ln in res.err.splitlines() if ln.startswith("sitewatch:")]
    assert res.code == 2 and len(errors) == 1, res.err
    assert "cannot be read" in errors[0] and "scene1.tif" in errors[0]
    assert "Traceback" not in res.err
    assert check_integrity(tmp_path / "ws")["runs"] == 0
