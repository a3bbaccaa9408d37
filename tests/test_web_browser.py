"""The review workspace in a real browser: Playwright driving Debian's chromium against
``sitewatch serve``'s app on 127.0.0.1. Skipped when /usr/bin/chromium or playwright is
missing (``.ci/run`` installs both). With SITEWATCH_SCREENSHOTS=1 the review page is saved
to docs/review-page.png (the README shows it)."""

# ruff: noqa: F811  (web_ws is a fixture imported from support.webapp)
from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.webapp import PASSWORDS, web_ws  # noqa: F401

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
DOCS = Path(__file__).resolve().parents[1] / "docs"
HOSTILE = "<img src=x onerror=alert(1)>"

if not CHROMIUM.exists():
    pytest.skip("no /usr/bin/chromium (apt-get install chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(web_ws: Any) -> Iterator[str]:
    """The app of the test's workspace, served by uvicorn in a thread on a free port."""
    import uvicorn

    from sitewatch.web import create_app

    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(create_app(web_ws), host="127.0.0.1", port=port,
                                        log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(10)


@pytest.fixture
def page(tmp_path: Path) -> Iterator[Any]:
    """A page of a fresh chromium profile; fails the test on any page error or dialog."""
    with sync_api.sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=str(CHROMIUM), headless=True, args=ARGS,
            viewport={"width": 1400, "height": 1000})
        pg = ctx.pages[0] if ctx.pages else ctx.new_page()
        pg.problems = []
        pg.on("pageerror", lambda e: pg.problems.append(f"page error: {e}"))
        pg.on("console", lambda m: pg.problems.append(f"console {m.type}: {m.text}")
              if m.type == "error" and "Content Security Policy" in m.text else None)

        def dialog(d: Any) -> None:
            pg.problems.append(f"dialog: {d.message}")
            d.dismiss()

        pg.on("dialog", dialog)
        pg.set_default_timeout(15000)
        try:
            yield pg
        finally:
            ctx.close()


def _login(page: Any, base: str, name: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#login-name", name)
    page.fill("#login-password", PASSWORDS[name])
    page.click("#login-submit")
    page.wait_for_selector("body[data-ready='1']")


def _tiles_drawn(page: Any, selector: str) -> None:
    page.wait_for_function(
        "sel => { const c = document.querySelector(sel + ' canvas');"
        " return c && c.width > 0; }", arg=selector)


def test_open_site_from_map_swipe_and_reject_with_reason(server: str, page: Any,
                                                         web_ws: Any, tmp_path: Path) -> None:
    _login(page, server, "ann")
    assert page.url.rstrip("/") == server
    page.wait_for_selector("#site-list a.site-link")
    if os.environ.get("SITEWATCH_SCREENSHOTS") == "1":
        page.wait_for_timeout(800)
        page.screenshot(path=str(tmp_path / "map.png"))
    page.click("#site-list a.site-link >> text=austin")
    page.wait_for_url(f"{server}/sites/*")
    page.wait_for_selector("body[data-ready='1']")
    assert page.text_content("#site-name") == "austin"
    run = web_ws.runs("austin")[0]
    page.wait_for_selector(f"#det-table tbody tr[data-ref='{run.detections[0].ref}']")
    assert page.locator("#det-table tbody tr").count() == len(run.detections)
    assert page.locator("#map-after .det-label").count() == len(run.detections)
    _tiles_drawn(page, "#map-after")

    # the swipe: the after map is clipped where the slider is
    assert "50%" in page.eval_on_selector("#map-after canvas", "e => e.style.clipPath")
    page.fill("#swipe", "20")
    assert "20%" in page.eval_on_selector("#map-after canvas", "e => e.style.clipPath")
    assert page.get_attribute("#compare", "data-swipe") == "20"
    page.click("#mode-side")
    assert "side" in (page.get_attribute("#compare", "class") or "")
    page.click("#mode-swipe")
    page.fill("#swipe", "50")
    page.wait_for_timeout(1500)  # tiles
    if os.environ.get("SITEWATCH_SCREENSHOTS") == "1":
        page.screenshot(path=str(tmp_path / "site.png"), full_page=True)

    # the review queue, by keyboard: r, then the key of "misregistration"
    change = web_ws.change(run.detections[0].change_id)
    page.goto(f"{server}/review?change={change.ref}")
    page.wait_for_selector("body[data-ready='1']")
    page.wait_for_function("ref => document.getElementById('c-title').textContent"
                           ".startsWith(ref)", arg=change.ref)
    reasons = [b.get_attribute("data-reason") for b in page.query_selector_all("#reasons .reason")]
    key = str(reasons.index("misregistration") + 1)
    page.fill("#d-note", "shifted roofs, not new buildings")
    page.locator("body").click(position={"x": 5, "y": 60})  # leave the note field
    page.keyboard.press("r")
    assert page.is_visible("#reasons")
    page.keyboard.press(key)
    page.wait_for_function("w => document.getElementById('d-msg').textContent.includes(w)",
                           arg="rejected")
    stored = web_ws.change(change.id)
    assert stored.status.value == "rejected"
    (entry,) = web_ws.reviews(change.ref)
    assert (entry.by, entry.reason.value, entry.note) == (
        "ann", "misregistration", "shifted roofs, not new buildings")

    # the audit trail of that change shows the decision; c confirms the next one
    page.goto(f"{server}/review?change={change.ref}")
    page.wait_for_selector("body[data-ready='1']")
    page.wait_for_selector("#audit tbody tr >> text=misregistration")
    assert "ann" in page.text_content("#audit tbody")
    if os.environ.get("SITEWATCH_SCREENSHOTS") == "1":
        _tiles_drawn(page, "#r-after")
        page.wait_for_timeout(1500)
        page.screenshot(path=str(tmp_path / "review.png"))
        DOCS.mkdir(exist_ok=True)
        shutil.copy(tmp_path / "review.png", DOCS / "review-page.png")
    page.goto(f"{server}/review")
    page.wait_for_selector("body[data-ready='1']")
    first = page.text_content("#c-title").split(" ")[0]
    page.keyboard.press("c")
    page.wait_for_function("w => document.getElementById('d-msg').textContent.includes(w)",
                           arg="confirmed")
    assert web_ws.change(first).status.value == "confirmed"
    assert web_ws.reviews(first)[-1].by == "ann"
    page.keyboard.press("s")
    page.keyboard.press("n")
    assert "C" in page.text_content("#c-title")
    if os.environ.get("SITEWATCH_SCREENSHOTS") == "1":
        page.goto(f"{server}/downloads")
        page.wait_for_selector("body[data-ready='1']")
        page.screenshot(path=str(tmp_path / "downloads.png"))
        page.goto(f"{server}/docs")
        page.wait_for_selector("body[data-ready='1']")
        page.screenshot(path=str(tmp_path / "docs.png"))
        shots = os.environ.get("SITEWATCH_SCREENSHOTS_DIR")
        if shots:
            for f in tmp_path.glob("*.png"):
                shutil.copy(f, Path(shots) / f.name)
    assert page.problems == []


def test_hostile_site_name_is_shown_as_text(server: str, page: Any, web_ws: Any) -> None:
    web_ws.edit_site("austin", name=HOSTILE, add_aliases=["<script>alert(2)</script>"])
    _login(page, server, "vic")
    link = page.locator("#site-list a.site-link")
    link.wait_for()
    assert link.text_content() == HOSTILE
    assert page.locator("#site-list img").count() == 0
    assert "<script>alert(2)</script>" in page.text_content("#site-list")
    page.fill("#site-search", "<script>")
    assert page.locator("#site-list a.site-link").count() == 1
    link.click()
    page.wait_for_selector("body[data-ready='1']")
    assert page.text_content("#site-name") == HOSTILE
    assert page.locator("main img[src='x']").count() == 0
    page.goto(f"{server}/review")
    page.wait_for_selector("body[data-ready='1']")
    assert HOSTILE in page.text_content("#c-title")
    assert page.locator("#d-confirm").is_disabled()  # a viewer
    page.goto(f"{server}/downloads")
    page.wait_for_selector("body[data-ready='1']")
    assert page.locator("#dl-table a", has_text=HOSTILE).count() == 1
    page.wait_for_timeout(300)
    assert page.problems == []


def test_draw_a_site_on_the_map_refuses_a_self_intersecting_aoi(server: str, page: Any,
                                                                  web_ws: Any) -> None:
    _login(page, server, "ann")
    page.wait_for_selector("#site-list a.site-link")
    box = page.locator("#map").bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2

    def draw(points: list[tuple[int, int]]) -> None:
        page.click("#draw-new")
        for dx, dy in points:
            page.mouse.click(cx + dx, cy + dy)
        page.click("#draw-finish")
        page.fill("#new-name", "drawn plant")

    draw([(-150, -150), (150, 150), (150, -150), (-150, 150)])  # a bow tie
    page.click("#site-save")
    page.wait_for_function("() => document.getElementById('draw-error').textContent"
                           ".includes('Self-intersection')")
    assert [s.name for s in web_ws.sites()] == ["austin"]  # nothing half-written
    page.click("#draw-cancel")
    draw([(-150, -150), (150, -150), (150, 150), (-150, 150)])
    page.click("#site-save")
    page.wait_for_selector("#site-list a.site-link >> text=drawn plant")
    site = web_ws.site("drawn plant")
    assert site.aoi["type"] == "Polygon" and len(site.aoi["coordinates"][0]) == 5
    assert page.text_content("#draw-error") == ""
    assert page.problems == []
