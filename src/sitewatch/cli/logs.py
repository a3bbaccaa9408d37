"""Where the command line's log records go: one handler on stderr, libraries kept quiet.

Its own module so that ``sitewatch --help`` does not import :mod:`logging`.
"""

from __future__ import annotations

import logging
import sys
from typing import Any


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is when a record comes (a redirected or captured
    stderr, in a test or an embedding program, included)."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


def configure_logging(verbose: int) -> None:
    """One handler on stderr. sitewatch's own loggers: warnings, or info with ``-v``. Every
    other library (Alembic, rasterio, matplotlib, pypdf, urllib3, ...) is heard only with
    ``-v -v`` (below that, only its errors): their notes are noise to a user."""
    root = logging.getLogger()
    if not any(isinstance(h, _StderrHandler) for h in root.handlers):
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose >= 2 else logging.ERROR)
    logging.getLogger("sitewatch").setLevel(
        logging.DEBUG if verbose >= 2 else logging.INFO if verbose else logging.WARNING)
    # a library's logger that was given a level of its own (Alembic's fileConfig, a
    # previous command in this process) follows the same rule
    for name in ("alembic", "urllib3", "matplotlib", "PIL", "fiona", "pyogrio", "httpx",
                 "asyncio"):
        logging.getLogger(name).setLevel(logging.NOTSET if verbose >= 2 else logging.ERROR)
    _quiet_libraries(verbose >= 2)


#: loggers of libraries that report what sitewatch already turns into its own error line
#: (GDAL's errors and warnings, which rasterio logs under "rasterio._env"; pypdf's notes on
#: damaged PDFs) and Python warnings (captured as "py.warnings"): shown only under -v -v
QUIET_LOGGERS = ("rasterio", "pypdf", "py.warnings")


def _quiet_libraries(verbose: bool) -> None:
    logging.captureWarnings(True)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.INFO if verbose else logging.CRITICAL + 1)
