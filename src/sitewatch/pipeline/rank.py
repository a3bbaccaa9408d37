"""``sitewatch rank``: every site ordered by how much and how strongly it changed since a date.

Two sources of change are counted for each site: the breaks of its timeline (area of the
pixels that broke near each break date) and the detections of its latest pair analysis
whose AFTER scene falls on or after the date. The larger area counts, so one change is
never counted twice; the strength is the largest break magnitude (noise units) or, for
pair detections only, their mean score.

Only stored results are read: a site's timeline counts as last computed by
``sitewatch timeline`` (a site without one says so), so ranking costs queries, not pixels.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sitewatch.catalog import Store
from sitewatch.model import Site


@dataclass(frozen=True)
class SiteChange:
    site: str
    area_m2: float
    strength: float
    first_date: str | None
    kinds: list[str]
    sources: list[str]
    note: str

    def as_dict(self) -> dict[str, Any]:
        return {"site": self.site, "area_m2": round(self.area_m2, 1),
                "strength": round(self.strength, 3), "first_date": self.first_date,
                "kinds": self.kinds, "sources": self.sources, "note": self.note}


def _site_change(store: Store, site: Site, since: date | None) -> SiteChange:
    scenes = store.scenes(site.id)
    if not scenes:
        return SiteChange(site.name, 0.0, 0.0, None, [], [], "no scenes")
    sources, kinds, dates = [], set(), []
    tl_area = strength = 0.0
    note = ""
    tl = store.timeline(site.id)
    if tl is None:
        note = "no timeline yet: run 'sitewatch timeline SITE'"
    else:
        for b in tl.breaks:
            if since is None or date.fromisoformat(b["date"]) >= since:
                tl_area += b.get("area_m2") or 0.0
                strength = max(strength, float(b["magnitude"]))
                kinds.add(b["kind"])
                dates.append(b["date"])
        if dates:
            sources.append("timeline")
    pair_area = 0.0
    runs = store.runs(site.id)
    if runs:
        run = runs[0]
        after = store.scene(run.after_scene_id)
        if since is None or (after.acquired_start is not None and after.acquired_start >= since):
            pair_area = sum(d.area_m2 or 0.0 for d in run.detections)
            if run.detections:
                sources.append(f"pair analysis {run.ref}")
                kinds.update(d.change_type for d in run.detections)
                dates.append(after.acquired_text)
                if strength == 0.0:
                    strength = sum(d.score for d in run.detections) / len(run.detections)
    area = max(tl_area, pair_area)
    if not note:
        note = (f"{len(scenes)} scenes" if area else
                f"no change{' since ' + since.isoformat() if since else ''} "
                f"in {len(scenes)} scenes")
    return SiteChange(site.name, area, strength, min(dates) if dates else None, sorted(kinds),
                      sources, note)


def rank_sites(store: Store, since: date | None,
               progress: Callable[[int, int, str], None] | None = None) -> list[SiteChange]:
    """All sites, most changed first (area, then strength, then name)."""
    sites = store.sites()
    out = []
    for i, site in enumerate(sites, start=1):
        out.append(_site_change(store, site, since))
        if progress:
            progress(i, len(sites), site.name)
    out.sort(key=lambda c: (-c.area_m2, -c.strength, c.site))
    return out
