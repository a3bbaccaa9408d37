"""Talking to STAC APIs that may be slow, broken or hostile: every answer is bounded.

- Time: each request waits at most ``SITEWATCH_HTTP_TIMEOUT`` seconds for the whole answer
  (a server that stalls, or trickles a byte at a time, is given up at once, not retried),
  and a whole search, every page and retry included, ends by ``SITEWATCH_STAC_DEADLINE``.
- Size: an answer over ``SITEWATCH_STAC_MAX_BYTES`` is refused before it is all read
  (decompressed bytes are counted, so a gzip bomb is refused too).
- Pages: at most ``SITEWATCH_STAC_MAX_PAGES``, and a page link seen before (a loop) is an
  error; search and page links must stay on the API's own host.
- Assets: an href must be http(s) on the API's host, a host the provider declares
  (``asset_hosts`` in providers.json) or one in ``SITEWATCH_STAC_ASSET_HOSTS``; local
  files and GDAL virtual file names only with ``SITEWATCH_STAC_ALLOW_LOCAL=1``.

Every failure is a :class:`StacError` (or an ``InputValueError`` for a refused asset) with
one line that names the server and the setting to change.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

from sitewatch.errors import InputValueError, SitewatchError
from sitewatch.settings import (
    http_retries,
    http_timeout,
    stac_allow_local,
    stac_asset_hosts,
    stac_deadline,
    stac_max_bytes,
    stac_max_pages,
)

_RETRY_STATUS = {429, 500, 502, 503, 504}
_CHUNK = 65536


class StacError(SitewatchError):
    """A STAC API that cannot be reached or does not answer STAC."""


def _mib(n: int) -> str:
    return f"{n / 2**20:g} MiB"


@dataclass
class Budget:
    """The time and size allowed to one search against the API at ``api``."""

    api: str
    timeout: float = field(default_factory=http_timeout)
    deadline_s: float = field(default_factory=stac_deadline)
    max_bytes: int = field(default_factory=stac_max_bytes)
    started: float = field(default_factory=time.monotonic)

    def left(self) -> float:
        return self.deadline_s - (time.monotonic() - self.started)

    def check(self) -> None:
        if self.left() <= 0:
            raise StacError(f"the STAC API at {self.api} did not finish within "
                            f"{self.deadline_s:g} s (SITEWATCH_STAC_DEADLINE): narrow the "
                            "search (--start/--end) or raise SITEWATCH_STAC_DEADLINE")

    def stalled(self) -> StacError:
        if self.left() <= 0:
            try:
                self.check()
            except StacError as exc:
                return exc
        return StacError(f"the STAC API at {self.api} stalled: no full answer within "
                         f"{self.timeout:g} s (SITEWATCH_HTTP_TIMEOUT): try later or raise "
                         "SITEWATCH_HTTP_TIMEOUT")


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if "Connection refused" in text or "NewConnectionError" in text:
        return "connection refused"
    if "Name or service not known" in text or "Failed to resolve" in text:
        return "unknown host"
    return text[:160]


def _read_capped(resp: Any, budget: Budget, started: float) -> bytes:
    """The body of a streamed ``requests`` response, within the size and time budget."""
    length = resp.headers.get("Content-Length")
    if length is not None and length.strip().isdigit() and int(length) > budget.max_bytes:
        raise _too_big(budget, int(length))
    buf = bytearray()
    while True:
        if time.monotonic() - started > budget.timeout or budget.left() <= 0:
            raise budget.stalled()
        chunk = resp.raw.read1(_CHUNK, decode_content=True)
        if not chunk:
            return bytes(buf)
        buf += chunk
        if len(buf) > budget.max_bytes:
            raise _too_big(budget, None)


def _too_big(budget: Budget, length: int | None) -> StacError:
    size = f"{_mib(length)}" if length is not None else f"more than {_mib(budget.max_bytes)}"
    return StacError(f"the STAC API at {budget.api} sent an answer of {size}, over the "
                     f"{_mib(budget.max_bytes)} limit (SITEWATCH_STAC_MAX_BYTES): it is not "
                     "a STAC answer; check --url or raise SITEWATCH_STAC_MAX_BYTES")


def _parse(data: bytes, budget: Budget, url: str) -> Any:
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        what = "nested too deeply" if isinstance(exc, RecursionError) else _short(exc)
        raise StacError(f"the STAC API at {budget.api} answered garbage for {url} "
                        f"(not JSON: {what}): check that --url is the root of a STAC API"
                        ) from exc


_REDIRECTS = {301, 302, 303, 307, 308}
_MAX_REDIRECTS = 5


def get_json(session: Any, budget: Budget, method: str, url: str,
             body: dict[str, Any] | None = None, params: dict[str, str] | None = None,
             redirects: int = 0) -> Any:
    """One JSON answer, retried with back-off on refused connections and 429/5xx while the
    budget lasts; a stalled server is given up at once. Redirects are followed on the
    API's own host only."""
    import requests
    from urllib3.exceptions import HTTPError as Urllib3Error
    from urllib3.exceptions import ReadTimeoutError

    attempts = http_retries() + 1
    for attempt in range(attempts):
        budget.check()
        wait = max(min(budget.timeout, budget.left()), 0.05)
        started = time.monotonic()
        last = attempt == attempts - 1
        try:
            resp = session.request(method, url, json=body, params=params, stream=True,
                                   timeout=(wait, wait), allow_redirects=False,
                                   headers={"Accept": "application/geo+json, application/json"})
        except requests.Timeout as exc:
            raise budget.stalled() from exc
        except requests.ConnectionError as exc:
            if last or budget.left() <= 0:
                raise StacError(f"cannot reach the STAC API at {budget.api} ({_short(exc)}): "
                                "check --url and the network") from exc
            time.sleep(min(0.5 * 2**attempt, max(budget.left(), 0)))
            continue
        except requests.RequestException as exc:
            raise StacError(f"the STAC API at {budget.api} could not be asked for {url} "
                            f"({_short(exc)})") from exc
        with resp:
            location = resp.headers.get("Location")
            if resp.status_code in _REDIRECTS and location and redirects < _MAX_REDIRECTS:
                target = _same_host(budget, urljoin(url, location))
                keep = resp.status_code in {307, 308}
                return get_json(session, budget, method if keep else "GET", target,
                                body if keep else None, params if keep else None,
                                redirects + 1)
            if resp.status_code in _RETRY_STATUS and not last:
                time.sleep(min(0.5 * 2**attempt, max(budget.left(), 0)))
                continue
            try:
                data = _read_capped(resp, budget, started)
            except ReadTimeoutError as exc:
                raise budget.stalled() from exc
            except (Urllib3Error, requests.RequestException, OSError) as exc:
                raise StacError(f"lost the STAC API at {budget.api} while reading {url} "
                                f"({_short(exc)})") from exc
            if resp.status_code >= 300:
                raise StacError(f"the STAC API at {budget.api} answered HTTP "
                                f"{resp.status_code} for {url}: check --url and the search")
            return _parse(data, budget, url)
    raise budget.stalled()  # not reached: the last attempt returns or raises


