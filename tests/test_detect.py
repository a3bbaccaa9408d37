import numpy as np
import pytest
import rasterio
from affine import Affine

from sitewatch.detect.classical import CvaParams, cva_change
from sitewatch.detect.objects import extract_objects
from sitewatch.errors import InputValueError
from sitewatch.imagery.local import inspect_image, read_plain

RGB = ["red", "green", "blue"]


def _pair(samples, ds, name):
    def rd(p):
        with rasterio.open(p) as d:
            return d.read().astype(np.float32)
    root = samples / ds
    return rd(root / "A" / name), rd(root / "B" / name), rd(root / "label" / name)[0] > 127


def _f1(pred, truth):
    tp = (pred & truth).sum()
    return 2 * tp / max(pred.sum() + truth.sum(), 1)


def test_cva_beats_chance_on_real_dsifn_pairs(samples):
    preds, truths = [], []
    for a_path in sorted((samples / "dsifn-cd" / "A").glob("*.png")):
        a, b, truth = _pair(samples, "dsifn-cd", a_path.name)
        res = cva_change(a, b, RGB, gsd_m=0.5)
        assert set(np.unique(res.mask)) <= {0, 1}
        preds.append(res.mask == 1)
        truths.append(truth)
    pred, truth = np.concatenate(preds), np.concatenate(truths)
    # a random mask flagging as many pixels reaches F1 = 2pq/(p+q); CVA must do clearly better
    p, q = pred.mean(), truth.mean()
    assert _f1(pred, truth) > 1.2 * (2 * p * q / (p + q))


def test_no_change_between_an_image_and_itself(samples):
    a, _, _ = _pair(samples, "dsifn-cd", "0_2.png")
    noisy = a + np.random.default_rng(0).normal(0, 1.0, a.shape).astype(np.float32)
    res = cva_change(a, noisy, RGB, gsd_m=0.5)
    assert (res.mask == 1).mean() < 0.01


def test_nodata_is_255_and_never_change(samples):
    a, b, _ = _pair(samples, "dsifn-cd", "1_1.png")
    b[:, :40, :] = np.nan
    res = cva_change(a, b, RGB)
    assert (res.mask[:40] == 255).all()
    assert (res.mask[40:] != 255).all()


def test_vegetation_loss_on_real_landsat(samples):
    d = samples / "landsat-taizhou-nanjing" / "Taizhou"
    i0, i1 = inspect_image(d / "2000TM"), inspect_image(d / "2003TM")
    assert i0.band_names == ("blue", "green", "red", "nir", "swir16", "swir22")
    res = cva_change(read_plain(i0), read_plain(i1), i0.band_names, gsd_m=30.0)
    codes = set(np.unique(res.change_type)) - {0}
    assert codes & {2, 3}, "red+nir imagery must give typed change"
    with rasterio.open(d / "change.bmp") as c, rasterio.open(d / "unchanged.bmp") as u:
        changed, unchanged = c.read(1) > 127, u.read(1) > 127
    pred = res.mask == 1
    # on the labelled pixels, changed ones are flagged far more often than unchanged ones
    assert pred[changed].mean() > 3 * pred[unchanged].mean()


def test_shape_mismatch_is_refused():
    with pytest.raises(InputValueError):
        cva_change(np.zeros((3, 10, 10), np.float32), np.zeros((3, 11, 10), np.float32), RGB)


def test_object_area_is_measured_in_metres():
    mask = np.zeros((100, 100), np.uint8)
    mask[20:40, 30:60] = 1  # 20 x 30 px
    from sitewatch.detect.classical import ChangeResult

    res = ChangeResult(mask, mask.copy(), mask.astype(np.float32) * 3, 1.0)
    tf = Affine(2.0, 0, 500_000, 0, -2.0, 4_000_000)  # 2 m pixels, UTM 33N
    (obj,) = extract_objects(res, tf, "EPSG:32633", gsd_m=2.0)
    assert abs(obj.area_m2 - 20 * 30 * 4) / 2400 < 0.002
    assert abs(obj.area_uncertainty_m2 - 2 * (40 + 60) * 2.0) < 2  # perimeter x GSD
    assert obj.change_type == "change" and 0 < obj.score <= 1
    assert 14 < obj.centroid_lon < 16 and 36 < obj.centroid_lat < 37


def test_objects_keep_their_holes_and_each_its_own_measures():
    """Polygons are made for all objects at once: each keeps its own rings, holes and
    figures, in pixel and in projected coordinates."""
    from sitewatch.detect.classical import ChangeResult

    mask = np.zeros((60, 80), np.uint8)
    mask[5:25, 5:25] = 1
    mask[10:15, 10:15] = 0  # a 5 x 5 px hole
    mask[30:50, 40:75] = 1
    mask[40, 60] = 0  # a one-pixel hole
    mask[55:57, 2:4] = 1
    mag = np.zeros(mask.shape, np.float32)
    mag[30:50, 40:75] = 2.0
    res = ChangeResult(mask, mask.copy(), mag, 1.0)
    objs = extract_objects(res, gsd_m=1.0, px_area_m2=1.0)
    assert [o.pixels for o in objs] == [699, 375, 4]
    for o in objs:
        assert o.geometry.area == o.pixels  # the holes are holes
    assert [len(o.geometry.interiors) for o in objs] == [1, 1, 0]
    assert objs[0].score == 1.0 and objs[1].score == 0.0
    tf = Affine(2.0, 0, 500_000, 0, -2.0, 4_000_000)
    geo = extract_objects(res, tf, "EPSG:32633", gsd_m=2.0)
    assert [o.pixels for o in geo] == [699, 375, 4]
    for o in geo:
        assert abs(o.area_m2 - 4 * o.pixels) / (4 * o.pixels) < 0.002
    assert len(geo[1].geometry.interiors) == 1
    assert geo[2].centroid_lat < geo[1].centroid_lat  # the small object lies furthest south


def test_params_are_validated():
    with pytest.raises(InputValueError):
        CvaParams(invariant_quantile=0)


def test_figures_draw_dollar_signs_as_text():
    """'$...$' in a site name or credit is the analyst's text, not mathtext to parse."""
    import numpy as np
    from shapely.geometry import box

    from sitewatch.evidence.figure import Panel, before_after_png

    data = np.random.default_rng(0).random((3, 64, 64)).astype("float32")
    names = ["red", "green", "blue"]
    png = before_after_png(Panel(data, names, r"BEFORE $\notacommand$", "Credit $5 and $10"),
                           Panel(data, names, "AFTER", r"$\frac{"), 0.5, box(2, 2, 60, 60),
                           [box(10, 10, 20, 20)], r"Site $x^2$ \$", [(100.0, 5.0)], ["D1"])
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
