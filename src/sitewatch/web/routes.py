"""The JSON REST API under ``/api``: each route parses, checks the user, calls the
:class:`~sitewatch.api.Workspace` and shapes the answer. Errors are raised, never turned
into responses here: :mod:`sitewatch.web.errors` maps them at the app edge."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from starlette.background import BackgroundTask

from sitewatch.api import Workspace
from sitewatch.errors import ConflictError, GeometryError, InputValueError, NotFoundError
from sitewatch.model import (
    Change,
    Detection,
    ObsDate,
    RejectReason,
    ReviewStatus,
    Site,
    User,
    UserRole,
    parse_ref,
)
from sitewatch.web import serialize as js
from sitewatch.web.auth import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    check_login_csrf,
    current_user,
    require,
    session_of,
)
from sitewatch.web.errors import FieldError, NotAuthenticated

router = APIRouter(prefix="/api")
Viewer = Annotated[User, Depends(current_user)]


def workspace(request: Request) -> Workspace:
    ws: Workspace = request.app.state.workspace
    return ws


WS = Annotated[Workspace, Depends(workspace)]


def _number(ref: str, kind: str, field: str) -> int:
    """``C17``/``17`` -> 17, or a 422 naming ``field``."""
    text = ref.strip()
    if text.isdigit():
        return int(text)
    try:
        got, number = parse_ref(text)
    except InputValueError as exc:
        raise FieldError(field, str(exc)) from None
    if got != kind:
        raise FieldError(field, f"{ref!r} is a {got}, not a {kind}")
    return number


# --- session ---------------------------------------------------------------------------------
class Login(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=1000)


def _session_body(user: User, csrf: str) -> dict[str, Any]:
    return {"user": js.user(user), "csrf": csrf,
            "reasons": [r.value for r in RejectReason]}


@router.post("/login", summary="Log in; sets the session cookie, returns the CSRF token")
def login(body: Login, request: Request, response: Response, ws: WS) -> dict[str, Any]:
    check_login_csrf(request)
    addr = request.client.host if request.client else "?"
    limiter = request.app.state.limiter
    limiter.check(body.name, addr)
    user = ws.authenticate(body.name, body.password)
    if user is None:
        limiter.failed(body.name, addr)
        raise NotAuthenticated("wrong name or password")
    limiter.succeeded(body.name, addr)
    old = request.cookies.get(SESSION_COOKIE)
    request.app.state.sessions.drop(old)
    s = request.app.state.sessions.create(user)
    response.set_cookie(SESSION_COOKIE, s.token, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https", path="/")
    return _session_body(user, s.csrf)


@router.post("/logout", summary="End the session")
def logout(request: Request, response: Response, user: Viewer) -> dict[str, Any]:
    request.app.state.sessions.drop(request.cookies.get(SESSION_COOKIE))
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
    return {"ok": True}


@router.get("/session", summary="Who is logged in, and the session's CSRF token")
def session(request: Request, user: Viewer) -> dict[str, Any]:
    s = session_of(request)
    assert s is not None  # current_user checked it
    return _session_body(user, s.csrf)


@router.get("/users", summary="Accounts (admins only)")
def users(user: Viewer, ws: WS) -> list[dict[str, Any]]:
    require(UserRole.ADMIN, user, "list accounts")
    return [js.user(u) for u in ws.users()]


# --- sites -----------------------------------------------------------------------------------
def _counts(ws: Workspace, site: Site) -> dict[str, int]:
    empty = {s.value: 0 for s in ReviewStatus}
    return ws.change_counts(site).get(site.id, empty)


@router.get("/sites", summary="The watchlist, with each site's changes by review state")
def sites(user: Viewer, ws: WS, q: str | None = None,
          include_removed: bool = False) -> list[dict[str, Any]]:
    found = ws.sites(include_removed)
    if q:
        key = q.strip().casefold()
        found = [s for s in found if key in s.name.casefold()
                 or any(key in a.casefold() for a in s.aliases)]
    counts = ws.change_counts()
    empty = {s.value: 0 for s in ReviewStatus}
    out = []
    for s in found:
        item = js.site(s, counts.get(s.id, empty))
        chips = ws.chips(s)  # newest first: the imagery shown under the AOI on the map
        item["preview_scene_id"] = chips[0].scene_id if chips else None
        out.append(item)
    return out


class SiteIn(BaseModel):
    name: str = Field(min_length=1, max_length=300)
    aoi: dict[str, Any] = Field(description="GeoJSON Polygon/MultiPolygon (or a Feature) in "
                                "WGS84 lon/lat")
    kind: str | None = None
    country: str | None = None
    aliases: list[str] = []
    notes: str | None = None


class SiteEdit(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=300)
    aoi: dict[str, Any] | None = None
    kind: str | None = None
    country: str | None = None
    notes: str | None = None
    add_aliases: list[str] = []
    remove_aliases: list[str] = []


def _aoi(value: dict[str, Any]) -> Any:
    from shapely.geometry import shape
    from shapely.validation import explain_validity

    geom = value.get("geometry") if value.get("type") == "Feature" else value
    if not isinstance(geom, dict) or geom.get("type") not in ("Polygon", "MultiPolygon"):
        raise FieldError("body.aoi", "the AOI must be a GeoJSON Polygon or MultiPolygon")
    try:
        g = shape(geom)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
        raise FieldError("body.aoi", f"the AOI is not valid GeoJSON: {exc}") from None
    if g.is_empty:
        raise FieldError("body.aoi", "the AOI is empty: draw at least three points")
    if not g.is_valid:
        raise FieldError("body.aoi", f"the AOI is not a valid polygon: {explain_validity(g)}; "
                         "redraw it without crossing edges")
    return g


@router.post("/sites", status_code=201, summary="Add a site from a drawn GeoJSON polygon")
def add_site(body: SiteIn, user: Viewer, ws: WS) -> dict[str, Any]:
    require(UserRole.ANALYST, user, "add sites")
    try:
        s = ws.add_site(body.name, aoi=_aoi(body.aoi), kind=body.kind, country=body.country,
                        aliases=body.aliases, notes=body.notes)
    except GeometryError as exc:
        raise FieldError("body.aoi", str(exc)) from None
    return js.site(s, {st.value: 0 for st in ReviewStatus}, full=True)


@router.patch("/sites/{site_id}", summary="Edit a site's facts or redraw its AOI")
def edit_site(site_id: int, body: SiteEdit, user: Viewer, ws: WS) -> dict[str, Any]:
    require(UserRole.ANALYST, user, "edit sites")
    site = ws.site(site_id)
    try:
        s = ws.edit_site(site, name=body.name, kind=body.kind, country=body.country,
                         notes=body.notes, add_aliases=body.add_aliases,
                         remove_aliases=body.remove_aliases,
                         aoi=None if body.aoi is None else _aoi(body.aoi))
    except GeometryError as exc:
        raise FieldError("body.aoi", str(exc)) from None
    return js.site(s, full=True)


def _site(ws: Workspace, site_id: int) -> Site:
    s = ws.site(site_id)
    if s.id != site_id:  # a name that happens to be digits
        raise NotFoundError(f"no site with id {site_id}: see /api/sites")
    return s


@router.get("/sites/{site_id}", summary="A site with its sources and change counts")
def site(site_id: int, user: Viewer, ws: WS) -> dict[str, Any]:
    s = _site(ws, site_id)
    return js.site(s, _counts(ws, s), full=True)


@router.get("/sites/{site_id}/scenes", summary="The site's scenes with their provenance")
def scenes(site_id: int, user: Viewer, ws: WS) -> list[dict[str, Any]]:
    return [js.scene(x) for x in ws.scenes(_site(ws, site_id))]


@router.get("/sites/{site_id}/runs", summary="The site's runs, latest first")
def runs(site_id: int, user: Viewer, ws: WS) -> list[dict[str, Any]]:
    return [js.run(r, with_detections=False) for r in ws.runs(_site(ws, site_id))]


@router.get("/sites/{site_id}/overview",
            summary="Everything the site page shows first, in one answer")
def overview(site_id: int, user: Viewer, ws: WS, run: str | None = None) -> dict[str, Any]:
    s = _site(ws, site_id)
    all_runs = ws.runs(s)
    chosen = None
    if run is not None:
        rid = _number(run, "run", "query.run")
        chosen = next((r for r in all_runs if r.id == rid), None)
        if chosen is None:
            raise NotFoundError(f"site {s.name!r} has no run R{rid}")
    elif all_runs:
        chosen = all_runs[0]
    return {"site": js.site(s, _counts(ws, s), full=True),
            "scenes": [js.scene(x) for x in ws.scenes(s)],
            "runs": [js.run(r, with_detections=False) for r in all_runs],
            "run": None if chosen is None else js.run(chosen)}


@router.get("/sites/{site_id}/timeline", summary="The site's index series and breaks")
def timeline(site_id: int, user: Viewer, ws: WS) -> dict[str, Any]:
    tl = ws.timeline(_site(ws, site_id))
    return {"observations": tl.observations, "breaks": tl.breaks,
            "parameters": tl.parameters, "scenes_key": tl.scenes_key}


@router.get("/sites/{site_id}/timeline.png", summary="The timeline figure (PNG)",
            response_class=FileResponse)
def timeline_png(site_id: int, user: Viewer, ws: WS) -> FileResponse:
    s = _site(ws, site_id)
    tl = ws.timeline(s)
    out = ws.layout.reports_dir / "web" / f"timeline-site{s.id}-{tl.scenes_key[:16]}.png"
    if not out.is_file():
        out.parent.mkdir(parents=True, exist_ok=True)
        ws.timeline_plot(s, out, tl)
    return FileResponse(out, media_type="image/png")


def _download(make: Any, filename: str, media_type: str) -> FileResponse:
    tmp = Path(tempfile.mkdtemp(prefix="sitewatch-web-"))
    try:
        path = make(tmp / filename)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return FileResponse(path, media_type=media_type, filename=filename,
                        background=BackgroundTask(shutil.rmtree, tmp, ignore_errors=True))


def _slug(name: str) -> str:
    keep = "".join(c if c.isalnum() else "-" for c in name.lower())
    return "-".join(p for p in keep.split("-") if p)[:60] or "site"


@router.get("/sites/{site_id}/report", summary="Download the HTML evidence report",
            response_class=FileResponse)
def report(site_id: int, user: Viewer, ws: WS, run: str | None = None) -> FileResponse:
    s = _site(ws, site_id)
    rid = None if run is None else _number(run, "run", "query.run")
    return _download(lambda p: ws.report(s, p, rid), f"{_slug(s.name)}-report.html",
                     "text/html")


FORMATS = {"geojson": ("geojson", "application/geo+json"),
           "gpkg": ("gpkg", "application/geopackage+sqlite3"),
           "kml": ("kml", "application/vnd.google-earth.kml+xml"),
           "fgb": ("fgb", "application/flatgeobuf"), "csv": ("csv", "text/csv")}


@router.get("/sites/{site_id}/export", summary="Download a run's detections as GIS data",
            response_class=FileResponse)
def export(site_id: int, user: Viewer, ws: WS,
           format: Literal["geojson", "gpkg", "kml", "fgb", "csv"] = "geojson",
           run: str | None = None) -> FileResponse:
    s = _site(ws, site_id)
    rid = None if run is None else _number(run, "run", "query.run")
    ext, media = FORMATS[format]
    return _download(lambda p: ws.export(s, format, p, rid), f"{_slug(s.name)}.{ext}", media)


# --- runs, detections, changes -------------------------------------------------------------
@router.get("/runs/{run_ref}", summary="A run with its detections")
def run_(run_ref: str, user: Viewer, ws: WS) -> dict[str, Any]:
    return js.run(ws.run(_number(run_ref, "run", "path.run_ref")))


@router.get("/runs/{run_ref}/detections", summary="A run's detections")
def run_detections(run_ref: str, user: Viewer, ws: WS) -> list[dict[str, Any]]:
    return [js.detection(d) for d in ws.run(_number(run_ref, "run", "path.run_ref")).detections]


@router.get("/runs/{run_ref}/structures",
            summary="A run's buildings (new, extended, demolished, unchanged) and cleared "
                    "ground as GeoJSON, with areas and relative sizes")
def run_structures(run_ref: str, user: Viewer, ws: WS, changed: bool = False
                   ) -> dict[str, Any]:
    return ws.structures(_number(run_ref, "run", "path.run_ref"), changed)


@router.get("/detections/{ref}", summary="A detection")
def detection(ref: str, user: Viewer, ws: WS) -> dict[str, Any]:
    return js.detection(ws.detection(_number(ref, "detection", "path.ref")))


def _latest_detections(ws: Workspace, site_ids: set[int]) -> dict[int, Detection]:
    """Each tracked change's detection of its latest run, by change id."""
    out: dict[int, Detection] = {}
    for sid in site_ids:
        for r in reversed(ws.runs(sid)):  # oldest first: later runs overwrite
            for d in r.detections:
                if d.change_id is not None:
                    out[d.change_id] = d
    return out


