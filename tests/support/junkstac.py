"""A junk STAC API on 127.0.0.1 for tests: a threaded ``http.server`` that misbehaves on purpose.

Modes (``JunkStac(mode)``):

- ``hang``: every request is read and never answered; ``hang-search``: the root answers,
  the search never does; ``trickle``: the root is sent one byte every 0.2 s, forever.
- ``loop``: every search page holds one new item and a ``next`` link to a new page, endlessly;
  ``loop-same``: the ``next`` link names the page just sent.
- ``garbage``: the root is not JSON; ``garbage-search``: the search page is not JSON;
  ``deep``: the root is JSON nested 100,000 levels deep.
- ``huge``: the root declares 200 MB and streams it lazily (never held in memory here);
  ``huge-chunked``: the same with no length (the body ends when the connection closes).
- ``redirect``: the root redirects to ``/v1/`` on the same host, which answers;
  ``redirect-away``: the root redirects to ``localhost`` (another host name).
- ``items``: an honest API serving the item dicts given in ``items`` (colliding ids,
  hostile asset hrefs: see :func:`item`).

``requests`` counts the requests per path and ``bodies`` keeps the POSTed searches, so a test
can see what a client asked for.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

HUGE_BYTES = 200 * 2**20


def item(item_id: str, bbox: tuple[float, float, float, float], when: str,
         hrefs: dict[str, str]) -> dict[str, Any]:
    """A STAC item over ``bbox`` (lon/lat) at ``when`` whose assets (by key, e.g. "red")
    have the given hrefs."""
    w, s, e, n = bbox
    return {"type": "Feature", "stac_version": "1.0.0", "id": item_id,
            "collection": "sentinel-2-l2a", "bbox": list(bbox),
            "geometry": {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n],
                                                             [w, s]]]},
            "properties": {"datetime": when, "eo:cloud_cover": 0.0,
                           "s2:processing_baseline": "02.14"},
            "links": [], "assets": {k: {"href": h, "type": "image/tiff"}
                                    for k, h in hrefs.items()}}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    mode = "items"
    items: list[dict[str, Any]] = []  # noqa: RUF012 (set per instance)
    stop = threading.Event()
    lock = threading.Lock()
    counts: Counter[str] = Counter()  # noqa: RUF012
    bodies: list[Any] = []  # noqa: RUF012


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body in two writes: no 40 ms delayed ACK

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    # --- helpers ---------------------------------------------------------------------------
    @property
    def base(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def _json(self, doc: Any) -> None:
        self._send(json.dumps(doc).encode())

    def _send(self, body: bytes, ctype: str = "application/json") -> None:
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _stall(self) -> None:
        self.server.stop.wait(60)
        self.close_connection = True

    def _root(self) -> dict[str, Any]:
        return {"type": "Catalog", "id": "junk", "stac_version": "1.0.0",
                "description": "a junk STAC API", "conformsTo": [
                    "https://api.stacspec.org/v1.0.0/core",
                    "https://api.stacspec.org/v1.0.0/item-search"],
                "links": [{"rel": "self", "href": self.base + "/"},
                          {"rel": "search", "href": self.base + "/search", "method": "POST"},
                          {"rel": "search", "href": self.base + "/search", "method": "GET"}]}

    def _stream(self, chunked_by_close: bool) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        if chunked_by_close:
            self.send_header("Connection", "close")
            self.close_connection = True
        else:
            self.send_header("Content-Length", str(HUGE_BYTES))
        self.end_headers()
        block = b'{"pad": "' + b"x" * 65_000
        sent = 0
        try:
            while sent < HUGE_BYTES and not self.server.stop.is_set():
                self.wfile.write(block)
                sent += len(block)
                block = b"x" * 65_536
        except OSError:  # the client gave up: as it should
            pass

    def _page(self, n: int) -> None:
        if self.server.mode == "garbage-search":
            self._send(b"<html>Service Unavailable</html>", "text/html")
            return
        if self.server.mode == "hang-search":
            self._stall()
            return
        if self.server.mode in {"loop", "loop-same"}:
            nxt = n if self.server.mode == "loop-same" else n + 1
            feats = [item(f"endless-{n}", (10.0, 10.0, 10.1, 10.1), "2024-01-01T00:00:00Z",
                          {"red": self.base + f"/assets/{n}.tif"})]
            self._json({"type": "FeatureCollection", "features": feats, "links": [
                {"rel": "next", "href": f"{self.base}/search?page={nxt}", "method": "GET"}]})
            return
        self._json({"type": "FeatureCollection", "features": self.server.items, "links": []})

    # --- verbs -----------------------------------------------------------------------------
    def do_GET(self) -> None:  # noqa: N802
        url = urlsplit(self.path)
        with self.server.lock:
            self.server.counts[url.path] += 1
        mode = self.server.mode
        if mode == "hang":
            self._stall()
        elif mode.startswith("redirect") and url.path == "/":
            port = self.server.server_address[1]
            away = f"http://localhost:{port}/v1/" if mode == "redirect-away" else "/v1/"
            self.send_response(301)
            self.send_header("Location", away)
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif url.path == "/search":
            page = dict(p.split("=", 1) for p in url.query.split("&") if "=" in p)
            self._page(int(page.get("page", "0") or 0))
        elif mode == "trickle":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "1000000")
            self.end_headers()
            try:
                while not self.server.stop.is_set():
                    self.wfile.write(b" ")
                    self.wfile.flush()
                    time.sleep(0.2)
            except OSError:
                pass
        elif mode == "garbage":
            self._send(b'{"type": "Catalog", "links": [{"rel": "search", "href": ')
        elif mode == "deep":
            self._send(b"[" * 100_000 + b"]" * 100_000)
        elif mode in {"huge", "huge-chunked"}:
            self._stream(chunked_by_close=mode == "huge-chunked")
        else:
            self._json(self._root())

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(min(length, 2**20))
        with self.server.lock:
            self.server.counts[urlsplit(self.path).path] += 1
            try:
                self.server.bodies.append(json.loads(raw))
            except ValueError:
                self.server.bodies.append(raw)
        if self.server.mode == "hang":
            self._stall()
        else:
            self._page(0)


class JunkStac:
    """``with JunkStac("hang") as api: ... api.url``: a junk STAC API on 127.0.0.1."""

    def __init__(self, mode: str, items: list[dict[str, Any]] | None = None) -> None:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.mode = mode
        self._server.items = list(items or [])
        self._server.stop = threading.Event()
        self._server.lock = threading.Lock()
        self._server.counts = Counter()
        self._server.bodies = []
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def requests(self) -> Counter[str]:
        return self._server.counts

    @property
    def bodies(self) -> list[Any]:
        """The JSON bodies of the POST requests received, in order."""
        return self._server.bodies

    def __enter__(self) -> JunkStac:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.stop.set()
        self._server.shutdown()
        self._server.server_close()
