"""What every command shares: the workspace and printing.

Names, credits, paths, STAC ids and article text are user text: whatever a command prints
goes through :func:`shown` (the consoles below apply it to every string they print, with
Rich markup and emoji codes off), so a name such as ``[/b]`` or ``\x1b[31m`` is printed as
written and never reaches the terminal as markup or as an escape sequence. The catalog
keeps the exact text.
"""

from __future__ import annotations

import json
import re
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

    from sitewatch.api import Workspace

#: characters a terminal acts on rather than shows: C0 controls but newline and tab, DEL,
#: C1 controls, the bidirectional marks, embeddings, overrides and isolates (which reorder
#: what follows them, e.g. U+202E), and the Unicode line and paragraph separators
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029"
                      "\u202a-\u202e\u2066-\u2069]")


def _visible(m: re.Match[str]) -> str:
    code = ord(m.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def shown(text: str) -> str:
    """``text`` safe to print: each control or bidirectional-override character written
    as its escape (ESC as ``\\x1b``, U+202E as ``\\u202e``); newlines and tabs kept."""
    return _CONTROL.sub(_visible, text)


def markup_safe(text: str) -> str:
    """``text`` for a place that renders Rich markup (a progress column): :func:`shown`,
    then its square brackets escaped."""
    from rich.markup import escape

    return escape(shown(text))


class _SafeConsole:
    """A Rich console that prints every string through :func:`shown`, made on first use
    (importing Rich is a fifth of the start-up of ``sitewatch --help``, which prints
    through Click). Attributes are the console's; :attr:`console` is the console itself."""

    def __init__(self, **options: Any) -> None:
        object.__setattr__(self, "_options", options)
        object.__setattr__(self, "_made", None)

    @property
    def console(self) -> Console:
        made = object.__getattribute__(self, "_made")
        if made is None:
            from rich.console import Console

            made = Console(**object.__getattribute__(self, "_options"))
            object.__setattr__(self, "_made", made)
        return made

    def print(self, *objects: Any, **kwargs: Any) -> None:
        self.console.print(*(shown(o) if isinstance(o, str) else o for o in objects),
                           **kwargs)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # copy, pickle and the like ask for these: not the console's
            raise AttributeError(name)
        return getattr(self.console, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self.console, name, value)

    def __delattr__(self, name: str) -> None:
        delattr(self.console, name)


out = _SafeConsole(highlight=False, soft_wrap=True, markup=False, emoji=False)
err = _SafeConsole(stderr=True, highlight=False, soft_wrap=True, markup=False, emoji=False)


def change_label(change_type: str) -> str:
    """The domain model's label of a change kind, without importing the model for ``--help``."""
    from sitewatch.model.objects import change_label as label

    return label(change_type)


def open_ws() -> Workspace:
    """The workspace named by SITEWATCH_HOME/SITEWATCH_DB (created if new); tells where it
    is on stderr."""
    from sitewatch.api import open_workspace

    ws = open_workspace()
    err.print(f"workspace: {ws.home}", markup=False, style="dim")
    return ws


def print_json(obj: Any) -> None:
    """``obj`` as indented JSON; control and bidirectional-override characters in strings
    are written as ``\\uXXXX`` escapes (the same JSON value, nothing for a terminal to act
    on)."""
    text = json.dumps(obj, indent=2, ensure_ascii=False, default=str)
    sys.stdout.write(_CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", text) + "\n")