def _date(text: str | None, field: str) -> ObsDate | None:
    if text is None or not text.strip():
        return None
    try:
        return ObsDate.from_user(text, field)
    except (InputValueError, ValueError) as exc:
        raise FieldError(field, f"{text!r} is not a date: {exc}") from None


@router.get("/changes", summary="Tracked changes, filtered, with their latest detection")
def changes(user: Viewer, ws: WS,
            site: Annotated[int | None, Query(description="site id")] = None,
            status: ReviewStatus | None = None,
            kind: str | None = None,
            min_score: Annotated[float | None, Query(ge=0)] = None,
            since: Annotated[str | None, Query(description="last seen on or after")] = None,
            until: Annotated[str | None, Query(description="first seen on or before")] = None,
            limit: Annotated[int, Query(ge=1, le=5000)] = 1000) -> list[dict[str, Any]]:
    lo, hi = _date(since, "query.since"), _date(until, "query.until")
    chosen = ws.changes(_site(ws, site) if site is not None else None, status)
    if kind:
        chosen = [c for c in chosen if c.change_type == kind]
    if lo is not None and lo.start is not None:
        chosen = [c for c in chosen if ObsDate.parse(c.last_seen).sort_key[1] >= lo.start]
    if hi is not None and hi.end is not None:
        chosen = [c for c in chosen if ObsDate.parse(c.first_seen).sort_key[0] <= hi.end]
    names = {s.id: s.name for s in ws.sites(include_removed=True)}
    latest = _latest_detections(ws, {c.site_id for c in chosen})
    out = []
    for c in chosen:
        d = latest.get(c.id)
        if min_score is not None and (d is None or d.score < min_score):
            continue
        out.append(js.change(c, d, names.get(c.site_id)))
    return out[:limit]


