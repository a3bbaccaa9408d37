#!/usr/bin/env python3
"""Building footprints of the shipped model against the labelled footprints of the shared data.

For every image with labelled buildings, the model's building output for that date (the
image given as both dates, read as ``detect`` reads it: at the scale its buildings suggest
when its pixel size is unknown) is turned into footprints by ``sitewatch.detect.footprints``,
and the footprints are matched one to one with the labels at IoU >= 0.5 (greedily, best
IoU first). Reported per set and pooled:

- instance precision and recall at IoU 0.5 (precision only where every building is
  labelled);
- the median relative error of the matched buildings' areas, and of the area ratios of
  every pair of matched buildings (target: under 10%), with how often the stated one-pixel
  uncertainty covers the error (1 sigma: about 68% if it is honest);
- the footprints' vertex counts.

Sets: the SpaceNet/solaris sample (0.5 m pan, 43 buildings, every one labelled), the xBD
Joplin pre-disaster images (2 x 1024 px, every building labelled), and the LEVIR-CD "after"
tiles (only the buildings that changed are labelled: recall and areas, no precision). The
Puerto Rico mask is 99% ones (a data mask, not buildings): it is reported as not scorable.
All three scored sets were in the shipped weights' training data (MODEL_CARD.md), so these
are training-set figures of the footprint step, not held-out accuracy.

    python scripts/evaluate_footprints.py [--json OUT] [--weights W.pt]
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import shapely
from shapely import wkt
from shapely.geometry import shape

from sitewatch.config import samples_dir
from sitewatch.detect.footprints import Footprint, footprints
from sitewatch.learn.infer import Predictor, normalise_pair

IOU = 0.5


def _png(path: Path) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(path).convert("RGB")).transpose(2, 0, 1).astype(np.float32)


def spacenet(root: Path) -> list[dict[str, Any]]:
    base = root / "georef-rasters" / "spacenet-solaris"
    with rasterio.open(base / "sample_geotiff.tif") as src:
        grey = src.read(1).astype(np.float32)
        inv = ~src.transform
        gsd = float(src.res[0])
    doc = json.loads((base / "geotiff_labels.geojson").read_text())
    truth = []
    for f in doc["features"]:
        g = shape(f["geometry"])
        truth += [shapely.transform(p, lambda xy: np.column_stack(inv * (xy[:, 0], xy[:, 1])))
                  for p in getattr(g, "geoms", [g])]
    return [{"name": "sample_geotiff", "image": np.stack([grey] * 3), "truth": truth,
             "gsd_m": gsd}]


def xbd(root: Path) -> list[dict[str, Any]]:
    out = []
    for label in sorted((root / "xbd" / "labels").glob("*_pre_disaster.json")):
        doc = json.loads(label.read_text())
        truth = [wkt.loads(f["wkt"]) for f in doc["features"]["xy"]
                 if f.get("properties", {}).get("feature_type", "building") == "building"]
        img = _png(root / "xbd" / "images" / doc["metadata"]["img_name"])
        # the PNGs are pan-sharpened near the pan band's size (0.63 m here): sizes are
        # compared in pixels, and the model is given no pixel size (as in training)
        out.append({"name": label.stem, "image": img, "truth": truth, "gsd_m": None})
    return out


def levir_after(root: Path) -> list[dict[str, Any]]:
    """The LEVIR-CD after images, each changed component of the label one building."""
    from rasterio import features

    out = []
    base = root / "levir-cd" / "tiles256"
    for path in sorted((base / "B").glob("*.png")):
        lab = _png(base / "label" / path.name)[0] > 127
        truth = [shapely.Polygon(g["coordinates"][0]) for g, v in
                 features.shapes(lab.astype(np.uint8), mask=lab, connectivity=4) if v == 1]
        out.append({"name": path.stem, "image": _png(path), "truth": truth, "gsd_m": 0.5})
    return out


def match(pred: list[Footprint], truth: list[Any]) -> list[tuple[int, int, float]]:
    """One-to-one (pred index, truth index, IoU) at IoU >= 0.5, best first."""
    tree = shapely.STRtree(truth)
    cands = []
    for i, f in enumerate(pred):
        for j in tree.query(f.polygon, predicate="intersects"):
            t = truth[int(j)]
            inter = f.polygon.intersection(t).area
            iou = inter / (f.polygon.area + t.area - inter)
            if iou >= IOU:
                cands.append((iou, i, int(j)))
    used_p: set[int] = set()
    used_t: set[int] = set()
    out = []
    for iou, i, j in sorted(cands, reverse=True):
        if i not in used_p and j not in used_t:
            used_p.add(i)
            used_t.add(j)
            out.append((i, j, iou))
    return out


def score(items: list[dict[str, Any]], pred: Predictor, all_labelled: bool) -> dict[str, Any]:
    n_pred = n_truth = 0
    area_err, area_cover, ratio_err, ratio_cover, vertices = [], [], [], [], []
    for it in items:
        a, b = normalise_pair(it["image"], it["image"])
        prob, _ = pred.as_detect_reads(a, b, it["gsd_m"])
        fps, _ = footprints(prob[1], it["gsd_m"] or 1.0)
        pairs = match(fps, it["truth"])
        n_pred += len(fps)
        n_truth += len(it["truth"])
        vertices += [f.vertices for f in fps]
        # areas in pixels (the labels' units); uncertainty: perimeter x 1 px
        got = [(fps[i].polygon.area, fps[i].polygon.length, it["truth"][j].area)
               for i, j, _ in pairs]
        for ap, sp, at in got:
            area_err.append(abs(ap - at) / at)
            area_cover.append(abs(ap - at) <= sp)
        for (a1, s1, t1), (a2, s2, t2) in itertools.combinations(got, 2):
            rp, rt = a1 / a2, t1 / t2
            ratio_err.append(abs(rp / rt - 1))
            ratio_cover.append(abs(rp - rt) <= rp * np.hypot(s1 / a1, s2 / a2))
        matched = len(pairs)
        it["matched"] = matched
    matched = sum(it["matched"] for it in items)
    out: dict[str, Any] = {
        "images": len(items), "buildings_labelled": n_truth, "footprints": n_pred,
        "matched_iou50": matched, "recall": round(matched / max(n_truth, 1), 3),
        "precision": round(matched / max(n_pred, 1), 3) if all_labelled else None,
        "median_area_error": round(float(np.median(area_err)), 3) if area_err else None,
        "area_within_uncertainty": round(float(np.mean(area_cover)), 3) if area_cover else None,
        "area_ratio_pairs": len(ratio_err),
        "median_area_ratio_error": (round(float(np.median(ratio_err)), 3) if ratio_err
                                    else None),
        "ratio_within_uncertainty": (round(float(np.mean(ratio_cover)), 3) if ratio_cover
                                     else None),
        "median_vertices": float(np.median(vertices)) if vertices else None,
        "under_12_vertices": round(float(np.mean(np.array(vertices) < 12)), 3)
        if vertices else None,
    }
    out["_area_err"], out["_ratio_err"] = area_err, ratio_err
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", type=Path, help="write the figures as JSON here")
    ap.add_argument("--weights", type=Path, help="weights (.pt) or ONNX model")
    args = ap.parse_args(argv)
    root = samples_dir()
    if root is None or not root.is_dir():
        print("evaluate_footprints: sample data not found: set SITEWATCH_SAMPLES",
              file=sys.stderr)
        return 2
    pred = Predictor.open(args.weights)
    sets = {"spacenet": (spacenet(root), True), "xbd-pre": (xbd(root), True),
            "levir-cd-after (changed buildings only)": (levir_after(root), False)}
    results = {name: score(items, pred, full) for name, (items, full) in sets.items()}
    pooled_area = [e for r in results.values() for e in r.pop("_area_err")]
    pooled_ratio = [e for r in results.values() for e in r.pop("_ratio_err")]
    with rasterio.open(root / "puerto-rico-maria" / "Pre_Event_Grids_In_TIFF_mask"
                       / "tile_0_107_mask.tif") as src:
        share = float((src.read(1) > 0).mean())
    doc = {"weights": str(pred.source), "iou": IOU, "sets": results,
           "pooled": {"median_area_error": round(float(np.median(pooled_area)), 3),
                      "median_area_ratio_error": round(float(np.median(pooled_ratio)), 3),
                      "matched": len(pooled_area)},
           "puerto-rico-maria": f"not scored: its mask marks {share:.1%} of the tile (a "
                                "data mask, not building footprints)",
           "note": "spacenet, xbd and levir-cd were in the shipped weights' training data "
                   "(MODEL_CARD.md): training-set figures of the footprint step"}
    cols = ("buildings_labelled", "footprints", "matched_iou50", "precision", "recall",
            "median_area_error", "area_within_uncertainty", "median_area_ratio_error",
            "ratio_within_uncertainty", "median_vertices", "under_12_vertices")
    print(f"footprints of {pred.source.name} at IoU {IOU} (sets in its training data)")
    print("set".ljust(42) + " ".join(c[:12].rjust(12) for c in cols))
    for name, r in results.items():
        print(name[:41].ljust(42) + " ".join(str(r[c]).rjust(12) for c in cols))
    p = doc["pooled"]
    print(f"pooled: median area error {p['median_area_error']:.1%}, median area-ratio error "
          f"{p['median_area_ratio_error']:.1%} over {p['matched']} matched buildings")
    print(doc["puerto-rico-maria"])
    if args.json:
        args.json.write_text(json.dumps(doc, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
