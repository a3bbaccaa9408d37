"""Accounts in the browser: sessions, CSRF tokens, roles and the login rate limit.

- A session is a random token in the ``sw_session`` cookie (HttpOnly, SameSite=Strict,
  Secure over HTTPS), kept in this process's memory: restarting the server logs everyone out.
- Each session has its own CSRF token, given to the page by ``/api/session`` and the login
  answer; every state-changing request must send it back in the ``X-CSRF-Token`` header.
  Before login (the login form itself) the token is a double-submit cookie, ``sw_csrf``.
- Logins fail for a name + address pair after :data:`MAX_FAILURES` wrong passwords within
  :data:`WINDOW_S` seconds (429 with Retry-After), whichever the password.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field

from fastapi import Request

from sitewatch.model import User, UserRole
from sitewatch.web.errors import Forbidden, NotAuthenticated, TooManyLogins

SESSION_COOKIE = "sw_session"
CSRF_COOKIE = "sw_csrf"
CSRF_HEADER = "X-CSRF-Token"
IDLE_S = 8 * 3600
MAX_FAILURES = 5
WINDOW_S = 300
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass
class Session:
    token: str
    user: User
    csrf: str
    last_seen: float = field(default_factory=time.monotonic)


class Sessions:
    """Sessions of this server process, by token (thread-safe)."""

    def __init__(self, idle_s: float = IDLE_S) -> None:
        self.idle_s = idle_s
        self._by_token: dict[str, Session] = {}
        self._lock = threading.Lock()

    def create(self, user: User) -> Session:
        s = Session(secrets.token_urlsafe(32), user, secrets.token_urlsafe(32))
        with self._lock:
            self._by_token[s.token] = s
        return s

    def get(self, token: str | None) -> Session | None:
        if not token:
            return None
        now = time.monotonic()
        with self._lock:
            s = self._by_token.get(token)
            if s is None:
                return None
            if now - s.last_seen > self.idle_s:
                del self._by_token[token]
                return None
            s.last_seen = now
            return s

    def drop(self, token: str | None) -> None:
        with self._lock:
            self._by_token.pop(token or "", None)


class LoginLimiter:
    """Failed logins per (name, client address) in a sliding window."""

    def __init__(self, max_failures: int = MAX_FAILURES, window_s: float = WINDOW_S) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self._fails: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, name: str, addr: str) -> None:
        """Raise TooManyLogins while the pair is locked out."""
        now = time.monotonic()
        with self._lock:
            q = self._fails.get((name.casefold(), addr))
            while q and now - q[0] > self.window_s:
                q.popleft()
            if q is not None and len(q) >= self.max_failures:
                wait = int(self.window_s - (now - q[0])) + 1
                raise TooManyLogins(f"too many failed logins for {name!r} from this address: "
                                    f"try again in {wait} s", wait)

    def failed(self, name: str, addr: str) -> None:
        with self._lock:
            self._fails.setdefault((name.casefold(), addr), deque()).append(time.monotonic())

    def succeeded(self, name: str, addr: str) -> None:
        with self._lock:
            self._fails.pop((name.casefold(), addr), None)


def tokens_match(given: str | None, expected: str | None) -> bool:
    return bool(given) and bool(expected) and hmac.compare_digest(str(given), str(expected))


def session_of(request: Request) -> Session | None:
    sessions: Sessions = request.app.state.sessions
    return sessions.get(request.cookies.get(SESSION_COOKIE))


def current_user(request: Request) -> User:
    """The logged-in user (401 otherwise); checks the CSRF token of unsafe methods (403)."""
    s = session_of(request)
    if s is None:
        raise NotAuthenticated("not logged in: log in at /login")
    if request.method in UNSAFE and not tokens_match(request.headers.get(CSRF_HEADER), s.csrf):
        raise Forbidden(f"missing or wrong CSRF token: send the session's token in the "
                        f"{CSRF_HEADER} header")
    return s.user


def require(role: UserRole, user: User, what: str) -> User:
    order = [UserRole.VIEWER, UserRole.ANALYST, UserRole.ADMIN]
    if order.index(user.role) < order.index(role):
        raise Forbidden(f"user {user.name!r} is a {user.role.value}: only a {role.value} or "
                        f"above may {what}")
    return user


def check_login_csrf(request: Request) -> None:
    """Login form: the double-submit cookie must match the header."""
    if not tokens_match(request.headers.get(CSRF_HEADER), request.cookies.get(CSRF_COOKIE)):
        raise Forbidden(f"missing or wrong CSRF token: load /login first (it sets the "
                        f"{CSRF_COOKIE} cookie) and send it in the {CSRF_HEADER} header")
