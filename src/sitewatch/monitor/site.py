"""The work of one site in a pass; runs in a worker process (or a Dask worker), which is
given the catalog URL, the workspace path and the site id, and opens its own catalog
connection and GDAL handles.

1. Search each STAC source for items since the site's ``last_seen`` (with a look-back, so
   that late items are imported too) and fetch the AOI window of each new one.
2. The new scenes are the fetched scenes dated after ``last_seen`` (and late arrivals
   never analysed), oldest first. Each is
   analysed against its baselines (:mod:`.baseline`); its runs, the alerts of the changes
   they found and the new ``last_seen`` are committed in one transaction.
3. Changes an analyst has confirmed since are queued, when the rule waits for that.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sitewatch.catalog import Store
from sitewatch.config import Layout
from sitewatch.errors import SitewatchError
from sitewatch.imagery.stac import get_provider
from sitewatch.model import AlertRule, Run, Scene, Site, StacSkip, WatchSource
from sitewatch.monitor import rules
from sitewatch.monitor.baseline import choose_baselines
from sitewatch.monitor.faults import checkpoint
from sitewatch.pipeline.analysis import compute_run
from sitewatch.pipeline.stacfetch import fetch

log = logging.getLogger(__name__)
#: items up to this long before ``last_seen`` are searched again (late arrivals)
LOOKBACK = timedelta(days=30)


@dataclass(frozen=True)
class SiteTask:
    """What a worker needs: where the catalog and the workspace are, and which site."""

    db_url: str
    home: str
    site_id: int
    method: str = "auto"
    name: str = ""  #: for messages when the worker dies


@dataclass(frozen=True)
class SiteOutcome:
    site_id: int
    site: str
    new_scenes: int = 0
    runs: int = 0
    alerts: int = 0
    errors: tuple[str, ...] = ()
    seconds: float = 0.0
    finished: bool = True  #: False: the site's pass stopped on an error (retried next pass)
    lost: bool = False  #: the worker died: nothing was recorded for the site


def scene_time(scene: Scene) -> datetime | None:
    """The STAC item datetime of a fetched scene (None for imported files)."""
    text = scene.props.get("datetime_utc")
    return datetime.fromisoformat(str(text).replace("Z", "+00:00")) if text else None


def new_scenes(scenes: list[Scene], last_seen: datetime | None, analysed: set[int]
               ) -> list[tuple[datetime, Scene]]:
    """(item datetime, scene) of the scenes a pass must analyse, oldest first: every fetched
    scene dated after ``last_seen``, and late arrivals (dated up to :data:`LOOKBACK` before
    it, never analysed as an AFTER scene, with a baseline before them)."""
    out = []
    for s in scenes:
        t = scene_time(s)
        if t is None:
            continue
        late = (last_seen is not None and t > last_seen - LOOKBACK and s.id not in analysed
                and choose_baselines(scenes, s)[0] is not None)
        if last_seen is None or t > last_seen or late:
            out.append((t, s))
    return sorted(out, key=lambda ts: (ts[0], ts[1].id))


def watch_site(task: SiteTask) -> SiteOutcome:
    """One site's part of a pass; never raises (errors are returned and recorded)."""
    t0 = time.perf_counter()
    try:
        store = Store(task.db_url, root=task.home)
    except SitewatchError as exc:
        return SiteOutcome(task.site_id, task.name or f"id {task.site_id}",
                           errors=(str(exc),), finished=False)
    try:
        try:
            site = store.site(task.site_id)
        except SitewatchError as exc:  # removed since the pass was planned
            return SiteOutcome(task.site_id, task.name or f"id {task.site_id}",
                               errors=(str(exc),), finished=False)
        try:
            out = _watch(store, Layout(Path(task.home), task.db_url), site, task.method)
        except Exception as exc:  # noqa: BLE001 - one site's failure must not stop a pass
            msg = f"{type(exc).__name__}: {exc}" if not isinstance(exc, SitewatchError) \
                else str(exc)
            # the CLI prints one line per failure; the traceback is for -v
            log.info("site %s: %s", site.name, msg, exc_info=not isinstance(
                exc, SitewatchError))
            store.record_site_pass(site.id, msg)
            return SiteOutcome(site.id, site.name, errors=(msg,), finished=False,
                               seconds=time.perf_counter() - t0)
        store.record_site_pass(site.id, "; ".join(out.errors) or None)
        return SiteOutcome(out.site_id, out.site, out.new_scenes, out.runs, out.alerts,
                           out.errors, time.perf_counter() - t0)
    finally:
        store.close()


