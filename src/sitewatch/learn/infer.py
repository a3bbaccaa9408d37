"""Inference on images of any size and band count, with PyTorch or ONNX Runtime.

Bands are mapped to the model's RGB inputs by name (red, green, blue; else the first
three; one band is repeated). Eight-bit data is divided by 255; anything else is
stretched between the 2nd and 98th percentiles of both dates together, so that a change
of brightness between dates survives. Large images are cut into overlapping tiles whose
predictions are blended with weights that fall to the tile edges.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import ndimage

from sitewatch.errors import InputFileError

# ``default_weights`` is re-exported: it lived here before weights.py
from sitewatch.learn.weights import default_weights as default_weights
from sitewatch.learn.weights import load
from sitewatch.parallel import over_rows

#: the largest tile inferred at once: ONNX Runtime infers tiles of 512-768 px fastest
#: here (13-14 Mpx/s against 9 for one of 2048 px); tiles are spread evenly
TILE = 768
# the model was trained at about 0.5 m: imagery whose pixel size is known is brought to
# 0.5 m before inference when it is finer than FINEST_M (at 0.25 m the model does as well
# unresampled: MODEL_CARD.md) or coarser than COARSEST_M, enlarged at most MAX_ENLARGE
# times (LEVIR-CD tiles made coarser, scored by a model that never saw them: MODEL_CARD.md)
MODEL_GSD_M = 0.5
FINEST_M = 0.25
COARSEST_M = 0.6
MAX_ENLARGE = 4.0
#: coarse imagery is enlarged in blocks of about this many model pixels a side (plus a
#: margin of context), so that no enlarged copy of the whole pair is held
ENLARGE_BLOCK = 2048
ENLARGE_MARGIN = 64
OVERLAP = 64
#: imagery of unknown pixel size: the model factors tried (model pixels per input pixel;
#: 0.25: imagery four times finer than the model's 0.5 m, 3: 1.5 m imagery), on a crop of
#: at most ESTIMATE_CROP px; buildings must cover ESTIMATE_MIN_BUILT of it at some factor
ESTIMATE_FACTORS = (0.25, 0.5, 1.0, 2.0, 3.0, 4.0)
ESTIMATE_CROP = 320
ESTIMATE_MIN_BUILT = 0.005
#: an enlarged crop is cut to at most this many model pixels a side (its centre)
ESTIMATE_MODEL_PX = 640
#: the factors that find at least this share of the most buildings found at any factor
ESTIMATE_PLATEAU = 0.7


def to_rgb(stack: np.ndarray, names: Sequence[str]) -> np.ndarray:
    """(bands, h, w) -> (3, h, w) by band names."""
    names = list(names)
    if all(n in names for n in ("red", "green", "blue")):
        idx = [names.index(n) for n in ("red", "green", "blue")]
        if idx == list(range(idx[0], idx[0] + 3)):  # already in order: a view, no copy
            return stack[idx[0]:idx[0] + 3]
        return stack[idx]
    if stack.shape[0] >= 3:
        return stack[:3]
    return np.repeat(stack[:1], 3, axis=0)


#: the scale's percentiles are read from a regular sample of at most this many values
SCALE_SAMPLE = 1_000_000


@dataclass(frozen=True)
class Scale:
    """The shared scale of two dates: x -> clip((x - lo) / span, 0, 1), NaN to 0;
    ``blank``: every value to 0 (no finite value was found to scale by). ``clip`` and
    ``nan`` False say that no value lies outside the scale and that none is NaN: those
    steps are then left out (they would change nothing)."""

    lo: float = 0.0
    span: float = 1.0
    blank: bool = False
    clip: bool = True
    nan: bool = True

    def apply(self, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """``x`` scaled into ``out`` (a new float32 array by default)."""
        if out is None:
            out = np.empty(x.shape, np.float32)
        if self.blank:
            out.fill(0)
            return out
        # the same values as clip(nan_to_num((x - lo) / span), 0, 1), in one buffer
        if self.lo == 0:
            np.divide(x, np.float32(self.span), out=out, dtype=np.float32)
        else:
            np.subtract(x, self.lo, out=out, dtype=np.float32)
            out /= np.float32(self.span)
        if self.clip:
            np.clip(out, 0, 1, out=out)  # +-inf land on 1 and 0; NaN stays NaN
        if self.nan:
            np.copyto(out, 0, where=np.isnan(out))
        return out


def pair_scale(a: np.ndarray, b: np.ndarray) -> Scale:
    """The scale that brings both dates to [0, 1]: eight-bit data divided by 255, data
    in [0, 1] kept, anything else stretched between the 2nd and 98th percentiles of a
    regular sample of both."""
    step = max(1, (a.size + b.size) // SCALE_SAMPLE)
    both = np.concatenate([a.ravel()[::step], b.ravel()[::step]])
    both = both[np.isfinite(both)]
    if both.size == 0:
        return Scale(blank=True)
    lo, hi, nan = _finite_range(a, b)
    if lo >= 0 and 1.5 < hi <= 255 and np.allclose(both[:10000], np.round(both[:10000])):
        scale_lo, scale_hi = 0.0, 255.0
    elif lo >= 0 and hi <= 1.0 and float(np.percentile(both, 98)) > 0.5:
        scale_lo, scale_hi = 0.0, 1.0
    else:
        scale_lo, scale_hi = (float(v) for v in np.percentile(both, [2, 98]))
    span = max(scale_hi - scale_lo, 1e-6)
    # x / span lies in [0, 1] for every x in [0, span] (division is rounded correctly),
    # so eight-bit data and data in [0, 1] need no clipping
    inside = scale_lo == 0 and lo >= 0 and hi <= float(np.float32(span))
    return Scale(scale_lo, span, clip=not inside, nan=nan)


def normalise_pair(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both dates to [0, 1] with one shared scale (:func:`pair_scale`); NaN become 0."""
    scale = pair_scale(a, b)
    out = np.empty(a.shape, np.float32), np.empty(b.shape, np.float32)

    def norm(r0: int, r1: int) -> None:
        for x, y in zip((a, b), out, strict=True):
            scale.apply(x[:, r0:r1], y[:, r0:r1])

    over_rows(max(a.shape[1], b.shape[1]), _NORM_ROWS, norm)
    return out


