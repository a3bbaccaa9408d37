"""The shipped model runs on ONNX Runtime by default, with PyTorch's probabilities."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

pytest.importorskip("onnxruntime")
pytest.importorskip("torch")


def test_default_predictor_is_the_shipped_onnx_export_in_sync_with_the_weights(samples):
    import onnx

    from sitewatch.learn.data import read_rgb
    from sitewatch.learn.infer import (
        ONNX_SOURCE_KEY,
        Predictor,
        default_onnx,
        normalise_pair,
    )
    from sitewatch.learn.weights import default_weights

    fast = Predictor.open()
    assert fast.backend == "onnx" and fast.source == default_onnx()
    assert fast.meta.get("format")  # the weights' meta travels with the export
    props = {p.key: p.value for p in onnx.load(str(default_onnx())).metadata_props}
    assert props[ONNX_SOURCE_KEY] == hashlib.sha256(default_weights().read_bytes()).hexdigest(), \
        "the shipped ONNX export is stale: run 'make model' or 'sitewatch model export'"
    torch_model = Predictor.open(default_weights())
    assert torch_model.backend == "torch"
    tile = samples / "levir-cd" / "tiles256"
    a, b = (read_rgb(tile / ab / "test_2_0000_0000.png").transpose(2, 0, 1)
            for ab in ("A", "B"))
    na, nb = normalise_pair(a.astype(np.float32), b.astype(np.float32))
    diff = np.abs(fast.probabilities(na, nb) - torch_model.probabilities(na, nb))
    assert float(diff.max()) < 1e-4


@pytest.mark.parametrize("stretch", [False, True])
def test_tiles_scaled_as_they_are_cut_give_the_probabilities_of_scaled_images(
        samples, stretch: bool) -> None:
    """The detector scales each tile as it is cut instead of copying both images scaled:
    over blended tiles, with NaN holes and the stretched scale of non-8-bit data, the
    probabilities are those of the images scaled whole."""
    from sitewatch.learn.data import read_rgb
    from sitewatch.learn.infer import Predictor, normalise_pair, pair_scale

    tiles = samples / "levir-cd" / "tiles256" / "A"
    names = sorted(p.name for p in tiles.iterdir())[:4]
    a, b = (np.block([[read_rgb(tiles.parent / ab / n).transpose(2, 0, 1)
                       for n in names[:2]],
                      [read_rgb(tiles.parent / ab / n).transpose(2, 0, 1)
                       for n in names[2:]]]).astype(np.float32) for ab in ("A", "B"))
    if stretch:  # reflectance-like values, and a hole of no data
        a, b = a * 11.5 + 300, b * 12.5 + 250
        a[:, 40:60, 100:300] = np.nan
    scale = pair_scale(a, b)
    assert (scale.clip, scale.nan) == ((True, True) if stretch else (False, False))
    pred = Predictor.open()
    whole = pred.probabilities(*normalise_pair(a, b), tile=224, overlap=32)
    cut = pred.probabilities(a, b, tile=224, overlap=32, scale=scale)
    assert whole.shape == (3, 512, 512)
    np.testing.assert_allclose(cut, whole, rtol=0, atol=1e-6)
