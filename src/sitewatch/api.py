"""The Python API: one :class:`Workspace` over a catalog and its files, and
:func:`detect_pair` for two image files. The CLI, the demo and the benchmarks use it.

    >>> import sitewatch
    >>> ws = sitewatch.open_workspace("~/watch")          # or "postgresql+psycopg://..."
    >>> site = ws.add_site("Votkinsk plant", lat=57.05, lon=53.99, radius_m=1500)

Everything returned is a frozen domain object of :mod:`sitewatch.model`.
"""

from __future__ import annotations

import contextlib
import getpass
import os
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any, Literal

from sitewatch.catalog import Store
from sitewatch.catalog import upgrade as _upgrade
from sitewatch.config import Layout, layout
from sitewatch.errors import InputValueError, NotFoundError
from sitewatch.model import (
    Change,
    Detection,
    RejectReason,
    Review,
    ReviewStatus,
    Run,
    Scene,
    Site,
    SiteStatus,
    Timeline,
    User,
    UserRole,
    parse_ref,
)

Decision = Literal["confirm", "reject", "reset"]
_DECISION = {"confirm": ReviewStatus.CONFIRMED, "reject": ReviewStatus.REJECTED,
             "reset": ReviewStatus.UNREVIEWED}


def _split_target(target: str | os.PathLike[str] | None, db: str | None
                  ) -> tuple[str | Path | None, str | None]:
    text = None if target is None else os.fspath(target)
    if text is not None and "://" in text:
        return None, text
    return text, db


def open_workspace(target: str | os.PathLike[str] | None = None, *, db: str | None = None,
                   create: bool = True) -> Workspace:
    """Open the workspace at a directory, or the catalog at a database URL.

    ``target``: a directory (catalog ``catalog.sqlite`` inside it unless ``db`` is given),
    a database URL (files then go to SITEWATCH_HOME), or None for SITEWATCH_HOME and
    SITEWATCH_DB. A new SQLite catalog is created; any other must be at the schema of this
    version (``sitewatch db upgrade``).
    """
    home, url = _split_target(target, db)
    lay = layout(home, url)
    if create:
        lay.ensure()
    return Workspace(lay, Store(lay.db_url, root=lay.home))


def upgrade_catalog(target: str | os.PathLike[str] | None = None, *, db: str | None = None
                    ) -> tuple[str | None, str]:
    """Apply the catalog's migrations (``sitewatch db upgrade``); (from, to) revisions."""
    home, url = _split_target(target, db)
    lay = layout(home, url).ensure()
    return _upgrade(lay.db_url)


def detect_pair(before: str | os.PathLike[str], after: str | os.PathLike[str],
                out: str | os.PathLike[str], *, method: str = "auto",
                geojson: str | os.PathLike[str] | None = None, gsd_m: float | None = None,
                params: dict[str, Any] | None = None,
                structures: str | os.PathLike[str] | None = None) -> Any:
    """Change between two image files of the same ground, without a catalog.

    Writes the 0/1/255 uint8 mask of BEFORE's size to ``out`` (and the polygons to
    ``geojson``, and the buildings of both dates with their change to ``structures``, for
    the learned detector); returns a ``PairResult`` with the detector's result, the change
    objects, the method used and the structures document.
    """
    from sitewatch.pipeline.pair import detect_files

    if gsd_m is not None and gsd_m <= 0:
        raise InputValueError(f"gsd_m {gsd_m} must be a positive pixel size in metres")
    _distinct_files({"the BEFORE image": before, "the AFTER image": after},
                    {"the mask": out, "the change GeoJSON": geojson,
                     "the structures GeoJSON": structures})
    return detect_files(Path(before), Path(after), Path(out), method,
                        Path(geojson) if geojson is not None else None, gsd_m, params,
                        Path(structures) if structures is not None else None)


def _distinct_files(inputs: dict[str, str | os.PathLike[str]],
                    outputs: dict[str, str | os.PathLike[str] | None]) -> None:
    """Refuse an output that is an input or another output: it would be replaced (the
    images destroyed, or the mask overwritten by a GeoJSON)."""
    seen = {Path(p).resolve(): what for what, p in inputs.items()}
    for what, p in outputs.items():
        if p is None:
            continue
        here = Path(p).resolve()
        if here in seen:
            raise InputValueError(f"{p} would be both {seen[here]} and {what}: give each "
                                  "output a file of its own")
        seen[here] = what


