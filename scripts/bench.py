"""Benchmarks (``make bench``): run time and peak memory of the time-series path on the
shared real stacks. Each case runs in its own process so that peak memory is its own.

Cases:
- landsat-447: bulk import of the 447-scene Landsat stack (5 x 5 px, 8 bands), then
  ``timeline`` with per-pixel breaks;
- eopatch-68: import of the 68-date Sentinel-2 EOPatch (101 x 100 px), then ``timeline``;
- model-1024: the change model's throughput on a 1024 x 1024 RGB pair, and what the
  estimate of an unknown pixel size adds to it;
- s2model-2048: the multispectral change model's throughput on a 2048 x 2048 12-band
  Sentinel-2 pair (scripts/bench_s2.py);
- watch: a watch pass over N sites of 5 x 5 km with one new scene each (scripts/bench_watch.py),
  sites/hour with 1 and 2 local workers and a Dask LocalCluster, bytes read per site, each
  against a floor measured in the same run;
- web: the review workspace, a site page with 100 detections (first JSON payloads, and the
  time to interactive in chromium) and 256 px tiles from chip COGs (p95), against floors of
  the bare catalog reads and rio-tiler reads (scripts/bench_web.py);
- stac-5km: ``stac fetch`` of one Sentinel-2 item for a 5 x 5 km site from ``rustac serve``
  on loopback, its assets 41 x 41 km COGs (1024 px tiles, as on Earth Search) served with
  HTTP ranges: bytes read against the bytes of the chip, and the time to load the scene.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from sitewatch.config import samples_dir

CASES = ("landsat-447", "eopatch-68", "stac-5km", "model-1024", "watch", "web", "s2model-2048")


def stac_case(tmp: Path) -> dict[str, object]:
    from pyproj import Transformer

    import sitewatch
    from sitewatch.imagery.stac import get_provider

    # the loopback STAC API is a test helper (tests/support/localstac.py), not part of the
    # product: import it the way the tests do, with tests/ on the path
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from support.localstac import (
        AssetServer,
        RustacServer,
        free_port,
        read_chips,
        write_collection,
        write_item,
    )

    port = free_port()
    chip = read_chips(samples_dir(), repeat=8)[0]
    doc = write_item(chip, tmp, f"http://127.0.0.1:{port}", chip.acquired, "02.14", True,
                     blocksize=1024, item_id="S2_mirrored_tile_L2A")
    col, items = write_collection(tmp, [doc], "one mirrored tile, for benchmarks")
    tf = chip.transform
    h, w = chip.shape
    cx, cy = tf.c + tf.a * w / 2, tf.f + tf.e * h / 2
    to_ll = Transformer.from_crs(chip.crs, "EPSG:4326", always_xy=True)
    ring = [to_ll.transform(cx + dx, cy + dy) for dx, dy in
            ((-2500, -2500), (2500, -2500), (2500, 2500), (-2500, 2500), (-2500, -2500))]
    ws = sitewatch.open_workspace(tmp / "ws")
    site = ws.add_site("s", aoi={"type": "Polygon", "coordinates": [ring]})
    full = sum(f.stat().st_size for f in (tmp / "assets").rglob("*.tif"))
    with AssetServer(tmp / "assets", port) as assets, RustacServer([col, items]) as api:
        assets.reset()
        t0 = time.perf_counter()
        _, outcomes = ws.stac_fetch(site, get_provider("earth-search", api.url),
                                    "sentinel-2-l2a", min_clear=0.0)
        took = time.perf_counter() - t0
        assert [o.status for o in outcomes] == ["imported"], outcomes
        read = assets.bytes_sent
    chip_file = next((tmp / "ws" / "stac").rglob("*.tif"))
    import rasterio

    with rasterio.open(chip_file) as ds:
        decoded = ds.width * ds.height * 5 * 2  # 4 bands + mask as stored (uint16/uint8 ~2 B)
        shape = f"{ds.width}x{ds.height}"
    return {"case": "stac-5km", "load_s": round(took, 2), "bytes_read": read,
            "asset_bytes": full, "chip_file_bytes": chip_file.stat().st_size,
            "window_decoded_bytes": decoded, "chip_px": shape,
            "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def model_case(tmp: Path) -> dict[str, object]:
    """Throughput of the shipped change model on a 1024 x 1024 RGB pair of real LEVIR-CD
    pixels (4 x 4 tiles), with PyTorch and with ONNX Runtime, on this machine's CPU."""
    import numpy as np
    import torch

    from sitewatch.learn.data import read_rgb
    from sitewatch.learn.infer import Predictor, export_onnx

    torch.set_num_threads(2)
    tiles = sorted((samples_dir() / "levir-cd" / "tiles256" / "A").glob("*.png"))

    def mosaic(ab: str) -> np.ndarray:
        imgs = [read_rgb(t.parent.parent / ab / t.name) for t in tiles]
        rows = [np.concatenate([imgs[(r * 4 + c) % len(imgs)] for c in range(4)], axis=1)
                for r in range(4)]
        return np.ascontiguousarray(np.moveaxis(np.concatenate(rows), -1, 0), np.float32)

    a, b = mosaic("A"), mosaic("B")
    out: dict[str, object] = {"case": "model-1024", "pixels": a.shape[1] * a.shape[2]}
    onnx_path = export_onnx(None, tmp / "m.onnx")
    for name, pred in (("torch", Predictor.open()), ("onnx", Predictor.open(onnx_path))):
        pred.probabilities(a, b)  # warm up
        t0 = time.perf_counter()
        for _ in range(3):
            pred.probabilities(a, b)
        took = (time.perf_counter() - t0) / 3
        out[f"{name}_s"] = round(took, 3)
        out[f"{name}_mpx_s"] = round(a.shape[1] * a.shape[2] / took / 1e6, 2)
    # what a plain image without --gsd adds: the estimate of its pixel size
    native = pred.probabilities(a, b)
    t0 = time.perf_counter()
    for _ in range(3):
        pred.estimate_gsd(a, b, native=native)
    out["estimate_s"] = round((time.perf_counter() - t0) / 3, 3)
    out["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return out


def run_case(case: str) -> dict[str, object]:
    import sitewatch

    tmp = Path(tempfile.mkdtemp(prefix="sitewatch-bench-"))
    if case == "stac-5km":
        return stac_case(tmp)
    if case == "model-1024":
        return model_case(tmp)
    if case == "s2model-2048":
        from bench_s2 import s2_case  # scripts/bench_s2.py

        return s2_case()
    if case == "web":
        from bench_web import web_case  # scripts/bench_web.py

        return web_case(tmp)
    if case == "watch":
        from bench_watch import watch_case  # scripts/bench_watch.py

        return watch_case(tmp)
    samples = samples_dir()
    if case == "landsat-447":
        with tarfile.open(samples / "timeseries/yatsm-landsat-p035r032/"
                          "p035r032_testdata.tar.gz") as t:
            t.extractall(tmp, filter="data")
        where = {"lat": 40.295660, "lon": -106.924275, "radius_m": 70.0}
        inputs = [tmp / "p035r032" / "images"]
        facts: dict[str, object] = {"bands": ["blue", "green", "red", "nir", "swir16",
                                              "swir22", "thermal", "fmask"], "scale": 0.0001}
    else:
        where = {"lat": 45.870459, "lon": 14.557815, "radius_m": 450.0}
        inputs = [samples / "eo-learn-testeopatch" / "TestEOPatch"]
        facts = {}
    ws = sitewatch.open_workspace(tmp / "ws")
    site = ws.add_site("s", **where)  # type: ignore[arg-type]
    t0 = time.perf_counter()
    outcomes = ws.import_scenes(site, inputs, **facts)
    assert any(o.scene is not None for o in outcomes)
    t1 = time.perf_counter()
    tl = ws.timeline(site)
    assert tl.observations
    t2 = time.perf_counter()
    return {"case": case, "import_s": round(t1 - t0, 2), "timeline_s": round(t2 - t1, 2),
            "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "--case":
        res = run_case(sys.argv[2])
        sys.stderr.write("BENCH " + json.dumps(res) + "\n")
        return 0
    results = []
    for case in CASES:
        proc = subprocess.run([sys.executable, __file__, "--case", case], capture_output=True,
                              text=True, check=True)
        line = next(ln for ln in proc.stderr.splitlines() if ln.startswith("BENCH "))
        results.append(json.loads(line[6:]))
    print("time series")
    print(f"  {'case':14s} {'import s':>9s} {'timeline s':>11s} {'peak MiB':>9s}")
    for r in results[:2]:
        print(f"  {r['case']:14s} {r['import_s']:9.2f} {r['timeline_s']:11.2f} "
              f"{r['peak_rss_mib']:9.1f}")
    r = results[2]
    print("STAC fetch of one scene for a 5 x 5 km site (4 bands + mask)")
    print(f"  chip {r['chip_px']} px; load {r['load_s']:.2f} s; peak {r['peak_rss_mib']} MiB")
    print(f"  bytes read {r['bytes_read']:,} of {r['asset_bytes']:,} in the assets "
          f"({100 * r['bytes_read'] / r['asset_bytes']:.1f}%)")
    print(f"  chip: {r['chip_file_bytes']:,} bytes as float32 COG, "
          f"{r['window_decoded_bytes']:,} bytes as stored numbers; read/chip = "
          f"{r['bytes_read'] / r['window_decoded_bytes']:.2f}")
    r = results[3]
    print("change model on a 1024 x 1024 RGB pair (2 threads), tiled 512 px with overlap")
    print(f"  PyTorch {r['torch_s']:.2f} s = {r['torch_mpx_s']:.2f} Mpx/s; ONNX Runtime "
          f"{r['onnx_s']:.2f} s = {r['onnx_mpx_s']:.2f} Mpx/s; peak {r['peak_rss_mib']} MiB")
    print(f"  pixel-size estimate of a plain pair (no --gsd): {r['estimate_s']:.2f} s = "
          f"{r['estimate_s'] / r['onnx_s']:.1f}x reading the pair with ONNX Runtime")
    from bench_watch import report

    print("\n".join(report(next(x for x in results if x["case"] == "watch"))))
    from bench_web import report as web_report

    print("\n".join(web_report(next(x for x in results if x["case"] == "web"))))
    from bench_s2 import report as s2_report

    print("\n".join(s2_report(next(x for x in results if x["case"] == "s2model-2048"))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