def _change_json(ws: Workspace, c: Change) -> dict[str, Any]:
    d = _latest_detections(ws, {c.site_id}).get(c.id)
    out = js.change(c, d, ws.site(c.site_id).name)
    r = ws.run(c.last_run_id)
    out["before_scene_id"], out["after_scene_id"] = r.before_scene_id, r.after_scene_id
    return out


@router.get("/changes/{ref}", summary="A tracked change with its audit trail")
def change(ref: str, user: Viewer, ws: WS) -> dict[str, Any]:
    return _change_json(ws, ws.change(_number(ref, "change", "path.ref")))


@router.get("/changes/{ref}/reviews", summary="The audit trail of a change")
def change_reviews(ref: str, user: Viewer, ws: WS) -> list[dict[str, Any]]:
    ws.change(_number(ref, "change", "path.ref"))  # 404 for an unknown change
    return [js.review(v) for v in ws.reviews(f"C{_number(ref, 'change', 'path.ref')}")]


@router.get("/reviews", summary="The whole audit log, newest first")
def reviews(user: Viewer, ws: WS,
            limit: Annotated[int, Query(ge=1, le=10000)] = 200) -> list[dict[str, Any]]:
    return [js.review(v) for v in reversed(ws.reviews())][:limit]


class ReviewIn(BaseModel):
    decision: Literal["confirm", "reject", "reset"]
    reason: str | None = Field(default=None, max_length=40)
    note: str | None = Field(default=None, max_length=2000)