def _same_host(budget: Budget, href: str) -> str:
    api, link = urlsplit(budget.api), urlsplit(href)
    if link.scheme not in {"http", "https"} or link.hostname != api.hostname:
        raise StacError(f"the STAC API at {budget.api} sent a link to {href[:120]!r}, off its "
                        "own host: refused")
    return href


def _links(doc: dict[str, Any], rel: str) -> list[dict[str, Any]]:
    links = doc.get("links")
    return [ln for ln in links if isinstance(ln, dict) and ln.get("rel") == rel and
            isinstance(ln.get("href"), str)] if isinstance(links, list) else []


@dataclass(frozen=True)
class _Request:
    method: str
    href: str
    body: dict[str, Any] | None
    params: dict[str, str] | None

    def key(self) -> str:
        return json.dumps([self.method, self.href, self.body, self.params], sort_keys=True,
                          default=str)


def item_pages(api_url: str, query: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every page of an item search (``query``: collections, intersects, datetime, limit as
    in the STAC API), within the page, time and size limits."""
    import requests

    budget = Budget(api_url)
    with requests.Session() as session:
        root = get_json(session, budget, "GET", api_url)
        if not isinstance(root, dict) or not isinstance(root.get("links"), list):
            raise StacError(f"{api_url} did not answer STAC JSON (no links): check that --url "
                            "is the root of a STAC API")
        searches = _links(root, "search")
        post = next((ln for ln in searches if str(ln.get("method", "POST")).upper() == "POST"),
                    None)
        if post is not None:
            req = _Request("POST", _same_host(budget, urljoin(api_url + "/", post["href"])),
                           query, None)
        elif searches:
            params = {k: (",".join(v) if k == "collections" else
                          json.dumps(v) if isinstance(v, dict) else str(v))
                      for k, v in query.items() if v is not None}
            req = _Request("GET", _same_host(budget, urljoin(api_url + "/", searches[0]["href"])),
                           None, params)
        else:
            raise StacError(f"the STAC API at {api_url} offers no item search (no 'search' "
                            "link): check that --url is the root of a STAC API")
        seen: set[str] = set()
        max_pages = stac_max_pages()
        pages = 0
        while True:
            if req.key() in seen:
                raise StacError(f"the STAC API at {api_url} sent page links that loop back "
                                f"after {pages} page(s): its paging is broken")
            seen.add(req.key())
            if pages >= max_pages:
                raise StacError(f"the STAC API at {api_url} had more than {max_pages} pages "
                                "of items (SITEWATCH_STAC_MAX_PAGES): narrow the search with "
                                "--start/--end or raise SITEWATCH_STAC_MAX_PAGES")
            page = get_json(session, budget, req.method, req.href, req.body, req.params)
            pages += 1
            if not isinstance(page, dict):
                raise StacError(f"the STAC API at {api_url} answered a search page that is not "
                                "a JSON object: it is not a STAC item search")
            yield page
            nxt = next(iter(_links(page, "next")), None)
            if nxt is None:
                return
            href = _same_host(budget, urljoin(req.href, nxt["href"]))
            method = str(nxt.get("method") or "GET").upper()
            if method == "POST":
                raw = nxt.get("body")
                extra: dict[str, Any] = raw if isinstance(raw, dict) else {}
                body = {**(req.body or {}), **extra} if nxt.get("merge") else (extra or None)
                req = _Request("POST", href, body if body is not None else req.body, None)
            else:
                req = _Request("GET", href, None, None)


# --- assets --------------------------------------------------------------------------------
def _host_allowed(host: str, allowed: Sequence[str]) -> bool:
    for pattern in allowed:
        p = pattern.lower()
        if p == "*" or p == host or (p.startswith("*.") and host.endswith(p[1:])):
            return True
    return False


def check_asset_href(href: str, api_url: str, declared: Sequence[str] = ()) -> None:
    """Refuse an asset href that a STAC server should not make this machine read: local
    files and GDAL virtual file names (unless ``SITEWATCH_STAC_ALLOW_LOCAL=1``), and URLs off
    the API's host, the provider's declared hosts and ``SITEWATCH_STAC_ASSET_HOSTS``."""
    if any(ord(c) < 32 for c in href):
        raise InputValueError(f"asset href {href[:120]!r} holds control characters: refused")
    parts = urlsplit(href)
    scheme = parts.scheme.lower()
    local = scheme in {"", "file"} or href.startswith("/vsi") or (len(scheme) == 1)
    if local:
        if stac_allow_local():
            return
        raise InputValueError(f"asset href {href[:120]!r} names a local file or a GDAL virtual "
                              "file: refused (set SITEWATCH_STAC_ALLOW_LOCAL=1 to allow)")
    if scheme not in {"http", "https"}:
        raise InputValueError(f"asset href {href[:120]!r} is not an http(s) URL: refused")
    host = (parts.hostname or "").lower()
    api_host = (urlsplit(api_url).hostname or "").lower()
    if host and (host == api_host or _host_allowed(host, [*declared, *stac_asset_hosts()])):
        return
    raise InputValueError(f"asset href {href[:120]!r} is on host {host or '?'!r}, neither the "
                          f"STAC API's ({api_host}) nor one its provider declares: refused "
                          "(add it to SITEWATCH_STAC_ASSET_HOSTS to allow)")


def get_token(url: str) -> Any:
    """A small JSON answer (a signing token) within the same limits as a search."""
    import requests

    budget = Budget(url)
    with requests.Session() as session:
        return get_json(session, budget, "GET", url)
