"""Training and evaluation data: the layouts of the shared samples, and pairs made from them.

Layouts read (``--data DIR``, any number):

- change pairs: ``A/``, ``B/``, ``label/`` with the same file names (LEVIR-CD, DSIFN-CD);
- xBD: ``images/*_pre_disaster.png``/``*_post_disaster.png`` with ``labels/*.json``
  building polygons (pixel WKT) and damage classes on the post image;
- a GeoTIFF with a GeoJSON of building footprints (``sample_geotiff.tif`` +
  ``geotiff_labels.geojson``, SpaceNet/solaris).

Training pairs are drawn from these: real xBD pairs (destroyed and badly damaged
buildings are the change, in either temporal order), and synthetic changes made of real
buildings: footprints removed from a real scene (the ground around them filled in) or
pasted into another real scene. Every pair is augmented: scale, flips and rotations,
independent photometric changes per date (season, light, sensor), and misregistration
of a few pixels.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import rasterio
from rasterio import features
from scipy import ndimage
from shapely import wkt
from shapely.geometry import shape

from sitewatch.errors import InputFileError

CROP = 256


@dataclass
class Scene:
    """An RGB image in [0, 1] (h, w, 3) float32 with its building mask when known."""

    name: str
    image: np.ndarray
    buildings: np.ndarray | None  # (h, w) bool
    # False for the changed areas of a change pair: real new structures worth pasting,
    # but neither every building of the scene nor surely buildings (no building labels)
    complete: bool = True


@dataclass
class Pair:
    name: str
    a: np.ndarray  # (h, w, 3) float32 in [0, 1]
    b: np.ndarray
    change: np.ndarray  # (h, w) uint8: 0, 1, 255 = ignore
    build_a: np.ndarray | None = None  # (h, w) bool
    build_b: np.ndarray | None = None


@dataclass
class Corpus:
    pairs: list[Pair] = field(default_factory=list)  # real labelled change pairs
    scenes: list[Scene] = field(default_factory=list)  # real scenes with building masks
    donors: list[Scene] = field(default_factory=list)  # "after" images of real change pairs
    backgrounds: list[np.ndarray] = field(default_factory=list)  # real scenes, no labels


def read_rgb(path: Path) -> np.ndarray:
    """Any image as (h, w, 3) float32 in [0, 1] (grey replicated, extra bands dropped)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with rasterio.open(path) as ds:
            arr = ds.read().astype(np.float32)
            dtype = ds.dtypes[0]
    arr = arr[:3] if arr.shape[0] >= 3 else np.repeat(arr[:1], 3, axis=0)
    if dtype == "uint8":
        arr /= 255.0
    else:  # stretch 2-98 %
        lo, hi = np.percentile(arr, [2, 98])
        arr = (arr - lo) / max(hi - lo, 1e-6)
    return np.clip(np.moveaxis(arr, 0, -1), 0, 1)