def _reason(body: ReviewIn) -> RejectReason | None:
    if body.decision != "reject":
        if body.reason:
            raise FieldError("body.reason", "a reason is only for a rejection")
        return None
    if not body.reason:
        raise FieldError("body.reason", "a rejection needs a reason: one of "
                         + ", ".join(r.value for r in RejectReason))
    try:
        return RejectReason.parse(body.reason)
    except InputValueError as exc:
        raise FieldError("body.reason", str(exc)) from None


def _review(ws: Workspace, ref: str, body: ReviewIn, user: User) -> dict[str, Any]:
    require(UserRole.ANALYST, user, "review changes")
    why = _reason(body)
    note = body.note.strip() if body.note and body.note.strip() else None
    v = ws.review(ref, body.decision, why, note, by=user.name)
    return {"review": js.review(v), "change": _change_json(ws, ws.change(v.change_id))}


@router.post("/changes/{ref}/review", summary="Confirm, reject (with a reason) or reset")
def review_change(ref: str, body: ReviewIn, user: Viewer, ws: WS) -> dict[str, Any]:
    return _review(ws, f"C{_number(ref, 'change', 'path.ref')}", body, user)


@router.post("/detections/{ref}/review", summary="Review the change a detection shows")
def review_detection(ref: str, body: ReviewIn, user: Viewer, ws: WS) -> dict[str, Any]:
    return _review(ws, f"D{_number(ref, 'detection', 'path.ref')}", body, user)


