"""SQLAlchemy 2 rows of the catalog (mapped to domain objects in :mod:`.mappers`).

Geometries are stored as GeoJSON text in WGS84 (lon, lat) with a bounding box in
four indexed float columns, which works the same on SQLite and PostgreSQL; no
SQLite-only SQL is used anywhere.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class BBoxMixin:
    """A WGS84 bounding box (degrees) kept beside each geometry for fast filtering."""

    min_lon: Mapped[float] = mapped_column(Float)
    min_lat: Mapped[float] = mapped_column(Float)
    max_lon: Mapped[float] = mapped_column(Float)
    max_lat: Mapped[float] = mapped_column(Float)

    @property
    def bbox_wgs84(self) -> tuple[float, float, float, float]:
        return (self.min_lon, self.min_lat, self.max_lon, self.max_lat)


class Site(BBoxMixin, Base):
    __tablename__ = "sites"
    __table_args__ = (Index("ix_sites_bbox", "min_lon", "min_lat", "max_lon", "max_lat"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    kind: Mapped[str | None] = mapped_column(String(100))
    country: Mapped[str | None] = mapped_column(String(100))
    aoi_geojson: Mapped[str] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: "active" or "removed" (off the watchlist; never deleted, so its runs keep resolving)
    status: Mapped[str] = mapped_column(String(20), default="active")
    removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    scenes: Mapped[list[Scene]] = relationship(back_populates="site", cascade="all, delete-orphan")
    sources: Mapped[list[SiteSource]] = relationship(
        back_populates="site", cascade="all, delete-orphan", order_by="SiteSource.id",
        lazy="selectin")

    @property
    def aoi(self) -> dict[str, Any]:
        geom: dict[str, Any] = json.loads(self.aoi_geojson)
        return geom

    @property
    def aoi_geom(self) -> BaseGeometry:
        """The AOI as a shapely geometry in WGS84 (lon, lat)."""
        return shape(self.aoi)


class Scene(BBoxMixin, Base):
    __tablename__ = "scenes"
    __table_args__ = (
        UniqueConstraint("site_id", "sha256", name="uq_scene_site_sha256"),
        Index("ix_scenes_bbox", "min_lon", "min_lat", "max_lon", "max_lat"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    provider: Mapped[str] = mapped_column(String(200))
    acquired_text: Mapped[str] = mapped_column(String(40))
    acquired_start: Mapped[date | None] = mapped_column(Date)
    acquired_end: Mapped[date | None] = mapped_column(Date)
    acquired_precision: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    driver: Mapped[str] = mapped_column(String(40))
    crs: Mapped[str] = mapped_column(Text)
    bounds: Mapped[list[float]] = mapped_column(JSON)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    band_count: Mapped[int] = mapped_column(Integer)
    band_names: Mapped[list[str]] = mapped_column(JSON)
    dtype: Mapped[str] = mapped_column(String(20))
    gsd_m: Mapped[float] = mapped_column(Float)
    georef_source: Mapped[str] = mapped_column(String(20))
    credit: Mapped[str] = mapped_column(Text)
    licence: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: product facts (product_id, platform, sensor, tile), radiometry (scale, offset) and
    #: the QA band and its kind (fmask, qa_pixel, scl); empty for plain imagery
    properties: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=dict)
    #: set by 'scenes remove': the scene leaves lists and analyses; runs citing it resolve
    removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    @property
    def props(self) -> dict[str, Any]:
        return dict(self.properties or {})

    site: Mapped[Site] = relationship(back_populates="scenes")


class Chip(Base):
    """A scene cut to its site's grid and co-registered to the reference scene."""

    __tablename__ = "chips"
    __table_args__ = (
        UniqueConstraint("scene_id", "grid_key", "reference_scene_id", name="uq_chip"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scene_id: Mapped[int] = mapped_column(ForeignKey("scenes.id", ondelete="CASCADE"), index=True)
    grid_key: Mapped[str] = mapped_column(String(64))
    grid: Mapped[dict[str, Any]] = mapped_column(JSON)
    reference_scene_id: Mapped[int] = mapped_column(Integer)
    path: Mapped[str] = mapped_column(Text)
    shift_x_px: Mapped[float] = mapped_column(Float)
    shift_y_px: Mapped[float] = mapped_column(Float)
    coreg_status: Mapped[str] = mapped_column(Text)
    valid_fraction: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Run(Base):
    """One analysis: a method applied to two scenes of a site."""

    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_key: Mapped[str] = mapped_column(String(64), unique=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    method: Mapped[str] = mapped_column(String(40))
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON)
    versions: Mapped[dict[str, str]] = mapped_column(JSON)
    before_scene_id: Mapped[int] = mapped_column(ForeignKey("scenes.id", ondelete="CASCADE"))
    after_scene_id: Mapped[int] = mapped_column(ForeignKey("scenes.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(20))
    timings_s: Mapped[dict[str, float]] = mapped_column(JSON)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: sitewatch.Flag values (warnings about the whole run); [] for runs before 0009
    flags: Mapped[list[str]] = mapped_column(JSON, default=list, server_default=text("'[]'"))

    detections: Mapped[list[Detection]] = relationship(
        back_populates="run", cascade="all, delete-orphan", order_by="Detection.id"
    )


class Detection(BBoxMixin, Base):
    """One changed object: a polygon with its measured area and change type."""

    __tablename__ = "detections"
    __table_args__ = (Index("ix_detections_bbox", "min_lon", "min_lat", "max_lon", "max_lat"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    polygon_geojson: Mapped[str] = mapped_column(Text)
    area_m2: Mapped[float | None] = mapped_column(Float)
    area_uncertainty_m2: Mapped[float | None] = mapped_column(Float)
    change_type: Mapped[str] = mapped_column(String(40))
    score: Mapped[float] = mapped_column(Float)
    centroid_lon: Mapped[float | None] = mapped_column(Float)
    centroid_lat: Mapped[float | None] = mapped_column(Float)
    change_id: Mapped[int | None] = mapped_column(ForeignKey("changes.id"), index=True)
    #: sitewatch.Flag values (warnings about this detection); [] before 0009
    flags: Mapped[list[str]] = mapped_column(JSON, default=list, server_default=text("'[]'"))

    run: Mapped[Run] = relationship(back_populates="detections")

    @property
    def polygon(self) -> dict[str, Any]:
        geom: dict[str, Any] = json.loads(self.polygon_geojson)
        return geom


class Change(BBoxMixin, Base):
    """A change on the ground tracked across runs; its status is the latest review's."""

    __tablename__ = "changes"
    __table_args__ = (Index("ix_changes_bbox", "min_lon", "min_lat", "max_lon", "max_lat"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    change_type: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), default="unreviewed")
    first_run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"))
    last_run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"))
    first_seen: Mapped[str] = mapped_column(String(40))
    last_seen: Mapped[str] = mapped_column(String(40))
    polygon_geojson: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Review(Base):
    """The append-only audit log of review decisions (never updated or deleted)."""

    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    change_id: Mapped[int] = mapped_column(ForeignKey("changes.id"), index=True)
    detection_id: Mapped[int | None] = mapped_column(ForeignKey("detections.id"))
    from_status: Mapped[str] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(String(40))
    note: Mapped[str | None] = mapped_column(Text)
    by: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class User(Base):
    """An account of the review workspace (``sitewatch users add``)."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("name", name="uq_users_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))  #: viewer, analyst or admin
    password_hash: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Timeline(Base):
    """The index series of a site, its breaks, and where its break rasters were written.

    One per site, replaced when recomputed; ``scenes_key`` names the scene set it used.
    """

    __tablename__ = "timelines"
    __table_args__ = (UniqueConstraint("site_id", name="uq_timeline_site"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    scenes_key: Mapped[str] = mapped_column(String(64))
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON)
    versions: Mapped[dict[str, str]] = mapped_column(JSON)
    observations: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    breaks: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    outputs: Mapped[dict[str, str]] = mapped_column(JSON)
    timings_s: Mapped[dict[str, float]] = mapped_column(JSON)
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class StacSkip(Base):
    """A STAC item not imported for a site, and why (e.g. too little of the AOI clear)."""

    __tablename__ = "stac_skips"
    __table_args__ = (UniqueConstraint("site_id", "collection", "item_id", name="uq_stac_skip"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    collection: Mapped[str] = mapped_column(String(200))
    item_id: Mapped[str] = mapped_column(String(300))
    acquired: Mapped[str | None] = mapped_column(String(40))
    clear_fraction: Mapped[float | None] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SiteSource(Base):
    """A text a site was found in: the file, its title and sha256, and every quote."""

    __tablename__ = "site_sources"
    __table_args__ = (UniqueConstraint("site_id", "sha256", name="uq_site_source"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    file: Mapped[str] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    published: Mapped[str | None] = mapped_column(String(10))
    quotes: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    candidate: Mapped[dict[str, Any]] = mapped_column(JSON)
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    site: Mapped[Site] = relationship(back_populates="sources")


# --- the watch loop (migration 0008) -------------------------------------------------------
class WatchState(Base):
    """Where watching of one site stands (one row per site, made by its first pass)."""

    __tablename__ = "watch_state"

    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"),
                                         primary_key=True)
    #: the newest STAC item datetime handled (analysed and its alerts queued)
    last_seen: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_pass_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    next_pass_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class WatchRule(Base):
    """Which changes alert, for one site or (site_id NULL) for every site without one."""

    __tablename__ = "watch_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"),
                                                index=True)
    change_types: Mapped[list[str]] = mapped_column(JSON)
    min_area_m2: Mapped[float] = mapped_column(Float)
    min_score: Mapped[float] = mapped_column(Float)
    ignore_flags: Mapped[list[str]] = mapped_column(JSON)
    alert_when: Mapped[str] = mapped_column(String(20))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class WatchSource(Base):
    """A STAC source searched for a site's new scenes (site_id NULL: for every site)."""

    __tablename__ = "watch_sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"),
                                                index=True)
    provider: Mapped[str] = mapped_column(String(100))
    collection: Mapped[str] = mapped_column(String(200))
    url: Mapped[str | None] = mapped_column(Text)
    max_cloud: Mapped[float | None] = mapped_column(Float)
    min_clear: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class WatchSink(Base):
    """Where alerts go: a webhook, an e-mail address, an Atom or a GeoJSON feed file."""

    __tablename__ = "watch_sinks"
    __table_args__ = (UniqueConstraint("name", name="uq_watch_sinks_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))
    target: Mapped[str] = mapped_column(Text)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    digest: Mapped[bool] = mapped_column(Boolean)
    options: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class WatchOutbox(Base):
    """An alert to deliver: committed with the run that found the change, delivered after
    the commit, marked delivered after; one per tracked change and sink, ever."""

    __tablename__ = "watch_outbox"
    __table_args__ = (UniqueConstraint("change_id", "sink_id", name="uq_watch_outbox"),
                      Index("ix_watch_outbox_status", "status", "sink_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    change_id: Mapped[int] = mapped_column(ForeignKey("changes.id"))
    sink_id: Mapped[int] = mapped_column(ForeignKey("watch_sinks.id", ondelete="CASCADE"))
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"))
    key: Mapped[str] = mapped_column(String(100), unique=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    batch: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class WatchPass(Base):
    """The record of one pass (``sitewatch watch status`` shows the latest)."""

    __tablename__ = "watch_passes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(20))
    executor: Mapped[str] = mapped_column(String(200))
    sites: Mapped[int] = mapped_column(Integer)
    new_scenes: Mapped[int] = mapped_column(Integer)
    runs: Mapped[int] = mapped_column(Integer)
    alerts: Mapped[int] = mapped_column(Integer)
    delivered: Mapped[int] = mapped_column(Integer)
    failures: Mapped[list[str]] = mapped_column(JSON)
