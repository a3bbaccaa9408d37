"""What every command shares: the workspace and printing."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

from rich.console import Console

if TYPE_CHECKING:
    from sitewatch.api import Workspace

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def open_ws() -> Workspace:
    """The workspace named by SITEWATCH_HOME/SITEWATCH_DB (created if new); tells where it
    is on stderr."""
    from sitewatch.api import open_workspace

    ws = open_workspace()
    err.print(f"workspace: {ws.home}", markup=False, style="dim")
    return ws


def print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, indent=2, ensure_ascii=False, default=str) + "\n")
