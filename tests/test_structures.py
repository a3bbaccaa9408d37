"""Footprints and structure-level change: real LEVIR-CD pairs through the shipped model
(a new building is new, with its size relative to the standing ones; the same pair with its
dates swapped shows it demolished; a house's footprint is a handful of vertices), tiny
synthetic maps for the geometry (rectangles, touching buildings, an extension, cleared
ground, the propagated ratio), and the run, report and exports that carry them."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import shapely
from rasterio.features import rasterize
from scipy import ndimage

from sitewatch.detect.footprints import building_instances, footprints
from sitewatch.detect.structures import structure_change
from sitewatch.errors import InputValueError

#: a LEVIR-CD tile where houses were built on open ground (2012 -> 2017 style)
TILE = "test_2_0000_0512"
#: (col, row) inside one labelled new house of that tile
HOUSE = (37, 221)
GSD = 0.5


def _rgb(path: Path) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(path).convert("RGB")).transpose(2, 0, 1).astype(np.float32)


@pytest.fixture(scope="module")
def levir(samples: Path) -> dict[str, np.ndarray]:
    """The tile's two images, its change label and the model's probabilities in both
    temporal orders (the swapped order turns the new houses into demolished ones)."""
    pytest.importorskip("onnxruntime")
    from sitewatch.changemap import clean_mask
    from sitewatch.learn.detect import changed
    from sitewatch.learn.infer import Predictor, normalise_pair

    base = samples / "levir-cd" / "tiles256"
    a, b = _rgb(base / "A" / f"{TILE}.png"), _rgb(base / "B" / f"{TILE}.png")
    label = _rgb(base / "label" / f"{TILE}.png")[0] > 127
    pred = Predictor.open()
    out = {"a": a, "b": b, "label": label}
    for key, (x, y) in (("fwd", (a, b)), ("swap", (b, a))):
        prob = pred.probabilities(*normalise_pair(x, y), gsd_m=GSD)
        out[key] = prob
        out[f"{key}_change"] = clean_mask(changed(prob), 200, 1)
    return out


def _house(label: np.ndarray) -> np.ndarray:
    comps, _ = ndimage.label(label)
    return comps == comps[HOUSE[1], HOUSE[0]]


def _over(structures, region: np.ndarray):
    """The structures covering at least half of ``region`` or half of themselves in it."""
    hits = []
    for s in structures:
        m = rasterize([s.polygon], out_shape=region.shape).astype(bool)
        if (m & region).sum() >= 0.5 * min(m.sum(), region.sum()):
            hits.append(s)
    return hits


def test_new_building_on_a_real_pair_is_new_with_its_relative_size(levir):
    p = levir["fwd"]
    sc = structure_change(p[1], p[2], levir["fwd_change"], GSD, levir["a"], levir["b"])
    house = _house(levir["label"])
    (s,) = _over(sc.structures, house)
    assert s.kind == "new"
    # its area against the labelled house (284 m2): within a third
    truth_m2 = house.sum() * GSD ** 2
    assert abs(s.area_m2 - truth_m2) / truth_m2 < 0.33, (s.area_m2, truth_m2)
    assert s.area_uncertainty_m2 > 0
    # sized against the largest standing building, with the uncertainty propagated
    largest = next(r for r in s.relative if r.basis == "largest")
    ref = next(x for x in sc.structures if x.ref == largest.to)
    assert ref.kind in ("unchanged", "extended") and ref.before
    assert largest.ratio == pytest.approx(s.area_m2 / ref.area_m2, rel=1e-6)
    expect = largest.ratio * math.hypot(s.area_uncertainty_m2 / s.area_m2,
                                        ref.area_uncertainty_m2 / ref.area_m2)
    assert largest.ratio_uncertainty == pytest.approx(expect, rel=1e-6)
    assert f"of {ref.ref} (largest" in s.label() and "% ± " in s.label()
    # the new houses of the label are new, and nothing there is called demolished
    kinds = sc.counts()
    assert kinds["new"] >= 5 and kinds["demolished"] <= 1


def test_the_same_pair_with_its_dates_swapped_shows_the_house_demolished(levir):
    p = levir["swap"]
    sc = structure_change(p[1], p[2], levir["swap_change"], GSD, levir["b"], levir["a"])
    (s,) = _over(sc.structures, _house(levir["label"]))
    assert s.kind == "demolished"
    assert s.before and not s.after and s.change_share >= 0.3
    assert sc.counts()["demolished"] >= 5


def test_a_rectangular_house_is_outlined_with_few_vertices(levir):
    fps, labels = footprints(levir["fwd"][2], GSD)
    house = _house(levir["label"])
    lab = labels[HOUSE[1], HOUSE[0]]
    assert lab > 0
    f = fps[lab - 1]
    assert 4 <= f.vertices < 12
    m = rasterize([f.polygon], out_shape=house.shape).astype(bool)
    assert (m & house).sum() / (m | house).sum() > 0.6
    assert f.length_m >= f.width_m > 5


def _rotated_rect(shape: tuple[int, int], cx: float, cy: float, length: float,
                  width: float, azimuth_deg: float) -> np.ndarray:
    """A blurred (h, w) probability of one rectangle; azimuth of its long axis from up."""
    t = math.radians(azimuth_deg)
    ux, uy = math.sin(t), -math.cos(t)  # along the long axis, pixel frame (y down)
    vx, vy = -uy, ux
    corners = [(cx + sl * ux * length / 2 + sw * vx * width / 2,
                cy + sl * uy * length / 2 + sw * vy * width / 2)
               for sl, sw in ((1, 1), (1, -1), (-1, -1), (-1, 1))]
    m = rasterize([shapely.Polygon(corners)], out_shape=shape).astype(np.float32)
    return ndimage.gaussian_filter(m, 1.0)


def test_a_blurred_rotated_rectangle_becomes_four_corners_with_its_measures():
    prob = _rotated_rect((120, 120), 60, 60, 60, 24, 30)
    fps, _ = footprints(prob, 0.5)
    (f,) = fps
    assert f.vertices == 4
    assert f.area_m2 == pytest.approx(60 * 24 * 0.25, rel=0.05)
    assert f.length_m == pytest.approx(30, abs=1.0) and f.width_m == pytest.approx(12, abs=1.0)
    assert min(abs(f.orientation_deg - 30), 180 - abs(f.orientation_deg - 30)) < 2
    # the one-pixel boundary band: perimeter x pixel size
    assert f.area_uncertainty_m2 == pytest.approx(f.polygon.length * 0.25, rel=1e-9)


def test_an_l_shaped_building_keeps_its_right_angles():
    m = np.zeros((80, 80), np.float32)
    m[10:60, 10:30] = 1
    m[40:60, 30:65] = 1
    fps, _ = footprints(ndimage.gaussian_filter(m, 0.8), 1.0)
    (f,) = fps
    assert f.vertices == 6
    coords = np.asarray(f.polygon.exterior.coords)[:-1]
    edges = np.roll(coords, -1, axis=0) - coords
    angles = np.degrees(np.arctan2(edges[:, 1], edges[:, 0])) % 90
    assert np.all((angles < 3) | (angles > 87))


def test_touching_buildings_are_split_and_a_staircase_edge_is_not():
    m = np.zeros((60, 120), np.float32)
    m[10:50, 10:55] = 1
    m[10:50, 62:110] = 1
    m[26:34, 55:62] = 1  # a short neck joins them
    labels, n = building_instances(m, gsd_m=0.5)
    assert n == 2
    assert labels[30, 30] != labels[30, 90] and labels[30, 30] > 0 and labels[30, 90] > 0
    stair = np.zeros((60, 60), np.float32)
    for i in range(10, 50):
        stair[i, 10:30 + (i // 4)] = 1
    assert building_instances(stair, gsd_m=0.5)[1] == 1


def _two_dates(before: list[tuple[slice, slice]], after: list[tuple[slice, slice]],
               shape: tuple[int, int] = (100, 160)) -> tuple[np.ndarray, np.ndarray]:
    pb, pa = np.zeros(shape, np.float32), np.zeros(shape, np.float32)
    for sl in before:
        pb[sl] = 0.95
    for sl in after:
        pa[sl] = 0.95
    return pb, pa


def test_a_building_that_grew_is_extended_with_the_added_area():
    hall = (slice(20, 60), slice(10, 50))  # 40 x 40 px, standing on both dates
    shed = (slice(20, 40), slice(80, 100))  # 20 x 20 px before
    grown = (slice(20, 40), slice(80, 130))  # 20 x 50 px after: 20 x 30 added
    pb, pa = _two_dates([hall, shed], [hall, grown])
    change = (pa > 0.5) & (pb < 0.5)
    sc = structure_change(pb, pa, change, 1.0)
    ext = [s for s in sc.structures if s.kind == "extended"]
    assert len(ext) == 1
    (s,) = ext
    assert s.added_area_m2 == pytest.approx(600, rel=0.1)
    assert s.area_m2 == pytest.approx(1000, rel=0.1)
    assert s.added_area_uncertainty_m2 > 0
    # sized against the hall (1,600 m2), the largest other standing building
    largest = next(r for r in s.relative if r.basis == "largest")
    hall_s = next(x for x in sc.structures if x.ref == largest.to)
    assert hall_s.kind == "unchanged"
    assert largest.ratio == pytest.approx(1000 / 1600, rel=0.1)
    assert sc.counts()["new"] == 0 and sc.counts()["demolished"] == 0


def test_relative_size_to_the_nearest_building_of_similar_orientation():
    big = _rotated_rect((200, 300), 60, 100, 100, 40, 0)      # standing, north-south
    near = _rotated_rect((200, 300), 170, 100, 60, 30, 5)     # standing, similar, nearer
    skew = _rotated_rect((200, 300), 230, 40, 40, 20, 45)     # standing, other orientation
    new = _rotated_rect((200, 300), 240, 130, 60, 30, 0)      # new, north-south
    pb = np.maximum.reduce([big, near, skew])
    pa = np.maximum(pb, new)
    sc = structure_change(pb, pa, new > 0.5, 0.5)
    (s,) = [x for x in sc.structures if x.kind == "new"]
    rel = {r.basis: r for r in s.relative}
    refs = {x.ref: x for x in sc.structures}
    assert refs[rel["largest"].to].area_m2 == pytest.approx(100 * 40 * 0.25, rel=0.05)
    nearest = refs[rel["nearest_similar"].to]
    assert nearest.area_m2 == pytest.approx(60 * 30 * 0.25, rel=0.05)
    assert rel["nearest_similar"].ratio == pytest.approx(1.0, abs=0.05)
    assert rel["largest"].ratio == pytest.approx(0.45, abs=0.03)
    assert 0 < rel["largest"].ratio_uncertainty < 0.1


def test_cleared_ground_is_change_without_a_building_that_loses_greenness():
    h, w = 80, 80
    before = np.zeros((3, h, w), np.float32)
    after = np.zeros((3, h, w), np.float32)
    before[:] = np.array([60, 110, 50], np.float32)[:, None, None]  # grass
    after[:] = before
    after[:, 10:40, 10:40] = np.array([150, 120, 90], np.float32)[:, None, None]  # soil
    after[:, 50:75, 50:75] = before[:, 50:75, 50:75] * 0.6  # shadow: darker, as green
    change = np.zeros((h, w), bool)
    change[10:40, 10:40] = change[50:75, 50:75] = True
    none = np.zeros((h, w), np.float32)
    sc = structure_change(none, none, change, 0.5, before, after)
    (s,) = sc.structures
    assert s.kind == "cleared_ground" and s.greenness_loss > 0.1
    assert s.area_m2 == pytest.approx(900 * 0.25, rel=0.15)
    # without the visible bands no cleared ground is claimed
    assert structure_change(none, none, change, 0.5).structures == []


def test_maps_of_other_shapes_are_refused():
    with pytest.raises(InputValueError, match="shape"):
        structure_change(np.zeros((10, 10)), np.zeros((10, 12)), np.zeros((10, 10), bool))
    with pytest.raises(InputValueError, match="threshold"):
        footprints(np.zeros((10, 10)), 0.5, threshold=1.5)


@pytest.mark.slow
def test_a_run_carries_its_structures_to_the_cli_report_and_exports(cli, levir_site,
                                                                    tmp_path):
    pytest.importorskip("onnxruntime")
    import pyogrio

    res = cli("analyze", levir_site, "--method", "model")
    assert res.code == 0, res.err
    assert "structures:" in res.out and "new building S" in res.out
    run = json.loads(cli("runs", "list", levir_site, "--json").out)[0]
    shown = json.loads(cli("show", run["id"], "--json").out)
    doc = shown["summary"]["structures"]
    news = [i for i in doc["items"] if i["kind"] == "new"]
    assert doc["counts"]["new"] == len(news) >= 3
    assert all(-180 <= x <= 180 for x, _ in news[0]["geometry"]["coordinates"][0])
    assert news[0]["relative"] and news[0]["change_objects"]
    gpkg = tmp_path / "out.gpkg"
    assert cli("export", levir_site, "--out", gpkg).code == 0
    info = pyogrio.read_info(gpkg, layer="structures")
    assert info["features"] == len(doc["items"])
    assert {"kind", "area_m2", "ratio_to_largest", "ratio_to_largest_uncertainty",
            "detections"} <= set(info["fields"])
    gj = tmp_path / "out.geojson"
    assert cli("export", levir_site, "--out", gj).code == 0
    fc = json.loads(gj.read_text())
    assert len(fc["structures"]["features"]) == len(doc["items"])
    assert fc["features"] and all("change_type" in f["properties"] for f in fc["features"])
    html = tmp_path / "r.html"
    assert cli("report", levir_site, "--out", html).code == 0
    text = html.read_text()
    assert "<h2>Structures</h2>" in text and "Of the largest building" in text
    # the Python API and the web API give the same features
    import sitewatch

    ws = sitewatch.open_workspace()
    try:
        fc = ws.structures(run["id"])
        assert len(fc["features"]) == len(doc["items"])
        changed = ws.structures(run["id"], changed_only=True)["features"]
        assert {f["properties"]["kind"] for f in changed} >= {"new"}
        assert len(changed) < len(fc["features"])
        pytest.importorskip("fastapi")
        from fastapi.testclient import TestClient
        from support.webapp import PASSWORDS, login

        from sitewatch.web import create_app

        ws.add_user("vic", "viewer", PASSWORDS["vic"])
        with TestClient(create_app(ws), base_url="http://127.0.0.1") as client:
            login(client, "vic")
            got = client.get(f"/api/runs/{run['id']}/structures", params={"changed": True})
            assert got.status_code == 200
            assert got.json()["features"] == json.loads(json.dumps(changed))
    finally:
        ws.close()


@pytest.mark.slow
def test_the_site_page_lists_the_structures_as_text(cli, levir_site, tmp_path):
    """The review workspace's site page, in a real browser, shows a model run's structures
    with their relative sizes, as text."""
    import shutil
    import socket
    import threading
    import time

    chromium = Path("/usr/bin/chromium")
    if not chromium.exists() or shutil.which(str(chromium)) is None:
        pytest.skip("no /usr/bin/chromium")
    sync_api = pytest.importorskip("playwright.sync_api")
    pytest.importorskip("onnxruntime")
    import uvicorn
    from support.webapp import PASSWORDS

    import sitewatch
    from sitewatch.web import create_app

    assert cli("analyze", levir_site, "--method", "model").code == 0
    ws = sitewatch.open_workspace()
    ws.add_user("vic", "viewer", PASSWORDS["vic"])
    run = ws.runs(levir_site)[0]
    changed = [i for i in run.summary["structures"]["items"] if i["kind"] != "unchanged"]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    srv = uvicorn.Server(uvicorn.Config(create_app(ws), host="127.0.0.1", port=port,
                                        log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    try:
        with sync_api.sync_playwright() as p:
            ctx = p.chromium.launch_persistent_context(
                str(tmp_path / "profile"), executable_path=str(chromium), headless=True,
                args=["--headless", "--no-sandbox", "--disable-gpu"])
            page = ctx.pages[0] if ctx.pages else ctx.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{base}/login")
            page.fill("#login-name", "vic")
            page.fill("#login-password", PASSWORDS["vic"])
            page.click("#login-submit")
            page.wait_for_selector("body[data-ready='1']")
            page.goto(f"{base}/sites/{run.site_id}")
            page.wait_for_selector("body[data-ready='1']")
            page.wait_for_selector("#struct-section:not([hidden])")
            rows = page.locator("#struct-table tbody tr")
            assert rows.count() >= len(changed)
            text = page.text_content("#struct-table") or ""
            assert "new" in text and "% ±" in text and "of S" in text
            ctx.close()
            assert errors == []
    finally:
        srv.should_exit = True
        thread.join(10)
        ws.close()


def test_detect_writes_the_structures_of_a_pair(cli, samples, tmp_path):
    pytest.importorskip("onnxruntime")
    base = samples / "levir-cd" / "tiles256"
    pair = (base / "A" / f"{TILE}.png", base / "B" / f"{TILE}.png")
    out = tmp_path / "s.geojson"
    res = cli("detect", *pair, "--out", tmp_path / "m.tif", "--gsd", GSD, "--method", "model",
              "--structures", out)
    assert res.code == 0, res.err
    assert f"written to {out}" in res.out and "new building S" in res.out
    fc = json.loads(out.read_text())
    kinds = [f["properties"]["kind"] for f in fc["features"]]
    assert kinds.count("new") == fc["counts"]["new"] >= 5
    assert "pixel" in fc["note"]  # plain PNGs: geometry in BEFORE's pixels
    new = next(f["properties"] for f in fc["features"] if f["properties"]["kind"] == "new")
    assert new["area_m2"] > 0 and new["relative"] and new["change_objects"]
    # a detector without building maps writes a collection that says so
    res = cli("detect", *pair, "--out", tmp_path / "m2.tif", "--method", "cva",
              "--structures", tmp_path / "none.geojson")
    assert res.code == 0 and "no building maps" in res.out
    assert json.loads((tmp_path / "none.geojson").read_text())["features"] == []


def test_a_footprint_across_the_antimeridian_is_split_there():
    from affine import Affine
    from pyproj import Transformer

    from sitewatch.detect.footprints import to_world

    x, y = Transformer.from_crs("EPSG:4326", "EPSG:32660", always_xy=True).transform(
        179.99995, 10.0)
    tf = Affine(0.5, 0, x - 10, 0, -0.5, y + 10)  # 40 px of 0.5 m: 10 m either side
    g = to_world(shapely.box(0, 0, 40, 40), tf, "EPSG:32660")
    assert g.geom_type == "MultiPolygon" and len(g.geoms) == 2
    w, _, e, _ = g.bounds
    assert (w, e) == (-180.0, 180.0)
    # one not crossing stays one polygon, in lon/lat
    one = to_world(shapely.box(0, 0, 10, 10), tf, "EPSG:32660")
    assert one.geom_type == "Polygon" and 179.9 < one.bounds[0] < 180


def test_cleared_ground_uses_ndvi_where_a_near_infrared_band_is_named():
    h, w = 60, 60
    names = ("blue", "green", "red", "nir")
    before = np.zeros((4, h, w), np.float32)
    before[:] = np.array([0.04, 0.08, 0.05, 0.45], np.float32)[:, None, None]  # vegetation
    after = before.copy()
    # soil that looks as green as before in the visible bands, but has lost its NIR
    after[:, 10:40, 10:40] = np.array([0.04, 0.08, 0.05, 0.09], np.float32)[:, None, None]
    change = np.zeros((h, w), bool)
    change[10:40, 10:40] = True
    none = np.zeros((h, w), np.float32)
    (s,) = structure_change(none, none, change, 0.5, before, after, names).structures
    assert s.kind == "cleared_ground" and s.greenness_loss > 0.5
    # the same visible bands alone see no loss of greenness
    rgb = [2, 1, 0]
    assert structure_change(none, none, change, 0.5, before[rgb], after[rgb]).structures == []


def test_a_building_cut_by_the_image_edge_is_no_yardstick_while_a_whole_one_stands():
    """The largest standing building runs off the image: its area is only the part inside,
    so a new building is sized against the whole one; with no whole one standing, the
    cut one gives an upper bound, said so."""
    cut = (slice(0, 60), slice(0, 60))       # 3,600 px inside, more beyond the edge
    whole = (slice(30, 60), slice(80, 110))  # 900 px, inside the image
    new = (slice(70, 90), slice(100, 130))   # 600 px, new
    pb, pa = _two_dates([cut, whole], [cut, whole, new])
    sc = structure_change(pb, pa, (pa > 0.5) & (pb < 0.5), 1.0)
    (s,) = [x for x in sc.structures if x.kind == "new"]
    largest = next(r for r in s.relative if r.basis == "largest")
    assert not largest.partial
    assert largest.ratio == pytest.approx(600 / 900, rel=0.1)
    assert "at most" not in s.label()

    pb, pa = _two_dates([cut], [cut, new])
    sc = structure_change(pb, pa, (pa > 0.5) & (pb < 0.5), 1.0)
    (s,) = [x for x in sc.structures if x.kind == "new"]
    largest = next(r for r in s.relative if r.basis == "largest")
    assert largest.partial and largest.ratio == pytest.approx(600 / 3600, rel=0.1)
    assert "at most 17%" in s.label() and "cut by the image edge" in s.label()
    assert s.properties()["relative"][0]["partial"] is True


def test_the_only_whole_building_being_itself_leaves_the_cut_ones_as_an_upper_bound():
    cut = (slice(0, 60), slice(0, 60))          # standing, cut by the image's edge
    shed = (slice(30, 50), slice(80, 100))      # 400 px before
    grown = (slice(30, 50), slice(80, 130))     # 1,000 px after: extended, whole
    pb, pa = _two_dates([cut, shed], [cut, grown])
    sc = structure_change(pb, pa, (pa > 0.5) & (pb < 0.5), 1.0)
    (s,) = [x for x in sc.structures if x.kind == "extended"]
    largest = next(r for r in s.relative if r.basis == "largest")
    assert largest.partial and "at most" in s.label()
