"""Domain objects -> the JSON of the REST API (plain dicts; dates as ISO text)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sitewatch.model import Change, Detection, Review, Run, Scene, Site, User


def _iso(t: datetime | None) -> str | None:
    return None if t is None else t.isoformat()


def site(s: Site, counts: dict[str, int] | None = None, full: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": s.id, "name": s.name, "aliases": list(s.aliases), "kind": s.kind,
        "country": s.country, "notes": s.notes, "status": s.status.value,
        "created_at": _iso(s.created_at), "aoi": s.aoi, "bbox_wgs84": list(s.bbox_wgs84),
    }
    if counts is not None:
        out["changes"] = counts
    if full:
        out["sources"] = [{"file": x.file, "title": x.title, "published": x.published,
                           "sha256": x.sha256, "quotes": list(x.quotes)} for x in s.sources]
    return out


def scene(s: Scene) -> dict[str, Any]:
    return {
        "id": s.id, "site_id": s.site_id, "acquired": s.acquired_text,
        "acquired_start": None if s.acquired_start is None else s.acquired_start.isoformat(),
        "acquired_end": None if s.acquired_end is None else s.acquired_end.isoformat(),
        "precision": s.acquired_precision,
        "provenance": {"provider": s.provider, "credit": s.credit, "licence": s.licence,
                       "source": s.provenance.source, "sha256": s.sha256},
        "file": s.path.rsplit("/", 1)[-1], "driver": s.driver, "crs": s.crs,
        "width": s.width, "height": s.height, "bands": list(s.band_names), "dtype": s.dtype,
        "gsd_m": s.gsd_m, "georef_source": s.georef_source, "notes": s.notes,
        "imported_at": _iso(s.imported_at), "removed": s.removed,
    }


def detection(d: Detection) -> dict[str, Any]:
    return {
        "id": d.id, "ref": d.ref, "run_id": d.run_id, "run_ref": f"R{d.run_id}",
        "change_id": d.change_id, "change_ref": d.change_ref, "change_type": d.change_type,
        "score": d.score, "area_m2": d.area_m2, "area_uncertainty_m2": d.area_uncertainty_m2,
        "centroid": None if d.centroid_lon is None else [d.centroid_lon, d.centroid_lat],
        "review_status": d.review_status.value, "polygon": d.polygon,
        "flags": [{"code": f.value, "sentence": f.sentence} for f in d.flags],
    }


def run(r: Run, with_detections: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": r.id, "ref": r.ref, "site_id": r.site_id, "method": r.method,
        "parameters": r.parameters, "versions": r.versions,
        "before_scene_id": r.before_scene_id, "after_scene_id": r.after_scene_id,
        "status": r.status.value, "timings_s": r.timings_s, "summary": r.summary,
        "started_at": _iso(r.started_at), "finished_at": _iso(r.finished_at),
        "detection_count": len(r.detections), "changed_area_m2": r.changed_area_m2,
        "changed_area_uncertainty_m2": r.changed_area_uncertainty_m2,
        "flags": [{"code": f.value, "sentence": f.sentence} for f in r.flags],
    }
    if with_detections:
        out["detections"] = [detection(d) for d in r.detections]
    return out


def review(v: Review) -> dict[str, Any]:
    return {"id": v.id, "change_id": v.change_id, "change_ref": f"C{v.change_id}",
            "detection_id": v.detection_id,
            "detection_ref": None if v.detection_id is None else f"D{v.detection_id}",
            "from": v.from_status.value, "to": v.to_status.value,
            "reason": None if v.reason is None else v.reason.value, "note": v.note,
            "by": v.by, "at": _iso(v.at)}


def change(c: Change, latest: Detection | None = None, site_name: str | None = None
           ) -> dict[str, Any]:
    return {
        "id": c.id, "ref": c.ref, "site_id": c.site_id, "site_name": site_name,
        "change_type": c.change_type, "status": c.status.value, "first_seen": c.first_seen,
        "last_seen": c.last_seen, "first_run_ref": f"R{c.first_run_id}",
        "last_run_ref": f"R{c.last_run_id}", "last_run_id": c.last_run_id,
        "polygon": c.polygon, "detection_refs": [f"D{i}" for i in c.detection_ids],
        "run_refs": [f"R{i}" for i in c.run_ids],
        "latest": None if latest is None else detection(latest),
        "score": None if latest is None else latest.score,
        "reviews": [review(v) for v in c.reviews],
    }


def user(u: User) -> dict[str, Any]:
    return {"id": u.id, "name": u.name, "role": u.role.value,
            "can_review": u.role.can_review, "created_at": _iso(u.created_at)}
