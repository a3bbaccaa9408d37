"""The watch benchmark (a case of ``make bench``): N sites of 5 x 5 km over one mirrored
Sentinel-2 tile (41 x 41 km COGs with 1024 px tiles, as on Earth Search; its cloud mask
cleared so that every site is analysed) served by
``rustac serve`` on loopback, each with a baseline scene already fetched and one new scene
to find. A pass is timed in-process (1 worker), with a local pool of 2, and on a Dask
LocalCluster of 2 workers.

Floors, measured in the same run:
- rate: the same work (fetch the new scene, analyse it) done by direct API calls, site
  after site in one process, without the watch loop: the one-core sites/hour of the work;
- bytes: the compressed bytes of the COG tiles that intersect each site's window (4 bands
  and the mask), read from the TIFF tile index: the least any reader could fetch.
"""

from __future__ import annotations

import math
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from sitewatch.config import samples_dir

SITE_KM = 5.0


def _site_rings(chip: Any, n: int) -> list[list[tuple[float, float]]]:
    from pyproj import Transformer

    tf = chip.transform
    h, w = chip.shape
    west, north = tf.c, tf.f
    width_m, height_m = tf.a * w, -tf.e * h
    per_row = int((min(width_m, height_m) - 2000) // (SITE_KM * 1000 + 500))
    to_ll = Transformer.from_crs(chip.crs, "EPSG:4326", always_xy=True)
    half = SITE_KM * 500
    rings = []
    for k in range(n):
        i, j = divmod(k % (per_row * per_row), per_row)
        cx = west + 1000 + half + j * (SITE_KM * 1000 + 500) + (k // per_row ** 2) * 700
        cy = north - 1000 - half - i * (SITE_KM * 1000 + 500)
        rings.append([to_ll.transform(cx + dx, cy + dy) for dx, dy in
                      ((-half, -half), (half, -half), (half, half), (-half, half),
                       (-half, -half))])
    return rings


def tile_floor(assets: Path, item_id: str, ring: list[tuple[float, float]]
               ) -> tuple[int, dict[tuple[str, int, int], int]]:
    """Compressed bytes of the tiles of ``item_id``'s assets that intersect the site, and
    those tiles ((asset, row, col) -> bytes)."""
    import rasterio
    from pyproj import Transformer

    total = 0
    found: dict[tuple[str, int, int], int] = {}
    for f in sorted((assets / item_id).glob("*.tif")):
        with rasterio.open(f) as ds:
            to = Transformer.from_crs("EPSG:4326", ds.crs, always_xy=True)
            xs, ys = zip(*(to.transform(x, y) for x, y in ring), strict=True)
            win = ds.window(min(xs), min(ys), max(xs), max(ys))
            bh, bw = ds.block_shapes[0]
            r0, r1 = max(int(win.row_off // bh), 0), int(math.ceil(
                (win.row_off + win.height) / bh))
            c0, c1 = max(int(win.col_off // bw), 0), int(math.ceil(
                (win.col_off + win.width) / bw))
            for r in range(r0, min(r1, math.ceil(ds.height / bh))):
                for c in range(c0, min(c1, math.ceil(ds.width / bw))):
                    found[(f.name, r, c)] = ds.block_size(1, r, c)
                    total += found[(f.name, r, c)]
    return total, found


def watch_case(tmp: Path, n_sites: int | None = None) -> dict[str, Any]:
    import sitewatch
    from sitewatch.imagery.stac import get_provider
    from sitewatch.monitor.baseline import BASELINE_MIN_CLEAR

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from support.localstac import (
        AssetServer,
        RustacServer,
        free_port,
        read_chips,
        write_collection,
        write_item,
    )

    n = n_sites or int(os.environ.get("SITEWATCH_BENCH_WATCH_SITES", "24"))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    import dataclasses

    import numpy as np

    # the real pixels with the cloud mask cleared, so that every site has a clear baseline
    # and every new scene is analysed (under the real mask most sites here are cloudy)
    chip = read_chips(samples_dir(), repeat=8)[0]
    chip = dataclasses.replace(chip, label=np.zeros_like(chip.label))
    t0 = chip.acquired
    old = write_item(chip, tmp, url, t0, "02.14", True, blocksize=1024,
                     item_id="S2_bench_baseline_L2A")
    new = write_item(chip, tmp, url, t0.replace(month=t0.month + 1), "02.14", True,
                     blocksize=1024, item_id="S2_bench_new_L2A")
    before = write_collection(tmp / "before", [old], "baseline only")
    after = write_collection(tmp / "after", [old, new], "baseline and a new scene")
    rings = _site_rings(chip, n)
    # per site: its own tiles (as if read alone); per pass: every tile any site needs, once
    tiles = [tile_floor(tmp / "assets", "S2_bench_new_L2A", r) for r in rings]
    floor_bytes = sum(t for t, _ in tiles) / n
    shared: dict[tuple[str, int, int], int] = {}
    for _, found in tiles:
        shared.update(found)
    out: dict[str, Any] = {"case": "watch", "sites": n, "site_km": SITE_KM,
                           "pass_floor_bytes_per_site": round(sum(shared.values()) / n)}
    with AssetServer(tmp / "assets", port) as assets, RustacServer(list(before)) as api1, \
            RustacServer(list(after)) as api2:
        primed = tmp / "primed"
        ws = sitewatch.open_workspace(primed)
        for k, ring in enumerate(rings):
            ws.add_site(f"site-{k:04d}", aoi={"type": "Polygon", "coordinates": [ring]})
        ws.set_watch_sources(None, [{"url": api1.url, "min_clear": 0.0}])
        ws.watch_run(workers=2)  # every site fetches its baseline
        ws.set_watch_sources(None, [{"url": api2.url, "min_clear": 0.0}])
        ws.close()

        for name, workers, dask in (("1 worker", 1, None), ("2 workers", 2, None),
                                    ("dask LocalCluster 2", 2, "local")):
            run = tmp / name.replace(" ", "_")
            shutil.copytree(primed, run)
            ws = sitewatch.open_workspace(run)
            assets.reset()
            res = ws.watch_run(workers=workers, dask=dask)
            assert res.record.new_scenes == n and not res.failures, res.failures[:3]
            out["analysed"] = res.record.runs
            out[name] = {"seconds": round(res.seconds, 1),
                         "sites_per_hour": round(res.sites_per_hour),
                         "bytes_per_site": round(assets.bytes_sent / n)}
            ws.close()

        # the floor of the rate: the work itself, by direct calls in one process, for every
        # site (the first warms up imports and GDAL and is not timed)
        k = max(n - 1, 1)
        direct = tmp / "direct"
        shutil.copytree(primed, direct)
        ws = sitewatch.open_workspace(direct)
        provider = get_provider("earth-search", api2.url)
        sites = ws.sites()
        t = 0.0
        for i, site in enumerate(sites[:k + 1]):
            start = time.perf_counter()
            _, got = ws.stac_fetch(site, provider, "sentinel-2-l2a", min_clear=0.0)
            # as the watch loop does: a scene under cloud is no baseline, nothing to analyse
            if any((o.clear_fraction or 0) >= BASELINE_MIN_CLEAR for o in got):
                ws.analyze(site)
            t += (time.perf_counter() - start) if i else 0.0
        out["floor_sites_per_hour"] = round(k * 3600 / t)
        ws.close()
    out["floor_bytes_per_site"] = round(floor_bytes)
    return out


def report(r: dict[str, Any]) -> list[str]:
    lines = [f"watch: {r['sites']} sites of {r['site_km']:g} x {r['site_km']:g} km, one new "
             "Sentinel-2 scene each (rustac serve on loopback, 1024 px COG tiles); "
             f"{r['analysed']} of them analysed",
             f"  floor: {r['floor_sites_per_hour']:,} sites/hour (fetch + analyse by direct "
             f"calls, one core); {r['floor_bytes_per_site']:,} bytes/site (the COG tiles "
             "intersecting its window, as if read alone; "
             f"{r['pass_floor_bytes_per_site']:,} when neighbours' shared tiles count once)"]
    for name in ("1 worker", "2 workers", "dask LocalCluster 2"):
        x = r[name]
        lines.append(
            f"  {name:20s} {x['seconds']:6.1f} s  {x['sites_per_hour']:7,} sites/hour "
            f"({x['sites_per_hour'] / r['floor_sites_per_hour']:.2f} x floor)  "
            f"{x['bytes_per_site']:10,} bytes/site "
            f"({x['bytes_per_site'] / r['floor_bytes_per_site']:.2f} x floor)")
    return lines


if __name__ == "__main__":
    import json
    import tempfile

    res = watch_case(Path(tempfile.mkdtemp(prefix="sitewatch-bench-watch-")),
                     int(sys.argv[1]) if len(sys.argv) > 1 else None)
    print(json.dumps(res))
    print("\n".join(report(res)))
