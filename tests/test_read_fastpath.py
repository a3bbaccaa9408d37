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
