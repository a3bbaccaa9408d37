"""Throughput of the multispectral change model (``make bench`` case ``s2model-2048``).

A 2048 x 2048 pair of real Sentinel-2 pixels (the OSCD Beirut pair, 12 bands, mirrored to
fill the square), with 2 threads: the network alone in 2048 px tiles with ONNX Runtime and
with PyTorch, and the whole detector (standardising both dates, tiles, threshold) on ONNX
Runtime as ``detect`` runs it.

    python scripts/bench_s2.py
"""

from __future__ import annotations

import json
import resource
import sys
import time

import numpy as np

from sitewatch.config import samples_dir

SIZE = 2048


def _square(x: np.ndarray) -> np.ndarray:
    reps = (1, -(-SIZE // x.shape[1]), -(-SIZE // x.shape[2]))
    tiled = np.concatenate([x, x[:, ::-1]], axis=1)
    tiled = np.concatenate([tiled, tiled[:, :, ::-1]], axis=2)
    tiled = np.tile(tiled, (1, max(1, reps[1] // 2), max(1, reps[2] // 2)))
    return np.ascontiguousarray(tiled[:, :SIZE, :SIZE], np.float32)


def s2_case() -> dict[str, object]:
    import torch

    from sitewatch.learn.s2bands import BANDS
    from sitewatch.learn.s2detect import s2_change
    from sitewatch.learn.s2infer import S2Predictor, default_onnx, default_weights
    from sitewatch.pipeline.oscd import load_city

    torch.set_num_threads(2)
    city = load_city(samples_dir() / "oscd", "beirut")
    a, b = _square(city.a.astype(np.float32)), _square(city.b.astype(np.float32))
    present = np.ones(len(BANDS), np.float32)
    px = SIZE * SIZE
    out: dict[str, object] = {"case": "s2model-2048", "pixels": px}
    for name, path, reps in (("onnx", default_onnx(), 3), ("torch", default_weights(), 1)):
        pred = S2Predictor.open(path, threads=2)
        pred.probabilities(a[:, :512, :512], b[:, :512, :512], present)  # warm up
        t0 = time.perf_counter()
        for _ in range(reps):
            pred.probabilities(a, b, present)
        took = (time.perf_counter() - t0) / reps
        out[f"{name}_s"], out[f"{name}_mpx_s"] = round(took, 3), round(px / took / 1e6, 2)
    # the detector end to end (ONNX Runtime by default), on raw-looking values, timed as
    # the network alone is: the mean of three passes after a warm-up
    names = list(BANDS)
    s2_change(a[:, :256, :256], b[:, :256, :256], names, 10.0, {})
    t0 = time.perf_counter()
    for _ in range(3):
        s2_change(a, b, names, 10.0, {})
    took = (time.perf_counter() - t0) / 3
    out["detector_s"], out["detector_mpx_s"] = round(took, 3), round(px / took / 1e6, 2)
    out["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return out


def report(r: dict[str, object]) -> list[str]:
    return [f"multispectral change model on a {SIZE} x {SIZE} 12-band pair (2 threads, "
            "2048 px tiles)",
            f"  ONNX Runtime {r['onnx_s']} s = {r['onnx_mpx_s']} Mpx/s; PyTorch {r['torch_s']} s"
            f" = {r['torch_mpx_s']} Mpx/s; detector (standardise + ONNX + threshold) "
            f"{r['detector_s']} s = {r['detector_mpx_s']} Mpx/s; peak {r['peak_rss_mib']} MiB"]


if __name__ == "__main__":
    res = s2_case()
    print(json.dumps(res) if "--json" in sys.argv else "\n".join(report(res)))
