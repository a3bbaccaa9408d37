"""The ``sitewatch`` command line: thin Typer commands over :mod:`sitewatch.api`."""

from __future__ import annotations

import sys


def entry() -> None:
    """The console script. ``--version`` answers before Typer and the commands load."""
    if sys.argv[1:] == ["--version"]:
        from sitewatch.version import __version__

        sys.stdout.write(f"sitewatch {__version__}\n")
        sys.exit(0)
    from sitewatch.cli.main import main

    sys.exit(main())
