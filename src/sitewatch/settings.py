"""Settings of network access read from the environment (a bottom layer: any module may
import it).

- ``SITEWATCH_HTTP_TIMEOUT`` (seconds, default 30) and ``SITEWATCH_HTTP_RETRIES``
  (default 3, with exponential back-off) for STAC APIs and remote assets.
- ``SITEWATCH_STAC_MAX_PAGES``, ``SITEWATCH_STAC_MAX_BYTES`` and ``SITEWATCH_STAC_DEADLINE``
  bound one STAC search; ``SITEWATCH_STAC_ASSET_HOSTS`` and ``SITEWATCH_STAC_ALLOW_LOCAL``
  widen where its assets may be read from.
- ``SITEWATCH_MAX_MEMORY_MB`` (default half of the physical memory) bounds the pixels one
  command may plan to allocate (checked before an image is read).
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


def stac_max_pages() -> int:
    """Most pages one STAC search follows before it stops with an error
    (SITEWATCH_STAC_MAX_PAGES, default 100: 10,000 items at 100 a page)."""
    return int(_env_number("SITEWATCH_STAC_MAX_PAGES", 100, 1, 100_000))


def stac_max_bytes() -> int:
    """Largest STAC answer read, in bytes (SITEWATCH_STAC_MAX_BYTES, default 32 MiB)."""
    return int(_env_number("SITEWATCH_STAC_MAX_BYTES", 32 * 2**20, 1024, 2**34))


def stac_deadline() -> float:
    """Seconds a whole STAC search may take, every page and retry included
    (SITEWATCH_STAC_DEADLINE, default ten times SITEWATCH_HTTP_TIMEOUT)."""
    return _env_number("SITEWATCH_STAC_DEADLINE", 10 * http_timeout(), 0.1, 86_400.0)


def stac_asset_hosts() -> tuple[str, ...]:
    """Extra host names STAC assets may be read from (SITEWATCH_STAC_ASSET_HOSTS, comma
    separated; ``*.example.org`` matches its subdomains, ``*`` any host)."""
    raw = os.environ.get("SITEWATCH_STAC_ASSET_HOSTS") or ""
    return tuple(h.strip().lower() for h in raw.split(",") if h.strip())


def stac_allow_local() -> bool:
    """Whether STAC assets may name local files (file://, paths, GDAL /vsi... names):
    SITEWATCH_STAC_ALLOW_LOCAL=1 (default 0: a STAC server may not read this machine)."""
    raw = (os.environ.get("SITEWATCH_STAC_ALLOW_LOCAL") or "0").strip().lower()
    if raw not in {"0", "1", "true", "false", "yes", "no"}:
        raise ConfigError(f"SITEWATCH_STAC_ALLOW_LOCAL={raw!r} is not a switch: give 1 or 0")
    return raw in {"1", "true", "yes"}


def max_memory_bytes() -> int:
    """Memory one command may plan to allocate for pixels, in bytes
    (SITEWATCH_MAX_MEMORY_MB; default half of this machine's physical memory, 8 GiB where
    that is unknown). Checked before an image is read, on what will be allocated."""
    try:
        physical = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, OSError, ValueError):
        physical = 16 * 2**30
    default_mb = max(physical // 2 // 2**20, 256)
    return int(_env_number("SITEWATCH_MAX_MEMORY_MB", default_mb, 16, 2**24)) * 2**20
