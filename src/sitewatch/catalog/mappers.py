"""Rows <-> domain objects: the only place that knows both shapes."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from sitewatch.catalog import rows
from sitewatch.model import (
    Alert,
    AlertRule,
    AlertStatus,
    AlertWhen,
    Change,
    Chip,
    Detection,
    Flag,
    ObsDate,
    Provenance,
    RejectReason,
    Review,
    ReviewStatus,
    Run,
    RunStatus,
    Scene,
    Sink,
    SinkKind,
    Site,
    SiteSource,
    SiteStatus,
    StacSkip,
    Timeline,
    User,
    UserRole,
    WatchPass,
    WatchSource,
    WatchState,
)
from sitewatch.model.objects import change_type_of, geojson_bbox


def bbox_of(geometry: Mapping[str, Any]) -> dict[str, float]:
    w, s, e, n = geojson_bbox(dict(geometry))
    return {"min_lon": w, "min_lat": s, "max_lon": e, "max_lat": n}


def source_from_row(r: rows.SiteSource) -> SiteSource:
    return SiteSource(file=r.file, sha256=r.sha256, title=r.title, published=r.published,
                      quotes=tuple(r.quotes or ()), candidate=dict(r.candidate or {}),
                      added_at=r.added_at)


def source_to_row(src: SiteSource) -> rows.SiteSource:
    return rows.SiteSource(file=src.file, title=src.title, sha256=src.sha256,
                           published=src.published, quotes=list(src.quotes),
                           candidate=dict(src.candidate), added_at=src.added_at)


def site_from_row(r: rows.Site) -> Site:
    return Site(id=r.id, name=r.name, aoi=json.loads(r.aoi_geojson),
                aliases=tuple(r.aliases or ()), kind=r.kind, country=r.country, notes=r.notes,
                status=SiteStatus(r.status or "active"), created_at=r.created_at,
                sources=tuple(source_from_row(x) for x in r.sources))


def scene_from_row(r: rows.Scene) -> Scene:
    prov = Provenance(provider=r.provider, acquired=ObsDate.parse(r.acquired_text),
                      credit=r.credit, source=r.path, sha256=r.sha256, licence=r.licence)
    b = r.bounds
    return Scene(id=r.id, site_id=r.site_id, provenance=prov, path=r.path, driver=r.driver,
                 crs=r.crs, bounds=(b[0], b[1], b[2], b[3]), width=r.width, height=r.height,
                 band_names=tuple(r.band_names), dtype=r.dtype, gsd_m=r.gsd_m,
                 georef_source="user" if r.georef_source == "user" else "file",
                 notes=r.notes, imported_at=r.imported_at, properties=dict(r.properties or {}),
                 removed=r.removed_at is not None)


def scene_to_row(s: Scene, footprint_wgs84: tuple[float, float, float, float]) -> rows.Scene:
    w, so, e, n = footprint_wgs84
    when = s.provenance.acquired
    return rows.Scene(
        site_id=s.site_id, provider=s.provider, acquired_text=when.text,
        acquired_start=when.start, acquired_end=when.end, acquired_precision=when.precision,
        path=s.path, sha256=s.sha256, driver=s.driver, crs=s.crs, bounds=list(s.bounds),
        width=s.width, height=s.height, band_count=len(s.band_names),
        band_names=list(s.band_names), dtype=s.dtype, gsd_m=s.gsd_m,
        georef_source=s.georef_source, credit=s.credit, licence=s.licence, notes=s.notes,
        properties=dict(s.properties), min_lon=w, min_lat=so, max_lon=e, max_lat=n)


def chip_from_row(r: rows.Chip) -> Chip:
    return Chip(id=r.id, scene_id=r.scene_id, grid_key=r.grid_key, grid=dict(r.grid),
                reference_scene_id=r.reference_scene_id, path=r.path, shift_x_px=r.shift_x_px,
                shift_y_px=r.shift_y_px, coreg_status=r.coreg_status,
                valid_fraction=r.valid_fraction, created_at=r.created_at)


def chip_to_row(c: Chip) -> rows.Chip:
    return rows.Chip(scene_id=c.scene_id, grid_key=c.grid_key, grid=dict(c.grid),
                     reference_scene_id=c.reference_scene_id, path=c.path,
                     shift_x_px=c.shift_x_px, shift_y_px=c.shift_y_px,
                     coreg_status=c.coreg_status, valid_fraction=c.valid_fraction)


def detection_from_row(r: rows.Detection, status: ReviewStatus = ReviewStatus.UNREVIEWED
                       ) -> Detection:
    return Detection(polygon=json.loads(r.polygon_geojson),
                     change_type=change_type_of(r.change_type),
                     score=r.score, area_m2=r.area_m2, area_uncertainty_m2=r.area_uncertainty_m2,
                     centroid_lon=r.centroid_lon, centroid_lat=r.centroid_lat, id=r.id,
                     run_id=r.run_id, change_id=r.change_id, review_status=status,
                     flags=Flag.known(r.flags))


def detection_to_row(d: Detection) -> rows.Detection:
    return rows.Detection(polygon_geojson=json.dumps(d.polygon), area_m2=d.area_m2,
                          area_uncertainty_m2=d.area_uncertainty_m2, change_type=d.change_type,
                          score=d.score, centroid_lon=d.centroid_lon,
                          centroid_lat=d.centroid_lat, flags=[f.value for f in d.flags],
                          **bbox_of(d.polygon))


def run_from_row(r: rows.Run, statuses: Mapping[int, str] | None = None) -> Run:
    """``statuses``: change id -> review status, for the detections' review state."""
    st = statuses or {}
    dets = tuple(
        detection_from_row(d, ReviewStatus(st.get(d.change_id, "unreviewed"))
                           if d.change_id is not None else ReviewStatus.UNREVIEWED)
        for d in r.detections)
    return Run(id=r.id, run_key=r.run_key, site_id=r.site_id, method=r.method,
               parameters=dict(r.parameters), versions=dict(r.versions),
               before_scene_id=r.before_scene_id, after_scene_id=r.after_scene_id,
               status=RunStatus(r.status), timings_s=dict(r.timings_s),
               summary=dict(r.summary), started_at=r.started_at, finished_at=r.finished_at,
               detections=dets, flags=Flag.known(r.flags))


