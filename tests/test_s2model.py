"""The multispectral (Sentinel-2) change model: input scaling, training, tiled inference on
whole OSCD cities through ``sitewatch detect``, ONNX parity, four-band input, ``auto``."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import rasterio

pytest.importorskip("torch")
pytest.importorskip("onnxruntime")

from conftest import Result  # noqa: E402

from sitewatch.detect.registry import choose, get_detector  # noqa: E402
from sitewatch.errors import InputValueError  # noqa: E402
from sitewatch.learn.s2bands import (  # noqa: E402
    BANDS,
    CORE,
    Standardiser,
    arrange,
    standardise,
)
from sitewatch.learn.s2data import City, sample  # noqa: E402
from sitewatch.learn.s2infer import (  # noqa: E402
    S2Predictor,
    default_onnx,
    default_weights,
    reflect_pad,
)
from sitewatch.learn.s2train import S2Recipe, counts, predict, prf, score, train  # noqa: E402
from sitewatch.pipeline.oscd import load_city  # noqa: E402

CITY = "rennes"  # one of the smallest cities (339 x 563 px)
S2_NAMES = ("coastal", "blue", "green", "red", "rededge1", "rededge2", "rededge3", "nir",
            "nir08", "nir09", "cirrus", "swir16", "swir22")


@pytest.fixture(scope="module")
def city(samples: Path) -> City:
    return load_city(samples / "oscd", CITY)


def test_standardise_gives_one_input_for_counts_reflectance_and_offsets() -> None:
    rng = np.random.default_rng(0)
    dn = rng.gamma(2.0, 600.0, (3, 64, 64)).astype(np.float32)
    dn[:, :4, :4] = np.nan
    ref = standardise(dn)
    for other in (dn * 1e-4, dn + 1000, (dn + 1000) * 1e-4 - 0.1):
        assert np.abs(standardise(other) - ref).max() < 1e-3
    assert (ref[:, :4, :4] == 0).all() and np.isfinite(ref).all()
    assert abs(float(np.median(ref[:, 8:, 8:]))) < 0.05  # centred on the median
    extreme = np.full((2, 8, 8), 3e38, np.float32)
    extreme[:, 0, 0] = -3e38
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warning escapes
        out = standardise(extreme)
    assert np.isfinite(out).all() and np.abs(out).max() <= 6


def test_arrange_puts_bands_in_model_order_and_flags_the_absent() -> None:
    stack = np.stack([np.full((2, 2), i, np.float32) for i in range(4)])
    out, present = arrange(stack, ["nir", "red", "green", "blue"])
    assert out.shape == (len(BANDS), 2, 2)
    assert [BANDS[i] for i in np.flatnonzero(present)] == ["blue", "green", "red", "nir"]
    assert out[BANDS.index("nir"), 0, 0] == 0 and out[BANDS.index("blue"), 0, 0] == 3
    assert (out[BANDS.index("swir16")] == 0).all()


def test_sample_crops_are_augmented_and_keep_the_core_bands(city: City) -> None:
    a, b, pres, lab = sample([city], np.random.default_rng(1), 16, 64)
    assert a.shape == b.shape == (16, len(BANDS), 64, 64) and lab.shape == (16, 1, 64, 64)
    core = [BANDS.index(n) for n in CORE]
    assert (pres[:, core] == 1).all() and (pres.sum(1) < len(BANDS)).any()
    assert ((a * (1 - pres[:, :, None, None])) == 0).all()  # absent bands are zeros
    assert set(np.unique(lab)) <= {0.0, 1.0} and lab.any()  # half the crops on change


def test_train_a_few_steps_then_score_a_whole_city(city: City) -> None:
    net = train([city], S2Recipe(steps=3, batch=2, crop=64), threads=1)
    prob = predict(S2Predictor("torch", net, None, {}), city)
    assert prob.shape == city.label.shape and prob.min() >= 0 and prob.max() <= 1
    res = score({CITY: prob}, [city], 0.5)
    tp, fp, fn = counts(prob >= 0.5, city.label)
    assert res[CITY] == res["pooled"] == prf(tp, fp, fn)
    assert tp + fn == int(city.label.sum())


@pytest.mark.parametrize("widths", [(16, 32, 48), (16, 32, 48, 64)])
def test_three_and_four_stage_networks_read_any_image_size(city: City, widths: tuple[int, ...]
                                                           ) -> None:
    """v1 weights (three stages, inputs padded to multiples of 8) still load; the four-stage
    network pads to multiples of 16, so an image of any size gets its own-sized answer."""
    from sitewatch.learn.s2model import S2ChangeNet

    net = train([city], S2Recipe(steps=2, batch=2, crop=64, widths=widths), threads=1)
    assert isinstance(net, S2ChangeNet) and net.widths == widths
    pred = S2Predictor("torch", net, None, {})
    assert pred.multiple == 2 ** len(widths)
    present = np.ones(len(BANDS), np.float32)
    a = standardise(city.a[:, :37, :53].astype(np.float32))
    b = standardise(city.b[:, :37, :53].astype(np.float32))
    prob = pred.probabilities(a, b, present)
    assert prob.shape == (37, 53) and np.isfinite(prob).all()
    with pytest.raises(ValueError, match="3 or 4 stages"):
        S2ChangeNet((16, 32))


def test_tiles_blend_to_the_whole_image_result(city: City) -> None:
    pred = S2Predictor.open(default_weights())
    present = np.ones(len(BANDS), np.float32)
    a, b = city.a.astype(np.float32), city.b.astype(np.float32)
    whole = pred.probabilities(a, b, present)
    tiled = pred.probabilities(a, b, present, tile=160, overlap=32)
    assert tiled.shape == whole.shape
    assert float(np.abs(tiled - whole).mean()) < 0.02
    assert ((tiled >= 0.5) == (whole >= 0.5)).mean() > 0.98


@pytest.mark.parametrize("tile", [2048, 160])
def test_tiles_given_their_absent_bands_as_cut_match_the_twelve_band_images(
        city: City, tile: int) -> None:
    """The detector passes only the bands the images have (``slots``) and each tile gets
    the others as zeros: the probabilities of the 12-band images, whole or tiled."""
    pred = S2Predictor.open()
    names = list(CORE)
    idx = [BANDS.index(n) for n in names]
    a = standardise(city.a[idx].astype(np.float32))
    b = standardise(city.b[idx].astype(np.float32))
    full_a, present = arrange(a, names)
    full_b, _ = arrange(b, names)
    slots = [BANDS.index(n) for n in names]
    whole = pred.probabilities(full_a, full_b, present, tile=tile, overlap=32)
    cut = pred.probabilities(a, b, present, tile=tile, overlap=32, slots=slots)
    assert cut.shape == city.label.shape
    np.testing.assert_array_equal(cut, whole)


@pytest.mark.parametrize(("tile", "bands"), [(2048, "core"), (160, "core"), (160, "all")])
def test_tiles_standardised_as_cut_match_standardised_images(city: City, tile: int,
                                                             bands: str) -> None:
    """The detector standardises each tile as it is cut (no standardised copy of the whole
    images): the same probabilities, to the bit, as from the standardised images, with
    no-data holes in either date; the caller's arrays are left as they were."""
    pred = S2Predictor.open()
    a, b = city.a.astype(np.float32), city.b.astype(np.float32)
    a[:, 10:40, 20:90] = np.nan
    b[BANDS.index("red"), 100:120, :] = np.inf
    names = list(CORE) if bands == "core" else list(BANDS)
    idx = [BANDS.index(n) for n in names]
    invalid = np.asarray(~(np.isfinite(a[idx]).all(0) & np.isfinite(b[idx]).all(0)))
    ref = []
    for x in (a, b):
        z = x[idx].copy()
        z[:, invalid] = np.nan
        ref.append(arrange(standardise(z), names)[0])
    present = arrange(a[idx], names)[1]
    whole = pred.probabilities(ref[0], ref[1], present, tile=tile, overlap=32)
    before = a.copy()
    prepared = Standardiser.of(a, b, idx, idx, invalid, finite=True)
    cut = pred.probabilities(a, b, present, tile=tile, overlap=32, prepared=prepared)
    np.testing.assert_array_equal(cut, whole)
    np.testing.assert_array_equal(a, before)


