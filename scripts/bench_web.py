"""Benchmark of the review workspace (``make bench``, case ``web``), each figure against a
floor measured in the same run on the same data:

- site page: a site over the LEVIR-CD tile with a run of 100 detections; the time until the
  page's first JSON payloads (``/api/session`` then ``/api/sites/ID/overview``, what the page
  awaits before drawing) over HTTP from ``uvicorn`` on loopback, against the floor of the
  catalog reads they are made of (``Workspace.site``, ``scenes``, ``runs``, ``change_counts``) +
  ``json.dumps``. With /usr/bin/chromium and playwright, also the time until the page is
  interactive in the browser (its ``data-ready`` mark: maps, 100 outlines and labels).
- tiles: the 95th percentile latency of 256 px tiles of the chip COGs served over HTTP,
  against a bare rio-tiler read + PNG render of the same tiles from the same files.
"""

from __future__ import annotations

import dataclasses
import json
import socket
import statistics
import threading
import time
from pathlib import Path
from typing import Any

N_DETECTIONS = 100


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _p95(xs: list[float]) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(0.95 * (len(xs) - 1))))]


def _site_with_100_detections(ws: Any, samples: Path) -> Any:
    from shapely.geometry import box, mapping

    from sitewatch.model import Detection

    tile = samples / "levir-cd" / "tiles256"
    bounds = (-97.9994175, 30.1602146, -97.9980442, 30.1615879)
    site = ws.add_site("bench site", aoi=box(*bounds), kind="housing")
    for folder, when in (("A", "2002/2013"), ("B", "2007/2018")):
        ws.import_scene(site, tile / folder / "test_2_0000_0000.png", date=when,
                        provider="Google Earth", credit="LEVIR-CD", bounds=bounds,
                        crs="EPSG:4326")
    run = ws.analyze(site, method="cva").run  # chips on the site's grid, one real run
    # a second run of the same scenes with 100 detections on a 10 x 10 grid of the AOI,
    # stored through the catalog as a run is (tracked as 100 changes)
    w, s, e, n = bounds
    dx, dy = (e - w) / 10, (n - s) / 10
    dets = []
    for i in range(N_DETECTIONS):
        cx, cy = w + (i % 10 + 0.5) * dx, s + (i // 10 + 0.5) * dy
        poly = box(cx - dx * 0.3, cy - dy * 0.3, cx + dx * 0.3, cy + dy * 0.3)
        dets.append(Detection(polygon=mapping(poly), change_type="change",
                              score=0.5 + i / 250, area_m2=100.0 + i,
                              area_uncertainty_m2=20.0, centroid_lon=cx, centroid_lat=cy))
    bench = dataclasses.replace(run, id=0, run_key="bench-web-100-detections",
                                method="bench", detections=tuple(dets))
    saved, _ = ws.store.save_run(bench, "2007/2018")
    assert len(saved.detections) == N_DETECTIONS
    return ws.site(site.id)


def web_case(tmp: Path) -> dict[str, object]:
    import warnings

    import httpx
    import morecantile
    import uvicorn
    from rio_tiler.io import Reader

    import sitewatch
    from sitewatch.config import samples_dir
    from sitewatch.web import create_app

    warnings.simplefilter("ignore")  # rasterio: a PNG tile in memory has no georeferencing
    ws = sitewatch.open_workspace(tmp / "ws")
    site = _site_with_100_detections(ws, samples_dir())
    ws.add_user("bench", "analyst", "bench-password")
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(create_app(ws), host="127.0.0.1", port=port,
                                        log_level="warning"))
    threading.Thread(target=srv.run, daemon=True).start()
    while not srv.started:
        time.sleep(0.02)
    base = f"http://127.0.0.1:{port}"
    out: dict[str, object] = {"case": "web", "detections": N_DETECTIONS}
    try:
        with httpx.Client(base_url=base) as c:
            c.get("/login")
            c.post("/api/login", json={"name": "bench", "password": "bench-password"},
                   headers={"X-CSRF-Token": c.cookies["sw_csrf"]}).raise_for_status()
            page, floor = [], []
            for _ in range(12):
                t0 = time.perf_counter()
                c.get("/api/session").raise_for_status()
                r = c.get(f"/api/sites/{site.id}/overview")
                r.raise_for_status()
                page.append(time.perf_counter() - t0)
                assert len(r.json()["run"]["detections"]) == N_DETECTIONS
                t0 = time.perf_counter()
                s = ws.site(site.id)
                payload = (s, ws.scenes(s), ws.runs(s), ws.change_counts(s))
                json.dumps([repr(x) for x in payload])
                floor.append(time.perf_counter() - t0)
            out["json_s"] = statistics.median(page[2:])
            out["json_floor_s"] = statistics.median(floor[2:])

            # tiles: every 256 px tile of both chips at zooms 19 and 20
            tms = morecantile.tms.get("WebMercatorQuad")
            chips = {c_.scene_id: c_.path for c_ in ws.chips(site)}
            w, s_, e, n = site.bbox_wgs84
            tiles = [(sid, t) for sid in chips for z in (19, 20)
                     for t in tms.tiles(w, s_, e, n, [z])]
            c.get(f"/api/scenes/{tiles[0][0]}/tiles/{tiles[0][1].z}/{tiles[0][1].x}/"
                  f"{tiles[0][1].y}.png")  # warm: the stretch of each chip is computed once
            for sid in chips:
                c.get(f"/api/scenes/{sid}/tiles/{tiles[0][1].z}/{tiles[0][1].x}/"
                      f"{tiles[0][1].y}.png")
            served, bare = [], []
            for sid, t in tiles:
                t0 = time.perf_counter()
                r = c.get(f"/api/scenes/{sid}/tiles/{t.z}/{t.x}/{t.y}.png")
                served.append(time.perf_counter() - t0)
                assert r.status_code in (200, 404), r.text
                t0 = time.perf_counter()
                try:
                    with Reader(chips[sid]) as src:
                        img = src.tile(t.x, t.y, t.z, tilesize=256, indexes=(1, 2, 3))
                    img.array.set_fill_value(0)
                    img.rescale(in_range=((0, 255),) * 3).render(img_format="PNG")
                except Exception:  # outside the chip: a 404 above
                    pass
                bare.append(time.perf_counter() - t0)
            out["tiles"] = len(tiles)
            out["tile_p95_s"] = _p95(served)
            out["tile_floor_p95_s"] = _p95(bare)
        out["interactive_s"] = _browser(base, site.id)
    finally:
        srv.should_exit = True
        ws.close()
    return out