def read_mask(path: Path) -> np.ndarray:
    """A label as bool: 0/255 masks above 127, 0/1 masks above 0."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with rasterio.open(path) as ds:
            m = ds.read(1)
    return m > (127 if m.max() > 1 else 0)


def read_change_pairs(root: Path) -> list[Pair]:
    pairs = []
    group = root.parent.name if root.name.startswith("tiles") else root.name
    for a in sorted((root / "A").iterdir()):
        b, lab = root / "B" / a.name, root / "label" / a.name
        if not (b.is_file() and lab.is_file()):
            continue
        change = read_mask(lab).astype(np.uint8)
        pairs.append(Pair(f"{group}/{a.stem}", read_rgb(a), read_rgb(b), change))
    return pairs


def _polygons_mask(polys: list, shape_hw: tuple[int, int]) -> np.ndarray:
    if not polys:
        return np.zeros(shape_hw, bool)
    return features.rasterize([(p, 1) for p in polys], out_shape=shape_hw, fill=0,
                              dtype="uint8").astype(bool)


def read_xbd(root: Path) -> tuple[list[Pair], list[Scene]]:
    pairs, scenes = [], []
    for pre in sorted((root / "images").glob("*_pre_disaster.png")):
        stem = pre.name.replace("_pre_disaster.png", "")
        post = root / "images" / f"{stem}_post_disaster.png"
        lab = root / "labels" / f"{stem}_post_disaster.json"
        if not (post.is_file() and lab.is_file()):
            continue
        a, b = read_rgb(pre), read_rgb(post)
        feats = json.loads(lab.read_text())["features"]["xy"]
        hw = a.shape[:2]
        every = [wkt.loads(f["wkt"]) for f in feats]
        gone = [wkt.loads(f["wkt"]) for f in feats
                if f["properties"].get("subtype") in {"destroyed", "major-damage"}]
        unsure = [wkt.loads(f["wkt"]) for f in feats
                  if f["properties"].get("subtype") in {"un-classified", "minor-damage"}]
        build_a = _polygons_mask(every, hw)
        lost = _polygons_mask(gone, hw)
        change = lost.astype(np.uint8)
        change[_polygons_mask(unsure, hw) & ~lost] = 255
        pairs.append(Pair(f"xbd/{stem}", a, b, change, build_a, build_a & ~lost))
        scenes.append(Scene(f"xbd/{stem}", a, build_a))
    return pairs, scenes


def read_footprints(tif: Path, geojson: Path) -> Scene:
    image = read_rgb(tif)
    with rasterio.open(tif) as ds:
        tf, hw = ds.transform, (ds.height, ds.width)
    doc = json.loads(geojson.read_text())
    polys = [shape(f["geometry"]) for f in doc.get("features", []) if f.get("geometry")]
    mask = features.rasterize([(p, 1) for p in polys], out_shape=hw, transform=tf,
                              fill=0, dtype="uint8").astype(bool) if polys else np.zeros(hw, bool)
    return Scene(tif.stem, image, mask)


def load_corpus(dirs: list[Path], background_dirs: list[Path] | None = None) -> Corpus:
    """Everything usable under ``dirs``; the images of A/B/label folders in
    ``background_dirs`` serve only as real scenes to paste buildings into. Raise
    InputFileError naming a folder of no use."""
    corpus = Corpus()
    for d in background_dirs or []:
        for p in read_change_pairs(Path(d)):
            corpus.backgrounds.extend([p.a, p.b])
    for d in dirs:
        d = Path(d)
        if not d.is_dir():
            raise InputFileError(f"--data {d} is not a folder")
        before = (len(corpus.pairs), len(corpus.scenes))
        if (d / "A").is_dir() and (d / "B").is_dir() and (d / "label").is_dir():
            found = read_change_pairs(d)
            corpus.pairs.extend(found)
            corpus.donors.extend(Scene(p.name, p.b, p.change == 1, complete=False)
                                 for p in found if (p.change == 1).any())
        elif (d / "images").is_dir() and (d / "labels").is_dir():
            xbd_pairs, xbd_scenes = read_xbd(d)
            corpus.pairs.extend(xbd_pairs)
            corpus.scenes.extend(xbd_scenes)
        elif (d / "geotiff_labels.geojson").is_file():
            corpus.scenes.append(read_footprints(d / "sample_geotiff.tif",
                                                 d / "geotiff_labels.geojson"))
        if (len(corpus.pairs), len(corpus.scenes)) == before:
            raise InputFileError(
                f"--data {d}: no A/B/label pairs, xBD images/labels or GeoTIFF with "
                "building footprints found")
    return corpus


# --- augmentation and synthetic change ---------------------------------------------------------
def _photometric(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Season, light and sensor: gain, offset, gamma, colour cast, saturation, blur, noise.
    Computed with torch in float32 (training speed); every random draw comes from ``rng``."""
    import torch

    t = torch.from_numpy(np.ascontiguousarray(img, dtype=np.float32))
    t = (t * rng.uniform(0.75, 1.25) + rng.uniform(-0.08, 0.08)).clamp_(0, 1)
    t = t.pow_(rng.uniform(0.75, 1.35))
    t = t * torch.from_numpy(rng.uniform(0.88, 1.12, size=3).astype(np.float32))
    grey = t.mean(dim=2, keepdim=True)
    t = grey + (t - grey) * rng.uniform(0.6, 1.3)
    out = t.numpy()
    if rng.random() < 0.3:
        out = ndimage.gaussian_filter(out, sigma=(rng.uniform(0.3, 1.2),) * 2 + (0,))
    out = out + rng.standard_normal(out.shape, dtype=np.float32) * np.float32(
        rng.uniform(0, 0.02))
    return np.clip(out, 0, 1).astype(np.float32, copy=False)


