"""The detector registry: users' own detectors, ``auto``'s choice, names and plugins."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
from importlib.metadata import EntryPoint
from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine

from sitewatch.changemap import ChangeResult
from sitewatch.cli.main import main
from sitewatch.detect import registry
from sitewatch.detect.methods import get_method, resolve_method
from sitewatch.detect.registry import (
    DetectorSpec,
    choose,
    get_detector,
    list_detectors,
    register_detector,
)
from sitewatch.errors import InputValueError

HAS_TORCH = importlib.util.find_spec("torch") is not None


@pytest.fixture(autouse=True)
def own_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test changes a copy of the registry (plugins loaded), never the real one."""
    list_detectors()
    monkeypatch.setattr(registry, "_SPECS", dict(registry._SPECS))


def brighter(before: np.ndarray, after: np.ndarray, names, gsd_m, params) -> ChangeResult:
    """A user's detector: change where the mean over bands grows by more than ``delta``."""
    delta = float(params.get("delta", 100.0))
    valid = np.isfinite(before).all(axis=0) & np.isfinite(after).all(axis=0)
    diff = (after - before).mean(axis=0)
    changed = valid & (diff > delta)
    mask = np.where(valid, changed, 255).astype(np.uint8)
    return ChangeResult(mask, changed.astype(np.uint8), np.where(valid, diff, np.nan)
                        .astype(np.float32), delta, {"method": "brighter", "delta": delta})


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path]:
    """Two 64 x 64 px, 3-band uint16 GeoTIFFs of 2 m pixels in UTM 33N; AFTER has a bright
    16 x 20 px block (1280 m2) at rows 10-25, columns 30-49."""
    rng = np.random.default_rng(0)
    base = rng.integers(900, 1100, (3, 64, 64)).astype(np.uint16)
    later = base.copy()
    later[:, 10:26, 30:50] += 2000
    tf = Affine(2.0, 0, 500_000, 0, -2.0, 4_000_000)
    paths = []
    for name, data in (("before.tif", base), ("after.tif", later)):
        p = tmp_path / name
        with rasterio.open(p, "w", driver="GTiff", width=64, height=64, count=3,
                           dtype="uint16", crs="EPSG:32633", transform=tf) as ds:
            ds.write(data)
        paths.append(p)
    return paths[0], paths[1]


def test_user_detector_runs_through_sitewatch_detect(pair, tmp_path, capsys):
    register_detector(name="brighter", func=brighter, modality="optical",
                      description="mean brightness up by more than delta")
    out, gj = tmp_path / "mask.tif", tmp_path / "mask.geojson"
    code = main(["detect", str(pair[0]), str(pair[1]), "--out", str(out), "--geojson", str(gj),
                 "--method", "brighter"])
    assert code == 0, capsys.readouterr().err
    assert "by method brighter" in capsys.readouterr().out
    with rasterio.open(out) as ds:
        assert (ds.count, ds.dtypes[0], ds.nodata) == (1, "uint8", 255)
        assert ds.crs.to_epsg() == 32633
        mask = ds.read(1)
    expected = np.zeros((64, 64), np.uint8)
    expected[10:26, 30:50] = 1
    assert np.array_equal(mask, expected)
    (feature,) = json.loads(gj.read_text())["features"]
    assert abs(feature["properties"]["area_m2"] - 16 * 20 * 4) / 1280 < 0.002


def test_register_a_spec_or_a_mapping_and_list_it():
    spec = DetectorSpec(name="brighter", func=brighter, required_bands=["red"], needs="numpy")
    assert register_detector(spec) is spec
    assert spec.required_bands == ("red",) and spec.needs == ("numpy",)
    assert get_detector("brighter") is spec
    register_detector({"name": "brighter2", "func": brighter, "gsd_range_m": [1, 3]})
    assert get_detector("brighter2").gsd_range_m == (1.0, 3.0)
    names = [s.name for s in list_detectors()]
    # auto's order first (priority, highest first), then by name those auto never picks;
    # the model is registered with or without PyTorch (auto skips it without)
    assert names[:3] == ["model", "s2model", "cva"]
    assert names[-2:] == ["brighter", "brighter2"]
    assert get_detector("cva").as_dict()["available"] is True


def test_auto_picks_model_for_fine_imagery_and_cva_for_coarse():
    fine = "model" if HAS_TORCH else "cva"
    assert choose(0.5) == fine
    assert choose(None) == fine  # unknown pixel size: as today, the model when it can run
    rgb = ["red", "green", "blue"]  # without NIR: not the multispectral s2model
    assert choose(5.0, rgb) == fine  # the model's range ends at 5 m, included
    assert choose(5.01, rgb) == "cva"
    assert choose(10.0, rgb) == "cva"
    assert resolve_method("auto", 0.5) == fine and resolve_method("auto", 10.0, rgb) == "cva"
    assert resolve_method("cva", 0.5) == "cva"


def test_auto_falls_back_to_cva_when_the_model_cannot_run():
    model = get_detector("model")
    register_detector(dataclasses.replace(model, needs=("no_such_module_sitewatch",)),
                      replace=True)
    assert choose(0.5) == "cva"