def _browser(base: str, site_id: int) -> float | None:
    """Seconds from navigation to the site page's ready mark in chromium, or None."""
    import tempfile

    if not Path("/usr/bin/chromium").exists():
        return None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"]
    with tempfile.TemporaryDirectory() as prof, sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(prof, executable_path="/usr/bin/chromium",
                                                   headless=True, args=args)
        pg = ctx.pages[0] if ctx.pages else ctx.new_page()
        pg.goto(f"{base}/login")
        pg.fill("#login-name", "bench")
        pg.fill("#login-password", "bench-password")
        pg.click("#login-submit")
        pg.wait_for_selector("body[data-ready='1']")
        times = []
        for _ in range(3):
            pg.goto("about:blank")
            pg.goto(f"{base}/sites/{site_id}")
            pg.wait_for_selector("body[data-ready='1']", timeout=30000)
            # from the navigation's start (as the user clicked) to the page's ready mark
            times.append(pg.evaluate("() => performance.getEntriesByName('ready')[0]"
                                     ".startTime") / 1000)
        ctx.close()
    return min(times)


def report(r: dict[str, Any]) -> list[str]:
    lines = [f"review workspace: a site page with {r['detections']} detections; "
             f"{r['tiles']} tiles of 256 px from the chip COGs"]
    lines.append(f"  first JSON payloads {1000 * r['json_s']:.0f} ms; floor (the catalog reads "
                 f"alone) {1000 * r['json_floor_s']:.0f} ms; ratio "
                 f"{r['json_s'] / r['json_floor_s']:.1f}")
    if r.get("interactive_s") is not None:
        lines.append(f"  page interactive in chromium {1000 * r['interactive_s']:.0f} ms "
                     "(maps, outlines and labels drawn)")
    lines.append(f"  tile p95 {1000 * r['tile_p95_s']:.0f} ms over HTTP; floor (bare "
                 f"rio-tiler read + PNG) {1000 * r['tile_floor_p95_s']:.0f} ms; ratio "
                 f"{r['tile_p95_s'] / r['tile_floor_p95_s']:.1f}")
    return lines


if __name__ == "__main__":
    import sys
    import tempfile

    res = web_case(Path(tempfile.mkdtemp(prefix="sitewatch-bench-web-")))
    print("\n".join(report(res)))
    sys.exit(0)
