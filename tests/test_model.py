"""The learned detector: training steps, evaluation, tiled inference on a 1024 x 1024
georeferenced pair, ONNX parity, and the shipped weights loading offline."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import rasterio
from conftest import Result, one_error_line

torch = pytest.importorskip("torch")

from sitewatch.imagery.write import write_cog  # noqa: E402
from sitewatch.learn.data import load_corpus, read_mask, read_rgb, sample  # noqa: E402
from sitewatch.learn.infer import (  # noqa: E402
    Predictor,
    default_weights,
    export_onnx,
    normalise_pair,
)
from sitewatch.learn.train import Recipe, train  # noqa: E402
from sitewatch.learn.weights import load  # noqa: E402


@pytest.fixture(scope="module")
def tiny_weights(samples: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("w") / "tiny.pt"
    train([samples / "xbd", samples / "georef-rasters" / "spacenet-solaris"], out,
          Recipe(steps=3, batch=2, crop=128), backgrounds=[samples / "dsifn-cd"])
    return out


def test_shipped_weights_load_offline() -> None:
    path = default_weights()
    assert path.is_file() and path.stat().st_size < 5 * 1024 * 1024
    net, meta = load(path)
    assert meta["format"] == "sitewatch-changenet-1" and meta["recipe"]["steps"] >= 1000
    # DSIFN-CD only ever lends its images as paste targets: its labels stay unseen
    assert "dsifn-cd" not in meta["data"] and meta["backgrounds"] == ["dsifn-cd"]
    assert sum(p.numel() for p in net.parameters()) > 10_000


def test_training_samples_are_real_pairs_and_synthetic_buildings(samples: Path) -> None:
    corpus = load_corpus([samples / "xbd", samples / "georef-rasters" / "spacenet-solaris"],
                         [samples / "dsifn-cd"])
    assert len(corpus.pairs) == 2 and len(corpus.scenes) == 3 and len(corpus.backgrounds) == 20
    rng = np.random.default_rng(1)
    kinds = set()
    for _ in range(30):
        p = sample(corpus, rng, 128)
        assert p.a.shape == p.b.shape == (128, 128, 3) and p.change.shape == (128, 128)
        assert p.a.min() >= 0 and p.a.max() <= 1
        kinds.add(p.name.rsplit("/", 1)[-1])
    assert {"removed", "pasted"} <= kinds
    # a change pair's changed areas are pasted into other scenes, without building labels
    levir = load_corpus([samples / "levir-cd" / "tiles256"])
    assert len(levir.pairs) == 9 and len(levir.donors) == 8 and not levir.scenes
    made = [sample(levir, rng, 128) for _ in range(20)]
    pasted = [p for p in made if p.name.endswith("/pasted")]
    assert pasted and all(p.build_a is None and p.build_b is None for p in pasted)
    assert any(p.change.any() for p in pasted)


def test_train_steps_then_eval(cli: Callable[..., Result], samples: Path, tiny_weights: Path,
                               tmp_path: Path) -> None:
    _, meta = load(tiny_weights)
    assert meta["recipe"]["steps"] == 3 and meta["data"] == ["xbd", "spacenet-solaris"]
    res = cli("model", "eval", "--data", samples / "levir-cd" / "tiles256", "--weights",
              tiny_weights, "--json")
    assert res.code == 0, res.err
    doc = json.loads(res.out)
    assert doc["pairs"] == 9 and set(doc["pooled"]) >= {"precision", "recall", "f1", "iou"}
    assert "levir-cd" in doc["per_dataset"]
    line = one_error_line(cli("model", "eval", "--data", tmp_path))
    assert "no A/B/label" in line


def _levir_mosaic(samples: Path, ab: str) -> np.ndarray:
    tiles = sorted((samples / "levir-cd" / "tiles256" / ab).glob("*.png"))
    imgs = [read_rgb(t) for t in tiles]
    rows = [np.concatenate([imgs[(r * 4 + c) % len(imgs)] for c in range(4)], axis=1)
            for r in range(4)]
    return np.concatenate(rows, axis=0)  # 1024 x 1024 x 3 of real pixels


def test_tiled_inference_on_a_1024_pair_keeps_the_georeference(
        cli: Callable[..., Result], samples: Path, tmp_path: Path) -> None:
    from affine import Affine

    tf = Affine(0.5, 0, 620000.0, 0, -0.5, 3340000.0)
    paths = []
    for ab in ("A", "B"):
        img = (_levir_mosaic(samples, ab) * 255).astype(np.uint8)
        path = tmp_path / f"{ab}.tif"
        write_cog(path, np.moveaxis(img, -1, 0), "EPSG:32614", tf, nodata=None,
                  descriptions=["red", "green", "blue"])
        paths.append(path)
    mask = tmp_path / "mask.tif"
    gj = tmp_path / "changes.geojson"
    res = cli("detect", *paths, "--out", mask, "--method", "model", "--geojson", gj)
    assert res.code == 0, res.err
    with rasterio.open(mask) as ds:
        assert (ds.width, ds.height) == (1024, 1024) and ds.crs.to_epsg() == 32614
        assert ds.transform == tf and set(np.unique(ds.read(1))) <= {0, 1, 255}
    # tiles blend without seams: 512 px tiles agree with one 1024 px pass
    pred = Predictor.open()
    a = np.moveaxis(_levir_mosaic(samples, "A"), -1, 0).astype(np.float32)
    b = np.moveaxis(_levir_mosaic(samples, "B"), -1, 0).astype(np.float32)
    tiled = pred.probabilities(a, b, tile=512)
    whole = pred.probabilities(a, b, tile=1024)
    assert tiled.shape == (3, 1024, 1024)
    assert float(np.abs(tiled - whole).mean()) < 0.03


def test_fine_imagery_of_known_pixel_size_is_brought_to_the_models_scale(
        cli: Callable[..., Result], samples: Path) -> None:
    pred = Predictor.open()
    tile = "test_2_0000_0000.png"
    a, b = (np.moveaxis(read_rgb(samples / "levir-cd" / "tiles256" / d / tile), -1, 0)
            for d in ("A", "B"))
    native = pred.probabilities(np.ascontiguousarray(a), np.ascontiguousarray(b))[0] >= 0.5
    # the same 0.5 m tile enlarged four times, as if it were 0.125 m aerial imagery
    big = [np.ascontiguousarray(np.repeat(np.repeat(x, 4, axis=1), 4, axis=2)) for x in (a, b)]
    fine = pred.probabilities(*big, gsd_m=0.125)
    assert fine.shape == (3, 1024, 1024)
    expect = np.repeat(np.repeat(native, 4, axis=0), 4, axis=1)
    got = fine[0] >= 0.5
    assert (got & expect).sum() / max((got | expect).sum(), 1) > 0.8
    line = one_error_line(cli("model", "eval", "--data", samples / "dsifn-cd", "--gsd", "-1"))
    assert "--gsd" in line


def test_coarse_imagery_of_known_pixel_size_is_enlarged_to_the_models_scale(
        samples: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Real LEVIR-CD pairs made three times coarser (1.5 m): with their pixel size known
    the model sees them enlarged to its 0.5 m and finds the change it misses at 1.5 m;
    the blocks it enlarges one at a time agree with one enlarged block."""
    import sitewatch.learn.infer as infer

    sys.path.insert(0, str(Path(__file__).parents[1] / "scripts"))
    from train_model import coarser

    from sitewatch.learn.train import Scores

    pred = Predictor.open()
    label = np.zeros((1024, 1024), np.float32)
    tiles = sorted((samples / "levir-cd" / "tiles256" / "label").glob("*.png"))
    for k in range(16):
        r, c = divmod(k, 4)
        label[r * 256:(r + 1) * 256, c * 256:(c + 1) * 256] = \
            read_mask(tiles[k % len(tiles)]) == 1
    truth = coarser(label, 3) >= 0.5
    a, b = normalise_pair(*(np.ascontiguousarray(np.moveaxis(
        coarser(_levir_mosaic(samples, d).astype(np.float32), 3), -1, 0)) for d in "AB"))
    known = pred.probabilities(a, b, gsd_m=1.5)
    assert known.shape == (3, 341, 341) and known.min() >= 0 and known.max() <= 1
    f1 = {}
    for name, prob in (("known", known), ("unknown", pred.probabilities(a, b))):
        s = Scores()
        s.add(prob[0] >= 0.5, truth, np.ones_like(truth))
        f1[name] = s.as_dict()["f1"]
    assert f1["known"] > 0.6 and f1["known"] > f1["unknown"] + 0.2, f1
    # blocks of 170 px of the input (4 blocks): they differ from the whole about as much
    # as the model's own tiles of one enlarged image do (512 against 1024 px tiles: mean
    # 0.025, 98.6% of the change decisions alike; these blocks 0.035)
    monkeypatch.setattr(infer, "ENLARGE_BLOCK", 512)
    blocks = pred.probabilities(a, b, gsd_m=1.5)
    assert float(np.abs(blocks - known).mean()) < 0.045
    assert ((blocks[0] >= 0.5) == (known[0] >= 0.5)).mean() > 0.97