#: rows of a block of :func:`normalise_pair`
_NORM_ROWS = 256


def _finite_range(a: np.ndarray, b: np.ndarray) -> tuple[float, float, bool]:
    """(smallest, largest, whether any is NaN) of the values of both arrays, NaN left out
    of the smallest and largest (NaN when all are)."""
    parts: list[tuple[float, float, bool]] = []

    def block(r0: int, r1: int) -> None:
        for x in (a[:, r0:r1], b[:, r0:r1]):
            if x.size == 0:
                continue
            # min and max are NaN where a value is NaN: only those blocks pay for the
            # NaN-skipping reductions (fmin and fmax: NaN when all are, without the
            # warning of nanmin, whose filter is not safe to set on threads)
            xlo, xhi = np.min(x), np.max(x)
            if np.isnan(xlo) or np.isnan(xhi):
                xlo, xhi = np.fmin.reduce(x, axis=None), np.fmax.reduce(x, axis=None)
                parts.append((float(xlo), float(xhi), True))
            else:
                parts.append((float(xlo), float(xhi), False))

    over_rows(max(a.shape[1], b.shape[1]), _NORM_ROWS, block)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all NaN: NaN
        return (float(np.nanmin([p[0] for p in parts])),
                float(np.nanmax([p[1] for p in parts])), any(p[2] for p in parts))


def _resample(x: np.ndarray, factor: float, shape: tuple[int, int] | None = None
              ) -> np.ndarray:
    """(bands, h, w) scaled by ``factor`` < 1 (or brought to exactly ``shape``, smaller):
    smoothed against aliasing, then bilinear."""
    zoom = (1.0, factor, factor) if shape is None else \
        (1.0, shape[0] / x.shape[1], shape[1] / x.shape[2])
    sigma = 0.45 / zoom[1]
    smooth = ndimage.gaussian_filter(x, sigma=(0, sigma, sigma))
    out = ndimage.zoom(smooth, zoom, order=1, grid_mode=True, mode="nearest")
    return np.ascontiguousarray(out, dtype=np.float32)


def _enlarge(x: np.ndarray, factor: float) -> np.ndarray:
    """(bands, h, w) scaled by ``factor`` > 1, bilinear."""
    out = ndimage.zoom(x, (1, factor, factor), order=1, grid_mode=True, mode="nearest")
    return np.ascontiguousarray(out, dtype=np.float32)