def extract_sites(article: str | os.PathLike[str], published: date | None = None
                  ) -> tuple[Any, list[dict[str, Any]]]:
    """Candidate sites in an article (text, Markdown, HTML or PDF): (article, candidates),
    each with name, kind, place, country, lat, lon, confidence, evidence and dates."""
    from sitewatch.pipeline.fromtext import read_candidates

    return read_candidates(Path(article), published, layout().gazetteer_dir)


def import_gazetteer(file: str | os.PathLike[str], home: str | Path | None = None
                     ) -> tuple[int, int, int, Path]:
    """Merge the facilities of a GeoNames dump or a facility CSV into the workspace's
    gazetteer: (added, updated, total, store path)."""
    from sitewatch.text.facilities import STORE_NAME, import_facilities, load_store

    folder = layout(home).gazetteer_dir
    new, updated = import_facilities(Path(file), folder)
    return new, updated, len(load_store(folder)), folder / STORE_NAME


def default_reviewer() -> str:
    """SITEWATCH_USER, else the login name."""
    try:
        return os.environ.get("SITEWATCH_USER") or getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


class _DummyHash:
    """A hash to verify against when a name is unknown (made once, lazily)."""

    value: str | None = None

    def get(self, hasher: Any) -> str:
        if self.value is None:
            self.value = hasher.hash("not a password of anyone")
        return self.value


_DUMMY_HASH = _DummyHash()


