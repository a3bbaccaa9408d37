#!/usr/bin/env python3
"""``sitewatch detect`` on the OSCD cities' two band folders, scored against their labels.

Runs the real command path (``detect_files`` on ``images/<city>/imgs_1`` and ``imgs_2``,
``auto`` unless ``--method`` says otherwise) and pools the pixel counts of the written masks
(no data counts as unchanged). These 14 cities are the shipped multispectral model's
TRAINING cities, so its figure here is a training-set figure, not accuracy: the honest ones
are the leave-cities-out cross-validation figures stored in the weights' meta, printed
beside it (``make model-s2-cv`` recomputes them).

    python scripts/evaluate_oscd.py [--method auto|s2model|cva] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import rasterio

from sitewatch.config import samples_dir
from sitewatch.learn.s2train import prf
from sitewatch.pipeline.pair import detect_files


def evaluate(method: str, cities: list[str] | None = None) -> dict[str, Any]:
    root = samples_dir() / "oscd"
    names = cities or [c.strip() for c in (root / "images" / "train.txt").read_text(
        encoding="utf-8").split(",") if c.strip()]
    res: dict[str, Any] = {}
    tot = [0, 0, 0]
    used = set()
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for city in names:
            d = root / "images" / city
            out = Path(tmp) / f"{city}.tif"
            used.add(detect_files(d / "imgs_1", d / "imgs_2", out, method).method)
            with rasterio.open(root / "train_labels" / city / "cm" / f"{city}-cm.tif") as lab, \
                    rasterio.open(out) as m:
                truth, pred = lab.read(1) == 2, m.read(1) == 1
            c = (int((pred & truth).sum()), int((pred & ~truth).sum()),
                 int((~pred & truth).sum()))
            res[city] = prf(*c)
            tot = [t + v for t, v in zip(tot, c, strict=True)]
    res["pooled"] = prf(*tot)
    res["methods_run"] = sorted(used)
    return res


def cv_figures() -> dict[str, Any]:
    """The cross-validated figures in the shipped weights' meta (none when not shipped)."""
    try:
        from sitewatch.learn.s2infer import S2Predictor

        return dict(S2Predictor.open().meta.get("cv", {}))
    except Exception:  # no model installed: nothing to print beside
        return {}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--method", default="auto")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    res = evaluate(args.method)
    cv = cv_figures()
    if args.json:
        json.dump({"training_set": res, "cross_validated": cv}, sys.stdout, indent=2)
        print()
        return 0
    print(f"OSCD, {args.method} (ran: {', '.join(res['methods_run'])}): pixel scores of the "
          "written masks")
    if "s2model" in res["methods_run"]:
        print("TRAINING-SET figures: these 14 cities trained the shipped s2model weights")
    print(f"{'city':12s} {'precision':>9s} {'recall':>7s} {'F1':>6s}")
    for k, v in res.items():
        if isinstance(v, dict):
            print(f"{k:12s} {v['precision']:9.3f} {v['recall']:7.3f} {v['f1']:6.3f}")
    if cv:
        print("cross-validated (leave cities out, from the weights' meta; honest figures):")
        for k, v in cv.items():
            print(f"  {k:10s} precision {v['precision']:.3f} recall {v['recall']:.3f} "
                  f"F1 {v['f1']:.3f}")
    return 0 if np.isfinite(res["pooled"]["f1"]) else 1


if __name__ == "__main__":
    sys.exit(main())
