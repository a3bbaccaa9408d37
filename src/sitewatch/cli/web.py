"""``sitewatch serve`` (the review workspace in a browser) and ``sitewatch users add|list``."""

from __future__ import annotations

import ipaddress
import sys
from typing import Annotated

import typer

from sitewatch.cli.common import err, open_ws, out, print_json
from sitewatch.errors import InputValueError

users_app = typer.Typer(help="Accounts of the review workspace (sitewatch serve).",
                        no_args_is_help=True)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on; anything but loopback "
                                      "exposes the workspace to the network.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
) -> None:
    """Serve the review workspace (map, site pages, review queue, downloads, JSON API with
    its OpenAPI at /openapi.json and /docs) of SITEWATCH_HOME / SITEWATCH_DB."""
    import uvicorn

    from sitewatch.web import create_app

    ws = open_ws()
    if not ws.users():
        err.print("no accounts yet: create one with 'sitewatch users add NAME --role analyst'",
                  markup=False)
    if not _is_loopback(host):
        err.print(f"warning: listening on {host}: anyone who can reach it may try to log in; "
                  "put it behind HTTPS", markup=False)
    out.print(f"review workspace on http://{host}:{port}/ (Ctrl-C stops)", markup=False)
    try:
        # a loopback server answers only to loopback names (a rebound DNS name gets 400)
        hosts = ["127.0.0.1", "localhost", "[::1]", host] if _is_loopback(host) else None
        uvicorn.run(create_app(ws, hosts), host=host, port=port, log_level="warning")
    finally:
        ws.close()


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="Login name (no spaces).")],
    role: Annotated[str, typer.Option(help="viewer (reads), analyst (also reviews and edits "
                                      "sites) or admin.")] = "analyst",
    password_stdin: Annotated[bool, typer.Option(
        "--password-stdin", help="Read the password from the first line of stdin.")] = False,
) -> None:
    """Create an account; the password (asked twice, or from stdin) is stored as an argon2
    hash."""
    from sitewatch.model import UserRole

    UserRole.parse(role)  # refuse a bad role before asking for a password
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True,
                                default="", show_default=False)
    if not password:
        raise InputValueError("the password is empty: give one (--password-stdin or the "
                              "prompt)")
    ws = open_ws()
    try:
        user = ws.add_user(name, role, password)
    finally:
        ws.close()
    out.print(f"user {user.name} ({user.role.value}) added", markup=False)


@users_app.command("list")
def users_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The accounts, with their roles."""
    ws = open_ws()
    try:
        found = ws.users()
    finally:
        ws.close()
    if as_json:
        print_json([{"name": u.name, "role": u.role.value, "created_at": u.created_at,
                     "active": u.active} for u in found])
        return
    for u in found:
        out.print(f"{u.name}\t{u.role.value}\t{'active' if u.active else 'disabled'}",
                  markup=False)
