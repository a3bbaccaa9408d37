"""Figures for print: `report SITE --figure FILE.png|svg|pdf`, label placement, scale bar,
coordinates, plain words, and the report's swipe view; on the LEVIR-CD tile and the Taizhou
Landsat pair."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import xml.etree.ElementTree as ET
from itertools import combinations
from pathlib import Path

import numpy as np
import pytest
from conftest import one_error_line
from PIL import Image
from shapely.geometry import Point, box

from sitewatch.evidence.figure import FigureSpec, Mark, Panel, figure_layout, render_figure
from sitewatch.evidence.figure_layout import overlaps, place_labels

TAIZHOU = "landsat-taizhou-nanjing/Taizhou"


@pytest.fixture
def taizhou(cli, samples) -> str:
    """The Taizhou Landsat-7 pair (2000 vs 2003, 30 m) over a 5 km site, analysed: about 80
    detections, most of them small."""
    assert cli("sites", "add", "taizhou", "--lat", "32.4897", "--lon", "119.9067",
               "--radius-m", "5000").code == 0
    for year in ("2000", "2003"):
        res = cli("scenes", "import", "taizhou", samples / TAIZHOU / f"{year}TM", "--date", year,
                  "--provider", "Landsat 7", "--credit", "Landsat-7 ETM+ courtesy of the USGS")
        assert res.code == 0, res.err
    assert cli("analyze", "taizhou").code == 0
    return "taizhou"


def _layout(site: str):
    from sitewatch import open_workspace
    from sitewatch.pipeline.reporting import site_figure_spec

    ws = open_workspace()
    try:
        spec = site_figure_spec(ws.store, site)
    finally:
        ws.close()
    return spec, figure_layout(spec, dpi=150)


def _check_placement(layout) -> None:
    for panel in (0, 1):
        boxes = [b for k, _, b in layout.labels if k == panel]
        for a, b in combinations(boxes, 2):
            assert not overlaps(a, b), (a, b)
    # the same labels on both panels
    assert sorted(r for k, r, _ in layout.labels if k == 0) == \
        sorted(r for k, r, _ in layout.labels if k == 1)
    dets = [b for _, _, b in layout.detections]
    assert layout.scale_bars
    for _, bar in layout.scale_bars:
        assert not any(overlaps(bar, d) for d in dets), bar
    for _, arrow in layout.north_arrows:
        assert not any(overlaps(arrow, d) for d in dets), arrow


def test_taizhou_labels_the_largest_without_overlap(taizhou):
    spec, layout = _layout(taizhou)
    n = len(spec.marks)
    assert n > 40  # the crowded case this layout is for
    labelled = [r for k, r, _ in layout.labels if k == 0]
    assert 20 <= len(labelled) <= 25
    assert f"the 25 largest of {n}; all in the report's table" in layout.note
    largest = sorted(spec.marks, key=lambda m: -(m.area_m2 or 0))[:25]
    assert set(labelled) <= {m.ref for m in largest}
    _check_placement(layout)
    for title in layout.titles:  # plain words, no codes or detector names in titles
        assert "_" not in title and "method" not in title and "cva" not in title, title
    assert layout.titles[1].startswith("Before: 2000")


def test_png_at_300_dpi(cli, levir_site, tmp_path):
    assert cli("analyze", levir_site).code == 0
    out = tmp_path / "fig.png"
    res = cli("report", levir_site, "--figure", out, "--dpi", "300")
    assert res.code == 0, res.err
    assert "figure written" in res.out and not (tmp_path / "r.html").exists()
    img = Image.open(out)
    assert img.format == "PNG"
    assert img.size[0] == round(7.4 * 300)  # 7.4 in: a two-column page width
    assert img.info["dpi"] == pytest.approx((300, 300), abs=0.1)
    spec, layout = _layout(levir_site)
    assert img.size[1] == pytest.approx(layout.size_px[1] * 2, abs=2)  # layout drawn at 150
    _check_placement(layout)
    # numbers on both panels: every detection is labelled on each (fewer than 25 here)
    refs = {m.ref for m in spec.marks}
    assert {r for k, r, _ in layout.labels if k == 0} == refs
    assert {r for k, r, _ in layout.labels if k == 1} == refs


def test_svg_keeps_labels_as_text_and_pdf_is_one_page(cli, levir_site, tmp_path):
    run = json.loads(cli("analyze", levir_site, "--json").out)
    refs = {d["id"] for d in run["detections"]}
    svg, pdf = tmp_path / "fig.svg", tmp_path / "fig.pdf"
    assert cli("report", levir_site, "--figure", svg).code == 0
    root = ET.parse(svg).getroot()
    texts = {"".join(t.itertext()).strip() for t in root.iter("{http://www.w3.org/2000/svg}text")}
    assert refs and refs <= texts
    assert any(t.endswith("°N") for t in texts) and any(t.endswith("°W") for t in texts)
    assert cli("report", levir_site, "--figure", pdf, "--out", tmp_path / "r.html").code == 0
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    from pypdf import PdfReader

    assert len(PdfReader(io.BytesIO(data)).pages) == 1
    assert (tmp_path / "r.html").is_file()


@pytest.mark.parametrize("name", ["fig.jpg", "fig", "fig.png.txt"])
def test_unsupported_figure_format_is_refused(cli, levir_site, tmp_path, name):
    assert cli("analyze", levir_site).code == 0
    dest = tmp_path / "out"
    dest.mkdir()
    line = one_error_line(cli("report", levir_site, "--figure", dest / name,
                              "--out", dest / "r.html"))
    assert ".png, .svg or .pdf" in line
    assert list(dest.iterdir()) == []  # nothing written, not even the HTML


def test_bad_dpi_and_nothing_to_write(cli, levir_site, tmp_path):
    assert cli("analyze", levir_site).code == 0
    assert "50 to 1200" in one_error_line(
        cli("report", levir_site, "--figure", tmp_path / "f.png", "--dpi", "5"))
    assert "--out" in one_error_line(cli("report", levir_site))
    assert not (tmp_path / "f.png").exists()


def test_report_has_a_swipe_view_allowed_by_its_csp(cli, levir_site, tmp_path):
    assert cli("analyze", levir_site).code == 0
    out = tmp_path / "r.html"
    assert cli("report", levir_site, "--out", out).code == 0
    html = out.read_text()
    assert 'class="swipe"' in html and 'type="range"' in html and "aria-label=" in html
    scripts = re.findall(r"<script>(.*?)</script>", html, re.S)
    assert len(scripts) == 1
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in html
    assert "http://" not in html.replace("http-equiv", "").replace("http://www.w3.org", "")
    assert "https://" not in html
    # the swipe's two images are the chips at one PNG pixel per grid pixel
    imgs = re.findall(r'class="(before|after)" alt="[^"]*" width="(\d+)" height="(\d+)"', html)
    assert {k for k, _, _ in imgs} == {"before", "after"}
    assert "Centre (lat, lon)" in html and "(lon, lat)" not in html


# --- synthetic edge cases --------------------------------------------------------------------
def _spec(marks, w=200, h=150) -> FigureSpec:
    data = np.random.default_rng(1).random((3, h, w)).astype("float32")
    names = ["red", "green", "blue"]
    return FigureSpec(Panel(data, names, "Before: 2020", "credit A"),
                      Panel(data, names, "After: 2021", "credit B"), 1.0, box(0, 0, w, h),
                      marks, "site: test")


def test_a_dense_cluster_gets_leader_lines_and_never_overlaps():
    rng = np.random.default_rng(7)
    marks = [Mark(Point(90 + rng.uniform(-12, 12), 70 + rng.uniform(-12, 12)).buffer(1.5),
                  f"D{i}", float(100 - i)) for i in range(1, 41)]
    layout = figure_layout(_spec(marks), dpi=100)
    assert 10 <= len(layout.labels) // 2 <= 25
    _check_placement(layout)


def test_scale_bar_leaves_the_panels_when_every_corner_holds_change():
    marks = [Mark(box(c[0], c[1], c[0] + 60, c[1] + 50), f"D{i}", 10.0)
             for i, c in enumerate([(0, 0), (140, 0), (0, 100), (140, 100)], start=1)]
    layout = figure_layout(_spec(marks), dpi=100)
    assert [k for k, _ in layout.scale_bars] == [-1]  # beside the panels, one for both
    _check_placement(layout)
    assert not layout.north_arrows and "North is up" not in layout.note


def test_place_labels_refuses_rather_than_overlaps():
    frame = (0.0, 0.0, 30.0, 12.0)  # room for two 12 x 10 labels side by side, not three
    placed = place_labels([(12.0, 10.0)] * 3, [(15.0, 6.0)] * 3, [(14.0, 5.0, 16.0, 7.0)] * 3,
                          frame, [], pad=0.5)
    assert len(placed) == 2
    assert not overlaps(placed[0].box, placed[1].box)


def test_svg_is_deterministic_and_draws_user_text_literally():
    spec = _spec([Mark(box(20, 20, 40, 40), "D1", 400.0, 20.0, "built_up_gain")])
    spec = FigureSpec(spec.before, spec.after, 1.0, None, spec.marks, "Site $5 and $10 <b>x</b>",
                      cautions=["Co-registration failed: the images may not line up."])
    a, b = render_figure(spec, "svg", 100), render_figure(spec, "svg", 100)
    assert a == b
    texts = {"".join(t.itertext()) for t in ET.fromstring(a).iter(
        "{http://www.w3.org/2000/svg}text")}
    assert "Site $5 and $10 <b>x</b>" in texts
    assert any("new construction" in t for t in texts)
    assert any(t.startswith("Caution: Co-registration failed") for t in texts)  # the caveat
    assert not any("built_up_gain" in t for t in texts)



@pytest.mark.slow
def test_swipe_view_works_by_keyboard_and_mouse_in_a_browser(cli, levir_site, tmp_path):
    """The report opened from disk in chromium: no CSP violation, the divider moves with
    the arrow keys and by dragging, and the outlines can be hidden."""
    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        pytest.skip("no /usr/bin/chromium (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    assert cli("analyze", levir_site).code == 0
    out = tmp_path / "r.html"
    assert cli("report", levir_site, "--out", out).code == 0
    args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--no-first-run"]
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), headless=True, args=args)
        try:
            page = browser.new_page()
            problems: list[str] = []
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.goto(out.as_uri())
            swipe = page.locator(".swipe")
            divider = swipe.locator("input[type=range]")
            pos = "getComputedStyle(document.querySelector('.swipe')).getPropertyValue('--pos')"
            assert page.evaluate(pos).strip() == "50%"  # the script ran: CSP allowed it
            divider.focus()
            for _ in range(10):
                page.keyboard.press("ArrowLeft")
            assert divider.input_value() == "40" and page.evaluate(pos).strip() == "40%"
            page.keyboard.press("End")
            assert page.evaluate(pos).strip() == "100%"
            box_ = divider.bounding_box()
            assert box_ is not None
            y = box_["y"] + box_["height"] / 2
            page.mouse.click(box_["x"] + box_["width"] * 0.25, y)
            assert abs(int(divider.input_value()) - 25) <= 2
            swipe.locator("input[type=checkbox]").click()
            assert page.evaluate("document.querySelector('.swipe').classList.contains('bare')")
            assert problems == []
        finally:
            browser.close()
