"""Settings read from the environment: where the workspace, the catalog and the samples are.

- ``SITEWATCH_HOME``: the workspace directory (catalog, chips, reports).
  Defaults to ``~/.local/share/sitewatch`` (``$XDG_DATA_HOME/sitewatch``).
- ``SITEWATCH_DB``: SQLAlchemy URL of the catalog; defaults to
  ``sqlite:///$SITEWATCH_HOME/catalog.sqlite``.
- ``SITEWATCH_HTTP_TIMEOUT`` (seconds, default 30) and ``SITEWATCH_HTTP_RETRIES``
  (default 3, with exponential back-off) for STAC APIs and remote assets.
- ``SITEWATCH_SAMPLES``: the shared sample data; defaults to ``../shared/data``
  relative to the current directory or to the source checkout, when it exists.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sitewatch.errors import ConfigError


@dataclass(frozen=True)
class Workspace:
    """The directories of one workspace and its catalog URL."""

    home: Path
    db_url: str

    @property
    def chips_dir(self) -> Path:
        return self.home / "chips"

    @property
    def reports_dir(self) -> Path:
        return self.home / "reports"

    def ensure(self) -> Workspace:
        """Create the workspace directories; raise ConfigError if that is impossible."""
        try:
            for d in (self.home, self.chips_dir, self.reports_dir):
                d.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(
                f"cannot create the workspace {self.home}: {exc.strerror}; "
                "set SITEWATCH_HOME to a writable directory"
            ) from exc
        return self


def default_home() -> Path:
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "share"
    return base / "sitewatch"


def workspace() -> Workspace:
    """The workspace named by the environment (not created until ``ensure``)."""
    home_env = os.environ.get("SITEWATCH_HOME")
    home = Path(home_env).expanduser().resolve() if home_env else default_home()
    db_url = os.environ.get("SITEWATCH_DB") or f"sqlite:///{home / 'catalog.sqlite'}"
    return Workspace(home=home, db_url=db_url)


def find_samples() -> Path | None:
    """The shared sample data directory, or None when absent."""
    env = os.environ.get("SITEWATCH_SAMPLES")
    candidates = (
        [Path(env).expanduser()]
        if env
        # beside the current directory, or beside the source checkout (src/sitewatch/..)
        else [Path.cwd().parent / "shared" / "data",
              Path(__file__).resolve().parents[2].parent / "shared" / "data"]
    )
    for cand in candidates:
        if cand.is_dir():
            return cand.resolve()
    return None


def samples_dir() -> Path:
    """The shared sample data directory; ConfigError saying what to set when absent."""
    found = find_samples()
    if found is None:
        where = os.environ.get("SITEWATCH_SAMPLES") or "../shared/data"
        raise ConfigError(
            f"sample data not found at {where}: set SITEWATCH_SAMPLES to the folder "
            "that holds levir-cd/ and puerto-rico-maria/"
        )
    return found


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
