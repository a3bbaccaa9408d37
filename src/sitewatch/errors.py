"""One root error for everything sitewatch refuses to do.

Every leaf also subclasses the matching standard exception so callers can catch
either. The command line turns a :class:`SitewatchError` into one line on stderr
and exit status 2; anything else is an internal error (exit status 1).
Messages name the input and say how to fix it.
"""

from __future__ import annotations


class SitewatchError(Exception):
    """Root of all errors caused by input that sitewatch cannot accept."""


class InputFileError(SitewatchError, OSError):
    """A file is missing, empty, truncated, not an image or too large."""


class InputValueError(SitewatchError, ValueError):
    """A value given by the user (date, bounds, option) is not valid."""


class NotFoundError(SitewatchError, LookupError):
    """A named thing (site, scene, run) does not exist in the catalog."""


class ConflictError(SitewatchError, ValueError):
    """A named thing already exists (``existing_id``: its id, when known)."""

    existing_id: int | None = None


class GeometryError(SitewatchError, ValueError):
    """Footprints do not overlap, or a geometry is invalid."""


class ConfigError(SitewatchError, OSError):
    """The environment is not set up (missing sample data, bad workspace)."""
