"""The installed version of sitewatch (kept apart so that any module may import it)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("sitewatch")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"
