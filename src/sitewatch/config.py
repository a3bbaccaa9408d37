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
class Layout:
    """Where everything of one workspace lives: the only place that computes its paths."""

    home: Path
    db_url: str

    @property
    def chips_dir(self) -> Path:
        return self.home / "chips"

    @property
    def reports_dir(self) -> Path:
        return self.home / "reports"

    @property
    def gazetteer_dir(self) -> Path:
        """The analyst's facilities (``sitewatch gazetteer import``)."""
        return self.home / "gazetteer"

    def chip_path(self, site_id: int, scene_id: int, grid_key: str, ref_scene_id: int) -> Path:
        name = f"scene{scene_id}_{grid_key}_ref{ref_scene_id}.tif"
        return self.chips_dir / f"site{site_id}" / name

    def run_mask_path(self, site_id: int, run_key: str) -> Path:
        return self.chips_dir / f"site{site_id}" / f"run_{run_key[:16]}_mask.tif"

    def stac_scene_path(self, site_id: int, collection: str, item_id: str) -> Path:
        """``collection`` and ``item_id`` must already be safe as file names."""
        return self.home / "stac" / f"site{site_id}" / collection / f"{item_id}.tif"

    def import_dir(self, site_id: int, name: str) -> Path:
        return self.home / "imports" / f"site{site_id}" / name

    def timeline_dir(self, site_id: int) -> Path:
        return self.home / "timelines" / f"site{site_id}"

    def samples_cache(self) -> Path:
        return self.home / "samples"

    def ensure(self) -> Layout:
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


def layout(home: str | Path | None = None, db_url: str | None = None) -> Layout:
    """The workspace at ``home`` (default: SITEWATCH_HOME) with its catalog at ``db_url``
    (default: SITEWATCH_DB, else the SQLite file in the workspace); not created until
    ``ensure``."""
    home_env = os.environ.get("SITEWATCH_HOME")
    if home is not None:
        where = Path(home).expanduser().resolve()
    else:
        where = Path(home_env).expanduser().resolve() if home_env else default_home()
    url = db_url or os.environ.get("SITEWATCH_DB") or f"sqlite:///{where / 'catalog.sqlite'}"
    return Layout(home=where, db_url=url)


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