class BatchIn(ReviewIn):
    refs: list[str] = Field(min_length=1, max_length=500, description="change ids (C17)")


@router.post("/reviews/batch", summary="One decision for many changes")
def review_batch(body: BatchIn, user: Viewer, ws: WS) -> dict[str, Any]:
    """Every id is checked before anything is written; a change already in the wanted state
    is reported as skipped, not an error."""
    require(UserRole.ANALYST, user, "review changes")
    why = _reason(body)
    numbers = [_number(r, "change", f"body.refs.{i}") for i, r in enumerate(body.refs)]
    for n in numbers:
        ws.change(n)  # 404 before any write
    note = body.note.strip() if body.note and body.note.strip() else None
    done, skipped = [], []
    for n in dict.fromkeys(numbers):
        try:
            done.append(js.review(ws.review(f"C{n}", body.decision, why, note, by=user.name)))
        except ConflictError as exc:
            skipped.append({"ref": f"C{n}", "why": str(exc)})
    return {"reviewed": done, "skipped": skipped}


# --- tiles -----------------------------------------------------------------------------------
@router.get("/scenes/{scene_id}/tiles/{z}/{x}/{y}.png", summary="A 256 px web-mercator tile",
            response_class=Response)
def tile(scene_id: int, z: Annotated[int, PathParam(ge=0, le=24)], x: int, y: int,
         request: Request, user: Viewer) -> Response:
    if x < 0 or y < 0 or x >= 2 ** z or y >= 2 ** z:
        raise FieldError("path.x", f"tile {z}/{x}/{y} does not exist")
    png = request.app.state.tiler.tile(scene_id, z, x, y)
    return Response(png, media_type="image/png",
                    headers={"Cache-Control": "private, max-age=3600"})


@router.get("/scenes/{scene_id}", summary="A scene with its provenance")
def scene(scene_id: int, user: Viewer, ws: WS) -> dict[str, Any]:
    return js.scene(ws.scene(scene_id))
