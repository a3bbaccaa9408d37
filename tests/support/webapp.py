"""Fixtures of the review workspace tests: an analysed LEVIR-CD site, three accounts, and
a logged-in client. Imported by tests/test_web_api.py and tests/test_web_browser.py."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

PASSWORDS = {"ann": "ann-analyst-pw", "vic": "vic-viewer-pw", "ada": "ada-admin-pw"}
ROLES = {"ann": "analyst", "vic": "viewer", "ada": "admin"}


@pytest.fixture
def web_ws(cli: Any, levir_site: str) -> Iterator[Any]:
    """The workspace of the test (SITEWATCH_HOME / SITEWATCH_DB) with an analysed site."""
    import sitewatch

    res = cli("analyze", levir_site, "--method", "cva")
    assert res.code == 0, res.err
    ws = sitewatch.open_workspace()
    for name, role in ROLES.items():
        ws.add_user(name, role, PASSWORDS[name])
    try:
        yield ws
    finally:
        ws.close()


def login(client: Any, name: str, password: str | None = None) -> str:
    """Log ``client`` in as ``name``; the session's CSRF token."""
    client.get("/login")  # sets the double-submit cookie of the login form
    r = client.post("/api/login", json={"name": name, "password": password or PASSWORDS[name]},
                    headers={"X-CSRF-Token": client.cookies.get("sw_csrf")})
    assert r.status_code == 200, r.text
    return str(r.json()["csrf"])
