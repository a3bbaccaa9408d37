"""Settings of network access read from the environment (a bottom layer: any module may
import it).

- ``SITEWATCH_HTTP_TIMEOUT`` (seconds, default 30) and ``SITEWATCH_HTTP_RETRIES``
  (default 3, with exponential back-off) for STAC APIs and remote assets.
"""

from __future__ import annotations

import os

from sitewatch.errors import ConfigError


def _env_number(name: str, default: float, lo: float, hi: float) -> float:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name}={raw!r} is not a number: give e.g. {default:g}") from exc
    if not lo <= value <= hi:
        raise ConfigError(f"{name}={raw!r} is out of range: give {lo:g} to {hi:g}")
    return value


def http_timeout() -> float:
    """Seconds to wait for a remote server (SITEWATCH_HTTP_TIMEOUT)."""
    return _env_number("SITEWATCH_HTTP_TIMEOUT", 30.0, 0.1, 3600.0)


def http_retries() -> int:
    """Retries of a failed remote request, with back-off (SITEWATCH_HTTP_RETRIES)."""
    return int(_env_number("SITEWATCH_HTTP_RETRIES", 3, 0, 20))
