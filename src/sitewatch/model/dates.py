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
from datetime import UTC, date, datetime, timedelta
from typing import Literal

from sitewatch.errors import InputValueError

_PART = re.compile(r"([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?")
Precision = Literal["day", "month", "year", "interval"]
_HELP = "use YYYY-MM-DD, YYYY-MM, YYYY or an interval START/END such as 2002/2013 (.. = open)"
#: the first date a user may give: the earliest civil imagery from orbit (CORONA, 1960)
ERA_START = date(1960, 1, 1)


def era_end() -> date:
    """The last date a user may give: a year from today (planned acquisitions)."""
    return date.today() + timedelta(days=366)


def _day_of_datetime(text: str, original: str) -> str:
    """``YYYY-MM-DD`` of an ISO 8601 date-time (``2017-09-20T15:04:05Z``): its UTC day when
    it has an offset, its own day when not. Anything else after the day is refused."""
    try:
        when = datetime.fromisoformat(text)
        if when.tzinfo is not None:
            when = when.astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise InputValueError(f"date {original!r} is not an ISO date or date-time: "
                              f"{_HELP}, or an ISO date-time such as "
                              "2017-09-20T15:04:05Z") from exc
    return when.date().isoformat()


def _part(text: str, original: str) -> tuple[date, date, Precision]:
    if len(text) > 10 and text[10:11] in {"T", "t", " "} and _PART.fullmatch(text[:10]):
        text = _day_of_datetime(text, original)
    m = _PART.fullmatch(text)
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
        """Parse ``YYYY[-MM[-DD]]`` or ``START/END`` (either side may be ``..``); an ISO
        date-time gives its UTC day. Any year is accepted (the catalog's own dates are read
        with this): text from a user goes through :meth:`from_user`."""
        raw = text.strip()
        if not raw:
            raise InputValueError(f"date {text!r} is empty: {_HELP}")
        if "/" not in raw:
            start, end, precision = _part(raw, text)
            return cls(start.isoformat() if precision == "day" else raw, start, end,
                       precision)
        left, _, right = raw.partition("/")
        if left == ".." and right == "..":
            raise InputValueError(f"date {text!r} is open at both ends: {_HELP}")
        lo = None if left == ".." else _part(left, text)[0]
        hi = None if right == ".." else _part(right, text)[1]
        if len(left) > 10 or len(right) > 10:  # date-times: keep their days
            raw = f"{left if lo is None else lo.isoformat()}/" \
                  f"{right if hi is None else hi.isoformat()}"
        return cls(raw, lo, hi, "interval")

    @classmethod
    def from_user(cls, text: str, what: str = "date") -> ObsDate:
        """:meth:`parse` for a date given by a user (an option, a form, a file's name):
        it must also lie in the satellite era, 1960-01-01 to a year from today. ``what``
        names the input in the error (e.g. ``--date``)."""
        when = cls.parse(text)
        last = era_end()
        for end in (when.start, when.end):
            if end is not None and not ERA_START <= end <= last:
                raise InputValueError(
                    f"{what} {text!r} is outside the satellite era: give a date from "
                    f"{ERA_START.isoformat()} to {last.isoformat()}")
        return when

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