def _fetch_new(store: Store, lay: Layout, site: Site, sources: list[WatchSource],
               since: datetime | None) -> list[str]:
    errors = []
    start = None if since is None else (since - LOOKBACK).date()
    for src in sources:
        where = f"{src.collection} at {src.url or src.provider}"
        try:
            provider = get_provider(src.provider, src.url)
            _, outcomes = fetch(store, lay, site.id, provider, src.collection, start, None,
                                src.max_cloud, src.min_clear)
        except SitewatchError as exc:
            errors.append(f"source {where}: {exc}")
            continue
        for o in outcomes:
            if o.status == "failed":
                errors.append(f"item {o.item.id} of {where}: {o.reason}")
            elif o.status == "imported":
                checkpoint("fetched")
    return errors


def _watch(store: Store, lay: Layout, site: Site, method: str) -> SiteOutcome:
    rule = store.rule_for(site.id)
    state = store.watch_state(site.id)
    errors = _fetch_new(store, lay, site, store.watch_sources(site.id), state.last_seen)
    scenes = store.scenes(site.id)
    refused = {k.item_id for k in store.stac_skips(site.id)}
    new = [(t, sc) for t, sc in new_scenes(scenes, state.last_seen,
                                           {r.after_scene_id for r in store.runs(site.id)})
           if sc.props.get("stac_item") not in refused]
    n_runs = n_alerts = 0
    for seen, scene in new:
        before, season = choose_baselines(scenes, scene)
        runs: list[Run] = []
        try:
            for base in (before, season):
                if base is not None:
                    run, _ = compute_run(store, lay, site, base, scene, method)
                    runs.append(run)
        except SitewatchError as exc:
            # a scene that cannot be compared (e.g. too little of it over the AOI) must not
            # block the site: it is recorded as refused, with why, and the pass moves on
            why = f"scene {scene.id} ({scene.acquired_text}) cannot be analysed: {exc}"
            errors.append(why)
            store.add_stac_skip(StacSkip(
                site_id=site.id, collection=str(scene.props.get("stac_collection", "")),
                item_id=str(scene.props.get("stac_item", scene.id)), reason=why,
                acquired=scene.props.get("datetime_utc")))
            before, season, runs = None, None, []

        def decide(saved: list[Run], changes: dict, before: Scene | None = before,
                   season: Scene | None = season, scene: Scene = scene) -> list[rules.Entry]:
            if before is None:
                return []
            return rules.decide(rule, site, scene, before, season, saved, changes)

        saved, queued = store.commit_watch_scene(site.id, runs, scene.acquired_text, seen,
                                                 decide)
        checkpoint("committed")
        n_runs += len(saved)
        n_alerts += queued
        log.info("site %s: scene %s (%s): %d run(s), %d alert(s) queued", site.name, scene.id,
                 scene.acquired_text, len(saved), queued)
    n_alerts += _queue_confirmed(store, site, rule)
    return SiteOutcome(site.id, site.name, len(new), n_runs, n_alerts, tuple(errors))


def _queue_confirmed(store: Store, site: Site, rule: AlertRule) -> int:
    if rule.when.value != "confirmed":
        return 0
    changes = store.changes(site.id)
    if not any(c.status.value == "confirmed" for c in changes):
        return 0
    runs = {r.id: r for r in store.runs(site.id)}
    scenes = {s.id: s for s in store.scenes(site.id, include_removed=True)}
    entries = rules.confirmed_entries(rule, site, changes, runs, scenes,
                                      store.alerted_changes(site.id))
    return store.queue_alerts(site.id, entries)
