"""The multispectral change model's weights, ONNX export and tiled inference.

Weights are a ``torch.save`` dictionary like the RGB model's (:mod:`sitewatch.learn.weights`):
``state_dict`` as float16 and ``meta`` (JSON) with ``format`` :data:`FORMAT`, the
architecture, the recipe, the cross-validated figures and the decision threshold. The
shipped ones are ``weights/s2changenet-v1.pt`` and their ONNX export beside them, which
ONNX Runtime runs by default (same probabilities within 1e-4); PyTorch is the fallback.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sitewatch.errors import InputFileError
from sitewatch.learn import weights as weight_files
from sitewatch.learn.infer import _even_tiles, _ramp, open_onnx, write_onnx

if TYPE_CHECKING:
    from sitewatch.learn.s2bands import Standardiser

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

    @property
    def multiple(self) -> int:
        """The network's input height and width must be multiples of this."""
        from sitewatch.learn.s2model import WIDTHS, multiple

        widths = getattr(self.model, "widths", None) or self.meta.get("widths", WIDTHS)
        return multiple(tuple(widths))

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
                      tile: int = TILE, overlap: int = OVERLAP,
                      slots: Sequence[int] | None = None,
                      prepared: Standardiser | None = None) -> np.ndarray:
        """(h, w) change probability of two standardised (12, h, w) dates, in tiles of at
        most ``tile`` px overlapping by about ``overlap`` px, blended with weights that fall
        to the tile edges. ``slots``: ``a`` and ``b`` hold only these of the model's 12
        bands, in this order; each tile is given the others as zeros as it is cut (no
        12-band copy of the whole images). ``prepared``: ``a`` and ``b`` are the dates as
        they were read, and it standardises each tile as it is cut (``slots`` unused)."""
        from sitewatch.learn.s2bands import BANDS

        _, h, w = a.shape
        step = self.multiple
        present = np.ascontiguousarray(present, dtype=np.float32)
        th, ys = _even_tiles(h, tile, overlap)
        tw, xs = _even_tiles(w, tile, overlap)
        ph, pw = (-th) % step, (-tw) % step
        # one buffer per date for every tile: the bands no tile fills stay zero
        bufs: list[np.ndarray | None] = [None, None]

        def tile_of(k: int, x: np.ndarray, y0: int, x0: int) -> np.ndarray:
            part = x[:, y0:y0 + th, x0:x0 + tw]
            if (prepared is None and slots is None and not (ph or pw)
                    and part.flags.c_contiguous and part.dtype == np.float32):
                return part  # the model's input as it is
            if bufs[k] is None:
                bufs[k] = np.zeros((len(BANDS), th + ph, tw + pw), np.float32)
            buf = bufs[k]
            assert buf is not None
            if prepared is not None:
                prepared.cut(k, x, y0, x0, th, tw, buf)
            elif slots is None:
                buf[:, :th, :tw] = part
            else:
                for i, slot in enumerate(slots):
                    buf[slot, :th, :tw] = part[i]
            if ph or pw:
                reflect_pad(buf, th, tw)
            return buf

        if len(ys) == 1 and len(xs) == 1:  # one tile: no blending
            return self._run(tile_of(0, a, 0, 0), tile_of(1, b, 0, 0), present)[:h, :w]
        wt = np.outer(_ramp(th, overlap if h > th else 0), _ramp(tw, overlap if w > tw else 0))
        wsum = np.zeros((h, w), np.float32)
        for y in ys:
            for x in xs:
                wsum[y:y + th, x:x + tw] += wt
        acc = np.zeros((h, w), np.float32)
        for y in ys:
            for x in xs:
                prob = self._run(tile_of(0, a, y, x), tile_of(1, b, y, x), present)[:th, :tw]
                # each tile's share, its weight over the sum of the weights there
                acc[y:y + th, x:x + tw] += prob * (wt / np.maximum(wsum[y:y + th, x:x + tw],
                                                                   1e-6))
        return acc


def reflect_pad(buf: np.ndarray, th: int, tw: int) -> None:
    """Fill ``buf[:, th:, :]`` and ``buf[:, :, tw:]`` from ``buf[:, :th, :tw]`` as
    ``np.pad(..., mode="reflect")`` would (rows first, then columns), in place."""
    hh, ww = buf.shape[1:]
    if hh - th > th - 1 or ww - tw > tw - 1:  # a pad wider than the tile: reflect again
        buf[:] = np.pad(buf[:, :th, :tw], ((0, 0), (0, hh - th), (0, ww - tw)),
                        mode="reflect")
        return
    if hh > th:
        buf[:, th:, :tw] = buf[:, th - 2 - np.arange(hh - th), :tw]
    if ww > tw:
        buf[:, :, tw:] = buf[:, :, tw - 2 - np.arange(ww - tw)]


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
