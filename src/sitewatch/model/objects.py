"""The frozen domain objects every layer above the catalog passes around.

The catalog maps its rows to and from these; nothing outside ``sitewatch.catalog`` ever sees
a database row. Geometries are WGS84 (lon, lat) GeoJSON mappings; areas are m2.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal

from sitewatch.errors import InputValueError
from sitewatch.model.dates import ObsDate

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry


class SiteStatus(StrEnum):
    ACTIVE = "active"
    REMOVED = "removed"  #: off the watchlist; its runs and detections keep resolving


class RunStatus(StrEnum):
    COMPLETED = "completed"


class ReviewStatus(StrEnum):
    UNREVIEWED = "unreviewed"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"


class RejectReason(StrEnum):
    """Why an analyst rejects a change (the vocabulary of ``sitewatch review --reason``)."""

    SEASONAL = "seasonal"
    CLOUD_OR_SHADOW = "cloud-or-shadow"
    MISREGISTRATION = "misregistration"
    TEMPORARY_OBJECT = "temporary-object"  #: vehicles, ships, containers, scaffolding
    ALREADY_KNOWN = "already-known"
    NOT_A_CHANGE = "not-a-change"
    OTHER = "other"

    @classmethod
    def parse(cls, text: str) -> RejectReason:
        key = text.strip().lower().replace("_", "-").replace(" ", "-")
        key = _REASON_ALIASES.get(key, key)
        try:
            return cls(key)
        except ValueError:
            raise InputValueError(
                f"unknown reason {text!r}: choose one of {', '.join(r.value for r in cls)}"
            ) from None


_REASON_ALIASES = {"cloud": "cloud-or-shadow", "shadow": "cloud-or-shadow",
                   "clouds": "cloud-or-shadow", "vehicles": "temporary-object",
                   "temporary": "temporary-object", "known": "already-known",
                   "misregistered": "misregistration", "no-change": "not-a-change"}

class Flag(StrEnum):
    """A warning that travels with a run or a detection: a reason to doubt or qualify what
    was measured. Each has one plain-language sentence (:attr:`sentence`) that the CLI, the
    report and the exports print beside the figure it qualifies."""

    #: the two dates could not be aligned with confidence (or a shift too large to apply)
    COREG_REJECTED = "coregistration-rejected"
    #: the alignment was not measured (chip too small or too little in common) or is shaky
    COREG_WEAK = "coregistration-weak"
    #: the pattern misaligned images leave: a measured shift left unapplied, or thin slivers
    MISREGISTRATION = "misregistration-likely"
    #: vegetation-typed change between dates of different (or unknown) seasons
    SEASON_MISMATCH = "season-mismatch"
    #: the area's uncertainty is at least half the area
    UNCERTAIN_AREA = "uncertain-area"
    #: the change covers most (half or more) of the site's AOI
    MOST_OF_AOI = "most-of-aoi"
    #: clouds or no data over part of the AOI: change there was not looked for
    PARTIAL_COVERAGE = "partial-coverage"

    @property
    def sentence(self) -> str:
        """What the flag means, in one sentence for a reader of the result."""
        return _FLAG_SENTENCES[self]

    @classmethod
    def known(cls, values: Any) -> tuple[Flag, ...]:
        """The flags among stored ``values`` (a newer sitewatch's unknown flag is left out)."""
        names = {f.value for f in cls}
        return tuple(cls(v) for v in values or () if v in names)


_FLAG_SENTENCES = {
    Flag.COREG_REJECTED: "Co-registration failed: the two images may not line up, so some "
                         "of this change may be misalignment rather than change on the ground.",
    Flag.COREG_WEAK: "Co-registration is weak or was not measured: check that the two images "
                     "line up before relying on the outlines.",
    Flag.MISREGISTRATION: "Likely residual misregistration: thin slivers along edges or an "
                          "unapplied shift, the pattern of images that do not line up.",
    Flag.SEASON_MISMATCH: "Vegetation change between dates of different or unknown seasons: "
                          "it may be seasonal, not a lasting change.",
    Flag.UNCERTAIN_AREA: "The area is uncertain: its uncertainty is at least half the area "
                         "(the object is only a few pixels wide).",
    Flag.MOST_OF_AOI: "The change covers most of the site's area: more likely a difference "
                      "between the images (season, light, sensor) than a change on the ground.",
    Flag.PARTIAL_COVERAGE: "Clouds or missing data over part of the site: change there was "
                           "not looked for.",
}


#: what a detector says changed (``detect.classical.CHANGE_TYPES`` and the breaks' kinds)
ChangeType = Literal["change", "vegetation_loss", "built_up_gain", "vegetation_gain"]
CHANGE_TYPES: tuple[str, ...] = ("change", "vegetation_loss", "built_up_gain", "vegetation_gain")
#: each change type in plain words, for titles, reports and CLI lines (codes stay in JSON/exports)
CHANGE_LABELS: dict[str, str] = {"change": "unclassified change",
                                 "vegetation_loss": "vegetation loss",
                                 "built_up_gain": "new construction",
                                 "vegetation_gain": "vegetation growth"}


def change_label(change_type: str) -> str:
    """'built_up_gain' -> 'new construction'; an unknown code is shown with spaces."""
    return CHANGE_LABELS.get(change_type, change_type.replace("_", " "))

GeorefSource = Literal["file", "user"]
RefKind = Literal["run", "detection", "change"]
_REF_PREFIX: dict[str, RefKind] = {"R": "run", "D": "detection", "C": "change"}


def format_ref(kind: RefKind, number: int) -> str:
    """The public identifier of a run (``R12``), detection (``D345``) or change (``C17``)."""
    prefix = {v: k for k, v in _REF_PREFIX.items()}[kind]
    return f"{prefix}{number}"


def parse_ref(text: str) -> tuple[RefKind, int]:
    """``R12`` -> ("run", 12); ``d345`` -> ("detection", 345); ``C17`` -> ("change", 17)."""
    raw = text.strip()
    kind = _REF_PREFIX.get(raw[:1].upper())
    if kind is None or not raw[1:].isdigit():
        raise InputValueError(
            f"{text!r} is not an identifier: give a run (R12), a detection (D345) or a "
            "tracked change (C17), as printed by 'sitewatch runs list' and reports"
        )
    return kind, int(raw[1:])


def change_type_of(text: str) -> ChangeType:
    """A stored or detector's change type as the model's Literal."""
    if text not in CHANGE_TYPES:
        raise InputValueError(f"unknown change type {text!r}: one of {', '.join(CHANGE_TYPES)}")
    return text  # type: ignore[return-value]


def _geom(mapping: dict[str, Any]) -> BaseGeometry:
    from shapely.geometry import shape  # on first use: listing sites needs no shapely

    return shape(mapping)


def geojson_bbox(mapping: dict[str, Any]) -> tuple[float, float, float, float]:
    """(west, south, east, north) of a GeoJSON geometry, from its coordinates (each list of
    positions taken whole: polygons of thousands of vertices are common)."""
    w = s = math.inf
    e = n = -math.inf

    def walk(c: Any) -> None:
        nonlocal w, s, e, n
        if not c:
            return
        if isinstance(c[0], (int, float)):
            c = (c,)
        elif not (c[0] and isinstance(c[0][0], (int, float))):
            for part in c:
                walk(part)
            return
        xs = [float(p[0]) for p in c]
        ys = [float(p[1]) for p in c]
        w, s, e, n = min(w, *xs), min(s, *ys), max(e, *xs), max(n, *ys)

    for geom in mapping.get("geometries", [mapping]):
        walk(geom["coordinates"])
    if w > e:
        raise ValueError("geometry without coordinates")
    return (w, s, e, n)


@dataclass(frozen=True)
class SiteSource:
    """A text a site was found in: the file, its title, sha256, date and every quote."""

    file: str
    sha256: str
    title: str | None = None
    published: str | None = None
    quotes: tuple[dict[str, Any], ...] = ()
    candidate: dict[str, Any] = field(default_factory=dict)
    added_at: datetime | None = None


@dataclass(frozen=True)
class Site:
    """A watched place: a WGS84 AOI with names, kind, country and the texts that cite it."""

    id: int
    name: str
    aoi: dict[str, Any]
    aliases: tuple[str, ...] = ()
    kind: str | None = None
    country: str | None = None
    notes: str | None = None
    status: SiteStatus = SiteStatus.ACTIVE
    created_at: datetime | None = None
    sources: tuple[SiteSource, ...] = ()

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise InputValueError("site name is empty: give a name such as 'Votkinsk plant'")

    @property
    def aoi_geom(self) -> BaseGeometry:
        """The AOI as a shapely geometry in WGS84 (lon, lat)."""
        return _geom(self.aoi)

    @property
    def aoi_geojson(self) -> str:
        return json.dumps(self.aoi, sort_keys=True)

    @property
    def bbox_wgs84(self) -> tuple[float, float, float, float]:
        return geojson_bbox(self.aoi)

    def matches(self, text: str) -> bool:
        """Whether ``text`` names this site (its name or an alias, case-insensitive)."""
        key = text.strip().casefold()
        return key == self.name.casefold() or any(key == a.casefold() for a in self.aliases)


@dataclass(frozen=True)
class Provenance:
    """Where a scene comes from: who captured it and when, how to credit it, the source."""

    provider: str
    acquired: ObsDate
    credit: str
    source: str  #: the file imported, or the STAC item's self href
    sha256: str
    licence: str | None = None


@dataclass(frozen=True)
class Scene:
    """An image of a site's ground, as imported: file facts plus its provenance."""

    id: int
    site_id: int
    provenance: Provenance
    path: str
    driver: str
    crs: str
    bounds: tuple[float, float, float, float]  #: in ``crs``
    width: int
    height: int
    band_names: tuple[str, ...]
    dtype: str
    gsd_m: float
    georef_source: GeorefSource = "file"
    notes: str | None = None
    imported_at: datetime | None = None
    properties: dict[str, Any] = field(default_factory=dict)
    removed: bool = False

    # the provenance, flat, as reports and tables print it
    @property
    def provider(self) -> str:
        return self.provenance.provider

    @property
    def credit(self) -> str:
        return self.provenance.credit

    @property
    def licence(self) -> str | None:
        return self.provenance.licence

    @property
    def sha256(self) -> str:
        return self.provenance.sha256

    @property
    def acquired(self) -> ObsDate:
        return self.provenance.acquired

    @property
    def acquired_text(self) -> str:
        return self.provenance.acquired.text

    @property
    def acquired_start(self) -> Any:
        return self.provenance.acquired.start

    @property
    def acquired_end(self) -> Any:
        return self.provenance.acquired.end

    @property
    def acquired_precision(self) -> str:
        return self.provenance.acquired.precision

    @property
    def band_count(self) -> int:
        return len(self.band_names)

    @property
    def props(self) -> dict[str, Any]:
        return dict(self.properties)


@dataclass(frozen=True)
class Chip:
    """A scene cut to its site's grid and co-registered to the reference scene."""

    scene_id: int
    grid_key: str
    grid: dict[str, Any]
    reference_scene_id: int
    path: str
    shift_x_px: float
    shift_y_px: float
    coreg_status: str  #: "reference", "applied", or "rejected: ..."/"skipped: ..." and why
    valid_fraction: float
    id: int | None = None
    created_at: datetime | None = None


@dataclass(frozen=True)
class Detection:
    """One changed object of a run: a WGS84 polygon, its measured area and change type.

    ``area_m2`` and its uncertainty are None when the ground size is unknown; they are
    never invented. ``change_id`` links detections of successive runs that show the same
    change on the ground; ``review_status`` is that change's state.
    """

    polygon: dict[str, Any]
    change_type: ChangeType
    score: float
    area_m2: float | None
    area_uncertainty_m2: float | None
    centroid_lon: float | None
    centroid_lat: float | None
    id: int | None = None
    run_id: int | None = None
    change_id: int | None = None
    review_status: ReviewStatus = ReviewStatus.UNREVIEWED
    flags: tuple[Flag, ...] = ()  #: warnings about this detection (see :class:`Flag`)

    @property
    def ref(self) -> str:
        if self.id is None:
            raise InputValueError("this detection is not stored in a catalog: it has no id")
        return format_ref("detection", self.id)

    @property
    def change_ref(self) -> str | None:
        return None if self.change_id is None else format_ref("change", self.change_id)

    @property
    def geometry(self) -> BaseGeometry:
        return _geom(self.polygon)

    @property
    def polygon_geojson(self) -> str:
        return json.dumps(self.polygon)


@dataclass(frozen=True)
class Run:
    """One analysis, immutable once stored: a method applied to two scenes of a site.

    ``run_key`` is the hash of everything that decides the result (method, parameters,
    software versions, the two scenes' sha256, the grid and the AOI): the same key means
    the same run, so re-running adds nothing.
    """

    id: int
    run_key: str
    site_id: int
    method: str
    parameters: dict[str, Any]
    versions: dict[str, str]
    before_scene_id: int
    after_scene_id: int
    status: RunStatus
    timings_s: dict[str, float]
    summary: dict[str, Any]
    started_at: datetime | None
    finished_at: datetime | None
    detections: tuple[Detection, ...] = ()
    flags: tuple[Flag, ...] = ()  #: warnings about the run's figures (see :class:`Flag`)

    @property
    def ref(self) -> str:
        return format_ref("run", self.id)

    @property
    def changed_area_m2(self) -> float | None:
        """The changed area: the sum of the detections' geodesic areas (None when one is
        unknown). The one total that the CLI, the report and the exports state."""
        return changed_area_m2(self.detections)[0]

    @property
    def changed_area_uncertainty_m2(self) -> float | None:
        """The total's uncertainty: the detections' uncertainties added in quadrature."""
        return changed_area_m2(self.detections)[1]


def changed_area_m2(detections: Sequence[Detection]) -> tuple[float | None, float | None]:
    """(total area, its uncertainty) in m2 of ``detections``: the sum of their areas and the
    root sum of squares of their uncertainties; (None, None) when an area is unknown."""
    if any(d.area_m2 is None for d in detections):
        return None, None
    total = math.fsum(d.area_m2 or 0.0 for d in detections)
    unc = math.sqrt(math.fsum((d.area_uncertainty_m2 or 0.0) ** 2 for d in detections))
    return total, unc


@dataclass(frozen=True)
class Review:
    """One entry of the append-only audit log: who moved a change from one state to another."""

    id: int
    change_id: int
    detection_id: int | None
    from_status: ReviewStatus
    to_status: ReviewStatus
    reason: RejectReason | None
    note: str | None
    by: str
    at: datetime


@dataclass(frozen=True)
class Change:
    """A change on the ground tracked across runs: the detections that show it, when it was
    first and last seen, and the analyst's judgement (judged once for all its detections)."""

    id: int
    site_id: int
    change_type: ChangeType
    status: ReviewStatus
    first_seen: str  #: the AFTER date of the first run that saw it
    last_seen: str
    first_run_id: int
    last_run_id: int
    polygon: dict[str, Any]  #: the latest detection's outline
    detection_ids: tuple[int, ...] = ()
    run_ids: tuple[int, ...] = ()
    reviews: tuple[Review, ...] = ()

    @property
    def ref(self) -> str:
        return format_ref("change", self.id)

    @property
    def geometry(self) -> BaseGeometry:
        return _geom(self.polygon)


@dataclass(frozen=True)
class Timeline:
    """A site's index series and breaks; ``scenes_key`` names the scene set it used."""

    site_id: int
    scenes_key: str
    parameters: dict[str, Any]
    versions: dict[str, str]
    observations: list[dict[str, Any]]
    breaks: list[dict[str, Any]]
    outputs: dict[str, str]
    timings_s: dict[str, float]
    computed_at: datetime | None = None


@dataclass(frozen=True)
class StacSkip:
    """A STAC item not imported for a site, and why (e.g. too little of the AOI clear)."""

    site_id: int
    collection: str
    item_id: str
    reason: str
    acquired: str | None = None
    clear_fraction: float | None = None
    recorded_at: datetime | None = None


class UserRole(StrEnum):
    """What an account of the review workspace may do: viewers read, analysts also review and
    edit the watchlist, admins also manage accounts."""

    VIEWER = "viewer"
    ANALYST = "analyst"
    ADMIN = "admin"

    @classmethod
    def parse(cls, text: str) -> UserRole:
        try:
            return cls(text.strip().lower())
        except ValueError:
            raise InputValueError(f"unknown role {text!r}: choose viewer, analyst or admin"
                                  ) from None

    @property
    def can_review(self) -> bool:
        return self is not UserRole.VIEWER


@dataclass(frozen=True)
class User:
    """An account of the review workspace (``sitewatch users add``); its password hash never
    leaves the catalog."""

    id: int
    name: str
    role: UserRole
    created_at: datetime | None = None
    disabled_at: datetime | None = None

    def __post_init__(self) -> None:
        if not self.name.strip() or self.name != self.name.strip():
            raise InputValueError(f"user name {self.name!r} is empty or has surrounding spaces")

    @property
    def active(self) -> bool:
        return self.disabled_at is None
