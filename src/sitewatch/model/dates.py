"""Acquisition dates that keep their precision.

A scene may be dated to the day (``2017-09-24``), the month (``2017-09``), the
year (``2002``) or only to an interval (``2002/2013``, ``../2017-09-19`` for
"before 19 September 2017", ``2017-09-20/..`` for "on or after"). sitewatch
never invents a day: the text given is kept and shown as given.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

from sitewatch.errors import InputValueError

_PART = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
Precision = Literal["day", "month", "year", "interval"]
_HELP = "use YYYY-MM-DD, YYYY-MM, YYYY or an interval START/END such as 2002/2013 (.. = open)"


def _part(text: str, original: str) -> tuple[date, date, Precision]:
    m = _PART.match(text)
    if not m:
        raise InputValueError(f"date {original!r} does not parse: {_HELP}")
    y, mo, d = int(m.group(1)), m.group(2), m.group(3)
    try:
        if d is not None:
            day = date(y, int(mo), int(d))
            return day, day, "day"
        if mo is not None:
            month = int(mo)
            last = calendar.monthrange(y, month)[1]
            return date(y, month, 1), date(y, month, last), "month"
        return date(y, 1, 1), date(y, 12, 31), "year"
    except ValueError as exc:
        raise InputValueError(f"date {original!r} does not exist ({exc}): {_HELP}") from exc


@dataclass(frozen=True)
class ObsDate:
    """An observation date as an inclusive interval [start, end] with its precision.

    ``start``/``end`` are None for an open end. ``text`` is the canonical form.
    """

    text: str
    start: date | None
    end: date | None
    precision: Precision

    def __post_init__(self) -> None:
        if self.precision not in {"day", "month", "year", "interval"}:
            raise InputValueError(f"unknown date precision {self.precision!r}")
        if self.start and self.end and self.start > self.end:
            raise InputValueError(f"date interval {self.text!r} ends before it starts")

    @classmethod
    def parse(cls, text: str) -> ObsDate:
        """Parse ``YYYY[-MM[-DD]]`` or ``START/END`` (either side may be ``..``)."""
        raw = text.strip()
        if not raw:
            raise InputValueError(f"date {text!r} is empty: {_HELP}")
        if "T" in raw[:11] and len(raw) > 10 and "/" not in raw:
            raw = raw[:10]  # an ISO datetime: keep the UTC day
        if "/" not in raw:
            start, end, precision = _part(raw, text)
            return cls(raw, start, end, precision)
        left, _, right = raw.partition("/")
        if left == ".." and right == "..":
            raise InputValueError(f"date {text!r} is open at both ends: {_HELP}")
        lo = None if left == ".." else _part(left, text)[0]
        hi = None if right == ".." else _part(right, text)[1]
        return cls(raw, lo, hi, "interval")

    @property
    def sort_key(self) -> tuple[date, date]:
        return (self.start or date.min, self.end or date.max)

    def describe(self) -> str:
        """Human form that never pretends to more precision than known."""
        if self.precision == "day":
            return self.text
        if self.precision == "month" and self.start is not None:
            return self.start.strftime("%B %Y") + " (day unknown)"
        if self.precision == "year":
            return f"{self.text} (year only)"
        left, _, right = self.text.partition("/")
        if left == "..":
            return f"on or before {right} (exact date unknown)"
        if right == "..":
            return f"on or after {left} (exact date unknown)"
        return f"between {left} and {right} (exact date unknown)"
