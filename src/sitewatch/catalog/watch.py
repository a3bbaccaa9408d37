"""The catalog's part of the watch loop: rules, sources, sinks, per-site state, pass records
and the outbox. :class:`~sitewatch.catalog.store.Store` inherits these methods.

Exactly-once alerts rest on two facts kept here: the runs of a new scene, the outbox rows of
the changes they found and the site's ``last_seen`` advance are committed in ONE transaction
(:meth:`WatchCatalog.commit_watch_scene`); and the outbox holds one row per (tracked change,
sink), ever, under a unique constraint, each with a fixed idempotency key.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from sitewatch.catalog import mappers as m
from sitewatch.catalog import rows
from sitewatch.catalog.retry import on_conflict_retry
from sitewatch.errors import ConflictError, NotFoundError
from sitewatch.model import (
    Alert,
    AlertRule,
    AlertStatus,
    Change,
    Run,
    Sink,
    WatchPass,
    WatchSource,
    WatchState,
)

#: decide(saved runs, their changes) -> [(change id, run id, payload)] to queue
Decide = Callable[[list[Run], dict[int, Change]], list[tuple[int, int | None, dict[str, Any]]]]


def _now() -> datetime:
    return datetime.now(UTC)


def alert_key(site_id: int, change_id: int, sink_id: int) -> str:
    """The idempotency key of the alert of one change to one sink (sent on every try)."""
    return f"sitewatch-{site_id}-C{change_id}-S{sink_id}"


def _aware(t: datetime | None) -> datetime | None:
    """SQLite gives naive datetimes back: they are UTC."""
    return t.replace(tzinfo=UTC) if t is not None and t.tzinfo is None else t


class WatchCatalog:
    """Watch-loop methods of the Store (they use its sessions and change tracking)."""

    if TYPE_CHECKING:
        def session(self) -> AbstractContextManager[Session]: ...
        def _track(self, s: Session, run: rows.Run, after_date: str) -> None: ...
        def _run(self, s: Session, run_id: int) -> Run: ...
        def _change(self, s: Session, change_id: int) -> Change: ...

    # --- rules -------------------------------------------------------------------------------
    def set_rule(self, rule: AlertRule) -> AlertRule:
        """Set the rule of a site (or the global one), replacing what was there."""
        with self.session() as s:
            for old in s.scalars(self._scope(rows.WatchRule, rule.site_id)):
                s.delete(old)
            s.add(rows.WatchRule(site_id=rule.site_id, change_types=list(rule.change_types),
                                 min_area_m2=float(rule.min_area_m2),
                                 min_score=float(rule.min_score),
                                 ignore_flags=list(rule.ignore_flags),
                                 alert_when=rule.when.value, updated_at=_now()))
        return rule

    def clear_rule(self, site_id: int | None) -> bool:
        with self.session() as s:
            found = list(s.scalars(self._scope(rows.WatchRule, site_id)))
            for old in found:
                s.delete(old)
            return bool(found)

    def rule_for(self, site_id: int) -> AlertRule:
        """The site's own rule, else the global one, else the default rule."""
        with self.session() as s:
            for scope in (site_id, None):
                row = s.scalar(self._scope(rows.WatchRule, scope))
                if row is not None:
                    return m.watch_rule_from_row(row)
        return AlertRule()

    def rules(self) -> list[AlertRule]:
        with self.session() as s:
            return [m.watch_rule_from_row(r) for r in s.scalars(
                select(rows.WatchRule).order_by(rows.WatchRule.site_id))]

    @staticmethod
    def _scope(table: Any, site_id: int | None) -> Any:
        col = table.site_id
        return select(table).where(col.is_(None) if site_id is None else col == site_id)

    # --- sources -----------------------------------------------------------------------------
    def set_watch_sources(self, site_id: int | None, sources: Sequence[WatchSource]
                          ) -> list[WatchSource]:
        """Replace the STAC sources of a site (or the global ones); empty: clear them."""
        with self.session() as s:
            for old in s.scalars(self._scope(rows.WatchSource, site_id)):
                s.delete(old)
            s.flush()
            for src in sources:
                s.add(rows.WatchSource(site_id=site_id, provider=src.provider,
                                       collection=src.collection, url=src.url,
                                       max_cloud=src.max_cloud, min_clear=src.min_clear,
                                       updated_at=_now()))
        return self.watch_sources(site_id, effective=False)

    def watch_sources(self, site_id: int | None, effective: bool = True) -> list[WatchSource]:
        """A site's sources; ``effective``: else the global ones, else Sentinel-2 L2A of
        Earth Search."""
        with self.session() as s:
            scopes: list[int | None] = [site_id, None] if effective else [site_id]
            for scope in scopes:
                found = [m.watch_source_from_row(r) for r in s.scalars(
                    self._scope(rows.WatchSource, scope).order_by(rows.WatchSource.id))]
                if found or not effective:
                    return found
        return [WatchSource()]

    # --- sinks -------------------------------------------------------------------------------
    def add_sink(self, sink: Sink) -> Sink:
        with self.session() as s:
            if s.scalar(select(rows.WatchSink.id).where(rows.WatchSink.name == sink.name)):
                raise ConflictError(f"sink {sink.name!r} already exists: remove it first or "
                                    "choose another name")
            row = rows.WatchSink(name=sink.name, kind=sink.kind.value, target=sink.target,
                                 site_id=sink.site_id, digest=sink.digest,
                                 options=dict(sink.options), created_at=_now())
            s.add(row)
            s.flush()
            return m.sink_from_row(row)

    def remove_sink(self, name: str) -> Sink:
        with self.session() as s:
            row = s.scalar(select(rows.WatchSink).where(rows.WatchSink.name == name))
            if row is None:
                raise NotFoundError(f"no sink named {name!r}: see 'sitewatch watch status'")
            sink = m.sink_from_row(row)
            for a in s.scalars(select(rows.WatchOutbox).where(
                    rows.WatchOutbox.sink_id == row.id)):
                s.delete(a)
            s.delete(row)
            return sink

    def sinks(self, site_id: int | None = None) -> list[Sink]:
        """Every sink, or those of one site (its own and the global ones)."""
        with self.session() as s:
            q = select(rows.WatchSink).order_by(rows.WatchSink.id)
            if site_id is not None:
                q = q.where((rows.WatchSink.site_id.is_(None))
                            | (rows.WatchSink.site_id == site_id))
            return [m.sink_from_row(r) for r in s.scalars(q)]

    # --- per-site state and pass records --------------------------------------------------------
    def watch_state(self, site_id: int) -> WatchState:
        with self.session() as s:
            row = s.get(rows.WatchState, site_id)
            if row is None:
                return WatchState(site_id=site_id)
            st = m.watch_state_from_row(row)
        return WatchState(site_id, _aware(st.last_seen), _aware(st.last_pass_at),
                          _aware(st.next_pass_at), st.last_error, _aware(st.last_error_at))

    def _state_row(self, s: Session, site_id: int) -> rows.WatchState:
        row = s.get(rows.WatchState, site_id, with_for_update=True)
        if row is None:
            row = rows.WatchState(site_id=site_id)
            s.add(row)
            s.flush()
        return row

    def record_site_pass(self, site_id: int, error: str | None,
                         next_pass_at: datetime | None = None) -> None:
        """A pass over the site ended (``error``: why it did not finish, else None)."""
        def write() -> None:
            with self.session() as s:
                row = self._state_row(s, site_id)
                now = _now()
                row.last_pass_at = now
                row.last_error = error
                if error is not None:
                    row.last_error_at = now
                if next_pass_at is not None:
                    row.next_pass_at = next_pass_at

        on_conflict_retry(write, f"the watch state of site {site_id}")

    def set_next_pass(self, site_ids: Sequence[int], at: datetime | None) -> None:
        def write() -> None:
            with self.session() as s:
                for sid in site_ids:
                    self._state_row(s, sid).next_pass_at = at

        on_conflict_retry(write, "the watch states")

    def start_pass(self, executor: str, sites: int) -> WatchPass:
        """Record a pass that starts; passes left running by a killed process become
        'interrupted' (this pass finishes their work)."""
        with self.session() as s:
            s.execute(update(rows.WatchPass).where(rows.WatchPass.status == "running")
                      .values(status="interrupted"))
            row = rows.WatchPass(started_at=_now(), status="running", executor=executor,
                                 sites=sites, new_scenes=0, runs=0, alerts=0, delivered=0,
                                 failures=[])
            s.add(row)
            s.flush()
            return m.watch_pass_from_row(row)

    def finish_pass(self, pass_id: int, **counts: Any) -> WatchPass:
        with self.session() as s:
            row = s.get(rows.WatchPass, pass_id, with_for_update=True)
            if row is None:
                raise NotFoundError(f"no watch pass {pass_id}")
            for k, v in counts.items():
                setattr(row, k, list(v) if k == "failures" else v)
            row.status, row.finished_at = "finished", _now()
            s.flush()
            return m.watch_pass_from_row(row)

    def passes(self, limit: int = 10) -> list[WatchPass]:
        with self.session() as s:
            return [m.watch_pass_from_row(r) for r in s.scalars(
                select(rows.WatchPass).order_by(rows.WatchPass.id.desc()).limit(limit))]

    # --- runs and the outbox, together ----------------------------------------------------------
    def commit_watch_scene(self, site_id: int, runs: Sequence[Run], after_date: str,
                           seen: datetime, decide: Decide) -> tuple[list[Run], int]:
        """In one transaction: store the runs of a new scene (a run already stored under its
        ``run_key`` is reused) and track their detections; queue the alerts ``decide``
        picks for every sink of the site; move the site's ``last_seen`` to ``seen``.
        Returns (the stored runs, alerts queued). A crash before the commit leaves nothing,
        so the next pass does the scene again; after it, the scene is done. A transaction
        that loses a race on a unique key (another process stored the same run or state row
        at the same moment) is done again, finding the other's rows."""
        return on_conflict_retry(
            lambda: self._commit_watch_scene(site_id, runs, after_date, seen, decide),
            f"the runs of site {site_id}")

    def _commit_watch_scene(self, site_id: int, runs: Sequence[Run], after_date: str,
                            seen: datetime, decide: Decide) -> tuple[list[Run], int]:
        with self.session() as s:
            s.get(rows.Site, site_id, with_for_update=True)  # one writer per site
            saved = []
            for run in runs:
                rid = s.scalar(select(rows.Run.id).where(rows.Run.run_key == run.run_key))
                if rid is None:
                    row = m.run_to_row(run)
                    paths = getattr(self, "paths", None)  # the Store's workspace-relative paths
                    if paths is not None and isinstance(row.summary.get("mask_path"), str):
                        row.summary = row.summary | {
                            "mask_path": paths.to_catalog(row.summary["mask_path"])}
                    s.add(row)
                    s.flush()
                    self._track(s, row, after_date)
                    s.flush()
                    rid = row.id
                saved.append(self._run(s, rid))
            ids = {d.change_id for r in saved for d in r.detections if d.change_id is not None}
            changes = {cid: self._change(s, cid) for cid in sorted(ids)}
            queued = self._queue(s, site_id, decide(saved, changes))
            state = self._state_row(s, site_id)
            last = _aware(state.last_seen)
            if last is None or seen > last:
                state.last_seen = seen
            return saved, queued

    def queue_alerts(self, site_id: int, entries: Sequence[tuple[int, int | None,
                                                                 dict[str, Any]]]) -> int:
        """Queue alerts outside a scene (changes confirmed by an analyst since)."""
        with self.session() as s:
            return self._queue(s, site_id, entries)

    def _queue(self, s: Session, site_id: int,
               entries: Sequence[tuple[int, int | None, dict[str, Any]]]) -> int:
        if not entries:
            return 0
        sink_ids = list(s.scalars(select(rows.WatchSink.id).where(
            (rows.WatchSink.site_id.is_(None)) | (rows.WatchSink.site_id == site_id))))
        queued = 0
        now = _now()
        for change_id, run_id, payload in entries:
            have = set(s.scalars(select(rows.WatchOutbox.sink_id).where(
                rows.WatchOutbox.change_id == change_id)))
            for sink_id in sink_ids:
                if sink_id in have:
                    continue  # one tracked change alerts once per sink, ever
                s.add(rows.WatchOutbox(change_id=change_id, sink_id=sink_id, site_id=site_id,
                                       run_id=run_id, key=alert_key(site_id, change_id, sink_id),
                                       payload=payload, status=AlertStatus.PENDING.value,
                                       attempts=0, created_at=now))
                queued += 1
        s.flush()
        return queued

    def alerted_changes(self, site_id: int) -> set[int]:
        """Changes of the site with an outbox row (to any sink)."""
        with self.session() as s:
            return set(s.scalars(select(rows.WatchOutbox.change_id).where(
                rows.WatchOutbox.site_id == site_id)))

    def alerts(self, sink_id: int | None = None, status: AlertStatus | None = None
               ) -> list[Alert]:
        """Outbox rows, oldest first."""
        with self.session() as s:
            q = select(rows.WatchOutbox).order_by(rows.WatchOutbox.id)
            if sink_id is not None:
                q = q.where(rows.WatchOutbox.sink_id == sink_id)
            if status is not None:
                q = q.where(rows.WatchOutbox.status == status.value)
            return [m.alert_from_row(r) for r in s.scalars(q)]

    def batch_alerts(self, alert_ids: Sequence[int], batch: str) -> list[Alert]:
        """Put pending alerts without a batch into ``batch`` (a digest), committed before
        the digest is sent so that a retry sends the same message."""
        with self.session() as s:
            for r in s.scalars(select(rows.WatchOutbox).where(
                    rows.WatchOutbox.id.in_(list(alert_ids)),
                    rows.WatchOutbox.batch.is_(None))):
                r.batch = batch
        return [a for a in self.alerts() if a.batch == batch]

    def mark_delivered(self, alert_ids: Sequence[int]) -> None:
        with self.session() as s:
            for r in self._rows(s, alert_ids):
                r.status, r.delivered_at = AlertStatus.DELIVERED.value, _now()
                r.attempts += 1
                r.last_error = None

    def mark_failed(self, alert_ids: Sequence[int], error: str) -> None:
        with self.session() as s:
            for r in self._rows(s, alert_ids):
                r.attempts += 1
                r.last_error = error[:2000]

    @staticmethod
    def _rows(s: Session, alert_ids: Sequence[int]) -> Iterator[rows.WatchOutbox]:
        yield from s.scalars(select(rows.WatchOutbox).where(
            rows.WatchOutbox.id.in_(list(alert_ids))).with_for_update())
