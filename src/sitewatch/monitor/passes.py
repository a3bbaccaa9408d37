"""A pass over the watchlist: plan it (which sites), run each site in parallel (a local
process pool, or a Dask distributed cluster), then deliver the outbox.

The pass finishes whatever an earlier, killed pass left: scenes not yet committed are
analysed again (runs are identified by their inputs, so nothing is stored twice), and
alerts not marked delivered are sent again with the same idempotency key.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from multiprocessing import get_context
from typing import Any

from sitewatch.catalog import Store
from sitewatch.config import Layout
from sitewatch.errors import InputValueError
from sitewatch.model import Site, SiteStatus, WatchPass
from sitewatch.monitor.baseline import BASELINE_RULE
from sitewatch.monitor.sinks import deliver_outbox
from sitewatch.monitor.site import SiteOutcome, SiteTask, watch_site

log = logging.getLogger(__name__)
Progress = Callable[[SiteOutcome], None]


@dataclass(frozen=True)
class PassResult:
    """A finished pass: its record, each site's outcome, and one line per failure."""

    record: WatchPass
    outcomes: list[SiteOutcome]
    delivered: int
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0
    baseline_rule: str = BASELINE_RULE

    @property
    def sites_per_hour(self) -> float:
        return len(self.outcomes) * 3600 / max(self.seconds, 1e-9)


def plan(store: Store, refs: Sequence[str | int] = ()) -> list[Site]:
    """The sites of a pass: those named (by id, name or alias), else every active site."""
    if not refs:
        return store.sites()
    sites = [store.site(r) for r in refs]
    removed = [s.name for s in sites if s.status is SiteStatus.REMOVED]
    if removed:
        raise InputValueError(f"site {removed[0]!r} is off the watchlist: restore it first")
    return list({s.id: s for s in sites}.values())


def executor_name(workers: int, dask: str | None) -> str:
    if dask:
        return f"dask {dask}"
    return "in-process" if workers <= 1 else f"local pool of {workers}"


def run_pass(store: Store, lay: Layout, refs: Sequence[str | int] = (), workers: int = 1,
             dask: str | None = None, method: str = "auto",
             progress: Progress | None = None) -> PassResult:
    """One pass; sites that fail are recorded and retried next pass (the pass goes on)."""
    if workers < 1:
        raise InputValueError(f"--workers {workers}: give 1 or more")
    dask = dask or os.environ.get("SITEWATCH_DASK") or None
    t0 = time.perf_counter()
    sites = plan(store, refs)
    record = store.start_pass(executor_name(workers, dask), len(sites))
    tasks = [SiteTask(store.url, str(lay.home), s.id, method, s.name) for s in sites]
    if dask:
        outcomes = _on_dask(tasks, dask, workers, progress)
    elif workers > 1 and len(tasks) > 1:
        outcomes = _on_pool(tasks, workers, progress)
    else:
        outcomes = []
        for t in tasks:
            outcomes.append(watch_site(t))
            if progress:
                progress(outcomes[-1])
    for o in outcomes:
        if o.lost:
            store.record_site_pass(o.site_id, "; ".join(o.errors))
    failures = [f"site {o.site}: {e}" for o in outcomes for e in o.errors]
    delivery = deliver_outbox(store, lay, record.id)
    failures += delivery.failures
    record = store.finish_pass(
        record.id, new_scenes=sum(o.new_scenes for o in outcomes),
        runs=sum(o.runs for o in outcomes), alerts=sum(o.alerts for o in outcomes),
        delivered=delivery.delivered, failures=failures)
    return PassResult(record, sorted(outcomes, key=lambda o: o.site), delivery.delivered,
                      failures, time.perf_counter() - t0)


def _lost(task: SiteTask, why: str) -> SiteOutcome:
    return SiteOutcome(task.site_id, task.name or f"id {task.site_id}",
                       errors=(f"{why}; the site is retried next pass",), finished=False,
                       lost=True)


def _on_pool(tasks: list[SiteTask], workers: int, progress: Progress | None
             ) -> list[SiteOutcome]:
    # spawn, not fork: no GDAL handle or database connection crosses into a worker
    done: dict[int, SiteOutcome] = {}
    try:
        with ProcessPoolExecutor(min(workers, len(tasks)),
                                 mp_context=get_context("spawn")) as ex:
            futures = {ex.submit(watch_site, t): t for t in tasks}
            for f in as_completed(futures):
                t = futures[f]
                try:
                    o = f.result()
                except Exception as exc:  # noqa: BLE001 - a dead worker loses one site's pass
                    o = _lost(t, f"the worker failed ({type(exc).__name__}: {exc})")
                done[t.site_id] = o
                if progress:
                    progress(o)
    except BrokenProcessPool as exc:
        log.info("process pool broke: %s", exc)
    for t in tasks:  # whatever the pool could not report is retried next pass
        if t.site_id not in done:
            done[t.site_id] = _lost(t, "the worker process died")
    return list(done.values())


def _on_dask(tasks: list[SiteTask], address: str, workers: int, progress: Progress | None
             ) -> list[SiteOutcome]:
    """``address``: a scheduler (tcp://host:8786), or ``local`` for a LocalCluster of
    ``workers`` processes on this machine."""
    from distributed import Client, LocalCluster
    from distributed import as_completed as dask_completed

    cluster: Any = None
    if address == "local":
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
    else:
        client = Client(address, timeout=30)
    out = []
    try:
        futures = client.map(watch_site, tasks, pure=False)
        index = {f.key: t for f, t in zip(futures, tasks, strict=True)}
        for f in dask_completed(futures):
            try:
                o = f.result()
            except Exception as exc:  # noqa: BLE001 - a lost worker loses one site's pass
                o = _lost(index[f.key], f"the dask task failed ({type(exc).__name__}: {exc})")
            out.append(o)
            if progress:
                progress(o)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    return out
