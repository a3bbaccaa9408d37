"""A compact siamese change network for multispectral 10-30 m imagery (Sentinel-2 first).

Inputs are the twelve bands Sentinel-2 L1C and L2A products share (:data:`BANDS`: all
but B10 ``cirrus``), each date standardised on its own by :func:`standardise` (per band:
minus the median, over the 5-95 % spread), so counts, reflectance and either processing
baseline (the -1000 offset of baseline 04.00) give the same input. A band the imagery
lacks is zero and flagged absent in the ``present`` vector, which the network reads as a
learned bias of its first layer: with band dropout in training it works from the four
bands every 10 m source has (blue, green, red, NIR) up to all twelve.

One encoder is shared by both dates (a 2x2 stride-2 stem, depthwise-separable stages at
1/2, 1/4 and 1/8, and with four widths one more at 1/16); a decoder reads, at each
scale, the absolute difference of the dates' features beside their sum, top-down to 1/2;
the change logit at full resolution is that map upsampled plus a per-pixel linear term
of the band differences.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn

from sitewatch.learn.model import SepConv
from sitewatch.learn.s2bands import BANDS as BANDS
from sitewatch.learn.s2bands import CORE as CORE
from sitewatch.learn.s2bands import arrange as arrange
from sitewatch.learn.s2bands import standardise as standardise

WIDTHS = (16, 32, 48)
#: channels of the decoder
DECODER = 24


def multiple(widths: tuple[int, ...]) -> int:
    """Height and width of an input must be multiples of this (2 ** the number of stages)."""
    return int(2 ** len(widths))


class S2Encoder(nn.Module):
    def __init__(self, widths: tuple[int, ...], bands: int) -> None:
        super().__init__()
        if len(widths) not in (3, 4):
            raise ValueError(f"S2ChangeNet has 3 or 4 stages, not {len(widths)}")
        w0, w2, w3 = widths[:3]
        self.stem = nn.Conv2d(bands, w0, 2, stride=2, bias=False)
        self.presence = nn.Linear(bands, w0, bias=False)
        self.stem_bn = nn.BatchNorm2d(w0)
        self.s2 = nn.Sequential(SepConv(w0, w2, 2), SepConv(w2, w2))
        self.s3 = nn.Sequential(SepConv(w2, w3, 2), SepConv(w3, w3))
        # v2: a stage at 1/16 for context (a few MACs per pixel at that scale)
        self.s4 = (nn.Sequential(SepConv(w3, widths[3], 2), SepConv(widths[3], widths[3]))
                   if len(widths) == 4 else None)

    def forward(self, x: torch.Tensor, present: torch.Tensor) -> list[torch.Tensor]:
        y = self.stem(x)
        y = F.relu(self.stem_bn(y + self.presence(present)[:, :, None, None]))
        f2 = self.s2(y)
        f3 = self.s3(f2)
        return [y, f2, f3] if self.s4 is None else [y, f2, f3, self.s4(f3)]


class S2ChangeNet(nn.Module):
    """(before, after, present) -> change logits (n, 1, h, w); inputs (n, 12, h, w)
    standardised, h and w multiples of :func:`multiple` of ``widths``; ``present`` (n, 12)."""

    def __init__(self, widths: tuple[int, ...] = WIDTHS, bands: int = len(BANDS)) -> None:
        super().__init__()
        self.widths = tuple(widths)
        self.encoder = S2Encoder(widths, bands)
        d = DECODER
        self.lat = nn.ModuleList(nn.Conv2d(2 * c, d, 1) for c in widths)
        self.fuse = SepConv(d, d)
        # the decoder's steps at 1/8 (v2 only; v1's weights have no such key)
        self.fuse_deep = nn.ModuleList(SepConv(d, d) for _ in widths[3:])
        self.head = nn.Conv2d(d, 1, 1)
        self.pixel = nn.Conv2d(bands, 1, 1)

    def forward(self, a: torch.Tensor, b: torch.Tensor, present: torch.Tensor) -> torch.Tensor:
        fa, fb = self.encoder(a, present), self.encoder(b, present)
        diff = [torch.cat([(x - y).abs(), x + y], dim=1) for x, y in zip(fa, fb, strict=True)]
        y = self.lat[-1](diff[-1])
        for i in range(len(diff) - 2, -1, -1):
            y = F.interpolate(y, scale_factor=2.0, mode="bilinear", align_corners=False)
            y = y + self.lat[i](diff[i])
            y = self.fuse_deep[i - 2](y) if i >= 2 else self.fuse(y) if i else F.relu(y)
        logit = F.interpolate(self.head(y), scale_factor=2.0, mode="bilinear",
                              align_corners=False)
        return logit + self.pixel((a - b).abs())


class S2Probabilities(nn.Module):
    """Change probability (n, 1, h, w): what inference and the ONNX export compute."""

    def __init__(self, net: S2ChangeNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, a: torch.Tensor, b: torch.Tensor, present: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.net(a, b, present))