def _fill_from_surroundings(img: np.ndarray, hole: np.ndarray, rng: np.random.Generator
                            ) -> np.ndarray:
    """Replace ``hole`` pixels by the nearest ground outside it, smoothed, with texture.
    Computed on the hole's bounding box with a margin (training speed)."""
    if not hole.any():
        return img
    ys, xs = np.nonzero(hole)
    m = 16
    y0, y1 = max(int(ys.min()) - m, 0), min(int(ys.max()) + m + 1, img.shape[0])
    x0, x1 = max(int(xs.min()) - m, 0), min(int(xs.max()) + m + 1, img.shape[1])
    sub, h = img[y0:y1, x0:x1], hole[y0:y1, x0:x1]
    if h.all():
        return img
    idx = ndimage.distance_transform_edt(h, return_distances=False, return_indices=True)
    smooth = ndimage.gaussian_filter(sub[idx[0], idx[1]], sigma=(3, 3, 0))
    texture = rng.standard_normal(sub.shape, dtype=np.float32) * np.float32(0.015)
    out = img.copy()
    out[y0:y1, x0:x1][h] = np.clip(smooth[h] + texture[h], 0, 1)
    return out


def _components(mask: np.ndarray, rng: np.random.Generator, fraction: float) -> np.ndarray:
    lab, n = ndimage.label(mask)
    if n == 0:
        return np.zeros_like(mask)
    keep = rng.random(n) < fraction
    return keep[np.maximum(lab - 1, 0)] & (lab > 0)


def _crop(arrs: list[np.ndarray | None], rng: np.random.Generator, size: int
          ) -> list[np.ndarray | None]:
    h, w = next(a for a in arrs if a is not None).shape[:2]
    y = int(rng.integers(0, max(h - size, 0) + 1))
    x = int(rng.integers(0, max(w - size, 0) + 1))
    return [None if a is None else a[y:y + size, x:x + size] for a in arrs]


def rescale(arrs: list[np.ndarray | None], factor: float) -> list[np.ndarray | None]:
    """(h, w, bands) images bilinear, (h, w) masks nearest, all scaled by ``factor``
    (torch's interpolate: ten times scipy's zoom)."""
    import torch
    import torch.nn.functional as F  # noqa: N812

    out: list[np.ndarray | None] = []
    for a in arrs:
        if a is None:
            out.append(None)
            continue
        size = (int(round(a.shape[0] * factor)), int(round(a.shape[1] * factor)))
        if a.ndim == 3:
            t = torch.from_numpy(np.ascontiguousarray(np.moveaxis(a, -1, 0)))[None]
            z = F.interpolate(t.float(), size=size, mode="bilinear", align_corners=False)
            out.append(np.clip(np.moveaxis(z[0].numpy(), 0, -1), 0, 1).astype(a.dtype))
        else:
            m = torch.from_numpy(np.ascontiguousarray(a).astype(np.uint8))[None, None]
            out.append(F.interpolate(m, size=size, mode="nearest")[0, 0].numpy().astype(a.dtype))
    return out


def _pad(a: np.ndarray, size: int, value: float) -> np.ndarray:
    h, w = a.shape[:2]
    if h >= size and w >= size:
        return a
    pad = [(0, max(size - h, 0)), (0, max(size - w, 0))] + ([(0, 0)] if a.ndim == 3 else [])
    return np.pad(a, pad, constant_values=value)


def synthetic_removal(scene: Scene, rng: np.random.Generator) -> Pair:
    """Before: some real buildings removed (ground filled in); after: the real scene."""
    assert scene.buildings is not None
    gone = _components(scene.buildings, rng, rng.uniform(0.3, 0.9))
    ring = ndimage.binary_dilation(gone, iterations=2)
    before = _fill_from_surroundings(scene.image, ring, rng)
    return Pair(scene.name + "/removed", before, scene.image, gone.astype(np.uint8),
                scene.buildings & ~gone, scene.buildings)


def synthetic_paste(donor: Scene, target: np.ndarray, target_build: np.ndarray | None,
                    rng: np.random.Generator) -> Pair:
    """After: real buildings of ``donor`` pasted into a real ``target`` scene."""
    assert donor.buildings is not None
    h, w = target.shape[:2]
    after = target.copy()
    pasted = np.zeros((h, w), bool)
    lab, n = ndimage.label(donor.buildings)
    boxes = ndimage.find_objects(lab)
    for k in rng.permutation(n)[: int(rng.integers(1, 8))]:
        sl = boxes[k]
        if sl is None:
            continue
        ys, xs = sl
        y0, y1 = max(ys.start - 2, 0), min(ys.stop + 2, donor.image.shape[0])
        x0, x1 = max(xs.start - 2, 0), min(xs.stop + 2, donor.image.shape[1])
        patch = donor.image[y0:y1, x0:x1]
        foot = lab[y0:y1, x0:x1] == k + 1
        ph, pw = foot.shape
        if ph >= h - 2 or pw >= w - 2 or foot.sum() < 20:
            continue
        r = int(rng.integers(0, 4))
        patch, foot = np.rot90(patch, r), np.rot90(foot, r)
        ph, pw = foot.shape
        y, x = int(rng.integers(0, h - ph)), int(rng.integers(0, w - pw))
        region = after[y:y + ph, x:x + pw]
        # match the patch's brightness to where it lands
        patch = np.clip(patch - patch.mean() + region.mean() * rng.uniform(0.9, 1.3), 0, 1)
        soft = ndimage.gaussian_filter(foot.astype(np.float32), 0.7)[..., None]
        after[y:y + ph, x:x + pw] = region * (1 - soft) + patch * soft
        pasted[y:y + ph, x:x + pw] |= foot
    tb = target_build if donor.complete else None
    return Pair(donor.name + "/pasted", target, after.astype(np.float32),
                pasted.astype(np.uint8), tb, None if tb is None else (tb | pasted))