class Workspace:
    """A catalog (SQLite or PostgreSQL) and the workspace directory of its files."""

    def __init__(self, lay: Layout, store: Store) -> None:
        self.layout = lay
        self.store = store

    @property
    def home(self) -> Path:
        return self.layout.home

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Workspace({str(self.home)!r})"

    # --- sites -----------------------------------------------------------------------------
    def sites(self, include_removed: bool = False) -> list[Site]:
        return self.store.sites(include_removed)

    def site(self, ref: str | int | Site) -> Site:
        """A site by id, name (case-insensitive) or alias."""
        return ref if isinstance(ref, Site) else self.store.site(ref)

    def _site_id(self, ref: str | int | Site) -> int:
        return self.site(ref).id

    def add_site(self, name: str, *, lat: float | None = None, lon: float | None = None,
                 radius_m: float = 1000.0, geojson: str | os.PathLike[str] | None = None,
                 aoi: Any = None, kind: str | None = None, country: str | None = None,
                 aliases: Sequence[str] = (), notes: str | None = None) -> Site:
        """Add a site from a point and radius, a GeoJSON file (its CRS honoured) or a
        shapely/GeoJSON geometry in WGS84."""
        from sitewatch.pipeline.watchlist import add_site

        return add_site(self.store, name, self._aoi(lat, lon, radius_m, geojson, aoi), kind,
                        country, list(aliases), notes)

    @staticmethod
    def _aoi(lat: float | None, lon: float | None, radius_m: float,
             geojson: str | os.PathLike[str] | None, aoi: Any) -> Any:
        from shapely.geometry.base import BaseGeometry

        from sitewatch.geo.aoi import aoi_from_geojson, aoi_from_mapping, aoi_from_point

        given = [x is not None for x in (geojson, aoi)] + [lat is not None or lon is not None]
        if sum(given) > 1:
            raise InputValueError("give one AOI: --geojson, or --lat/--lon, not both")
        if geojson is not None:
            return aoi_from_geojson(Path(geojson))
        if aoi is not None:
            return aoi if isinstance(aoi, BaseGeometry) else aoi_from_mapping(aoi, "aoi")
        if lat is not None and lon is not None:
            return aoi_from_point(lon, lat, radius_m)
        raise InputValueError("give the AOI: --lat LAT --lon LON [--radius-m M] or --geojson "
                              "FILE")

    def edit_site(self, ref: str | int | Site, *, name: str | None = None,
                  kind: str | None = None, country: str | None = None,
                  notes: str | None = None, add_aliases: Sequence[str] = (),
                  remove_aliases: Sequence[str] = (), lat: float | None = None,
                  lon: float | None = None, radius_m: float | None = None,
                  geojson: str | os.PathLike[str] | None = None, aoi: Any = None) -> Site:
        """Change a site's facts or AOI (a point, a GeoJSON file or a shapely/GeoJSON
        geometry in WGS84); its scenes and runs stay."""
        from sitewatch.geo.aoi import check_aoi, geometry_json

        site = self.site(ref)
        changes: dict[str, Any] = {}
        if name is not None:
            if not name.strip():
                raise InputValueError("--name is empty: give the site's new name")
            changes["name"] = name.strip()
        for key, value in (("kind", kind), ("country", country), ("notes", notes)):
            if value is not None:
                changes[key] = value.strip() or None
        if add_aliases or remove_aliases:
            drop = {a.casefold() for a in remove_aliases}
            missing = [a for a in remove_aliases
                       if a.casefold() not in {x.casefold() for x in site.aliases}]
            if missing:
                raise InputValueError(f"site {site.name!r} has no alias {missing[0]!r}")
            kept = [a for a in site.aliases if a.casefold() not in drop]
            kept += [a.strip() for a in add_aliases
                     if a.strip() and a.casefold() not in {k.casefold() for k in kept}]
            changes["aliases"] = kept
        if geojson is not None or aoi is not None or lat is not None or lon is not None:
            if (lat is None) != (lon is None):
                raise InputValueError("give both --lat and --lon to move the site")
            geom = self._aoi(lat, lon, radius_m or 1000.0, geojson, aoi)
            check_aoi(geom, f"site {site.name!r}")
            import json

            changes["aoi"] = json.loads(geometry_json(geom))
        if not changes:
            raise InputValueError("nothing to change: give --name, --alias, --kind, --country, "
                                  "--notes, --lat/--lon or --geojson")
        return self.store.update_site(site.id, **changes)

    def remove_site(self, ref: str | int | Site) -> Site:
        """Take a site off the watchlist; nothing is deleted, its runs keep resolving."""
        site = self.site(ref)
        if site.status is SiteStatus.REMOVED:
            raise InputValueError(f"site {site.name!r} is already removed")
        return self.store.update_site(site.id, status=SiteStatus.REMOVED)

    def restore_site(self, ref: str | int | Site) -> Site:
        return self.store.update_site(self.site(ref).id, status=SiteStatus.ACTIVE)

    def sites_from_text(self, article: str | os.PathLike[str], accept: Sequence[str] = (),
                        take_all: bool = False, published: date | None = None) -> Any:
        """Add candidates of an article (with their quotes); (article, results)."""
        from sitewatch.pipeline.fromtext import add_from_text

        return add_from_text(self.store, Path(article), list(accept) or None, take_all,
                             published, self.layout.gazetteer_dir)

    # --- scenes ----------------------------------------------------------------------------
    def scenes(self, site: str | int | Site, include_removed: bool = False) -> list[Scene]:
        return self.store.scenes(self._site_id(site), include_removed)

    def import_scene(self, site: str | int | Site, path: str | os.PathLike[str],
                     **facts: Any) -> Scene:
        """Import one image, or one Sentinel-2 band folder as one scene; ``facts``: date,
        provider, credit, licence, bounds, crs, bands, notes, scale, offset (see
        ``sitewatch scenes import``)."""
        from sitewatch.imagery.s2folder import is_band_folder
        from sitewatch.pipeline.bandfolder import add_band_folder
        from sitewatch.pipeline.watchlist import SceneSpec, add_scene_file

        spec = SceneSpec(path=Path(path), **facts)
        if is_band_folder(spec.path):
            return add_band_folder(self.store, self.layout, self.site(site), spec)
        return add_scene_file(self.store, self.site(site), spec)

    def import_scenes(self, site: str | int | Site, paths: Sequence[str | os.PathLike[str]],
                      progress: Callable[[int, int, Any], None] | None = None,
                      **facts: Any) -> list[Any]:
        """Import many files, folders or EOPatches; bad files are skipped and reported in the
        outcomes (one per input)."""
        from sitewatch.pipeline.importing import import_many
        from sitewatch.pipeline.watchlist import SceneSpec

        return import_many(self.store, self.layout, self.site(site),
                           [Path(p) for p in paths], SceneSpec(path=Path(), **facts), progress)

    def scene(self, scene_id: int) -> Scene:
        return self.store.scene(scene_id)

    def remove_scene(self, scene_id: int) -> Scene:
        """Take a scene out of lists and analyses; runs that used it keep resolving."""
        return self.store.remove_scene(scene_id)

    def stac_search(self, site: str | int | Site, provider: Any, collection: str,
                    start: date | None = None, end: date | None = None,
                    max_cloud: float | None = None) -> Any:
        from sitewatch.imagery.stac import search

        return search(provider, collection, self.site(site).aoi_geom, start, end, max_cloud)

    def stac_fetch(self, site: str | int | Site, provider: Any, collection: str,
                   start: date | None = None, end: date | None = None,
                   max_cloud: float | None = None, min_clear: float = 0.3,
                   progress: Callable[[int, int, Any], None] | None = None) -> Any:
        from sitewatch.pipeline.stacfetch import fetch

        return fetch(self.store, self.layout, self.site(site).id, provider, collection, start,
                     end, max_cloud, min_clear, progress)

    # --- analyses, runs, detections, changes -----------------------------------------------
    def analyze(self, site: str | int | Site, before: str | None = None,
                after: str | None = None, method: str = "auto",
                params: dict[str, Any] | None = None, *,
                progress: Callable[[int, int | None, str], None] | None = None) -> Any:
        """Compare two scenes of a site and store the run; returns an ``Analysis`` (its
        ``run`` and whether it was ``created``: the same inputs give the stored run back).
        The run and each detection carry their warnings in ``.flags`` (:class:`Flag`).
        ``progress(done, total, step)``, when given, is told as each step starts."""
        from sitewatch.pipeline.analysis import analyze_site

        return analyze_site(self.store, self.layout, self._site_id(site), before, after,
                            method, params, progress=progress)

    def runs(self, site: str | int | Site) -> list[Run]:
        """The site's runs, latest first (runs are never deleted)."""
        return self.store.runs(self._site_id(site))

    def run(self, ref: str | int) -> Run:
        return self.store.run(self._number(ref, "run"))

    def structures(self, ref: str | int, changed_only: bool = False) -> dict[str, Any]:
        """A run's structures (buildings new, extended, demolished, unchanged; cleared
        ground) as a GeoJSON FeatureCollection in lon/lat, each with its area and
        uncertainty, relative sizes and the detections it came from; empty for a run whose
        detector gives no building maps. ``changed_only``: the changed ones and the
        standing buildings they are sized against."""
        from sitewatch.evidence.structures import structure_features

        return {"type": "FeatureCollection", "name": "structures",
                "features": structure_features(self.run(ref), changed_only)}

    def detection(self, ref: str | int) -> Detection:
        return self.store.detection(self._number(ref, "detection"))

    def change(self, ref: str | int) -> Change:
        return self.store.change(self._number(ref, "change"))

    def changes(self, site: str | int | Site | None = None,
                status: ReviewStatus | str | None = None) -> list[Change]:
        st = None if status is None else ReviewStatus(status)
        return self.store.changes(None if site is None else self._site_id(site), st)

    def change_counts(self, site: str | int | Site | None = None) -> dict[int, dict[str, int]]:
        """{site id: {review status: count}} of tracked changes, of one site or all."""
        return self.store.change_counts(None if site is None else self._site_id(site))

    def show(self, ref: str) -> Run | Detection | Change:
        """A run (R12), detection (D345) or tracked change (C17) by its identifier."""
        kind, number = parse_ref(ref)
        if kind == "run":
            return self.store.run(number)
        if kind == "detection":
            return self.store.detection(number)
        return self.store.change(number)

    @staticmethod
    def _number(ref: str | int, kind: str) -> int:
        if isinstance(ref, int):
            return ref
        if ref.strip().isdigit():
            return int(ref)
        got, number = parse_ref(ref)
        if got != kind:
            raise InputValueError(f"{ref!r} is a {got}, not a {kind}")
        return number

    # --- review ----------------------------------------------------------------------------
    def review(self, ref: str, decision: Decision, reason: str | RejectReason | None = None,
               note: str | None = None, by: str | None = None) -> Review:
        """Confirm, reject (with a reason) or reset a tracked change, named by its id or by
        any detection of it; the decision goes into the append-only audit log."""
        if decision not in _DECISION:
            raise InputValueError(f"unknown decision {decision!r}: confirm, reject or reset")
        kind, number = parse_ref(ref)
        if kind == "run":
            raise InputValueError(f"{ref} is a run: review its detections (D...) or changes "
                                  "(C...), listed by 'sitewatch show RUN'")
        detection_id = None
        if kind == "detection":
            det = self.store.detection(number)
            if det.change_id is None:
                raise NotFoundError(f"detection {ref} is not tracked as a change")
            detection_id, change_id = det.id, det.change_id
        else:
            change_id = number
        why = RejectReason.parse(reason) if isinstance(reason, str) else reason
        return self.store.review(change_id, _DECISION[decision], by or default_reviewer(), why,
                                 note, detection_id)

    def reviews(self, ref: str | None = None) -> list[Review]:
        """The audit log, of one change (or a detection's change) or of all."""
        if ref is None:
            return self.store.reviews()
        kind, number = parse_ref(ref)
        if kind == "detection":
            det = self.store.detection(number)
            return [] if det.change_id is None else self.store.reviews(det.change_id)
        if kind == "change":
            return self.store.reviews(number)
        raise InputValueError(f"{ref} is a run: give a detection or a change")

    # --- accounts of the review workspace -------------------------------------------------
    def add_user(self, name: str, role: UserRole | str, password: str) -> User:
        """Create an account (``sitewatch users add``); the password is stored as an argon2
        hash only."""
        from argon2 import PasswordHasher

        clean = name.strip()
        if not clean or any(c.isspace() for c in clean) or len(clean) > 200:
            raise InputValueError(f"user name {name!r} must be 1-200 characters without spaces")
        if not password:
            raise InputValueError("the password is empty: give one (--password-stdin or the "
                                  "prompt)")
        return self.store.add_user(clean, UserRole.parse(role) if isinstance(role, str)
                                   else role, PasswordHasher().hash(password))

    def users(self) -> list[User]:
        return self.store.users()

    def authenticate(self, name: str, password: str) -> User | None:
        """The active user ``name`` when ``password`` is theirs, else None (same cost for an
        unknown name, so that names cannot be told apart by timing)."""
        from argon2 import PasswordHasher
        from argon2.exceptions import InvalidHashError, VerificationError

        hasher = PasswordHasher()
        found = self.store.user_credentials(name)
        if found is None:
            with contextlib.suppress(VerificationError, InvalidHashError):
                hasher.verify(_DUMMY_HASH.get(hasher), password)
            return None
        user, stored = found
        try:
            hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return None
        if hasher.check_needs_rehash(stored):
            self.store.set_password_hash(user.id, hasher.hash(password))
        return user

    def chips(self, site: str | int | Site) -> list[Any]:
        """The site's chips (COGs on its grid), newest first."""
        return self.store.chips(self._site_id(site))

    def export_training(self, out_dir: str | os.PathLike[str], size_px: int = 256) -> Any:
        """Reviewed changes as LEVIR-CD-style training pairs (A/, B/, label/) that
        ``sitewatch model train --data`` reads."""
        from sitewatch.pipeline.training import export_training

        return export_training(self.store, Path(out_dir), size_px)

    # --- evidence and time series ----------------------------------------------------------
    def report(self, site: str | int | Site, out: str | os.PathLike[str] | None,
               run: str | int | None = None, *, figure: str | os.PathLike[str] | None = None,
               dpi: int = 300) -> Path:
        """Write the site's self-contained HTML evidence report (latest run, or ``run``) to
        ``out``, and/or its before/after figure alone to ``figure`` (.png, .svg or .pdf, at
        ``dpi``). Returns ``out``, or ``figure`` when no HTML was asked for."""
        from sitewatch.evidence.figure import check_dpi, figure_format
        from sitewatch.pipeline.reporting import write_report, write_site_figure

        if out is None and figure is None:
            raise InputValueError("nothing to write: give --out REPORT.html and/or "
                                  "--figure FIGURE.png|svg|pdf")
        if figure is not None:  # refused before anything is written
            figure_format(figure)
            check_dpi(dpi)
        rid = None if run is None else self._number(run, "run")
        sid = self._site_id(site)
        written = []
        if out is not None:
            written.append(write_report(self.store, self.layout, sid, Path(out), rid))
        if figure is not None:
            written.append(write_site_figure(self.store, sid, Path(figure), rid, dpi))
        return written[0]

    def export(self, site: str | int | Site, fmt: str | None = None,
               out: str | os.PathLike[str] | None = None, run: str | int | None = None
               ) -> Path:
        """Export a run (latest, or ``run``) in WGS84, in the format ``out``'s extension
        names: .geojson/.json, .gpkg (detections, AOI and scene footprints, with QGIS
        styles), .kml, .fgb or .csv. ``fmt``, when given, must agree with the extension."""
        from sitewatch.pipeline.reporting import export_site

        if out is None:
            raise InputValueError("give out=FILE: a .geojson, .gpkg, .kml, .fgb or .csv name")
        rid = None if run is None else self._number(run, "run")
        return export_site(self.store, self._site_id(site), fmt, Path(out), rid)

    def export_stac(self, site: str | int | Site, out_dir: str | os.PathLike[str],
                    run: str | int | None = None) -> Path:
        """Write a STAC Item of a run (latest, or ``run``) into ``out_dir`` with its assets:
        the change mask (COG) and the detections (GeoJSON, GeoPackage). Returns the item."""
        from sitewatch.pipeline.stac_export import export_stac

        rid = None if run is None else self._number(run, "run")
        return export_stac(self.store, self._site_id(site), Path(out_dir), rid)

    def timeline(self, site: str | int | Site, plot: str | os.PathLike[str] | None = None,
                 **options: Any) -> Timeline:
        """The site's index series and breaks (see ``sitewatch timeline``); with ``plot``,
        its figure (PNG) too, written together with the timeline or not at all."""
        from sitewatch.fileio import atomic_path
        from sitewatch.pipeline.timeline import compute_timeline

        s = self.site(site)
        if plot is None:
            return compute_timeline(self.store, self.layout, s.id, **options)
        with atomic_path(Path(plot)) as tmp:
            return compute_timeline(
                self.store, self.layout, s.id, **options,
                render=lambda tl: self._plot(tmp, s, tl, options.get("min_clear")))

    def _plot(self, out: Path, s: Site, tl: Timeline, min_clear: float | None) -> Path:
        from sitewatch.evidence.timeline_plot import timeline_png
        from sitewatch.pipeline.timeline import MIN_CLEAR

        return Path(timeline_png(out, s.name, tl.observations, tl.breaks,
                                 [x.credit for x in self.scenes(s.id)],
                                 MIN_CLEAR if min_clear is None else min_clear))

    def timeline_plot(self, site: str | int | Site, out: str | os.PathLike[str],
                      timeline: Timeline | None = None, min_clear: float | None = None) -> Path:
        """Write the timeline figure (PNG) of a site, with its scenes' credits."""
        s = self.site(site)
        tl = timeline if timeline is not None else self.timeline(s)
        return self._plot(Path(out), s, tl, min_clear)

    def rank(self, since: date | None = None, **options: Any) -> list[Any]:
        from sitewatch.pipeline.rank import rank_sites

        return rank_sites(self.store, since, **options)


    # --- watching: passes, rules, sources, sinks -------------------------------------------
    def watch_run(self, sites: Sequence[str | int] = (), workers: int = 1,
                  dask: str | None = None, method: str = "auto",
                  progress: Callable[[Any], None] | None = None) -> Any:
        """One watch pass over the named sites (default: every active site): fetch new STAC
        scenes, analyse each against its baselines, queue and deliver alerts. ``dask``: a
        scheduler address, or "local" for a LocalCluster. Returns a ``PassResult``."""
        from sitewatch.monitor.passes import run_pass

        return run_pass(self.store, self.layout, list(sites), workers, dask, method, progress)

    def watch_status(self) -> dict[str, Any]:
        """Each active site's watch state, rule and sources; the sinks, the outbox counts and
        the latest passes."""
        from sitewatch.model import AlertStatus

        sites = [{"site": s, "state": self.store.watch_state(s.id),
                  "rule": self.store.rule_for(s.id),
                  "sources": self.store.watch_sources(s.id)} for s in self.sites()]
        alerts = self.store.alerts()
        per_sink = {k.name: {"pending": sum(1 for a in alerts if a.sink_id == k.id
                                            and a.status is AlertStatus.PENDING),
                             "delivered": sum(1 for a in alerts if a.sink_id == k.id
                                              and a.status is AlertStatus.DELIVERED),
                             "failing": [a.last_error for a in alerts if a.sink_id == k.id
                                         and a.last_error][-1:]}
                    for k in self.store.sinks()}
        return {"sites": sites, "sinks": self.store.sinks(), "outbox": per_sink,
                "passes": self.store.passes(5)}

    def watch_alerts(self) -> list[Any]:
        """Every alert of the outbox, oldest first."""
        return self.store.alerts()

    def _scope(self, site: str | int | Site | None) -> int | None:
        return None if site is None else self._site_id(site)

    def set_watch_rule(self, site: str | int | Site | None = None, *,
                       change_types: Sequence[str] = (), min_area_m2: float = 0.0,
                       min_score: float = 0.0, ignore_flags: Sequence[str] | None = None,
                       when: str = "immediate") -> Any:
        """Set the alert rule of a site (None: the global rule); invalid rules are refused
        here (InputValueError), never at pass time."""
        from sitewatch.model import AlertRule, AlertWhen

        kw: dict[str, Any] = {} if ignore_flags is None else {"ignore_flags": tuple(
            ignore_flags)}
        if when not in {w.value for w in AlertWhen}:
            raise InputValueError(f"--when {when!r}: choose immediate or confirmed")
        rule = AlertRule(site_id=self._scope(site), change_types=tuple(change_types),
                         min_area_m2=min_area_m2, min_score=min_score, when=AlertWhen(when),
                         **kw)
        return self.store.set_rule(rule)

    def set_watch_sources(self, site: str | int | Site | None, sources: Sequence[Any]
                          ) -> list[Any]:
        """Replace the STAC sources of a site (None: the global ones) with ``sources``
        (``WatchSource`` objects or dicts of their fields)."""
        from sitewatch.imagery.stac import get_provider
        from sitewatch.model import WatchSource

        made = [s if isinstance(s, WatchSource) else WatchSource(**s) for s in sources]
        for s in made:
            get_provider(s.provider, s.url)  # an unknown provider is refused now
        return self.store.set_watch_sources(self._scope(site), made)

    def add_sink(self, name: str, kind: str, target: str, *,
                 site: str | int | Site | None = None, digest: bool = False,
                 options: dict[str, Any] | None = None) -> Any:
        """Add a sink: webhook (URL), email (address; options host, port, sender), atom or
        geojson (a feed file)."""
        from sitewatch.model import Sink, SinkKind

        if kind in ("atom", "geojson"):
            target = str(Path(target).expanduser().resolve())
        if kind not in {k.value for k in SinkKind}:
            raise InputValueError(f"unknown sink kind {kind!r}: webhook, email, atom or "
                                  "geojson")
        return self.store.add_sink(Sink(name=name, kind=SinkKind(kind), target=target,
                                        site_id=self._scope(site), digest=digest,
                                        options=dict(options or {})))

    def remove_sink(self, name: str) -> Any:
        return self.store.remove_sink(name)

    def watch_sinks(self) -> list[Any]:
        return self.store.sinks()

    def clear_watch_rule(self, site: str | int | Site | None = None) -> bool:
        """Remove a site's rule (it then follows the global one) or the global rule."""
        return self.store.clear_rule(self._scope(site))

    def set_next_pass(self, at: Any) -> None:
        """Record when the scheduler's next pass is due, for every active site."""
        self.store.set_next_pass([s.id for s in self.sites()], at)