@pytest.mark.parametrize(("th", "tw", "ph", "pw"),
                         [(10, 12, 6, 4), (3, 5, 5, 3), (1, 1, 7, 7), (8, 3, 0, 5)])
def test_tile_padding_reflects_as_numpy_pads(th: int, tw: int, ph: int, pw: int) -> None:
    x = np.random.default_rng(1).random((2, th, tw), dtype=np.float32)
    buf = np.zeros((2, th + ph, tw + pw), np.float32)
    buf[:, :th, :tw] = x
    reflect_pad(buf, th, tw)
    np.testing.assert_array_equal(buf, np.pad(x, ((0, 0), (0, ph), (0, pw)), mode="reflect"))


def test_onnx_export_matches_pytorch(city: City) -> None:
    assert default_onnx().is_file()
    pt, ox = S2Predictor.open(default_weights()), S2Predictor.open(default_onnx())
    assert (pt.backend, ox.backend) == ("torch", "onnx")
    for bands in (BANDS, CORE):
        diff = np.abs(predict(pt, city, bands) - predict(ox, city, bands))
        assert float(diff.max()) < 1e-4
    assert S2Predictor.open().backend == "onnx"  # the default engine


def _f1(out: Path, samples: Path) -> float:
    label = samples / "oscd/train_labels" / CITY / "cm" / f"{CITY}-cm.tif"
    with rasterio.open(out) as m, rasterio.open(label) as lab:
        return prf(*counts(m.read(1) == 1, lab.read(1) == 2))["f1"]


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_detect_runs_the_model_on_two_whole_band_folders(
        cli: Callable[..., Result], samples: Path, tmp_path: Path) -> None:
    city = samples / "oscd/images" / CITY
    out = tmp_path / "mask.tif"
    res = cli("detect", city / "imgs_1", city / "imgs_2", "--out", out)
    assert res.code == 0, res.err
    assert "s2model" in res.out + res.err
    with rasterio.open(out) as m, rasterio.open(next((city / "imgs_1").glob("*_B02.tif"))) as b:
        assert (m.width, m.height, m.transform, m.crs) == (b.width, b.height, b.transform,
                                                           b.crs)
    # a training city: a training-set figure, far above what cva reaches here (0.15)
    assert _f1(out, samples) > 0.3
    # the same weights on PyTorch, asked for by name: the same mask
    pt = tmp_path / "pt.tif"
    res = cli("detect", city / "imgs_1", city / "imgs_2", "--out", pt, "--method", "s2model",
              "--weights", default_weights())
    assert res.code == 0, res.err
    with rasterio.open(out) as m1, rasterio.open(pt) as m2:
        assert (m1.read(1) == m2.read(1)).mean() > 0.999
    bad = cli("detect", city / "imgs_1", city / "imgs_2", "--out", tmp_path / "x.tif",
              "--method", "s2model", "--target", "buildings")
    assert bad.code == 2 and not (tmp_path / "x.tif").exists()


