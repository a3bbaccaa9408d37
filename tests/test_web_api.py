"""The review workspace's JSON API through FastAPI's TestClient, on a workspace built from
the real LEVIR-CD sample tile (SQLite, or PostgreSQL under ``make test-pg``)."""

# ruff: noqa: F811  (web_ws is a fixture imported from support.webapp)
from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from support.webapp import PASSWORDS, login, web_ws  # noqa: F401

fastapi = pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from sitewatch.errors import (  # noqa: E402
    ConfigError,
    ConflictError,
    GeometryError,
    InputFileError,
    InputValueError,
    NotFoundError,
)
from sitewatch.web import create_app  # noqa: E402
from sitewatch.web.errors import STATUS, Forbidden, status_of  # noqa: E402

WEB = Path(__file__).resolve().parents[1] / "src" / "sitewatch" / "web"


@pytest.fixture
def client(web_ws):
    with TestClient(create_app(web_ws), base_url="http://127.0.0.1") as c:
        yield c


def _open_change(ws):
    return next(c for c in ws.changes() if c.status.value == "unreviewed")


def _bbox_ring(w, s, e, n):
    return {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}


def test_login_cookie_csp_and_pages_without_inline_script(client):
    r = client.get("/login")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    r = client.post("/api/login", json={"name": "ann", "password": PASSWORDS["ann"]},
                    headers={"X-CSRF-Token": client.cookies.get("sw_csrf")})
    assert r.status_code == 200
    cookie = r.headers["set-cookie"].lower()
    assert "sw_session=" in cookie and "httponly" in cookie and "samesite=strict" in cookie
    assert r.json()["user"] == {**r.json()["user"], "name": "ann", "role": "analyst",
                                "can_review": True}
    for url in ("/", "/login", "/review", "/downloads", "/docs", "/sites/1"):
        page = client.get(url)
        assert page.status_code == 200, url
        scripts = re.findall(r"<script\b[^>]*>", page.text)
        assert scripts and all('src="/static/' in s for s in scripts), (url, scripts)
        assert not re.search(r"<[^>]*\son[a-z]+\s*=", page.text), url  # no inline handlers
    # no CDN, no external fonts: nothing of ours names another host
    for f in [*WEB.glob("templates/*.html"), *WEB.glob("static/js/*.js"),
              *WEB.glob("static/css/*.css")]:
        assert not re.search(r"https?://", f.read_text(encoding="utf-8")), f
    for f in (WEB / "static" / "vendor").iterdir():
        assert f.stat().st_size < 5 * 1024 * 1024, f
    assert client.get("/static/vendor/maplibre-gl.mjs").headers["content-type"].startswith(
        "text/javascript")


def test_login_needs_its_csrf_cookie_and_is_rate_limited(client):
    assert client.get("/api/sites").status_code == 401
    assert client.get("/api/sites").json()["error"]["type"] == "NotAuthenticated"
    client.get("/login")
    r = client.post("/api/login", json={"name": "ann", "password": PASSWORDS["ann"]})
    assert r.status_code == 403 and "CSRF" in r.json()["error"]["message"]
    token = {"X-CSRF-Token": client.cookies.get("sw_csrf")}
    for _ in range(5):
        r = client.post("/api/login", json={"name": "ann", "password": "wrong"}, headers=token)
        assert r.status_code == 401
    r = client.post("/api/login", json={"name": "ann", "password": PASSWORDS["ann"]},
                    headers=token)
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
    # per user + address: another account from the same address still logs in
    assert login(client, "vic")
    assert client.post("/api/login", json={"name": "", "password": "x"},
                       headers=token).json()["error"]["field"] == "body.name"


