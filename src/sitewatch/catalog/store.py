"""The one facade through which everything else reads and writes the catalog.

It speaks domain objects (:mod:`sitewatch.model`) only; rows stay inside ``catalog``.
The same code runs on SQLite (the embedded default) and PostgreSQL/PostGIS (teams).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload, sessionmaker

from sitewatch.catalog import mappers as m
from sitewatch.catalog import rows
from sitewatch.catalog.paths import PathMapper
from sitewatch.catalog.retry import on_conflict_retry
from sitewatch.catalog.schema import check_schema, make_engine
from sitewatch.catalog.watch import WatchCatalog
from sitewatch.errors import ConflictError, InputValueError, NotFoundError
from sitewatch.model import (
    Change,
    Chip,
    Detection,
    ObsDate,
    RejectReason,
    Review,
    ReviewStatus,
    Run,
    Scene,
    Site,
    SiteSource,
    SiteStatus,
    StacSkip,
    Timeline,
    User,
    UserRole,
    format_ref,
)

log = logging.getLogger(__name__)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Store(WatchCatalog):
    """Catalog of sites, scenes, chips, runs, tracked changes and reviews behind one URL.

    Opening checks the schema (a new SQLite workspace is created at the latest revision;
    anything older asks for ``sitewatch db upgrade``). Thread-safe; open one per process.

    ``root``: the workspace directory. Files under it (chips, run masks, timeline rasters,
    scenes fetched or converted into it) are stored relative to it and read back against
    it, so a copied workspace reads its own files; absolute rows of older catalogs are
    read as they are.
    """

    def __init__(self, url: str, root: str | Path | None = None) -> None:
        self.url = url
        self.paths = PathMapper(root)
        self.engine = make_engine(url)
        check_schema(self.engine)
        self._session = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: committed on success, rolled back whole on any error."""
        with self._session() as s, s.begin():
            yield s

    # --- sites ---------------------------------------------------------------------------
    def add_site(self, site: Site) -> Site:
        """Insert ``site`` (its ``id`` is ignored); ConflictError if the name is taken."""
        conflict = ConflictError(f"site {site.name!r} already exists: choose another name "
                                 "or see 'sitewatch sites list'")
        try:
            with self.session() as s:
                if s.scalar(select(rows.Site.id).where(rows.Site.name == site.name)) is not None:
                    raise conflict
                row = rows.Site(name=site.name, aliases=list(site.aliases), kind=site.kind,
                                country=site.country, aoi_geojson=site.aoi_geojson,
                                notes=site.notes, created_at=utcnow(), status="active",
                                sources=[m.source_to_row(dataclasses.replace(
                                    x, added_at=x.added_at or utcnow())) for x in site.sources],
                                **m.bbox_of(site.aoi))
                s.add(row)
                s.flush()
                return m.site_from_row(row)
        except IntegrityError as exc:
            raise conflict from exc

    def site(self, ref: str | int) -> Site:
        """A site by id, by name (case-insensitive) or by alias."""
        with self.session() as s:
            return m.site_from_row(self._site_row(s, ref))

    def _site_row(self, s: Session, ref: str | int) -> rows.Site:
        text = str(ref).strip()
        if text.isdigit():
            row = s.get(rows.Site, int(text))
            if row is not None:
                return row
        found = list(s.scalars(select(rows.Site).where(
            func.lower(rows.Site.name) == text.lower())))
        if not found:  # SQL lower() knows only ASCII capitals: 'Émile' is matched here
            key = text.casefold()
            found = [r for r in s.scalars(select(rows.Site)) if r.name.casefold() == key]
        if not found:
            key = text.casefold()
            found = [r for r in s.scalars(select(rows.Site))
                     if any(key == a.casefold() for a in (r.aliases or []))]
        if len(found) > 1:
            active = [r for r in found if r.status == "active"]
            found = active if len(active) == 1 else found
        if len(found) > 1:
            ids = ", ".join(f"{r.id} ({r.name})" for r in found)
            raise InputValueError(f"site {text!r} is ambiguous: it names sites {ids}; "
                                  "give the site's id instead")
        if not found:
            raise NotFoundError(f"no site named {text!r} (by id, name or alias): add it with "
                                "'sitewatch sites add' or see 'sitewatch sites list'")
        return found[0]

    def sites(self, include_removed: bool = False) -> list[Site]:
        with self.session() as s:
            q = select(rows.Site).order_by(rows.Site.name)
            if not include_removed:
                q = q.where(rows.Site.status == "active")
            return [m.site_from_row(r) for r in s.scalars(q)]

    def update_site(self, site_id: int, **changes: Any) -> Site:
        """Change a site's name, aliases, kind, country, notes, AOI or status."""
        allowed = {"name", "aliases", "kind", "country", "notes", "aoi", "status"}
        unknown = set(changes) - allowed
        if unknown:
            raise InputValueError(f"cannot edit {', '.join(sorted(unknown))} of a site")
        with self.session() as s:
            row = s.get(rows.Site, site_id, with_for_update=True)
            if row is None:
                raise NotFoundError(f"no site with id {site_id}: see 'sitewatch sites list'")
            if "name" in changes and changes["name"] != row.name:
                taken = s.scalar(select(rows.Site.id).where(rows.Site.name == changes["name"]))
                if taken is not None:
                    raise ConflictError(f"site {changes['name']!r} already exists (id {taken}):"
                                        " choose another name")
            for key, value in changes.items():
                if key == "aoi":
                    row.aoi_geojson = m.json.dumps(value, sort_keys=True)
                    for k, v in m.bbox_of(value).items():
                        setattr(row, k, v)
                elif key == "aliases":
                    row.aliases = list(value)
                elif key == "status":
                    row.status = SiteStatus(value).value
                    row.removed_at = utcnow() if row.status == "removed" else None
                else:
                    setattr(row, key, value)
            s.flush()
            return m.site_from_row(row)

    def _add_source(self, site_id: int, source: SiteSource) -> bool:
        with self.session() as s:
            dup = s.scalar(select(rows.SiteSource.id).where(
                rows.SiteSource.site_id == site_id, rows.SiteSource.sha256 == source.sha256))
            if dup is not None:
                return False
            row = m.source_to_row(dataclasses.replace(source, added_at=utcnow()))
            row.site_id = site_id
            s.add(row)
        return True

    def add_source(self, site_id: int, source: SiteSource) -> bool:
        """Attach a text to a site; False when that text (same sha256) is already there
        (also when another process attached it at the same moment)."""
        try:
            return self._add_source(site_id, source)
        except IntegrityError:
            return False

    # --- scenes --------------------------------------------------------------------------
    def add_scene(self, scene: Scene, footprint_wgs84: tuple[float, float, float, float]
                  ) -> Scene:
        """Insert ``scene`` (its ``id`` is ignored); ConflictError if the site already has
        a scene with the same sha256."""
        def conflict(dup: Any) -> ConflictError:
            exc = ConflictError(f"{scene.path} is already scene {dup} of this site (same "
                                "sha256): nothing to import")
            exc.existing_id = dup if isinstance(dup, int) else None
            return exc

        try:
            with self.session() as s:
                dup = s.scalar(select(rows.Scene.id).where(
                    rows.Scene.site_id == scene.site_id, rows.Scene.sha256 == scene.sha256))
                if dup is not None:
                    raise conflict(dup)
                row = m.scene_to_row(scene, footprint_wgs84)
                row.path = self.paths.to_catalog(scene.path)
                row.imported_at = utcnow()
                s.add(row)
                s.flush()
                return self._scene(row)
        except IntegrityError as exc:  # imported by another process at the same moment
            with self.session() as s:
                dup = s.scalar(select(rows.Scene.id).where(
                    rows.Scene.site_id == scene.site_id, rows.Scene.sha256 == scene.sha256))
            raise conflict(dup if dup is not None else "(imported at the same moment)"
                           ) from exc

    def _scene(self, row: rows.Scene) -> Scene:
        scene = m.scene_from_row(row)
        return dataclasses.replace(scene, path=self.paths.from_catalog(scene.path))

    def scenes(self, site_id: int, include_removed: bool = False) -> list[Scene]:
        """The site's scenes, earliest first (intervals sort by their start)."""
        with self.session() as s:
            q = select(rows.Scene).where(rows.Scene.site_id == site_id)
            if not include_removed:
                q = q.where(rows.Scene.removed_at.is_(None))
            found = [self._scene(r) for r in s.scalars(q)]
        return sorted(found, key=scene_sort_key)

    def scene(self, scene_id: int) -> Scene:
        with self.session() as s:
            row = s.get(rows.Scene, scene_id)
            if row is None:
                raise NotFoundError(f"no scene with id {scene_id}: see 'sitewatch scenes list'")
            return self._scene(row)

    def remove_scene(self, scene_id: int) -> Scene:
        """Take a scene out of lists and analyses; runs that cite it keep resolving."""
        with self.session() as s:
            row = s.get(rows.Scene, scene_id, with_for_update=True)
            if row is None:
                raise NotFoundError(f"no scene with id {scene_id}: see 'sitewatch scenes list'")
            if row.removed_at is not None:
                raise ConflictError(f"scene {scene_id} is already removed")
            row.removed_at = utcnow()
            s.flush()
            return self._scene(row)

    # --- chips ---------------------------------------------------------------------------
    def chip(self, scene_id: int, grid_key: str, reference_scene_id: int) -> Chip | None:
        with self.session() as s:
            row = s.scalar(self._chip_query(scene_id, grid_key, reference_scene_id))
            return None if row is None else self._chip(row)

    def _chip(self, row: rows.Chip) -> Chip:
        chip = m.chip_from_row(row)
        return dataclasses.replace(chip, path=self.paths.from_catalog(chip.path))

    @staticmethod
    def _chip_query(scene_id: int, grid_key: str, reference_scene_id: int) -> Any:
        return select(rows.Chip).where(rows.Chip.scene_id == scene_id,
                                       rows.Chip.grid_key == grid_key,
                                       rows.Chip.reference_scene_id == reference_scene_id)

    def put_chip(self, chip: Chip) -> Chip:
        """Insert or replace the chip of (scene, grid, reference); a chip is a cache of
        pixels recomputable from its scene, so replacing it loses no history."""
        def write() -> Chip:
            with self.session() as s:
                row = m.chip_to_row(chip)
                row.path = self.paths.to_catalog(chip.path)
                row.created_at = utcnow()
                _replace(s, self._chip_query(chip.scene_id, chip.grid_key,
                                             chip.reference_scene_id), row)
                return self._chip(row)

        return on_conflict_retry(write, f"the chip of scene {chip.scene_id}")

    def drop_chips(self, chip_ids: list[int]) -> None:
        """Forget chips (caches) that a failed command made; their files are the caller's."""
        if not chip_ids:
            return
        with self.session() as s:
            for row in s.scalars(select(rows.Chip).where(rows.Chip.id.in_(chip_ids))):
                s.delete(row)

    # --- runs, detections and tracked changes ----------------------------------------------
    def save_run(self, run: Run, after_date: str) -> tuple[Run, bool]:
        """Store a finished run with its detections and track them as changes, in one
        transaction. Returns (run, created): a run with the same ``run_key`` is returned
        as it was stored and nothing is added. ``after_date`` dates the detections."""
        try:
            with self.session() as s:
                existing = s.scalar(select(rows.Run).where(rows.Run.run_key == run.run_key))
                if existing is not None:
                    return self._run(s, existing.id), False
                # one writer per site at a time, so concurrent runs track changes consistently
                s.get(rows.Site, run.site_id, with_for_update=True)
                row = rows.Run(run_key=run.run_key, site_id=run.site_id, method=run.method,
                               parameters=run.parameters, versions=run.versions,
                               before_scene_id=run.before_scene_id,
                               after_scene_id=run.after_scene_id, status=run.status.value,
                               timings_s=run.timings_s,
                               summary=self._summary(run.summary, self.paths.to_catalog),
                               started_at=run.started_at, finished_at=run.finished_at,
                               flags=[f.value for f in run.flags],
                               detections=[m.detection_to_row(d) for d in run.detections])
                s.add(row)
                s.flush()
                self._track(s, row, after_date)
                s.flush()
                return self._run(s, row.id), True
        except IntegrityError:
            with self.session() as s:
                existing = s.scalar(select(rows.Run).where(rows.Run.run_key == run.run_key))
                if existing is None:
                    raise
                return self._run(s, existing.id), False

    def _track(self, s: Session, run: rows.Run, after_date: str) -> None:
        from sitewatch.catalog.tracking import match  # shapely, only when a run is saved

        tracked = {c.id: c for c in s.scalars(
            select(rows.Change).where(rows.Change.site_id == run.site_id))}
        # a site's first run has nothing to match: no outline need be parsed
        found = match([m.json.loads(d.polygon_geojson) for d in run.detections],
                      {cid: m.json.loads(c.polygon_geojson) for cid, c in tracked.items()}
                      ) if tracked else {}
        now = utcnow()
        when = ObsDate.parse(after_date).sort_key
        new: list[tuple[rows.Detection, rows.Change]] = []
        for i, d in enumerate(run.detections):
            cid = found.get(i)
            if cid is None:
                new.append((d, rows.Change(
                    site_id=run.site_id, change_type=d.change_type,
                    status=ReviewStatus.UNREVIEWED.value, first_run_id=run.id,
                    last_run_id=run.id, first_seen=after_date, last_seen=after_date,
                    polygon_geojson=d.polygon_geojson, created_at=now, updated_at=now,
                    min_lon=d.min_lon, min_lat=d.min_lat, max_lon=d.max_lon,
                    max_lat=d.max_lat)))
                continue
            c = tracked[cid]
            d.change_id = c.id
            if when < ObsDate.parse(c.first_seen).sort_key:
                c.first_seen, c.first_run_id = after_date, run.id
            if when >= ObsDate.parse(c.last_seen).sort_key:
                c.last_seen, c.last_run_id = after_date, run.id
                c.polygon_geojson, c.change_type = d.polygon_geojson, d.change_type
                c.min_lon, c.min_lat, c.max_lon, c.max_lat = (d.min_lon, d.min_lat,
                                                              d.max_lon, d.max_lat)
            c.updated_at = now
        if new:  # one batched INSERT for the new changes, then link their detections
            s.add_all([c for _, c in new])
            s.flush()
            for d, c in new:
                d.change_id = c.id

    def _run(self, s: Session, run_id: int) -> Run:
        row = s.scalar(select(rows.Run).where(rows.Run.id == run_id)
                       .options(selectinload(rows.Run.detections)))
        if row is None:
            raise NotFoundError(f"no run {format_ref('run', run_id)}: see "
                                "'sitewatch runs list SITE'")
        ids = {d.change_id for d in row.detections if d.change_id is not None}
        statuses = dict(s.execute(select(rows.Change.id, rows.Change.status)
                                  .where(rows.Change.id.in_(ids))).all()) if ids else {}
        run = m.run_from_row(row, statuses)
        return dataclasses.replace(run, summary=self._summary(run.summary,
                                                              self.paths.from_catalog))

    @staticmethod
    def _summary(summary: dict[str, Any], convert: Any) -> dict[str, Any]:
        """A run summary with its ``mask_path`` converted (to or from the catalog)."""
        if not isinstance(summary.get("mask_path"), str):
            return summary
        return summary | {"mask_path": convert(summary["mask_path"])}

    def run_by_key(self, run_key: str) -> Run | None:
        with self.session() as s:
            rid = s.scalar(select(rows.Run.id).where(rows.Run.run_key == run_key))
            return None if rid is None else self._run(s, rid)

    def run(self, run_id: int) -> Run:
        with self.session() as s:
            return self._run(s, run_id)

    def runs(self, site_id: int) -> list[Run]:
        """The site's runs, latest first."""
        with self.session() as s:
            ids = list(s.scalars(select(rows.Run.id).where(rows.Run.site_id == site_id)
                                 .order_by(rows.Run.finished_at.desc(), rows.Run.id.desc())))
            return [self._run(s, i) for i in ids]

    def latest_run(self, site_id: int) -> Run:
        with self.session() as s:
            rid = s.scalar(select(rows.Run.id).where(rows.Run.site_id == site_id)
                           .order_by(rows.Run.finished_at.desc(), rows.Run.id.desc()).limit(1))
            if rid is None:
                raise NotFoundError(f"site {site_id} has no analysis yet: run "
                                    "'sitewatch analyze SITE' first")
            return self._run(s, rid)

    def detection(self, detection_id: int) -> Detection:
        with self.session() as s:
            row = s.get(rows.Detection, detection_id)
            if row is None:
                raise NotFoundError(f"no detection {format_ref('detection', detection_id)}: "
                                    "see 'sitewatch runs list SITE' or the report")
            status = (s.scalar(select(rows.Change.status).where(rows.Change.id == row.change_id))
                      if row.change_id is not None else None)
            return m.detection_from_row(row, ReviewStatus(status or "unreviewed"))

    def change(self, change_id: int) -> Change:
        with self.session() as s:
            return self._change(s, change_id)

    def _change(self, s: Session, change_id: int) -> Change:
        row = s.get(rows.Change, change_id)
        if row is None:
            raise NotFoundError(f"no tracked change {format_ref('change', change_id)}: see "
                                "'sitewatch changes SITE'")
        dets = s.scalars(select(rows.Detection).where(rows.Detection.change_id == change_id))
        revs = s.scalars(select(rows.Review).where(rows.Review.change_id == change_id))
        return m.change_from_row(row, dets, revs)

    def changes(self, site_id: int | None = None, status: ReviewStatus | None = None
                ) -> list[Change]:
        with self.session() as s:
            q = select(rows.Change.id).order_by(rows.Change.id)
            if site_id is not None:
                q = q.where(rows.Change.site_id == site_id)
            if status is not None:
                q = q.where(rows.Change.status == status.value)
            return [self._change(s, cid) for cid in s.scalars(q)]

    def change_counts(self, site_id: int | None = None) -> dict[int, dict[str, int]]:
        """{site id: {review status: number of tracked changes}} in one query."""
        with self.session() as s:
            q = (select(rows.Change.site_id, rows.Change.status, func.count())
                 .group_by(rows.Change.site_id, rows.Change.status))
            if site_id is not None:
                q = q.where(rows.Change.site_id == site_id)
            out: dict[int, dict[str, int]] = {}
            for sid, status, n in s.execute(q).all():
                out.setdefault(sid, {st.value: 0 for st in ReviewStatus})[status] = int(n)
            return out

    # --- review ----------------------------------------------------------------------------
    def review(self, change_id: int, to_status: ReviewStatus, by: str,
               reason: RejectReason | None = None, note: str | None = None,
               detection_id: int | None = None) -> Review:
        """Move a change to ``to_status`` and append the decision to the audit log."""
        if to_status is ReviewStatus.REJECTED and reason is None:
            raise InputValueError("a rejection needs --reason: choose one of "
                                  + ", ".join(r.value for r in RejectReason))
        if to_status is not ReviewStatus.REJECTED and reason is not None:
            raise InputValueError("--reason is for --reject")
        if not by.strip():
            raise InputValueError("the reviewer is empty: give --by NAME")
        ref = format_ref("change", change_id)
        with self.session() as s:
            c = s.get(rows.Change, change_id, with_for_update=True)
            if c is None:
                raise NotFoundError(f"no tracked change {ref}: see 'sitewatch changes SITE'")
            if c.status == to_status.value:
                raise ConflictError(f"change {ref} is already {c.status}: nothing to do")
            row = rows.Review(change_id=change_id, detection_id=detection_id,
                              from_status=c.status, to_status=to_status.value,
                              reason=reason.value if reason else None, note=note, by=by.strip(),
                              at=utcnow())
            c.status = to_status.value
            c.updated_at = row.at
            s.add(row)
            s.flush()
            return m.review_from_row(row)

    def reviews(self, change_id: int | None = None) -> list[Review]:
        """The audit log (of one change, or all), oldest first."""
        with self.session() as s:
            q = select(rows.Review).order_by(rows.Review.id)
            if change_id is not None:
                q = q.where(rows.Review.change_id == change_id)
            return [m.review_from_row(r) for r in s.scalars(q)]

    # --- chips of a site (for tiles) --------------------------------------------------------
    def chips(self, site_id: int) -> list[Chip]:
        """Every chip of the site's scenes, newest first (a scene may have one per grid)."""
        with self.session() as s:
            q = (select(rows.Chip).join(rows.Scene, rows.Scene.id == rows.Chip.scene_id)
                 .where(rows.Scene.site_id == site_id)
                 .order_by(rows.Chip.created_at.desc(), rows.Chip.id.desc()))
            return [self._chip(r) for r in s.scalars(q)]

    # --- accounts of the review workspace ----------------------------------------------------
    def add_user(self, name: str, role: UserRole, password_hash: str) -> User:
        """Insert an account; ConflictError if the name is taken."""
        conflict = ConflictError(f"user {name!r} already exists: see 'sitewatch users list'")
        try:
            with self.session() as s:
                if s.scalar(select(rows.User.id).where(rows.User.name == name)) is not None:
                    raise conflict
                row = rows.User(name=name, role=role.value, password_hash=password_hash,
                                created_at=utcnow())
                s.add(row)
                s.flush()
                return m.user_from_row(row)
        except IntegrityError as exc:
            raise conflict from exc

    def users(self) -> list[User]:
        with self.session() as s:
            return [m.user_from_row(r) for r in s.scalars(select(rows.User)
                                                          .order_by(rows.User.name))]

    def user_credentials(self, name: str) -> tuple[User, str] | None:
        """(user, password hash) of an active account, or None."""
        with self.session() as s:
            row = s.scalar(select(rows.User).where(rows.User.name == name,
                                                   rows.User.disabled_at.is_(None)))
            return None if row is None else (m.user_from_row(row), row.password_hash)

    def set_password_hash(self, user_id: int, password_hash: str) -> None:
        with self.session() as s:
            row = s.get(rows.User, user_id, with_for_update=True)
            if row is None:
                raise NotFoundError(f"no user with id {user_id}")
            row.password_hash = password_hash

    # --- timelines -----------------------------------------------------------------------
    def put_timeline(self, timeline: Timeline) -> Timeline:
        """Store a site's timeline, replacing the previous one (a timeline is recomputable
        from the scenes it names)."""
        def write() -> Timeline:
            with self.session() as s:
                row = m.timeline_to_row(timeline)
                row.outputs = {k: self.paths.to_catalog(v) for k, v in timeline.outputs.items()}
                row.computed_at = utcnow()
                _replace(s, select(rows.Timeline).where(
                    rows.Timeline.site_id == timeline.site_id), row)
                return self._timeline(row)

        return on_conflict_retry(write, f"the timeline of site {timeline.site_id}")

    def _timeline(self, row: rows.Timeline) -> Timeline:
        tl = m.timeline_from_row(row)
        return dataclasses.replace(tl, outputs={k: self.paths.from_catalog(v)
                                                for k, v in tl.outputs.items()})

    def timeline(self, site_id: int) -> Timeline | None:
        with self.session() as s:
            row = s.scalar(select(rows.Timeline).where(rows.Timeline.site_id == site_id))
            return None if row is None else self._timeline(row)

    # --- STAC items refused ------------------------------------------------------------------
    def add_stac_skip(self, skip: StacSkip) -> StacSkip:
        """Record (or update) why an item was not imported for a site."""
        def write() -> StacSkip:
            with self.session() as s:
                row = m.skip_to_row(skip)
                row.recorded_at = utcnow()
                _replace(s, select(rows.StacSkip).where(
                    rows.StacSkip.site_id == skip.site_id,
                    rows.StacSkip.collection == skip.collection,
                    rows.StacSkip.item_id == skip.item_id), row)
                return m.skip_from_row(row)

        return on_conflict_retry(write, f"the STAC skip of item {skip.item_id!r}")

    def stac_skips(self, site_id: int) -> list[StacSkip]:
        with self.session() as s:
            return [m.skip_from_row(r) for r in s.scalars(
                select(rows.StacSkip).where(rows.StacSkip.site_id == site_id)
                .order_by(rows.StacSkip.acquired, rows.StacSkip.item_id))]


def _replace(s: Session, old_query: Any, row: Any) -> None:
    """Put ``row`` in place of the one ``old_query`` finds (for caches recomputable from
    what they name: chips, timelines, STAC skips; never for runs or reviews)."""
    old = s.scalar(old_query)
    if old is not None:
        s.delete(old)
        s.flush()
    s.add(row)
    s.flush()


def scene_sort_key(scene: Scene) -> tuple[Any, ...]:
    """Earliest first: by interval start, then end (open ends sort outermost), then id."""
    return (scene.acquired_start or date.min, scene.acquired_end or date.max, scene.id)