def augment(pair: Pair, rng: np.random.Generator, size: int = CROP) -> Pair:
    """Scale, crop, flips and rotations, per-date light and season, misregistration."""
    arrs: list[np.ndarray | None] = [pair.a, pair.b, pair.change, pair.build_a, pair.build_b]
    # scale: log-uniform from 0.5 to 3 times, so that buildings of finer imagery (aerial
    # 0.1-0.3 m) and of coarser imagery (1 m) are seen as well as those of 0.5 m
    f = float(np.exp(rng.uniform(np.log(0.5), np.log(3.0))))
    h, w = pair.a.shape[:2]
    src = min(int(round(size / f)), h, w)  # small images are enlarged, never padded
    arrs = [None if a is None else _pad(a, src, 255 if a.dtype == np.uint8 else 0)
            for a in arrs]
    arrs = _crop(arrs, rng, src)
    if src != size:
        arrs = rescale(arrs, size / src)
        arrs = [None if a is None else _pad(a, size, 255 if a.dtype == np.uint8 else 0)
                [:size, :size] for a in arrs]
    k, flip = int(rng.integers(0, 4)), rng.random() < 0.5
    arrs = [None if a is None else np.ascontiguousarray(
        np.rot90(a[:, ::-1] if flip else a, k)) for a in arrs]
    a, b, change, ba, bb = arrs
    assert a is not None and b is not None and change is not None
    if rng.random() < 0.5:  # temporal order: loss and gain of buildings are both change
        a, b, ba, bb = b, a, bb, ba
    if rng.random() < 0.7:  # misregistration of up to 3 px
        dy, dx = (int(v) for v in rng.integers(-3, 4, size=2))
        b = np.roll(b, (dy, dx), axis=(0, 1))
        if bb is not None:
            bb = np.roll(bb, (dy, dx), axis=(0, 1))
    return Pair(pair.name, _photometric(a, rng), _photometric(b, rng), change, ba, bb)


def sample(corpus: Corpus, rng: np.random.Generator, size: int = CROP) -> Pair:
    """One training pair: a real pair (35 %; each dataset as likely as another), a
    synthetic removal of real buildings (25 %) or a paste of real buildings or of the
    real changes of a change pair into another real scene (40 %)."""
    labelled = [s for s in corpus.scenes if s.buildings is not None and s.buildings.any()]
    choice = rng.random()
    if corpus.pairs and (choice < 0.35 or not (labelled or corpus.donors)):
        groups: dict[str, list[Pair]] = {}
        for p in corpus.pairs:
            groups.setdefault(p.name.split("/")[0], []).append(p)
        members = list(groups.values())[int(rng.integers(len(groups)))]
        base = members[int(rng.integers(len(members)))]
    elif choice < 0.6 and labelled:
        scene = labelled[int(rng.integers(len(labelled)))]
        cropped = _crop([scene.image, scene.buildings], rng, min(384, *scene.image.shape[:2]))
        img, bm = cropped
        assert img is not None and bm is not None
        base = synthetic_removal(Scene(scene.name, img, bm), rng)
    else:
        kinds = [k for k in (labelled, corpus.donors) if k]
        kind = kinds[int(rng.integers(len(kinds)))]
        donor = kind[int(rng.integers(len(kind)))]
        pool = [(s.image, s.buildings) for s in corpus.scenes] + \
            [(bg, None) for bg in corpus.backgrounds] + [(p.a, None) for p in corpus.pairs]
        tgt, tb = pool[int(rng.integers(len(pool)))]
        t_img, t_b = _crop([tgt, tb], rng, min(384, *tgt.shape[:2]))
        assert t_img is not None
        base = synthetic_paste(donor, t_img, t_b, rng)
    return augment(base, rng, size)
