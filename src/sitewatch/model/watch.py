"""Value objects of the watch loop: where a site's imagery comes from, which changes alert,
where alerts go, the outbox of alerts, a site's watch state and the record of a pass.

All validate in ``__post_init__``, so an invalid rule or sink is refused when it is set,
never at pass time. ``site_id`` None means global (every site without its own).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sitewatch.errors import InputValueError

#: change kinds a rule may name (the detectors' and the breaks' kinds)
CHANGE_KINDS = ("change", "vegetation_loss", "built_up_gain", "vegetation_gain")


class AlertFlag(StrEnum):
    """Facts about a candidate alert that a rule may choose to ignore."""

    #: seen against the last clear scene but not against the same season a year earlier
    SEASONAL = "seasonal"
    #: the ground size is unknown (no area)
    UNKNOWN_AREA = "unknown-area"
    #: the new scene's co-registration found a shift too large to apply
    MISREGISTRATION = "misregistration"


class AlertWhen(StrEnum):
    IMMEDIATE = "immediate"  #: as soon as a pass finds the change
    CONFIRMED = "confirmed"  #: once an analyst has confirmed it (``sitewatch review``)


class SinkKind(StrEnum):
    WEBHOOK = "webhook"
    EMAIL = "email"
    ATOM = "atom"
    GEOJSON = "geojson"


class AlertStatus(StrEnum):
    PENDING = "pending"  #: committed, not yet delivered (or the last try failed)
    DELIVERED = "delivered"


@dataclass(frozen=True)
class AlertRule:
    """Which tracked changes alert: their kinds (empty: all), the smallest area (m2) and
    score, flags that silence an alert, and whether to wait for an analyst's confirmation.

    The default silences ``seasonal`` changes: those seen against the last clear scene but
    not against the same season a year earlier.
    """

    site_id: int | None = None
    change_types: tuple[str, ...] = ()
    min_area_m2: float = 0.0
    min_score: float = 0.0
    ignore_flags: tuple[str, ...] = (AlertFlag.SEASONAL.value,)
    when: AlertWhen = AlertWhen.IMMEDIATE

    def __post_init__(self) -> None:
        bad = [t for t in self.change_types if t not in CHANGE_KINDS]
        if bad:
            raise InputValueError(f"unknown change kind {bad[0]!r}: choose from "
                                  + ", ".join(CHANGE_KINDS))
        for name, v in (("min area (m2)", self.min_area_m2), ("min score", self.min_score)):
            if not isinstance(v, int | float) or not math.isfinite(v) or v < 0:
                raise InputValueError(f"{name} {v!r} must be a number >= 0")
        flags = {f.value for f in AlertFlag}
        bad = [f for f in self.ignore_flags if f not in flags]
        if bad:
            raise InputValueError(f"unknown flag {bad[0]!r} to ignore: choose from "
                                  + ", ".join(sorted(flags)))
        try:
            object.__setattr__(self, "when", AlertWhen(self.when))
        except ValueError:
            raise InputValueError(f"--when {self.when!r}: choose immediate or confirmed"
                                  ) from None


@dataclass(frozen=True)
class WatchSource:
    """A STAC source searched for new scenes of a site (global when ``site_id`` is None)."""

    provider: str = "earth-search"
    collection: str = "sentinel-2-l2a"
    url: str | None = None  #: another STAC API root than the provider's
    max_cloud: float | None = None  #: largest scene cloud cover, percent
    min_clear: float = 0.3  #: smallest clear fraction of the AOI for a scene to be kept
    site_id: int | None = None
    id: int | None = None

    def __post_init__(self) -> None:
        if not self.collection.strip():
            raise InputValueError("the collection is empty: e.g. sentinel-2-l2a")
        if self.url is not None and not re.match(r"^https?://", self.url):
            raise InputValueError(f"--url {self.url!r} is not an http(s) URL of a STAC API")
        if self.max_cloud is not None and not 0 <= self.max_cloud <= 100:
            raise InputValueError(f"--max-cloud {self.max_cloud} is not a percentage (0-100)")
        if not 0 <= self.min_clear <= 1:
            raise InputValueError(f"--min-clear {self.min_clear} is not a fraction (0-1)")


@dataclass(frozen=True)
class Sink:
    """Where alerts go. ``target``: the webhook URL, the e-mail address, or the feed file.

    ``options``: webhook ``secret`` (HMAC-SHA256 key), ``timeout_s``, ``retries``,
    ``backoff_s``; e-mail ``host``, ``port``, ``sender``, ``timeout_s``. ``digest``: one
    message per pass and sink instead of one per alert.
    """

    name: str
    kind: SinkKind
    target: str
    site_id: int | None = None
    digest: bool = False
    options: dict[str, Any] = field(default_factory=dict)
    id: int | None = None
    created_at: datetime | None = None

    def __post_init__(self) -> None:
        if not re.match(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$", self.name or ""):
            raise InputValueError(f"sink name {self.name!r}: use letters, digits, . _ -")
        try:
            object.__setattr__(self, "kind", SinkKind(self.kind))
        except ValueError:
            raise InputValueError(f"unknown sink kind {self.kind!r}: webhook, email, atom or "
                                  "geojson") from None
        if self.kind is SinkKind.WEBHOOK and not re.match(r"^https?://\S+$", self.target):
            raise InputValueError(f"webhook {self.target!r} is not an http(s) URL")
        if self.kind is SinkKind.EMAIL:
            if not re.match(r"^[^@\s]+@[^@\s]+$", self.target):
                raise InputValueError(f"{self.target!r} is not an e-mail address")
            port = self.options.get("port", 25)
            if not isinstance(port, int) or not 0 < port < 65536:
                raise InputValueError(f"SMTP port {port!r} is not a port number")
        if self.kind in (SinkKind.ATOM, SinkKind.GEOJSON) and not self.target.strip():
            raise InputValueError("give the feed file to write")
        for key in ("timeout_s", "backoff_s"):
            v = self.options.get(key)
            if v is not None and (not isinstance(v, int | float) or v <= 0):
                raise InputValueError(f"sink option {key} {v!r} must be a positive number")
        r = self.options.get("retries")
        if r is not None and (not isinstance(r, int) or not 1 <= r <= 20):
            raise InputValueError(f"sink option retries {r!r} must be 1 to 20 attempts")


@dataclass(frozen=True)
class Alert:
    """One row of the outbox: a tracked change to tell one sink about, once.

    ``key`` is the idempotency key sent with every delivery attempt (a receiver drops
    repeats); ``batch`` groups the alerts of one digest message.
    """

    id: int
    change_id: int
    sink_id: int
    site_id: int
    run_id: int | None
    key: str
    payload: dict[str, Any]
    status: AlertStatus
    attempts: int = 0
    last_error: str | None = None
    batch: str | None = None
    created_at: datetime | None = None
    delivered_at: datetime | None = None


@dataclass(frozen=True)
class WatchState:
    """Where a site's watching stands: the newest item datetime handled (scenes after it
    are new), its last and next pass, and the last error (None once a pass succeeds)."""

    site_id: int
    last_seen: datetime | None = None
    last_pass_at: datetime | None = None
    next_pass_at: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None


@dataclass(frozen=True)
class WatchPass:
    """The record of one pass: when, over how many sites, what it found and sent."""

    id: int
    started_at: datetime
    status: str  #: running, finished, or interrupted (killed; the next pass resumed it)
    executor: str = "local"
    finished_at: datetime | None = None
    sites: int = 0
    new_scenes: int = 0
    runs: int = 0
    alerts: int = 0
    delivered: int = 0
    failures: tuple[str, ...] = ()
