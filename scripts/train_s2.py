"""The multispectral change model's recipe (``make model-s2``) and its leave-cities-out
cross-validation (``make model-s2-cv``), on the 14 OSCD training cities.

    python scripts/train_s2.py --cv [--steps N] [--folds K]   # writes CV_JSON
    python scripts/train_s2.py [--steps N] [--out WEIGHTS]    # ships weights + ONNX export

Cross-validation: the cities (in ``images/train.txt`` order) are dealt into K folds of
whole cities; each fold's model is trained on the other folds' cities only and predicts
its own cities whole (tiled, as ``detect`` does), so every city is scored once, by a model
that never saw a pixel of it. The decision threshold is the one of best pooled F1 over
those held-out predictions (0.05 steps), so the pooled CV F1 at that threshold is slightly
optimistic; the F1 at 0.5 is given beside it. The classical ``cva`` detector is scored on
the same cities through the real path (``detect_files`` on the two band folders). The
final model (no ``--cv``) trains the same recipe on all 14 cities and carries the CV
figures and threshold of CV_JSON in its meta.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import rasterio

from sitewatch.config import samples_dir
from sitewatch.learn.s2data import City, oscd_root
from sitewatch.learn.s2infer import S2Predictor, default_weights, export_onnx, load, save
from sitewatch.learn.s2model import BANDS, CORE, DECODER, WIDTHS
from sitewatch.learn.s2train import (
    S2Recipe,
    best_threshold,
    counts,
    cross_validate,
    predict,
    prf,
    score,
    train,
)
from sitewatch.pipeline.oscd import load_cities

CV_JSON = Path(__file__).resolve().parents[1] / "src/sitewatch/learn/weights/s2changenet-cv.json"
LANDSAT = ("blue", "green", "red", "nir", "swir16", "swir22")


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def cva_scores(root: Path, cities: list[City]) -> dict[str, dict[str, float]]:
    """``sitewatch detect --method cva`` on each city's two band folders, scored."""
    from sitewatch.pipeline.pair import detect_files

    res: dict[str, dict[str, float]] = {}
    tot = [0, 0, 0]
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for c in cities:
            d = root / "images" / c.name
            out = Path(tmp) / f"{c.name}.tif"
            detect_files(d / "imgs_1", d / "imgs_2", out, "cva")
            with rasterio.open(out) as m:
                tp, fp, fn = counts(m.read(1) == 1, c.label)
            res[c.name] = prf(tp, fp, fn)
            tot = [tot[0] + tp, tot[1] + fp, tot[2] + fn]
    res["pooled"] = prf(*tot)
    return res


def run_cv(cities: list[City], recipe: S2Recipe, k: int, root: Path, threads: int = 2
           ) -> dict[str, Any]:
    t0 = time.perf_counter()
    cv = cross_validate(cities, recipe, k, log, {"all": BANDS, "core4": CORE,
                                                  "landsat6": LANDSAT}, threads)
    wall = time.perf_counter() - t0
    labels = [c.label for c in cities]
    thr, _ = best_threshold([cv["prob"]["all"][c.name] for c in cities], labels)
    out: dict[str, Any] = {"folds": cv["folds"], "threshold": thr, "recipe": recipe.as_dict(),
                           "train_wall_s": round(wall, 1)}
    for key, probs in cv["prob"].items():
        out[key] = score(probs, cities, thr)
        out[f"{key}_at_0.5"] = score(probs, cities, 0.5)["pooled"]
    out["cva"] = cva_scores(root, cities)
    return out


def cv_meta(cv: dict[str, Any]) -> dict[str, Any]:
    """What the weights' meta keeps of a cross-validation: the threshold and pooled scores."""
    return {"threshold": cv.get("threshold", 0.5),
            "cv": {k: cv[k]["pooled"] for k in ("all", "core4", "landsat6", "cva") if k in cv}}


def table(cv: dict[str, Any]) -> str:
    rows = [f"{'city':12s} {'P':>6s} {'R':>6s} {'F1':>6s} {'F1 4b':>6s} {'F1 cva':>6s}"]
    for name in cv["all"]:
        m, m4, c = cv["all"][name], cv["core4"][name], cv["cva"][name]
        rows.append(f"{name:12s} {m['precision']:6.3f} {m['recall']:6.3f} {m['f1']:6.3f} "
                    f"{m4['f1']:6.3f} {c['f1']:6.3f}")
    return "\n".join(rows)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cv", action="store_true", help="cross-validate instead of training")
    ap.add_argument("--steps", type=int, default=S2Recipe.steps)
    ap.add_argument("--folds", type=int, default=3)
    ap.add_argument("--widths", default=",".join(map(str, WIDTHS)),
                    help="encoder widths, 3 or 4 stages (default %(default)s)")
    ap.add_argument("--out", type=Path, default=default_weights())
    ap.add_argument("--cv-json", type=Path, default=CV_JSON)
    ap.add_argument("--threads", type=int, default=2, help="PyTorch threads (default 2)")
    ap.add_argument("--stamp", action="store_true",
                    help="only put CV_JSON's threshold and figures into the meta of --out "
                         "(trained before the cross-validation ended) and export it again")
    args = ap.parse_args()
    if args.stamp:
        net, meta = load(args.out)
        save(net, args.out, meta | cv_meta(json.loads(args.cv_json.read_text(encoding="utf-8"))))
        log(f"stamped {args.out}; exported {export_onnx(args.out, args.out.with_suffix('.onnx'))}")
        return 0
    root = oscd_root(samples_dir())
    recipe = S2Recipe(steps=args.steps, widths=tuple(int(w) for w in args.widths.split(",")))
    log("reading the OSCD cities")
    cities = load_cities(root)
    if args.cv:
        cv = run_cv(cities, recipe, args.folds, root, args.threads)
        args.cv_json.write_text(json.dumps(cv, indent=1) + "\n", encoding="utf-8")
        print(table(cv))
        print(f"threshold {cv['threshold']}; pooled: model {cv['all']['pooled']}, "
              f"4 bands {cv['core4']['pooled']}, cva {cv['cva']['pooled']}")
        return 0
    t0 = time.perf_counter()
    net = train(cities, recipe, log, threads=args.threads)
    wall = round(time.perf_counter() - t0, 1)
    cv = json.loads(args.cv_json.read_text(encoding="utf-8")) if args.cv_json.is_file() else {}
    meta = {"architecture": "S2ChangeNet", "widths": list(recipe.widths), "decoder": DECODER,
            "bands": list(BANDS), "core_bands": list(CORE),
            "input": "each date standardised per band (median, 5-95 % spread): counts or "
                     "reflectance, any offset",
            "data": "OSCD training cities (14), Sentinel-2 L1C, labels CC BY-NC-SA 4.0 "
                    "(Daudt et al., IGARSS 2018)",
            "recipe": recipe.as_dict(), "train_wall_s": wall} | cv_meta(cv)
    save(net, args.out, meta)
    onnx = export_onnx(args.out, args.out.with_suffix(".onnx"))
    # parity of the two engines on a real city
    city = cities[0]
    pt = predict(S2Predictor.open(args.out), city)
    ox = predict(S2Predictor.open(onnx), city)
    log(f"wrote {args.out} and {onnx}; torch/onnx max difference "
        f"{float(np.abs(pt - ox).max()):.2e} on {city.name}; training {wall} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
