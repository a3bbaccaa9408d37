"""The one facade through which everything else reads and writes the catalog."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, event, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload, sessionmaker

from sitewatch.catalog.models import (
    Chip,
    Detection,
    Run,
    Scene,
    Site,
    SiteSource,
    StacSkip,
    Timeline,
)
from sitewatch.errors import ConflictError, NotFoundError

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).parent / "migrations"


def utcnow() -> datetime:
    return datetime.now(UTC)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


class Store:
    """Catalog of sites, scenes, chips, runs and detections behind one SQLAlchemy URL.

    Opening a store brings its schema to the latest Alembic revision.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: Engine = create_engine(url)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._session = sessionmaker(self.engine, expire_on_commit=False)
        self._migrate()

    def _migrate(self) -> None:
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        head = ScriptDirectory.from_config(cfg).get_current_head()
        with self.engine.begin() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
            if current == head:
                return
            log.info("upgrading catalog %s from %s to %s", self.url, current, head)
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: committed on success, rolled back whole on any error."""
        with self._session() as s, s.begin():
            yield s

    # --- sites ---------------------------------------------------------------------------
    def add_site(self, site: Site) -> Site:
        site.created_at = utcnow()
        try:
            with self.session() as s:
                if s.scalar(select(Site.id).where(Site.name == site.name)) is not None:
                    raise ConflictError(
                        f"site {site.name!r} already exists: choose another name "
                        "or see 'sitewatch sites list'"
                    )
                s.add(site)
        except IntegrityError as exc:
            raise ConflictError(f"site {site.name!r} already exists") from exc
        return site

    def site(self, name: str) -> Site:
        with self.session() as s:
            found = s.scalar(select(Site).where(Site.name == name))
            if found is None:
                raise NotFoundError(
                    f"no site named {name!r}: add it with 'sitewatch sites add' "
                    "or see 'sitewatch sites list'"
                )
            return found

    def sites(self) -> list[Site]:
        with self.session() as s:
            return list(s.scalars(select(Site).order_by(Site.name)))

    # --- scenes --------------------------------------------------------------------------
    def add_scene(self, scene: Scene) -> Scene:
        scene.imported_at = utcnow()
        with self.session() as s:
            dup = s.scalar(
                select(Scene.id).where(Scene.site_id == scene.site_id, Scene.sha256 == scene.sha256)
            )
            if dup is not None:
                raise ConflictError(
                    f"{scene.path} is already scene {dup} of this site (same sha256): "
                    "nothing to import"
                )
            s.add(scene)
        return scene

    def scenes(self, site_id: int) -> list[Scene]:
        """The site's scenes, earliest first (intervals sort by their start)."""
        with self.session() as s:
            rows = list(s.scalars(select(Scene).where(Scene.site_id == site_id)))
        return sorted(rows, key=scene_sort_key)

    def scene(self, scene_id: int) -> Scene:
        with self.session() as s:
            found = s.get(Scene, scene_id)
            if found is None:
                raise NotFoundError(f"no scene with id {scene_id}: see 'sitewatch scenes list'")
            return found

    # --- chips ---------------------------------------------------------------------------
    def chip(self, scene_id: int, grid_key: str, reference_scene_id: int) -> Chip | None:
        with self.session() as s:
            return s.scalar(
                select(Chip).where(
                    Chip.scene_id == scene_id,
                    Chip.grid_key == grid_key,
                    Chip.reference_scene_id == reference_scene_id,
                )
            )

    def put_chip(self, chip: Chip) -> Chip:
        """Insert or replace the chip of (scene, grid, reference)."""
        chip.created_at = utcnow()
        with self.session() as s:
            old = s.scalar(
                select(Chip).where(
                    Chip.scene_id == chip.scene_id,
                    Chip.grid_key == chip.grid_key,
                    Chip.reference_scene_id == chip.reference_scene_id,
                )
            )
            if old is not None:
                s.delete(old)
                s.flush()
            s.add(chip)
        return chip

    # --- runs and detections -------------------------------------------------------------
    def save_run(self, run: Run, detections: Sequence[Detection]) -> Run:
        """Store a finished run with its detections in one transaction.

        A run with the same ``run_key`` (same method, parameters, versions and scenes)
        is replaced, so re-running an analysis never duplicates detections.
        """
        with self.session() as s:
            old = s.scalar(select(Run).where(Run.run_key == run.run_key))
            if old is not None:
                s.delete(old)
                s.flush()
            run.detections = list(detections)
            s.add(run)
        return run

    def runs(self, site_id: int) -> list[Run]:
        with self.session() as s:
            return list(
                s.scalars(
                    select(Run)
                    .where(Run.site_id == site_id)
                    .options(selectinload(Run.detections))
                    .order_by(Run.finished_at.desc(), Run.id.desc())
                )
            )

    def latest_run(self, site_id: int) -> Run:
        runs = self.runs(site_id)
        if not runs:
            raise NotFoundError(
                f"site {site_id} has no analysis yet: run 'sitewatch analyze SITE' first"
            )
        return runs[0]

    # --- timelines -----------------------------------------------------------------------
    def put_timeline(self, timeline: Timeline) -> Timeline:
        """Store a site's timeline, replacing the previous one in the same transaction."""
        timeline.computed_at = utcnow()
        with self.session() as s:
            old = s.scalar(select(Timeline).where(Timeline.site_id == timeline.site_id))
            if old is not None:
                s.delete(old)
                s.flush()
            s.add(timeline)
        return timeline

    def timeline(self, site_id: int) -> Timeline | None:
        with self.session() as s:
            return s.scalar(select(Timeline).where(Timeline.site_id == site_id))

    # --- STAC items refused ------------------------------------------------------------------
    def add_stac_skip(self, skip: StacSkip) -> StacSkip:
        """Record (or update) why an item was not imported for a site."""
        skip.recorded_at = utcnow()
        with self.session() as s:
            old = s.scalar(select(StacSkip).where(
                StacSkip.site_id == skip.site_id, StacSkip.collection == skip.collection,
                StacSkip.item_id == skip.item_id))
            if old is not None:
                s.delete(old)
                s.flush()
            s.add(skip)
        return skip

    def stac_skips(self, site_id: int) -> list[StacSkip]:
        with self.session() as s:
            return list(s.scalars(select(StacSkip).where(StacSkip.site_id == site_id)
                                  .order_by(StacSkip.acquired, StacSkip.item_id)))

    # --- sources of sites ----------------------------------------------------------------
    def add_source(self, site_id: int, source: SiteSource) -> bool:
        """Attach a text to a site; False when that text (same sha256) is already there."""
        source.added_at = utcnow()
        with self.session() as s:
            dup = s.scalar(select(SiteSource.id).where(SiteSource.site_id == site_id,
                                                       SiteSource.sha256 == source.sha256))
            if dup is not None:
                return False
            source.site_id = site_id
            s.add(source)
        return True


def scene_sort_key(scene: Scene) -> tuple[Any, ...]:
    """Earliest first: by interval start, then end (open ends sort outermost), then id."""
    return (scene.acquired_start or date.min, scene.acquired_end or date.max, scene.id)