def review_from_row(r: rows.Review) -> Review:
    return Review(id=r.id, change_id=r.change_id, detection_id=r.detection_id,
                  from_status=ReviewStatus(r.from_status), to_status=ReviewStatus(r.to_status),
                  reason=RejectReason(r.reason) if r.reason else None, note=r.note, by=r.by,
                  at=r.at)


def change_from_row(r: rows.Change, detections: Iterable[rows.Detection] = (),
                    reviews: Iterable[rows.Review] = ()) -> Change:
    dets = sorted(detections, key=lambda d: d.id)
    return Change(id=r.id, site_id=r.site_id, change_type=change_type_of(r.change_type),
                  status=ReviewStatus(r.status), first_seen=r.first_seen, last_seen=r.last_seen,
                  first_run_id=r.first_run_id, last_run_id=r.last_run_id,
                  polygon=json.loads(r.polygon_geojson),
                  detection_ids=tuple(d.id for d in dets),
                  run_ids=tuple(sorted({d.run_id for d in dets})),
                  reviews=tuple(review_from_row(x) for x in sorted(reviews, key=lambda x: x.id)))


def timeline_from_row(r: rows.Timeline) -> Timeline:
    return Timeline(site_id=r.site_id, scenes_key=r.scenes_key, parameters=dict(r.parameters),
                    versions=dict(r.versions), observations=list(r.observations),
                    breaks=list(r.breaks), outputs=dict(r.outputs),
                    timings_s=dict(r.timings_s), computed_at=r.computed_at)


def timeline_to_row(t: Timeline) -> rows.Timeline:
    return rows.Timeline(site_id=t.site_id, scenes_key=t.scenes_key, parameters=t.parameters,
                         versions=t.versions, observations=t.observations, breaks=t.breaks,
                         outputs=t.outputs, timings_s=t.timings_s)


def skip_from_row(r: rows.StacSkip) -> StacSkip:
    return StacSkip(site_id=r.site_id, collection=r.collection, item_id=r.item_id,
                    reason=r.reason, acquired=r.acquired, clear_fraction=r.clear_fraction,
                    recorded_at=r.recorded_at)


def skip_to_row(k: StacSkip) -> rows.StacSkip:
    return rows.StacSkip(site_id=k.site_id, collection=k.collection, item_id=k.item_id,
                         acquired=k.acquired, clear_fraction=k.clear_fraction, reason=k.reason)


def user_from_row(r: rows.User) -> User:
    return User(id=r.id, name=r.name, role=UserRole(r.role), created_at=r.created_at,
                disabled_at=r.disabled_at)


# --- the watch loop --------------------------------------------------------------------------
def watch_rule_from_row(r: rows.WatchRule) -> AlertRule:
    return AlertRule(site_id=r.site_id, change_types=tuple(r.change_types or ()),
                     min_area_m2=r.min_area_m2, min_score=r.min_score,
                     ignore_flags=tuple(r.ignore_flags or ()), when=AlertWhen(r.alert_when))


def watch_source_from_row(r: rows.WatchSource) -> WatchSource:
    return WatchSource(provider=r.provider, collection=r.collection, url=r.url,
                       max_cloud=r.max_cloud, min_clear=r.min_clear, site_id=r.site_id, id=r.id)


def sink_from_row(r: rows.WatchSink) -> Sink:
    return Sink(name=r.name, kind=SinkKind(r.kind), target=r.target, site_id=r.site_id,
                digest=bool(r.digest), options=dict(r.options or {}), id=r.id,
                created_at=r.created_at)


def alert_from_row(r: rows.WatchOutbox) -> Alert:
    return Alert(id=r.id, change_id=r.change_id, sink_id=r.sink_id, site_id=r.site_id,
                 run_id=r.run_id, key=r.key, payload=dict(r.payload),
                 status=AlertStatus(r.status), attempts=r.attempts, last_error=r.last_error,
                 batch=r.batch, created_at=r.created_at, delivered_at=r.delivered_at)


def watch_state_from_row(r: rows.WatchState) -> WatchState:
    return WatchState(site_id=r.site_id, last_seen=r.last_seen, last_pass_at=r.last_pass_at,
                      next_pass_at=r.next_pass_at, last_error=r.last_error,
                      last_error_at=r.last_error_at)


def watch_pass_from_row(r: rows.WatchPass) -> WatchPass:
    return WatchPass(id=r.id, started_at=r.started_at, status=r.status, executor=r.executor,
                     finished_at=r.finished_at, sites=r.sites, new_scenes=r.new_scenes,
                     runs=r.runs, alerts=r.alerts, delivered=r.delivered,
                     failures=tuple(r.failures or ()))


def run_to_row(run: Run) -> rows.Run:
    return rows.Run(run_key=run.run_key, site_id=run.site_id, method=run.method,
                    parameters=run.parameters, versions=run.versions,
                    before_scene_id=run.before_scene_id, after_scene_id=run.after_scene_id,
                    status=run.status.value, timings_s=run.timings_s, summary=run.summary,
                    started_at=run.started_at, finished_at=run.finished_at,
                    flags=[f.value for f in run.flags],
                    detections=[detection_to_row(d) for d in run.detections])
