"""The review workspace: a FastAPI app over one :class:`~sitewatch.api.Workspace`.

``create_app(ws)`` builds it; ``sitewatch serve`` runs it with uvicorn on 127.0.0.1.
Pages are static HTML shells whose own JS modules call the JSON API; every response
carries a Content-Security-Policy without inline script. FastAPI's Swagger page loads
from a CDN, so it is off: ``/openapi.json`` stays, and ``/docs`` is our own offline page
that lists the API from it.
"""

from __future__ import annotations

import mimetypes
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from sitewatch.api import Workspace
from sitewatch.version import __version__
from sitewatch.web import errors, routes
from sitewatch.web.auth import CSRF_COOKIE, LoginLimiter, Sessions
from sitewatch.web.tiles import Tiler

HERE = Path(__file__).parent
STATIC = HERE / "static"
TEMPLATES = HERE / "templates"

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
       "worker-src 'self' blob:; connect-src 'self'; font-src 'self'; object-src 'none'; "
       "base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}
PAGES = {"/": "map.html", "/login": "login.html", "/review": "review.html",
         "/downloads": "downloads.html", "/docs": "docs.html"}

mimetypes.add_type("text/javascript", ".mjs")
mimetypes.add_type("text/javascript", ".js")


def create_app(ws: Workspace, allowed_hosts: list[str] | None = None) -> FastAPI:
    """The app serving ``ws`` (which it does not close). ``allowed_hosts``: the Host headers
    answered (others get 400), against DNS rebinding of a loopback server; None: any."""
    app = FastAPI(title="sitewatch review workspace", version=__version__,
                  docs_url=None, redoc_url=None, openapi_url="/openapi.json",
                  description="Sites, scenes, runs, detections, tracked changes and reviews "
                  "of one sitewatch workspace. Log in with POST /api/login; send the "
                  "session's CSRF token in X-CSRF-Token on every POST/PATCH.")
    app.state.workspace = ws
    app.state.sessions = Sessions()
    app.state.limiter = LoginLimiter()
    app.state.tiler = Tiler(ws)
    errors.install(app)

    @app.middleware("http")
    async def security_headers(request: Request,
                               call_next: Callable[[Request], Awaitable[Response]]
                               ) -> Response:
        response = await call_next(request)
        for k, v in SECURITY_HEADERS.items():
            response.headers.setdefault(k, v)
        if request.url.path.startswith("/api/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    if allowed_hosts:
        from starlette.middleware.trustedhost import TrustedHostMiddleware

        app.add_middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts)
    app.include_router(routes.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    def page(name: str) -> Callable[[Request], HTMLResponse]:
        def serve(request: Request) -> HTMLResponse:
            resp = HTMLResponse((TEMPLATES / name).read_text(encoding="utf-8"),
                                headers={"Cache-Control": "no-store"})
            if not request.cookies.get(CSRF_COOKIE):
                resp.set_cookie(CSRF_COOKIE, secrets.token_urlsafe(32), samesite="strict",
                                secure=request.url.scheme == "https", path="/")
            return resp
        return serve

    for url, name in PAGES.items():
        app.add_api_route(url, page(name), methods=["GET"], include_in_schema=False,
                          response_class=HTMLResponse)
    site_page = page("site.html")

    @app.get("/sites/{site_id}", include_in_schema=False, response_class=HTMLResponse)
    def site(site_id: int, request: Request) -> HTMLResponse:
        return site_page(request)

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> RedirectResponse:
        return RedirectResponse("/static/favicon.svg")

    return app
