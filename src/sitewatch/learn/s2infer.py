"""The multispectral change model's weights, ONNX export and tiled inference.

Weights are a ``torch.save`` dictionary like the RGB model's (:mod:`sitewatch.learn.weights`):
``state_dict`` as float16 and ``meta`` (JSON) with ``format`` :data:`FORMAT`, the
architecture, the recipe, the cross-validated figures and the decision threshold. The
shipped ones are ``weights/s2changenet-v1.pt`` and their ONNX export beside them, which
ONNX Runtime runs by default (same probabilities within 1e-4); PyTorch is the fallback.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np

from sitewatch.errors import InputFileError
from sitewatch.learn import weights as weight_files
from sitewatch.learn.infer import _ramp, _starts, open_onnx, write_onnx

FORMAT = "sitewatch-s2changenet-1"
DEFAULT_WEIGHTS = "s2changenet-v1.pt"
ONNX_META_KEY = "sitewatch_meta"
ONNX_SOURCE_KEY = "sitewatch_source_sha256"
TILE = 2048
OVERLAP = 32


def default_weights() -> Path:
    return Path(str(files("sitewatch.learn").joinpath("weights", DEFAULT_WEIGHTS)))


def default_onnx() -> Path:
    return default_weights().with_suffix(".onnx")


def save(net: Any, out: Path, meta: dict[str, Any]) -> None:
    """Write ``net``'s state (floats as float16) and ``meta`` to ``out``, atomically."""
    weight_files.save(net, out, meta | {"format": FORMAT})


def load(path: Path) -> tuple[Any, dict[str, Any]]:
    """An S2ChangeNet in eval mode, float32, and its meta; offline, no pickled code."""
    from sitewatch.learn.s2model import S2ChangeNet

    return weight_files.load_state(
        path, FORMAT, lambda meta: S2ChangeNet(tuple(meta["widths"])),
        "multispectral (S2ChangeNet)",
        "train them with 'python scripts/train_s2.py' or give weights",
        "scripts/train_s2.py or its ONNX export")


@dataclass
class S2Predictor:
    """A loaded model: ``backend`` is "torch" or "onnx"; ``source`` its file (None for a
    network in memory)."""

    backend: str
    model: Any
    source: Path | None
    meta: dict[str, Any]

    @classmethod
    def open(cls, weights: Path | str | None = None, threads: int = 0) -> S2Predictor:
        """The given weights (.pt with PyTorch, .onnx with ONNX Runtime); by default the
        shipped ONNX export when ONNX Runtime is installed, else the shipped .pt."""
        import importlib.util

        path = Path(weights) if weights else default_weights()
        if (weights is None and importlib.util.find_spec("onnxruntime") is not None
                and default_onnx().is_file()):
            path = default_onnx()
        if path.suffix.lower() == ".onnx":
            sess, meta = open_onnx(path, threads)
            if meta.get("format") != FORMAT:
                raise InputFileError(f"{path} is not an export of sitewatch's multispectral "
                                     "change model")
            return cls("onnx", sess, path, meta)
        net, meta = load(path)
        return cls("torch", net, path, meta)

    def _run(self, a: np.ndarray, b: np.ndarray, present: np.ndarray) -> np.ndarray:
        if self.backend == "onnx":
            out = self.model.run(None, {"before": a[None], "after": b[None],
                                        "present": present[None]})[0]
            return np.asarray(out[0, 0], dtype=np.float32)
        import torch

        from sitewatch.learn.s2model import S2Probabilities

        with torch.inference_mode():
            out = S2Probabilities(self.model)(torch.from_numpy(a[None]),
                                              torch.from_numpy(b[None]),
                                              torch.from_numpy(present[None]))
        return out[0, 0].numpy()

    def probabilities(self, a: np.ndarray, b: np.ndarray, present: np.ndarray,
                      tile: int = TILE, overlap: int = OVERLAP) -> np.ndarray:
        """(h, w) change probability of two standardised (12, h, w) dates, in tiles of
        ``tile`` px overlapping by ``overlap`` px, blended with weights that fall to the
        tile edges."""
        from sitewatch.learn.s2bands import MULTIPLE

        _, h, w = a.shape
        present = np.ascontiguousarray(present, dtype=np.float32)
        th, tw = min(tile, h), min(tile, w)
        ph, pw = (-th) % MULTIPLE, (-tw) % MULTIPLE
        if (th, tw) == (h, w) and not (ph or pw):  # one tile: no blending
            return self._run(np.ascontiguousarray(a, dtype=np.float32),
                             np.ascontiguousarray(b, dtype=np.float32), present)[:h, :w]
        acc = np.zeros((h, w), np.float32)
        wsum = np.zeros((h, w), np.float32)
        for y in _starts(h, th, th - overlap):
            for x in _starts(w, tw, tw - overlap):
                ta, tb = a[:, y:y + th, x:x + tw], b[:, y:y + th, x:x + tw]
                if ph or pw:
                    pad = ((0, 0), (0, ph), (0, pw))
                    ta, tb = np.pad(ta, pad, mode="reflect"), np.pad(tb, pad, mode="reflect")
                prob = self._run(np.ascontiguousarray(ta, dtype=np.float32),
                                 np.ascontiguousarray(tb, dtype=np.float32), present)
                wt = np.outer(_ramp(th, overlap if h > th else 0),
                              _ramp(tw, overlap if w > tw else 0))
                acc[y:y + th, x:x + tw] += prob[:th, :tw] * wt
                wsum[y:y + th, x:x + tw] += wt
        return acc / np.maximum(wsum, 1e-6)


def export_onnx(weights: Path | None, out: Path) -> Path:
    """Write the model (change probability) as ONNX, any input size, with the weights'
    meta and the sha256 of the weights file in its metadata."""
    torch = weight_files.require_torch()
    from sitewatch.learn.s2bands import BANDS
    from sitewatch.learn.s2model import S2Probabilities

    source = Path(weights) if weights else default_weights()
    net, meta = load(source)
    model = S2Probabilities(net).eval()
    nb = len(BANDS)
    dummy = (torch.rand(1, nb, 128, 128), torch.rand(1, nb, 128, 128), torch.ones(1, nb))
    return write_onnx(model, dummy, ["before", "after", "present"], source, meta, out)
