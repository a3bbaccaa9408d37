#!/usr/bin/env python3
"""Pooled precision, recall and F1 of ``sitewatch detect`` on the labelled shared pairs.

Runs the real command path (``detect_files``: read both files, detect, write the mask)
on every pair of LEVIR-CD tiles and DSIFN-CD, then scores the written masks against
the labels (> 127 = change). Pixels the mask marks as no data (255) count as unchanged.
For the learned model, LEVIR-CD is left out: the shipped weights were trained on those
tiles, so their scores there would not be accuracy (its held-out figures come from
``make model-cv``). Also scores the Landsat-7 Taizhou pair (30 m, 6 bands, ENVI) on its
sparse labels: only the pixels of ``change.bmp`` and ``unchanged.bmp`` are scored
(reported apart, not pooled).

    python scripts/evaluate_detect.py [--method cva] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
import rasterio

from sitewatch.config import samples_dir
from sitewatch.pipeline.pair import detect_files

DATASETS = {"levir-cd": "levir-cd/tiles256", "dsifn-cd": "dsifn-cd"}


def counts(pred: np.ndarray, truth: np.ndarray) -> tuple[int, int, int]:
    p, t = pred == 1, truth
    return int((p & t).sum()), int((p & ~t).sum()), int((~p & t).sum())


def prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    iou = tp / (tp + fp + fn) if tp + fp + fn else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
            "iou": round(iou, 4), "tp": tp, "fp": fp, "fn": fn}


def evaluate(method: str) -> dict[str, dict[str, float]]:
    root = samples_dir()
    totals: dict[str, list[int]] = {}
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, sub in DATASETS.items():
            if method == "model" and name == "levir-cd":
                continue  # training data of the shipped weights
            acc = [0, 0, 0]
            for a in sorted((root / sub / "A").glob("*.png")):
                b, label = root / sub / "B" / a.name, root / sub / "label" / a.name
                out = Path(tmp) / f"{name}_{a.stem}.tif"
                detect_files(a, b, out, method)
                with rasterio.open(out) as m, rasterio.open(label) as lab:
                    tp, fp, fn = counts(m.read(1), lab.read(1) > 127)
                acc = [acc[0] + tp, acc[1] + fp, acc[2] + fn]
            totals[name] = acc
        pooled = [sum(v[i] for v in totals.values()) for i in range(3)]
        result = {k: prf(*v) for k, v in totals.items()}
        result["pooled"] = prf(*pooled)
        result["taizhou"] = taizhou(root, Path(tmp) / "taizhou.tif", method)
    return result


def taizhou(root: Path, out: Path, method: str) -> dict[str, float]:
    d = root / "landsat-taizhou-nanjing" / "Taizhou"
    detect_files(d / "2000TM", d / "2003TM", out, method)
    with rasterio.open(out) as m, rasterio.open(d / "change.bmp") as c, \
            rasterio.open(d / "unchanged.bmp") as u:
        pred, changed, unchanged = m.read(1) == 1, c.read(1) > 127, u.read(1) > 127
    tp, fn = int((pred & changed).sum()), int((~pred & changed).sum())
    return prf(tp, int((pred & unchanged).sum()), fn)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--method", default="cva")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    res = evaluate(args.method)
    if args.json:
        json.dump(res, sys.stdout, indent=2)
        print()
        return 0
    print(f"method {args.method}: pooled pixel scores of the written masks")
    if args.method == "model":
        print("(LEVIR-CD left out: the shipped weights were trained on it; see make model-cv)")
    print(f"{'dataset':10s} {'precision':>9s} {'recall':>7s} {'F1':>6s} {'IoU':>6s}")
    for k, v in res.items():
        print(f"{k:10s} {v['precision']:9.3f} {v['recall']:7.3f} {v['f1']:6.3f} {v['iou']:6.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