def test_reads_sites_scenes_runs_detections_changes(client, web_ws):
    login(client, "vic")
    sites = client.get("/api/sites").json()
    assert [s["name"] for s in sites] == ["austin"]
    site = sites[0]
    assert site["changes"]["unreviewed"] == len(web_ws.changes()) > 0
    assert client.get("/api/sites", params={"q": "AUS"}).json()[0]["id"] == site["id"]
    assert client.get("/api/sites", params={"q": "nowhere"}).json() == []
    scenes = client.get(f"/api/sites/{site['id']}/scenes").json()
    assert [s["acquired"] for s in scenes] == ["2002/2013", "2007/2018"]
    assert scenes[0]["provenance"] == {**scenes[0]["provenance"], "provider": "Google Earth",
                                       "credit": "LEVIR-CD"}
    runs = client.get(f"/api/sites/{site['id']}/runs").json()
    assert len(runs) == 1 and runs[0]["ref"].startswith("R") and "detections" not in runs[0]
    ov = client.get(f"/api/sites/{site['id']}/overview").json()
    assert ov["run"]["ref"] == runs[0]["ref"] and len(ov["scenes"]) == 2
    det = ov["run"]["detections"][0]
    assert det["area_m2"] > 0 and det["area_uncertainty_m2"] > 0 and det["change_ref"]
    assert client.get(f"/api/runs/{runs[0]['ref']}").json()["detection_count"] == len(
        ov["run"]["detections"])
    assert client.get(f"/api/detections/{det['ref']}").json()["id"] == det["id"]

    every = client.get("/api/changes").json()
    assert len(every) == len(web_ws.changes())
    assert every[0]["site_name"] == "austin" and every[0]["latest"]["ref"]
    strong = client.get("/api/changes", params={"min_score": 0.9}).json()
    assert all(c["score"] >= 0.9 for c in strong) and len(strong) < len(every)
    assert client.get("/api/changes", params={"kind": "no-such-kind"}).json() == []
    assert len(client.get("/api/changes", params={"status": "unreviewed",
                                                  "site": site["id"]}).json()) == len(every)
    assert client.get("/api/changes", params={"since": "2019-01-01"}).json() == []
    assert len(client.get("/api/changes", params={"until": "2019-01-01"}).json()) == len(every)
    one = client.get(f"/api/changes/{every[0]['ref']}").json()
    assert one["reviews"] == [] and one["before_scene_id"] == scenes[0]["id"]


def test_unknown_and_malformed_ids(client):
    login(client, "vic")
    for url in ("/api/changes/C99999", "/api/runs/R99999", "/api/detections/D99999",
                "/api/sites/99999", "/api/scenes/99999", "/api/nothing"):
        r = client.get(url)
        assert r.status_code == 404, url
        assert r.json()["error"]["status"] == 404 and r.json()["error"]["message"]
    for url, field in (("/api/changes/xyz", "path.ref"), ("/api/runs/C1", "path.run_ref"),
                       ("/api/sites/abc", "path.site_id"),
                       ("/api/changes?min_score=-1", "query.min_score"),
                       ("/api/changes?since=someday", "query.since"),
                       ("/api/changes?status=maybe", "query.status")):
        r = client.get(url)
        assert r.status_code == 422, url
        assert r.json()["error"]["field"] == field, (url, r.json())


