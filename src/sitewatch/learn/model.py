"""A compact siamese change network in plain PyTorch.

One encoder is shared by both dates, with features at 1/4, 1/8, 1/16 and 1/32 of the
input: this module's depthwise-separable convolutions, or EfficientNet-Lite0 started from
ImageNet weights (:mod:`sitewatch.learn.effnet`). Two decoders read it:

- a building decoder, applied to each date alone, gives a building mask per date;
- a change decoder reads, at every scale, the absolute difference of the two dates'
  features together with their sum, and gives the change mask.

Inputs are RGB in [0, 1] normalised by :data:`MEAN`/:data:`STD`; outputs are logits at
the input's resolution (computed at 1/4, then interpolated).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn

MEAN = (0.40, 0.40, 0.37)
STD = (0.20, 0.19, 0.19)
WIDTHS = (16, 32, 64, 96, 128)


class SepConv(nn.Sequential):
    """Depthwise 3x3 then pointwise 1x1, each with batch norm and ReLU."""

    def __init__(self, cin: int, cout: int, stride: int = 1) -> None:
        super().__init__(
            nn.Conv2d(cin, cin, 3, stride=stride, padding=1, groups=cin, bias=False),
            nn.BatchNorm2d(cin), nn.ReLU(inplace=True),
            nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
        )


class Encoder(nn.Module):
    """A stem to 1/2, then one stage per further width, each halving the size: features
    at 1/4, 1/8, 1/16 (and 1/32 with five widths, for the context of large buildings)."""

    def __init__(self, widths: tuple[int, ...] = WIDTHS) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, widths[0], 3, stride=2, padding=1, bias=False),
                                  nn.BatchNorm2d(widths[0]), nn.ReLU(inplace=True))
        self.stages = nn.ModuleList(
            nn.Sequential(SepConv(cin, cout, 2), *[SepConv(cout, cout)
                                                   for _ in range(2 if i == 2 else 1)])
            for i, (cin, cout) in enumerate(zip(widths[:-1], widths[1:], strict=True)))

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        feats, y = [], self.stem(x)
        for stage in self.stages:
            y = stage(y)
            feats.append(y)
        return feats


class Decoder(nn.Module):
    """U-Net-like top-down path from 1/16 to 1/4, then a 1x1 head."""

    def __init__(self, widths: tuple[int, ...], mult: int = 1, out: int = 1) -> None:
        super().__init__()
        w = [c * mult for c in widths[1:]]
        d = 32
        self.lat = nn.ModuleList(nn.Conv2d(c, d, 1) for c in w)
        self.fuse = nn.ModuleList(SepConv(d, d) for _ in w[:-1])
        self.head = nn.Sequential(SepConv(d, d), nn.Conv2d(d, out, 1))

    def forward(self, feats: list[torch.Tensor]) -> torch.Tensor:
        y = self.lat[-1](feats[-1])
        for i in range(len(feats) - 2, -1, -1):
            y = F.interpolate(y, size=feats[i].shape[-2:], mode="bilinear",
                              align_corners=False)
            y = self.fuse[i](y + self.lat[i](feats[i]))
        return self.head(y)


#: the encoders a ChangeNet can have: this module's own (trained from scratch) and
#: EfficientNet-Lite0 (:mod:`sitewatch.learn.effnet`, started from ImageNet)
ENCODERS = ("sepconv", "efficientnet-lite0")


class ChangeNet(nn.Module):
    def __init__(self, widths: tuple[int, ...] = WIDTHS, encoder: str = "sepconv") -> None:
        super().__init__()
        if encoder not in ENCODERS:
            raise ValueError(f"unknown encoder {encoder!r}: one of {', '.join(ENCODERS)}")
        mean, std = MEAN, STD
        self.encoder: nn.Module
        if encoder == "efficientnet-lite0":
            from sitewatch.learn import effnet

            self.encoder = effnet.Lite0Encoder()
            widths, mean, std = effnet.LITE0_WIDTHS, effnet.MEAN, effnet.STD
        else:
            self.encoder = Encoder(widths)
        self.widths = widths
        self.buildings = Decoder(widths, 1)
        self.change = Decoder(widths, 2)
        self.mean: torch.Tensor
        self.std: torch.Tensor
        self.register_buffer("mean", torch.tensor(mean).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(std).view(1, 3, 1, 1))

    def forward(self, a: torch.Tensor, b: torch.Tensor, buildings: bool = True
                ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
        """(change logits, building logits of a, building logits of b), each (n, 1, h, w)
        at the input's size; the building maps are None when ``buildings`` is False."""
        size = a.shape[-2:]
        fa = self.encoder((a - self.mean) / self.std)
        fb = self.encoder((b - self.mean) / self.std)
        diff = [torch.cat([(x - y).abs(), x + y], dim=1) for x, y in zip(fa, fb, strict=True)]

        def up(t: torch.Tensor) -> torch.Tensor:
            return F.interpolate(t, size=size, mode="bilinear", align_corners=False)

        if not buildings:
            return up(self.change(diff)), None, None
        return up(self.change(diff)), up(self.buildings(fa)), up(self.buildings(fb))


class Probabilities(nn.Module):
    """Change, building-before and building-after probabilities stacked (n, 3, h, w): what
    inference and the ONNX export compute."""

    def __init__(self, net: ChangeNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        change, ba, bb = self.net(a, b)
        assert ba is not None and bb is not None
        return torch.sigmoid(torch.cat([change, ba, bb], dim=1))