def test_unknown_pixel_size_is_estimated_from_the_sizes_of_the_buildings(
        cli: Callable[..., Result], samples: Path, tmp_path: Path) -> None:
    """A real xBD pair made three times coarser (about 1.9 m) and saved as plain PNGs:
    ``detect`` reads it enlarged, as the sizes of its buildings say, and says so; the
    same pair at its own scale, a pair with nothing on it, and a pair given --gsd are
    read as they are."""
    from PIL import Image

    sys.path.insert(0, str(Path(__file__).parents[1] / "scripts"))
    from train_model import coarser

    pred = Predictor.open()
    pngs = {}
    for when in ("pre", "post"):
        rgb = read_rgb(samples / "xbd" / "images" /
                       f"joplin-tornado_00000001_{when}_disaster.png").astype(np.float32)
        pngs[when] = {1: rgb, 3: coarser(rgb, 3)}
    estimates = {}
    for c in (1, 3):
        a, b = normalise_pair(*(np.ascontiguousarray(np.moveaxis(pngs[w][c], -1, 0))
                                for w in ("pre", "post")))
        estimates[c] = pred.as_detect_reads(a, b)[1]
    assert estimates[1] is None, estimates
    assert estimates[3] is not None and 1.0 <= estimates[3] <= 2.0, estimates
    flat = np.full((3, 300, 300), 0.4, np.float32)
    assert pred.estimate_gsd(flat, flat) is None
    files = []
    for when in ("pre", "post"):
        path = tmp_path / f"{when}.png"
        Image.fromarray((pngs[when][3] * 255).round().astype(np.uint8)).save(path)
        files.append(path)
    res = cli("detect", *files, "--out", tmp_path / "m.tif", "--method", "model")
    assert res.code == 0, res.err
    said = re.search(r"pixel size unknown: read as about ([\d.]+) m imagery", res.out)
    assert said and 1.0 <= float(said.group(1)) <= 2.0, res.out
    res = cli("detect", *files, "--out", tmp_path / "g.tif", "--method", "model",
              "--gsd", "1.9")
    assert res.code == 0, res.err
    assert "pixel size unknown" not in res.out


