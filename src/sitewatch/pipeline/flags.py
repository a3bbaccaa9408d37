"""The warnings of a run and of its detections (:class:`sitewatch.Flag`), computed from what
the analysis has already measured: the chips' co-registration statuses, the two dates, the
pixel counts of the AOI, its no-data and the change, and each object's area. Nothing here
reads an image."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from sitewatch.geo.coreg import CoregOutcome, coreg_outcome
from sitewatch.model import Detection, Flag, ObsDate, changed_area_m2

#: dates further apart than this in the year (either way round) are of different seasons
SEASON_GAP_DAYS = 60
#: change over this share of the AOI's pixels "covers most of the AOI"
MOST_OF_AOI = 0.5
#: an uncertainty of at least this share of the area makes the area uncertain
UNCERTAIN_SHARE = 0.5
#: no data over at least this share of the AOI's pixels, or a scene less clear than
#: CLEAR_SHARE (the share of the AOI its QA band called clear), is partial coverage
NODATA_SHARE = 0.01
CLEAR_SHARE = 0.99
VEGETATION_TYPES = frozenset({"vegetation_loss", "vegetation_gain"})
_UNALIGNED: frozenset[CoregOutcome] = frozenset({"weak", "rejected", "unapplied"})


@dataclass(frozen=True)
class RunFacts:
    """What a run measured that its flags depend on (counts are pixels of the site grid).

    coreg_statuses: the BEFORE and AFTER chips' co-registration statuses.
    aoi_px: pixels inside the AOI; nodata_px: of those, without data on either date;
    changed_px: of those, changed. clear_shares: the scenes' clear share of the AOI, where
    a QA band told it (None where not known).
    """

    coreg_statuses: tuple[str, ...]
    before_date: ObsDate
    after_date: ObsDate
    aoi_px: int
    nodata_px: int
    changed_px: int
    clear_shares: tuple[float | None, ...] = ()

    @property
    def outcomes(self) -> set[CoregOutcome]:
        return {coreg_outcome(s) for s in self.coreg_statuses}

    @property
    def season_gap_days(self) -> int | None:
        return season_gap_days(self.before_date, self.after_date)


def _middle(d: ObsDate) -> date | None:
    if d.precision not in ("day", "month") or d.start is None or d.end is None:
        return None
    return d.start + (d.end - d.start) / 2


def season_gap_days(a: ObsDate, b: ObsDate) -> int | None:
    """Days between two dates' places in the year (0-182, ignoring the years), or None when
    either date is coarser than a month (its season is unknown)."""
    ma, mb = _middle(a), _middle(b)
    if ma is None or mb is None:
        return None
    gap = abs(ma.timetuple().tm_yday - mb.timetuple().tm_yday) % 365
    return min(gap, 365 - gap)


def _ordered(flags: Iterable[Flag]) -> tuple[Flag, ...]:
    chosen = set(flags)
    return tuple(f for f in Flag if f in chosen)


def _coreg_flags(outcomes: set[CoregOutcome]) -> set[Flag]:
    if outcomes & {"rejected", "unapplied"}:
        return {Flag.COREG_REJECTED}
    return {Flag.COREG_WEAK} if "weak" in outcomes else set()


def detection_flags(facts: RunFacts, change_type: str, pixels: int, area_m2: float | None,
                    area_uncertainty_m2: float | None) -> tuple[Flag, ...]:
    """The flags of one changed object of a run with ``facts``."""
    outcomes = facts.outcomes
    flags = _coreg_flags(outcomes)
    # misaligned edges leave slivers about a pixel or two wide: an outline's one-pixel
    # uncertainty (perimeter x pixel size) then reaches the area itself
    sliver = (area_m2 is not None and area_uncertainty_m2 is not None
              and area_uncertainty_m2 >= area_m2)
    if "unapplied" in outcomes or (sliver and outcomes & _UNALIGNED):
        flags.add(Flag.MISREGISTRATION)
    if change_type in VEGETATION_TYPES:
        gap = facts.season_gap_days
        if gap is None or gap > SEASON_GAP_DAYS:
            flags.add(Flag.SEASON_MISMATCH)
    if (area_m2 is not None and area_uncertainty_m2 is not None
            and area_uncertainty_m2 >= UNCERTAIN_SHARE * area_m2):
        flags.add(Flag.UNCERTAIN_AREA)
    if facts.aoi_px and pixels >= MOST_OF_AOI * facts.aoi_px:
        flags.add(Flag.MOST_OF_AOI)
    return _ordered(flags)


def run_flags(facts: RunFacts, detections: Sequence[Detection]) -> tuple[Flag, ...]:
    """The flags of a run's headline figures (its total and its largest detection), given
    its detections with their flags."""
    outcomes = facts.outcomes
    flags = _coreg_flags(outcomes)
    misaligned = [d for d in detections if Flag.MISREGISTRATION in d.flags]
    if "unapplied" in outcomes or (misaligned and 2 * len(misaligned) >= len(detections)):
        flags.add(Flag.MISREGISTRATION)
    if any(Flag.SEASON_MISMATCH in d.flags for d in detections):
        flags.add(Flag.SEASON_MISMATCH)
    total, unc = changed_area_m2(detections)
    if detections and total is not None and unc is not None:
        largest = max(detections, key=lambda d: d.area_m2 or 0.0)
        if unc >= UNCERTAIN_SHARE * total or Flag.UNCERTAIN_AREA in largest.flags:
            flags.add(Flag.UNCERTAIN_AREA)
    if facts.aoi_px and facts.changed_px >= MOST_OF_AOI * facts.aoi_px:
        flags.add(Flag.MOST_OF_AOI)
    if (facts.aoi_px and facts.nodata_px >= NODATA_SHARE * facts.aoi_px) or any(
            c is not None and c < CLEAR_SHARE for c in facts.clear_shares):
        flags.add(Flag.PARTIAL_COVERAGE)
    return _ordered(flags)


def flag_lines(flags: Iterable[Flag]) -> list[str]:
    """Each flag as "name: sentence", for plain text."""
    return [f"{f.value}: {f.sentence}" for f in flags]