def _ramp(n: int, overlap: int) -> np.ndarray:
    w = np.ones(n, np.float32)
    k = min(overlap, n // 2)
    if k > 0:
        ramp = (np.arange(k, dtype=np.float32) + 0.5) / k
        w[:k] = ramp
        w[-k:] = ramp[::-1]
    return w


def _even_tiles(n: int, tile: int, overlap: int) -> tuple[int, list[int]]:
    """(size, starts) of the fewest tiles of at most ``tile`` px (sizes a multiple of 32)
    that cover ``n`` px with about ``overlap`` px shared by neighbours, spread evenly: a
    2048 px image is one 2048 px tile, not 25 of 512 px that infer 1.6 times its pixels."""
    if n <= tile:
        return n, [0]
    k = math.ceil((n - overlap) / (tile - overlap))
    size = min(tile, math.ceil((n + (k - 1) * overlap) / k / 32) * 32)
    return size, [round(i * (n - size) / (k - 1)) for i in range(k)]


@dataclass
class Predictor:
    """A loaded model: ``backend`` is "torch" or "onnx"; ``source`` is its file."""

    backend: str
    model: Any
    source: Path
    meta: dict[str, Any]

    @classmethod
    def open(cls, weights: Path | str | None = None) -> Predictor:
        """The given weights (.pt with PyTorch, .onnx with ONNX Runtime); by default the
        shipped model on the fastest engine present: its ONNX export with ONNX Runtime when
        installed (same probabilities within 1e-4), else PyTorch."""
        path = Path(weights) if weights else default_weights()
        if weights is None and _has_onnxruntime() and default_onnx().is_file():
            path = default_onnx()
        if path.suffix.lower() == ".onnx":
            sess, meta = open_onnx(path)
            return cls("onnx", sess, path, meta)
        net, meta = load(path)
        _torch_threads()
        return cls("torch", net, path, meta)

    def _run(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """(3, h, w) x2 in [0, 1], h and w multiples of 32 -> (3, h, w) probabilities."""
        if self.backend == "onnx":
            out = self.model.run(None, {"before": a[None], "after": b[None]})[0]
            return np.asarray(out[0], dtype=np.float32)
        import torch

        with torch.inference_mode():
            from sitewatch.learn.model import Probabilities

            out = Probabilities(self.model)(torch.from_numpy(a[None]), torch.from_numpy(b[None]))
        return out[0].numpy()

    def probabilities(self, a: np.ndarray, b: np.ndarray, tile: int = TILE,
                      overlap: int = OVERLAP, gsd_m: float | None = None,
                      scale: Scale | None = None) -> np.ndarray:
        """(3, h, w) change / building-before / building-after probabilities of two
        normalised (3, h, w) images, tiled with blended overlaps; or of two images as
        they are with the ``scale`` that normalises them (:func:`pair_scale`), each tile
        scaled as it is cut, without a scaled copy of the whole images. Imagery with a
        known pixel size finer than :data:`FINEST_M` or coarser than :data:`COARSEST_M`
        is resampled to :data:`MODEL_GSD_M` first (enlarged at most :data:`MAX_ENLARGE`
        times), and the probabilities back to the input's grid."""
        if gsd_m is not None and gsd_m > COARSEST_M:
            return self._enlarged(a, b, min(gsd_m / MODEL_GSD_M, MAX_ENLARGE), tile,
                                  overlap, scale)
        if gsd_m is not None and 0 < gsd_m < FINEST_M:
            if scale is not None:
                a, b = scale.apply(a), scale.apply(b)
            shape = a.shape[1:]
            factor = gsd_m / MODEL_GSD_M
            prob = self.probabilities(_resample(a, factor), _resample(b, factor), tile, overlap)
            return np.clip(ndimage.zoom(prob, (1, shape[0] / prob.shape[1],
                                               shape[1] / prob.shape[2]), order=1), 0, 1)
        _, h, w = a.shape
        th, ys = _even_tiles(h, tile, overlap)
        tw, xs = _even_tiles(w, tile, overlap)
        if len(ys) == 1 and len(xs) == 1:  # one tile: no blending
            return self._tile(a, b, th, tw, scale)[:, :h, :w]
        wt = np.outer(_ramp(th, overlap if h > th else 0), _ramp(tw, overlap if w > tw else 0))
        wsum = np.zeros((h, w), np.float32)
        for y in ys:
            for x in xs:
                wsum[y:y + th, x:x + tw] += wt
        acc = np.zeros((3, h, w), np.float32)
        for y in ys:
            for x in xs:
                prob = self._tile(a[:, y:y + th, x:x + tw], b[:, y:y + th, x:x + tw], th, tw,
                                  scale)
                part = prob[:, :th, :tw]
                # each tile's share, its weight over the sum of the weights there
                part *= wt / np.maximum(wsum[y:y + th, x:x + tw], 1e-6)
                acc[:, y:y + th, x:x + tw] += part
        return acc

    def as_detect_reads(self, a: np.ndarray, b: np.ndarray, gsd_m: float | None = None,
                        scale: Scale | None = None) -> tuple[np.ndarray, float | None]:
        """(probabilities, estimated pixel size or None) of a pair as ``detect`` reads it:
        at its known pixel size; of unknown pixel size, read again at the scale its
        buildings suggest (:meth:`estimate_gsd`) when they suggest another one."""
        prob = self.probabilities(a, b, gsd_m=gsd_m, scale=scale)
        if gsd_m is not None:
            return prob, None
        estimated = self.estimate_gsd(a, b, scale, native=prob)
        if estimated is not None:
            del prob
            prob = self.probabilities(a, b, gsd_m=estimated, scale=scale)
        return prob, estimated

    def estimate_gsd(self, a: np.ndarray, b: np.ndarray, scale: Scale | None = None,
                     native: np.ndarray | None = None) -> float | None:
        """The pixel size in metres at which the model reads a pair of unknown pixel size
        best, from the sizes of its buildings; None: as it is (0.5 m, or no buildings to
        judge by). ``native``: the pair's probabilities as it is, when the caller has them.

        The model finds buildings over a range of scales and loses them when they are too
        small (coarse imagery taken as 0.5 m) or too large. On a crop of the pair (the one
        of up to 3 x 3 with the most building at the model's own scale) the share of
        building pixels is measured at each of :data:`ESTIMATE_FACTORS`; the factors that
        find at least :data:`ESTIMATE_PLATEAU` of the most buildings found form a plateau,
        and the factor nearest its middle (in octaves; ties towards 1) is the estimate."""
        _, h, w = a.shape
        ch, cw = min(h, ESTIMATE_CROP), min(w, ESTIMATE_CROP)

        def crop(y: int, x: int) -> tuple[np.ndarray, np.ndarray]:
            pa, pb = a[:, y:y + ch, x:x + cw], b[:, y:y + ch, x:x + cw]
            if scale is not None:
                return scale.apply(pa), scale.apply(pb)
            return np.ascontiguousarray(pa), np.ascontiguousarray(pb)

        def built(prob: np.ndarray) -> float:
            return float((np.maximum(prob[1], prob[2]) >= 0.5).mean())

        starts = [(y, x) for y in sorted({0, (h - ch) // 2, h - ch})
                  for x in sorted({0, (w - cw) // 2, w - cw})]
        crops: dict[tuple[int, int], np.ndarray] = {}
        for y, x in starts:
            crops[(y, x)] = native[:, y:y + ch, x:x + cw] if native is not None else \
                self.probabilities(*crop(y, x))
        y, x = max(starts, key=lambda s: float(crops[s][1:].mean()))
        share = {1.0: built(crops[(y, x)])}
        ca, cb = crop(y, x)
        for f in ESTIMATE_FACTORS:
            if f == 1.0 or min(ch, cw) * f < 64:
                continue
            if f > 1:
                # the centre of the crop, at most ESTIMATE_MODEL_PX a side once enlarged
                sh, sw = (min(n, int(ESTIMATE_MODEL_PX / f)) for n in (ch, cw))
                y0, x0 = (ch - sh) // 2, (cw - sw) // 2
                win = (slice(None), slice(y0, y0 + sh), slice(x0, x0 + sw))
                prob = self.probabilities(_enlarge(ca[win], f), _enlarge(cb[win], f))
            else:
                prob = self.probabilities(_resample(ca, f), _resample(cb, f))
            share[f] = built(prob)
        top = max(share.values())
        if top < ESTIMATE_MIN_BUILT:
            return None
        plateau = [math.log2(f) for f, v in share.items() if v >= ESTIMATE_PLATEAU * top]
        mid = (min(plateau) + max(plateau)) / 2
        best = min(share, key=lambda f: (round(abs(math.log2(f) - mid), 6), abs(math.log2(f))))
        return None if best == 1.0 else MODEL_GSD_M * best

    def _enlarged(self, a: np.ndarray, b: np.ndarray, factor: float, tile: int,
                  overlap: int, scale: Scale | None) -> np.ndarray:
        """Probabilities of coarse imagery enlarged ``factor`` times for the model, block by
        block of the input (each with :data:`ENLARGE_MARGIN` model pixels of context on
        every side), brought back to the input's grid."""
        _, h, w = a.shape
        block = max(32, int(ENLARGE_BLOCK / factor))
        margin = int(math.ceil(ENLARGE_MARGIN / factor))
        out = np.empty((3, h, w), np.float32)
        for y0 in range(0, h, block):
            for x0 in range(0, w, block):
                y1, x1 = min(y0 + block, h), min(x0 + block, w)
                ya, xa = max(y0 - margin, 0), max(x0 - margin, 0)
                yb, xb = min(y1 + margin, h), min(x1 + margin, w)
                pa, pb = a[:, ya:yb, xa:xb], b[:, ya:yb, xa:xb]
                if scale is not None:
                    pa, pb = scale.apply(pa), scale.apply(pb)
                prob = self.probabilities(_enlarge(pa, factor), _enlarge(pb, factor), tile,
                                          overlap)
                small = np.clip(_resample(prob, 1 / factor, (yb - ya, xb - xa)), 0, 1)
                out[:, y0:y1, x0:x1] = small[:, y0 - ya:y1 - ya, x0 - xa:x1 - xa]
        return out

    def _tile(self, ta: np.ndarray, tb: np.ndarray, th: int, tw: int,
              scale: Scale | None = None) -> np.ndarray:
        """Probabilities of one tile (scaled by ``scale`` first when it is given), padded
        (reflected) to multiples of 32 for the net."""
        if scale is not None:
            ta, tb = scale.apply(ta), scale.apply(tb)
        ph, pw = (-th) % 32, (-tw) % 32
        if ph or pw:
            pad = ((0, 0), (0, ph), (0, pw))
            ta, tb = np.pad(ta, pad, mode="reflect"), np.pad(tb, pad, mode="reflect")
        return self._run(np.ascontiguousarray(ta), np.ascontiguousarray(tb))


def open_onnx(path: Path, threads: int = 0) -> tuple[Any, dict[str, Any]]:
    """(ONNX Runtime session on the CPU, the weights' meta stored in the model) of an
    exported sitewatch model; ``threads`` 0: ONNX Runtime's choice."""
    try:
        import onnxruntime as ort
    except ImportError as exc:
        raise InputFileError("onnxruntime is not installed: pip install "
                             "'sitewatch[model]'") from exc
    if not path.is_file():
        raise InputFileError(f"ONNX model {path} does not exist")
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    try:
        sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own exception types
        raise InputFileError(f"{path} is not a readable ONNX model ({exc})") from exc
    meta = json.loads(sess.get_modelmeta().custom_metadata_map.get(ONNX_META_KEY, "{}"))
    return sess, meta


#: ONNX metadata: the weights' meta (JSON) and the sha256 of the .pt file it came from
ONNX_META_KEY = "sitewatch_meta"
ONNX_SOURCE_KEY = "sitewatch_source_sha256"


def default_onnx() -> Path:
    """The ONNX export of the shipped weights, beside them (``make model`` refreshes it)."""
    return default_weights().with_suffix(".onnx")


def _has_onnxruntime() -> bool:
    import importlib.util

    return importlib.util.find_spec("onnxruntime") is not None


def _torch_threads() -> None:
    """PyTorch's thread count for small tiles on this machine: one thread per two cores
    (measured: two threads on two cores ran 8x slower per tile than one)."""
    import os

    import torch

    torch.set_num_threads(max(1, (os.cpu_count() or 2) // 2))


def export_onnx(weights: Path | None, out: Path) -> Path:
    """Write the model (change and building probabilities) as ONNX, any input size, with
    the weights' meta and the sha256 of the weights file in its metadata."""
    import torch

    from sitewatch.learn.model import Probabilities

    source = Path(weights) if weights else default_weights()
    net, meta = load(source)
    model = Probabilities(net).eval()
    dummy = (torch.rand(1, 3, 256, 256), torch.rand(1, 3, 256, 256))
    return write_onnx(model, dummy, ["before", "after"], source, meta, out)


def write_onnx(model: Any, dummy: tuple[Any, ...], inputs: list[str], source: Path,
               meta: dict[str, Any], out: Path) -> Path:
    """Export ``model`` (inputs ``inputs``, images of any height and width, output
    "probabilities") to ONNX at ``out``, atomically, with ``meta`` and the sha256 of the
    weights file ``source`` in its metadata."""
    import hashlib

    import onnx
    import torch

    from sitewatch.fileio import atomic_path

    axes = {name: {2: "height", 3: "width"} for name in ("before", "after", "probabilities")}
    with atomic_path(out) as tmp:
        torch.onnx.export(model, dummy, str(tmp), input_names=inputs,
                          output_names=["probabilities"], dynamic_axes=axes, opset_version=17,
                          dynamo=False)
        proto = onnx.load(str(tmp))
        digest = hashlib.sha256(source.read_bytes()).hexdigest()
        for key, value in ((ONNX_META_KEY, json.dumps(meta, sort_keys=True)),
                           (ONNX_SOURCE_KEY, digest)):
            entry = proto.metadata_props.add()
            entry.key, entry.value = key, value
        onnx.save(proto, str(tmp))
    return out
