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
