import math

import numpy as np
import rasterio
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage
from shapely.geometry import box

from sitewatch.geo.aoi import aoi_from_point, utm_crs
from sitewatch.geo.area import area_perimeter_m
from sitewatch.geo.coreg import estimate_shift
from sitewatch.geo.grid import site_grid


@settings(max_examples=40, deadline=None)
@given(st.floats(-179, 179), st.floats(-80, 80), st.floats(50, 20_000))
def test_point_aoi_has_the_asked_area(lon, lat, radius):
    area, _ = area_perimeter_m(aoi_from_point(lon, lat, radius))
    assert math.isclose(area, math.pi * radius**2, rel_tol=0.01)


def test_utm_zone():
    assert utm_crs(-97.99, 30.16).to_epsg() == 32614
    assert utm_crs(53.2, 57.05).to_epsg() == 32639
    assert utm_crs(151.2, -33.9).to_epsg() == 32756


def test_grid_covers_aoi_and_snaps_to_pixels():
    aoi = box(-97.9994175, 30.1602146, -97.9980442, 30.1615879)
    g = site_grid(aoi, 0.553)
    assert g.crs == "EPSG:32614" and g.res_m == 0.55
    assert math.isclose(g.west / g.res_m, round(g.west / g.res_m), abs_tol=1e-6)
    assert 230 < g.width < 260 and 270 < g.height < 290


def test_grid_is_capped():
    g = site_grid(aoi_from_point(10, 50, 20_000), 0.5, max_px=1000)
    assert max(g.width, g.height) <= 1000


def test_phase_correlation_recovers_a_subpixel_shift(samples):
    with rasterio.open(samples / "levir-cd/tiles256/A/test_2_0000_0000.png") as ds:
        ref = ds.read().astype(np.float32)
    moved = ndimage.shift(ref, (0, 2.5, -1.25), order=3, mode="nearest")
    s = estimate_shift(ref, moved)
    assert s.status == "applied"
    assert abs(s.dy + 2.5) < 0.3 and abs(s.dx - 1.25) < 0.3


def test_phase_correlation_rejects_a_shift_that_does_not_help(samples):
    # LEVIR-CD pairs are co-registered but the ground changed completely
    with rasterio.open(samples / "levir-cd/tiles256/A/test_2_0000_0000.png") as a, \
         rasterio.open(samples / "levir-cd/tiles256/B/test_2_0000_0000.png") as b:
        s = estimate_shift(a.read().astype(np.float32), b.read().astype(np.float32))
    assert s.status.startswith("rejected")


def test_large_chip_shift_measured_on_its_central_window(samples):
    import rasterio
    from scipy import ndimage

    from sitewatch.geo import coreg

    chip = sorted((samples / "georef-rasters" / "sentinel2-cloudcover-chips" /
                   "train_features").iterdir())[0]
    with rasterio.open(chip / "B04.tif") as ds:
        band = ds.read(1).astype("float32")
    big = np.concatenate([np.concatenate([band, band[:, ::-1], band], axis=1)] * 3, axis=0)
    assert max(big.shape) > coreg.WINDOW_PX
    moved = ndimage.shift(big, (1.6, -2.2), order=3, mode="nearest")
    shift = coreg.estimate_shift(big[None], moved[None])
    assert shift.status == "applied"
    assert abs(shift.dy + 1.6) < 0.15 and abs(shift.dx - 2.2) < 0.15
