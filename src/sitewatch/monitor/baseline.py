"""Which earlier scenes a new scene is compared with (the baseline rule)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from sitewatch.model import Scene

#: a baseline scene must have at least this share of the site's AOI clear
BASELINE_MIN_CLEAR = 0.6
#: "the same season a year earlier": within this many days of the date one year before
SEASON_WINDOW_DAYS = 45

BASELINE_RULE = (
    "each new scene is compared with the last clear scene before it (at least "
    f"{BASELINE_MIN_CLEAR:.0%} of the AOI clear) and, when one exists, with the clear scene "
    f"closest to the same date a year earlier (within {SEASON_WINDOW_DAYS} days); with a "
    "year-earlier baseline, a change seen only against the last clear scene is flagged "
    "'seasonal' (silenced by default)")


def _day(scene: Scene) -> date:
    return scene.acquired_start or date.min


def clear_fraction(scene: Scene) -> float:
    """The share of the AOI clear when the scene was fetched (1 for plain imagery)."""
    value = scene.props.get("clear_fraction")
    return 1.0 if value is None else float(value)


def choose_baselines(scenes: Sequence[Scene], new: Scene) -> tuple[Scene | None, Scene | None]:
    """(last clear scene before ``new``, same-season scene a year earlier or None).

    ``scenes``: the site's scenes, earliest first. The second is None when it would be the
    first, or when no clear scene lies within :data:`SEASON_WINDOW_DAYS` of one year before.
    """
    day = _day(new)
    earlier = [s for s in scenes if s.id != new.id and s.acquired_end is not None
               and s.acquired_end < day and clear_fraction(s) >= BASELINE_MIN_CLEAR]
    if not earlier:
        return None, None
    last = earlier[-1]
    try:
        year_ago = day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        year_ago = day - timedelta(days=365)
    near = [s for s in earlier if abs((_day(s) - year_ago).days) <= SEASON_WINDOW_DAYS]
    if not near:
        return last, None
    season = min(near, key=lambda s: (abs((_day(s) - year_ago).days), -s.id))
    return last, None if season.id == last.id else season