def test_onnx_export_gives_the_same_results(tiny_weights: Path, samples: Path,
                                            tmp_path: Path) -> None:
    onnx_path = export_onnx(tiny_weights, tmp_path / "m.onnx")
    pt, ox = Predictor.open(tiny_weights), Predictor.open(onnx_path)
    assert ox.backend == "onnx"
    a = np.moveaxis(_levir_mosaic(samples, "A")[:600, :700], -1, 0).astype(np.float32)
    b = np.moveaxis(_levir_mosaic(samples, "B")[:600, :700], -1, 0).astype(np.float32)
    assert np.abs(pt.probabilities(a, b) - ox.probabilities(a, b)).max() < 1e-4


def test_model_method_in_analyze_and_bad_weights(cli: Callable[..., Result], levir_site: str,
                                                 tmp_path: Path) -> None:
    res = cli("analyze", levir_site, "--method", "model", "--json")
    assert res.code == 0, res.err
    doc = json.loads(res.out)
    assert doc["method"] == "model"
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not weights")
    line = one_error_line(cli("analyze", levir_site, "--method", "model", "--weights", bad))
    assert "weights" in line
    line = one_error_line(cli("analyze", levir_site, "--method", "cva", "--weights", bad))
    assert "--method model" in line


def test_shipped_model_on_unseen_dsifn_land_cover_labels(cli: Callable[..., Result],
                                                         samples: Path) -> None:
    dsifn = samples / "dsifn-cd"
    doc = json.loads(cli("model", "eval", "--data", dsifn, "--json").out)
    assert doc["target"] == "any"  # the default
    raw = doc["pooled"]
    gated = json.loads(cli("model", "eval", "--data", dsifn, "--target", "buildings",
                           "--json").out)["pooled"]
    # CVA scores F1 0.368 on these pairs (scripts/evaluate_detect.py). Their labels are
    # mostly land-cover change, not buildings: v3 scores 0.370 here (v2 0.426), having
    # gained building change in cross-validation (0.684 against 0.602, MODEL_CARD.md);
    # the building gate gives up recall for precision
    assert raw["f1"] > 0.35 and raw["precision"] > 0.5
    assert raw["recall"] >= gated["recall"] and gated["precision"] >= raw["precision"]
    assert "--target" in one_error_line(cli("model", "eval", "--data", dsifn, "--target",
                                            "roads"))


