"""ChangeNet weights files: where the shipped ones are, how they are written and read.

A weights file is a ``torch.save`` dictionary: ``state_dict`` (float16 to keep it small)
and ``meta`` (JSON: architecture, the data and recipe used, metrics, versions). It loads
offline with ``weights_only=True``: no pickled code runs. Inference needs this module and
:mod:`sitewatch.learn.model`, never the training code.
"""

from __future__ import annotations

import json
import pickle
from collections.abc import Callable
from importlib.resources import files
from pathlib import Path
from typing import Any

from sitewatch.errors import InputFileError
from sitewatch.fileio import atomic_path

__all__ = ["DEFAULT_WEIGHTS", "FORMAT", "default_weights", "load", "load_state", "save"]

FORMAT = "sitewatch-changenet-1"
DEFAULT_WEIGHTS = "changenet-v3.pt"


def default_weights() -> Path:
    """The weights shipped with sitewatch (``sitewatch/learn/weights/``)."""
    return Path(str(files("sitewatch.learn").joinpath("weights", DEFAULT_WEIGHTS)))


def require_torch() -> Any:
    """The torch module, or one InputFileError saying how to install it."""
    try:
        import torch
    except ImportError as exc:
        raise InputFileError("PyTorch is not installed: pip install 'sitewatch[model]', "
                             "or give an ONNX model (.onnx) as --weights") from exc
    return torch


def save(net: Any, out: Path, meta: dict[str, Any]) -> None:
    """Write ``net``'s state (floats as float16) and ``meta`` to ``out``, atomically."""
    torch = require_torch()
    state = {k: (v.half() if v.is_floating_point() else v) for k, v in net.state_dict().items()}
    with atomic_path(out) as tmp:
        torch.save({"state_dict": state, "meta": json.dumps(meta)}, tmp)


def load(path: Path) -> tuple[Any, dict[str, Any]]:
    """A ChangeNet in eval mode, float32, and its meta; offline, no pickled code."""
    from sitewatch.learn.model import ChangeNet

    return load_state(path, FORMAT, lambda meta: ChangeNet(tuple(meta["widths"]),
                                                       meta.get("encoder", "sepconv")),
                      "ChangeNet", "train with 'sitewatch model train' or give --weights",
                      "'sitewatch model train' or an ONNX model (.onnx)")


def load_state(path: Path, fmt: str, build: Callable[[dict[str, Any]], Any], kind: str,
               missing: str, written_by: str) -> tuple[Any, dict[str, Any]]:
    """The network ``build(meta)`` with the state of the weights file at ``path`` (its
    meta's ``format`` must be ``fmt``), in eval mode, float32, and its meta; offline, no
    pickled code. Every failure is one InputFileError naming the file (``kind``: the
    network's name; ``missing``, ``written_by``: what to do about it)."""
    torch = require_torch()
    p = Path(path)
    if not p.is_file():
        raise InputFileError(f"weights {p} do not exist: {missing}")
    try:
        blob = torch.load(p, map_location="cpu", weights_only=True)
        meta = json.loads(blob["meta"])
        if meta.get("format") != fmt:
            raise InputFileError(f"{p} is not a sitewatch {kind} weights file")
        net = build(meta)
        net.load_state_dict({k: v.float() if v.is_floating_point() else v
                             for k, v in blob["state_dict"].items()})
    except (OSError, RuntimeError, KeyError, ValueError, TypeError, EOFError, AttributeError,
            pickle.UnpicklingError) as exc:
        if isinstance(exc, InputFileError):
            raise
        first = str(exc).splitlines()[0][:120] if str(exc) else ""
        # torch's own reason for a file that is not one of its archives is a bare number
        reason = first if len(first) > 8 else "not a PyTorch weights archive"
        raise InputFileError(f"{p} is not a readable weights file ({reason}): give a .pt "
                             f"written by {written_by}") from exc
    net.eval()
    return net, meta