def test_auto_takes_the_highest_priority_that_fits():
    register_detector(name="tenmetre", func=brighter, gsd_range_m=(8, 12), priority=30)
    register_detector(name="nir-only", func=brighter, required_bands=("nir",), priority=40)
    register_detector(name="manual", func=brighter, priority=None)
    assert choose(10.0, ["red", "green", "blue"]) == "tenmetre"
    assert choose(10.0, ["red", "nir"]) == "nir-only"
    assert choose(10.0) == "nir-only"  # bands not known: not checked
    assert choose(30.0, ["red", "green", "blue"]) == "cva"
    # ties are broken by name, so the choice never depends on registration order
    register_detector(name="aaa", func=brighter, gsd_range_m=(8, 12), priority=30)
    assert choose(10.0, ["red"]) == "aaa"


def test_no_detector_fits():
    for spec in list_detectors():
        registry.unregister_detector(spec.name)
    register_detector(name="coarse", func=brighter, gsd_range_m=(10, None), priority=1)
    with pytest.raises(InputValueError, match="coarse is for 10 or more m pixels"):
        choose(0.5)


def test_unknown_and_bad_names():
    with pytest.raises(InputValueError, match="unknown method 'magic'.*auto, cva, model"):
        get_detector("magic")
    with pytest.raises(InputValueError, match="unknown method"):
        resolve_method("magic", 10.0)
    for bad in ("auto", "Has Space", "", "9lives", "x" * 41):
        with pytest.raises(InputValueError, match="detector name"):
            register_detector(name=bad, func=brighter)
    with pytest.raises(InputValueError, match="callable"):
        register_detector(name="nofunc", func="not a function")
    with pytest.raises(InputValueError, match="modality"):
        register_detector(name="radar", func=brighter, modality="lidar")
    with pytest.raises(InputValueError, match="lo > hi"):
        register_detector(name="range", func=brighter, gsd_range_m=(5, 1))
    with pytest.raises(InputValueError, match="unknown detector field"):
        register_detector(name="typo", func=brighter, gsd_range=(1, 2))
    with pytest.raises(InputValueError, match="needs func"):
        register_detector(name="nofunc")


def test_duplicate_registration_is_refused_without_replace():
    first = register_detector(name="brighter", func=brighter)
    with pytest.raises(InputValueError, match="already registered.*replace=True"):
        register_detector(name="brighter", func=brighter, priority=5)
    assert get_detector("brighter") is first
    with pytest.raises(InputValueError, match="already registered"):
        register_detector(name="cva", func=brighter)
    second = register_detector(name="brighter", func=brighter, priority=5, replace=True)
    assert get_detector("brighter") is second


def test_required_bands_are_checked_before_the_detector_runs():
    register_detector(name="needs-nir", func=brighter, required_bands=("red", "nir"))
    a = np.zeros((3, 8, 8), np.float32)
    with pytest.raises(InputValueError, match="needs band.*nir.*red, green, blue"):
        get_method("needs-nir")(a, a, ["red", "green", "blue"], 10.0, {})
    res = get_method("needs-nir")(np.zeros((2, 8, 8), np.float32),
                                  np.ones((2, 8, 8), np.float32) * 500, ["red", "nir"], 10.0,
                                  {})
    assert (res.mask == 1).all()


def test_the_model_is_an_entry_point_plugin_of_sitewatch_learn():
    spec = get_detector("model")
    assert spec.func.__module__ == "sitewatch.learn.detect"
    assert (spec.gsd_range_m, spec.needs, spec.modality) == ((None, 5.0), ("torch",),
                                                              "optical")


def test_a_broken_plugin_is_skipped_and_named(monkeypatch, caplog):
    good = EntryPoint("model", "sitewatch.learn.detect:DETECTOR", registry.ENTRY_POINT_GROUP)
    bad = EntryPoint("broken", "no_such_module_sitewatch:SPEC", registry.ENTRY_POINT_GROUP)
    wrong = EntryPoint("other", "sitewatch.learn.detect:DETECTOR", registry.ENTRY_POINT_GROUP)
    monkeypatch.setattr(registry, "entry_points", lambda group: [good, bad, good, wrong])
    monkeypatch.setattr(registry, "_SPECS", {"cva": registry._CVA})
    monkeypatch.setattr(registry, "_PLUGINS", {"loaded": False, "errors": {}})
    assert [s.name for s in list_detectors()] == ["model", "cva"]
    assert "broken" in caplog.text
    with pytest.raises(InputValueError, match="plugin failed to load.*no_such_module"):
        get_detector("broken")
    with pytest.raises(InputValueError, match="plugin failed to load.*named 'model'"):
        get_detector("other")


@pytest.mark.parametrize(("method", "names", "gsd"), [
    ("cva", ["blue", "green", "red", "nir"], 10.0),
    ("model", ["red", "green", "blue"], 0.5),
    ("s2model", ["blue", "green", "red", "nir"], 10.0),
])
def test_shipped_detectors_leave_their_inputs_unchanged(method: str, names: list[str],
                                                        gsd: float) -> None:
    """analyze hands the chips to the detector without a copy while their files are
    written from the same arrays on another thread: a shipped detector must not change
    them (holes of NaN included)."""
    spec = get_detector(method)
    if not spec.available():
        pytest.skip(f"{method} needs {spec.missing()}")
    rng = np.random.default_rng(5)
    shape = (len(names), 96, 80)
    scale = 1.0 if method == "model" else 3000.0
    before = (rng.random(shape) * scale).astype(np.float32)
    after = (before * 1.1 + rng.random(shape) * scale * 0.2).astype(np.float32)
    before[:, :9, :7] = np.nan
    after[:, 50:53, :] = np.nan
    want = before.copy(), after.copy()
    spec.run(before, after, names, gsd, {})
    np.testing.assert_array_equal(before, want[0])  # NaN where NaN, every value kept
    np.testing.assert_array_equal(after, want[1])