def test_review_records_the_user_and_refuses_without_csrf_or_as_viewer(client, web_ws):
    change = _open_change(web_ws)
    vic_csrf = login(client, "vic")
    r = client.post(f"/api/changes/{change.ref}/review", json={"decision": "confirm"},
                    headers={"X-CSRF-Token": vic_csrf})
    assert r.status_code == 403 and "viewer" in r.json()["error"]["message"]

    csrf = login(client, "ann")
    r = client.post(f"/api/changes/{change.ref}/review", json={"decision": "confirm"})
    assert r.status_code == 403
    r = client.post(f"/api/changes/{change.ref}/review", json={"decision": "confirm"},
                    headers={"X-CSRF-Token": vic_csrf})  # another session's token
    assert r.status_code == 403
    assert web_ws.change(change.id).status.value == "unreviewed" and not web_ws.reviews()

    h = {"X-CSRF-Token": csrf}
    url = f"/api/changes/{change.ref}/review"
    for body, field in (({"decision": "reject"}, "body.reason"),
                        ({"decision": "reject", "reason": "aliens"}, "body.reason"),
                        ({"decision": "confirm", "reason": "seasonal"}, "body.reason"),
                        ({"decision": "maybe"}, "body.decision"), ({}, "body.decision")):
        r = client.post(url, json=body, headers=h)
        assert r.status_code == 422 and r.json()["error"]["field"] == field, (body, r.json())
    r = client.post(url, content=b"{not json", headers={**h, "content-type": "application/json"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "body"
    assert not web_ws.reviews()

    r = client.post(url, json={"decision": "reject", "reason": "seasonal", "note": "<b>x</b>"},
                    headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["review"]["by"] == "ann" and r.json()["change"]["status"] == "rejected"
    assert web_ws.change(change.id).status.value == "rejected"
    (entry,) = web_ws.reviews(change.ref)
    assert (entry.by, entry.reason.value, entry.note) == ("ann", "seasonal", "<b>x</b>")
    assert client.post(url, json={"decision": "reject", "reason": "seasonal"},
                       headers=h).status_code == 409
    assert client.post("/api/changes/C99999/review", json={"decision": "confirm"},
                       headers=h).status_code == 404
    trail = client.get(f"/api/changes/{change.ref}/reviews").json()
    assert [(t["by"], t["from"], t["to"]) for t in trail] == [("ann", "unreviewed", "rejected")]
    assert client.get("/api/reviews").json()[0]["id"] == entry.id

    # by a detection of the change; then a batch, checked whole before anything is written
    det = web_ws.detection(change.detection_ids[0])
    r = client.post(f"/api/detections/{det.ref}/review", json={"decision": "reset"}, headers=h)
    assert r.status_code == 200 and r.json()["review"]["detection_ref"] == det.ref
    others = [c.ref for c in web_ws.changes() if c.id != change.id][:3]
    before = len(web_ws.reviews())
    r = client.post("/api/reviews/batch", json={"refs": [*others, "C99999"],
                                                "decision": "confirm"}, headers=h)
    assert r.status_code == 404 and len(web_ws.reviews()) == before
    r = client.post("/api/reviews/batch", json={"refs": others, "decision": "reject",
                                                "reason": "cloud"}, headers=h)
    assert r.status_code == 200 and len(r.json()["reviewed"]) == len(others)
    assert {web_ws.change(x).status.value for x in others} == {"rejected"}
    assert {v.by for v in web_ws.reviews()} == {"ann"}


def test_every_state_changing_route_needs_the_csrf_token(client):
    login(client, "ada")
    spec = client.get("/openapi.json").json()
    unsafe = [(m.upper(), path) for path, ops in spec["paths"].items() for m in ops
              if m.upper() in {"POST", "PATCH", "PUT", "DELETE"} and path != "/api/login"]
    assert len(unsafe) >= 6  # logout, sites add/edit, review of a change/detection, batch
    for method, path in unsafe:
        url = (path.replace("{ref}", "C1").replace("{site_id}", "1"))
        r = client.request(method, url, json={})
        assert r.status_code == 403, (method, path, r.status_code)


def test_site_drawn_on_the_map_and_aoi_edit(client, web_ws):
    h = {"X-CSRF-Token": login(client, "ann")}
    aoi = _bbox_ring(10.0, 50.0, 10.01, 50.01)
    r = client.post("/api/sites", json={"name": "plant", "aoi": aoi, "aliases": ["works"],
                                        "kind": "refinery"}, headers=h)
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    assert web_ws.site("works").id == sid
    bow = {"type": "Polygon", "coordinates": [[[10, 50], [10.01, 50.01], [10.01, 50],
                                               [10, 50.01], [10, 50]]]}
    r = client.post("/api/sites", json={"name": "bow", "aoi": bow}, headers=h)
    assert r.status_code == 422 and r.json()["error"]["field"] == "body.aoi"
    assert "Self-intersection" in r.json()["error"]["message"]
    assert client.post("/api/sites", json={"name": "pt", "aoi": {"type": "Point",
                       "coordinates": [1, 2]}}, headers=h).status_code == 422
    assert client.post("/api/sites", json={"name": "plant", "aoi": aoi},
                       headers=h).status_code == 409
    assert [s.name for s in web_ws.sites()] == ["austin", "plant"]

    moved = _bbox_ring(10.0, 50.0, 10.02, 50.02)
    r = client.patch(f"/api/sites/{sid}", json={"aoi": {"type": "Feature", "geometry": moved,
                                                        "properties": {}}}, headers=h)
    assert r.status_code == 200 and r.json()["bbox_wgs84"][2] == pytest.approx(10.02)
    r = client.patch(f"/api/sites/{sid}", json={"aoi": bow}, headers=h)
    assert r.status_code == 422 and "Self-intersection" in r.json()["error"]["message"]
    assert web_ws.site(sid).bbox_wgs84[2] == pytest.approx(10.02)

    vh = {"X-CSRF-Token": login(client, "vic")}
    assert client.post("/api/sites", json={"name": "v", "aoi": aoi}, headers=vh
                       ).status_code == 403


def test_tiles_from_the_chip_cogs(client, web_ws):
    import morecantile
    import rasterio
    from rasterio.io import MemoryFile

    login(client, "vic")
    site = web_ws.site("austin")
    w, s, e, n = site.bbox_wgs84
    t = morecantile.tms.get("WebMercatorQuad").tile((w + e) / 2, (s + n) / 2, 18)
    for scene in web_ws.scenes(site):
        r = client.get(f"/api/scenes/{scene.id}/tiles/18/{t.x}/{t.y}.png")
        assert r.status_code == 200 and r.headers["content-type"] == "image/png"
        with rasterio.Env(), MemoryFile(r.content) as mem, mem.open() as ds:
            assert (ds.count, ds.width, ds.height) == (4, 256, 256)  # RGB + alpha
            assert ds.read(4).max() == 255
    r = client.get(f"/api/scenes/{scene.id}/tiles/18/{t.x + 50}/{t.y}.png")
    assert r.status_code == 404
    assert client.get(f"/api/scenes/{scene.id}/tiles/30/0/0.png").status_code == 422
    assert client.get(f"/api/scenes/{scene.id}/tiles/2/9/0.png").status_code == 422


def test_downloads_report_exports_and_timeline(client, web_ws):
    login(client, "vic")
    site = web_ws.site("austin")
    run = web_ws.runs(site)[0]
    r = client.get(f"/api/sites/{site.id}/report")
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    assert run.detections[0].ref in r.text
    r = client.get(f"/api/sites/{site.id}/export", params={"format": "geojson",
                                                             "run": run.ref})
    assert len(json.loads(r.content)["features"]) == len(run.detections)
    for fmt in ("gpkg", "kml", "fgb", "csv"):
        r = client.get(f"/api/sites/{site.id}/export", params={"format": fmt})
        assert r.status_code == 200 and len(r.content) > 1000
        assert r.headers["content-disposition"].endswith(f'.{fmt}"'), fmt
    assert client.get(f"/api/sites/{site.id}/export", params={"format": "shp"}
                      ).json()["error"]["field"] == "query.format"
    assert client.get(f"/api/sites/{site.id}/report", params={"run": "R99999"}
                      ).status_code == 404
    r = client.get(f"/api/sites/{site.id}/timeline.png")
    if r.status_code == 200:
        assert r.content[:8] == b"\x89PNG\r\n\x1a\n"
    else:  # these scenes cannot make a timeline: an error that says why, not a crash
        assert r.status_code in (404, 409, 422) and r.json()["error"]["message"]


def test_openapi_offline_docs_and_users(client):
    spec = client.get("/openapi.json").json()
    assert "/api/changes/{ref}/review" in spec["paths"] and "/api/sites" in spec["paths"]
    docs = client.get("/docs")
    assert docs.status_code == 200 and "swagger" not in docs.text.lower()
    assert client.get("/redoc").status_code == 404
    login(client, "ann")
    assert client.get("/api/users").status_code == 403
    login(client, "ada")
    assert {u["name"]: u["role"] for u in client.get("/api/users").json()} == {
        "ada": "admin", "ann": "analyst", "vic": "viewer"}
    assert all("password" not in json.dumps(u) for u in client.get("/api/users").json())
    assert client.post("/api/logout", headers={"X-CSRF-Token": client.get(
        "/api/session").json()["csrf"]}).status_code == 200
    assert client.get("/api/session").status_code == 401


def test_loopback_server_answers_only_loopback_names(web_ws):
    app = create_app(web_ws, ["127.0.0.1", "localhost"])
    with TestClient(app, base_url="http://127.0.0.1") as c:
        assert c.get("/login").status_code == 200
    with TestClient(app, base_url="http://attacker.example") as c:
        assert c.get("/login").status_code == 400


def test_one_error_table_at_the_edge():
    assert status_of(NotFoundError("x")) == 404
    assert status_of(ConflictError("x")) == 409
    assert status_of(GeometryError("x")) == status_of(InputValueError("x")) == 422
    assert status_of(InputFileError("x")) == 422 and status_of(ConfigError("x")) == 503
    assert status_of(Forbidden("x")) == 403 and status_of(RuntimeError("x")) == 500
    assert len(STATUS) == len(set(STATUS))


def test_users_cli_and_serve_defaults(cli, monkeypatch):
    import inspect

    from sitewatch.cli import web

    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret\n"))
    res = cli("users", "add", "eve", "--role", "viewer", "--password-stdin")
    assert res.code == 0, res.err
    monkeypatch.setattr("sys.stdin", io.StringIO("\n"))
    res = cli("users", "add", "bob", "--password-stdin")
    assert res.code == 2 and "password is empty" in res.err
    monkeypatch.setattr("sys.stdin", io.StringIO("x\n"))
    assert cli("users", "add", "eve", "--password-stdin").code == 2  # exists
    assert cli("users", "add", "zed", "--role", "boss", "--password-stdin").code == 2
    res = cli("users", "list", "--json")
    assert [(u["name"], u["role"]) for u in json.loads(res.out)] == [("eve", "viewer")]
    import sitewatch

    with sitewatch.open_workspace() as ws:
        assert ws.authenticate("eve", "s3cret") is not None
        assert ws.authenticate("eve", "S3cret") is None
    assert inspect.signature(web.serve).parameters["host"].default == "127.0.0.1"
