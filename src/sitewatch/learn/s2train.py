"""Training and leave-cities-out cross-validation of the multispectral change model.

Inference needs :mod:`sitewatch.learn.s2infer` and :mod:`sitewatch.learn.s2model`,
never this module.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from sitewatch.learn.s2data import City, sample
from sitewatch.learn.s2infer import S2Predictor
from sitewatch.learn.s2model import BANDS, WIDTHS, S2ChangeNet


@dataclass(frozen=True)
class S2Recipe:
    steps: int = 600
    batch: int = 8
    crop: int = 128
    lr: float = 3e-3
    weight_decay: float = 1e-4
    pos_weight: float = 4.0
    dice_weight: float = 0.5
    seed: int = 0
    widths: tuple[int, ...] = WIDTHS

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def train(cities: list[City], recipe: S2Recipe, log: Callable[[str], None] | None = None,
          threads: int = 2) -> S2ChangeNet:
    """A network trained on crops of ``cities`` (weighted BCE + dice, AdamW, one-cycle)."""
    import torch
    import torch.nn.functional as F  # noqa: N812

    torch.set_num_threads(threads)
    torch.manual_seed(recipe.seed)
    rng = np.random.default_rng(recipe.seed)
    net = S2ChangeNet(recipe.widths)
    opt = torch.optim.AdamW(net.parameters(), lr=recipe.lr, weight_decay=recipe.weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=recipe.lr, total_steps=recipe.steps,
                                                pct_start=0.1)
    pw = torch.tensor([recipe.pos_weight])
    net.train()
    t0, run = time.perf_counter(), 0.0
    for step in range(recipe.steps):
        a, b, pres, lab = (torch.from_numpy(x) for x in sample(cities, rng, recipe.batch,
                                                                recipe.crop))
        logit = net(a, b, pres)
        bce = F.binary_cross_entropy_with_logits(logit, lab, pos_weight=pw)
        p = torch.sigmoid(logit)
        inter = (p * lab).sum()
        dice = 1 - (2 * inter + 1) / (p.sum() + lab.sum() + 1)
        loss = bce + recipe.dice_weight * dice
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        value = float(loss.detach())
        run = 0.98 * run + 0.02 * value if step else value
        if log and (step % 100 == 0 or step == recipe.steps - 1):
            log(f"step {step}/{recipe.steps} loss {run:.4f} ({time.perf_counter() - t0:.0f} s)")
    net.eval()
    return net


def predict(pred: S2Predictor, city: City, bands: tuple[str, ...] = BANDS) -> np.ndarray:
    """(h, w) change probability of a whole city with only ``bands`` present."""
    present = np.array([n in bands for n in BANDS], np.float32)
    a = city.a.astype(np.float32) * present[:, None, None]
    b = city.b.astype(np.float32) * present[:, None, None]
    return pred.probabilities(a, b, present)


def counts(pred: np.ndarray, truth: np.ndarray) -> tuple[int, int, int]:
    t = truth.astype(bool)
    return int((pred & t).sum()), int((pred & ~t).sum()), int((~pred & t).sum())


def prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
            "tp": tp, "fp": fp, "fn": fn}


def best_threshold(probs: list[np.ndarray], labels: list[np.ndarray]) -> tuple[float, float]:
    """The threshold (0.05 steps) of highest pooled F1 and that F1."""
    best = (0.5, -1.0)
    for thr in np.arange(0.1, 0.951, 0.05):
        tp = fp = fn = 0
        for p, y in zip(probs, labels, strict=True):
            c = counts(p >= thr, y)
            tp, fp, fn = tp + c[0], fp + c[1], fn + c[2]
        f1 = prf(tp, fp, fn)["f1"]
        if f1 > best[1]:
            best = (round(float(thr), 2), f1)
    return best


def folds(names: list[str], k: int) -> list[list[str]]:
    """``k`` folds of whole cities, dealt in the given order (round robin)."""
    return [names[i::k] for i in range(k)]


def cross_validate(cities: list[City], recipe: S2Recipe, k: int,
                   log: Callable[[str], None] | None = None,
                   subsets: dict[str, tuple[str, ...]] | None = None, threads: int = 2
                   ) -> dict[str, Any]:
    """Train on k-1 folds of cities, predict the held-out fold's whole cities: ``prob``
    holds, for each named band subset (default: all bands), each city's probabilities."""
    subsets = subsets or {"all": BANDS}
    out: dict[str, Any] = {"folds": [], "prob": {key: {} for key in subsets}}
    for i, held in enumerate(folds([c.name for c in cities], k)):
        train_set = [c for c in cities if c.name not in held]
        if log:
            log(f"fold {i + 1}/{k}: holding out {', '.join(held)}")
        t0 = time.perf_counter()
        net = train(train_set, recipe, log, threads)
        pred = S2Predictor("torch", net, None, {})
        for c in cities:
            if c.name in held:
                for key, bands in subsets.items():
                    out["prob"][key][c.name] = predict(pred, c, bands)
        out["folds"].append({"held_out": held, "train_s": round(time.perf_counter() - t0, 1)})
    return out


def score(probs: dict[str, np.ndarray], cities: list[City], threshold: float
          ) -> dict[str, dict[str, float]]:
    """Per-city and pooled precision, recall, F1 at ``threshold``."""
    res: dict[str, dict[str, float]] = {}
    tot = [0, 0, 0]
    for c in cities:
        tp, fp, fn = counts(probs[c.name] >= threshold, c.label)
        res[c.name] = prf(tp, fp, fn)
        tot = [tot[0] + tp, tot[1] + fp, tot[2] + fn]
    res["pooled"] = prf(*tot)
    return res