def test_four_band_input_still_detects(city: City) -> None:
    full, four = np.stack([city.a, city.b]).astype(np.float32), None
    names = list(BANDS)
    core = [names.index(n) for n in CORE]
    four = full[:, core]
    spec = get_detector("s2model")
    r12 = spec.run(full[0], full[1], names, 10.0, {"bands": "all"})
    r4 = spec.run(four[0], four[1], list(CORE), 10.0, {})
    assert r4.parameters["bands"] == list(CORE) and len(r12.parameters["bands"]) == 12
    # by default the four 10 m bands are read, whatever else the images have
    assert np.array_equal(spec.run(full[0], full[1], names, 10.0, {}).mask, r4.mask)
    f1 = prf(*counts(r4.mask == 1, city.label))["f1"]
    assert f1 > 0.15, f1
    with pytest.raises(InputValueError, match="nir"):
        spec.run(four[0, :3], four[1, :3], ["blue", "green", "red"], 10.0, {})
    with pytest.raises(InputValueError, match="threshold"):
        spec.run(four[0], four[1], list(CORE), 10.0, {"threshold": 2})
    with pytest.raises(InputValueError, match="bands"):
        spec.run(four[0], four[1], list(CORE), 10.0, {"bands": "some"})
    with pytest.raises(InputValueError, match="unknown parameter"):
        spec.run(four[0], four[1], list(CORE), 10.0, {"tile": 3})


def test_auto_picks_the_multispectral_model_where_it_fits() -> None:
    assert choose(10.0, S2_NAMES) == "s2model"
    assert choose(20.0, ("blue", "green", "red", "nir")) == "s2model"
    assert choose(10.0, ("red", "green", "blue")) == "cva"  # no NIR
    assert choose(60.0, S2_NAMES) == "cva"
    landsat = ("blue", "green", "red", "nir", "swir16", "swir22")
    assert choose(30.0, landsat) == "cva"  # Taizhou (make eval): cva does better at 30 m
    assert choose(0.5, ("red", "green", "blue")) == "model"
    assert choose(0.5, S2_NAMES) == "model"
    assert choose(5.0, S2_NAMES) == "model"  # the RGB model's range ends at 5 m, included
    assert choose(None, S2_NAMES) == "model"  # unknown pixel size: as before
    assert get_detector("cva").name == "cva"  # still there by name
    spec = get_detector("s2model")
    assert spec.modality == "multispectral" and spec.gsd_range_m == (5.0, 20.0)
    ident = spec.effective_params({})
    assert ident == spec.effective_params({"weights": str(default_onnx())})
    assert 0 < ident["threshold"] < 1 and ident["bands"] == "core"
    assert ident != spec.effective_params({"bands": "all"})


def test_change_objects_keep_holes_of_different_sizes() -> None:
    # the model's masks are not hole-filled: a blob with two unequal holes is one object
    # whose area leaves both out (vectorising it once failed on the ragged hole arrays)
    from sitewatch.changemap import ChangeResult
    from sitewatch.detect.objects import extract_objects

    m = np.zeros((30, 30), np.uint8)
    m[2:28, 2:28] = 1
    m[5:8, 5:8] = 0
    m[12:20, 12:14] = 0
    [obj] = extract_objects(ChangeResult(m, m.copy(), m.astype(np.float32), 0.5, {}),
                            None, None, 1.0)
    assert obj.geometry.area == 26 * 26 - 9 - 16