def test_cross_validation_scores_every_levir_tile_once_by_a_model_that_never_saw_it(
        samples: Path) -> None:
    script = Path(__file__).parents[1] / "scripts" / "train_model.py"
    proc = subprocess.run([sys.executable, str(script), "--cv", "--steps", "2", "--encoder",
                           "sepconv"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    tiles = sorted(p.name for p in (samples / "levir-cd" / "tiles256" / "A").glob("*.png"))
    first, second = out["folds"]
    assert not set(first) & set(second) and sorted(first + second) == tiles
    positives = sum(int((read_mask(samples / "levir-cd" / "tiles256" / "label" / t)).sum())
                    for t in tiles)
    assert {"buildings@0.5", "any@0.5", "any@0.5 x2", "any@0.5 x4", "any@0.5 1.5 m",
            "any@0.5 1.5 m unknown", "any@0.5 1.5 m estimated"} <= set(out["scores"])
    for key, s in out["scores"].items():
        if key.endswith((" m", " unknown", " estimated")):  # made coarser: fewer pixels
            assert 0 < s["tp"] + s["fn"] < positives
            continue
        zoom = int(key.split(" x")[1]) if " x" in key else 1
        assert s["tp"] + s["fn"] == positives * zoom * zoom


def test_one_fold_of_the_shipped_recipe_scores_only_its_own_tiles(samples: Path,
                                                                  tmp_path: Path) -> None:
    script = Path(__file__).parents[1] / "scripts" / "train_model.py"
    proc = subprocess.run([sys.executable, str(script), "--cv", "--steps", "2", "--fold", "1",
                           "--keep", str(tmp_path)], capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "fold 1 only" in proc.stdout
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    tiles = sorted(p.name for p in (samples / "levir-cd" / "tiles256" / "A").glob("*.png"))
    assert out["folds"] == [tiles[1::2]]
    positives = sum(int(read_mask(samples / "levir-cd" / "tiles256" / "label" / t).sum())
                    for t in tiles[1::2])
    assert out["scores"]["any@0.5"]["tp"] + out["scores"]["any@0.5"]["fn"] == positives
    # only fold 1 was trained, with the default (ImageNet-started) encoder
    assert [p.name for p in tmp_path.iterdir()] == ["fold1.pt"]
    assert load(tmp_path / "fold1.pt")[1]["encoder"] == "efficientnet-lite0"


@pytest.mark.parametrize(("args", "named"), [
    (["--fold", "1"], "--fold"), (["--cv", "--fold", "2"], "--fold"),
    (["--cv", "--keep", "no-such-folder"], "no-such-folder"), (["--steps", "0"], "--steps"),
    (["--encoder", "resnet"], "resnet"), (["--imagenet", "missing.pth"], "missing.pth")])
def test_the_training_script_refuses_bad_options_before_training(
        args: list[str], named: str, capsys: pytest.CaptureFixture[str]) -> None:
    import importlib.util

    path = Path(__file__).parents[1] / "scripts" / "train_model.py"
    spec = importlib.util.spec_from_file_location("train_model", path)
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    with pytest.raises(SystemExit) as stop:
        script.main(args)
    assert stop.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("train_model.py: error:") and named in err[-1]


@pytest.mark.parametrize("n", [1, 31, 256, 768, 769, 1024, 2048, 3001, 4096, 10980])
def test_tiles_cover_the_image_evenly_with_their_overlap(n: int) -> None:
    from sitewatch.learn.infer import OVERLAP, TILE, _even_tiles

    size, starts = _even_tiles(n, TILE, OVERLAP)
    assert starts[0] == 0 and starts[-1] + size == n and size <= max(TILE, n)
    if n > TILE:
        assert size % 32 == 0
        shared = [a + size - b for a, b in zip(starts, starts[1:], strict=False)]
        assert all(OVERLAP - 1 <= s < size for s in shared)
        # the fewest tiles: one fewer could not cover the image with that overlap
        k = len(starts)
        assert (k - 1) * TILE - (k - 2) * OVERLAP < n
