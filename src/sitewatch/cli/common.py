"""What every command shares: the workspace, the store and printing."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console

from sitewatch.catalog import Store
from sitewatch.config import Workspace, workspace

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def open_store() -> tuple[Workspace, Store]:
    """The workspace (created if needed) and its catalog; tells where it is on stderr."""
    ws = workspace().ensure()
    err.print(f"[dim]workspace: {ws.home}[/dim]")
    return ws, Store(ws.db_url)


def print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, indent=2, ensure_ascii=False, default=str) + "\n")
