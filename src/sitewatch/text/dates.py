"""Dates in article text, kept with their precision and resolved against the article's date.

Absolute forms (``14 July 2023``, ``July 14, 2023``, ``July 2023``, ``2023-07-14``,
``in 2022``) need nothing; month names alone (``in July, September and October``) and
relative forms (``last month``, ``two years ago``, ``on Monday``) are resolved against
the article's publication date when it states one (dateparser), else kept unresolved.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

_MONTHS = {m.lower(): i for i, m in enumerate(calendar.month_name) if m}
_MONTHS |= {m.lower(): i for i, m in enumerate(calendar.month_abbr) if m}
_MONTHS["sept"] = 9
_MON = r"(?:January|February|March|April|May|June|July|August|September|October|November|" \
       r"December|(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\.?)"
_DAY_MONTH_YEAR = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+({_MON})\s*,?\s+(\d{{4}})\b")
_MONTH_DAY_YEAR = re.compile(rf"\b({_MON})\s+(\d{{1,2}})(?:st|nd|rd|th)?\s*,?\s+(\d{{4}})\b")
_MONTH_YEAR = re.compile(rf"\b({_MON})\s+(?:of\s+)?(\d{{4}})\b")
_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_YEAR = re.compile(r"\b(?:in|since|by|from|until|of|during|early|late|mid-?|before|after)"
                   r"\s+((?:19|20)\d{2})\b(?![-/]\d)", re.I)
_MONTH_ALONE = re.compile(rf"\b({_MON})(?![\w-])(?!\s+\d)")
_RELATIVE = re.compile(
    r"\b(?:yesterday|today|last (?:week|month|year|(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day)"
    r"|this (?:week|month|year)|earlier this (?:week|month|year)"
    r"|(?:(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|a) "
    r"(?:days?|weeks?|months?|years?) ago)"
    r"|on (?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day)\b", re.I)


@dataclass(frozen=True)
class FoundDate:
    text: str
    start: int
    end: int
    date: date | None  # first day of the period; None when it cannot be resolved
    precision: str  # "day" | "month" | "year"
    relative: bool = False  # resolved against the article's date

    def as_dict(self) -> dict[str, Any]:
        return {"text": self.text, "start": self.start, "end": self.end,
                "date": self.date.isoformat() if self.date else None,
                "precision": self.precision, "relative": self.relative}


def _month(text: str) -> int:
    return _MONTHS[text.rstrip(".").lower()]


def _safe(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d)
    except ValueError:
        return None


def _latest_month(month: int, published: date | None) -> date | None:
    """The latest first-of-``month`` on or before the article's date."""
    if published is None:
        return None
    year = published.year if month <= published.month else published.year - 1
    return date(year, month, 1)


def _relative(text: str, published: date | None) -> date | None:
    if published is None:
        return None
    import dateparser

    phrase = re.sub(r"^on ", "", text.strip(), flags=re.I)
    found = dateparser.parse(phrase, languages=["en"], settings={
        "RELATIVE_BASE": datetime.combine(published, datetime.min.time()),
        "PREFER_DATES_FROM": "past"})
    if found is None:
        return None
    d = found.date()
    if phrase.lower().startswith(("mon", "tue", "wed", "thu", "fri", "sat", "sun")) and \
            d >= published:
        d -= timedelta(days=7)
    return d


def find_dates(text: str, start: int = 0, end: int | None = None,
               published: date | None = None) -> list[FoundDate]:
    """Dates in ``text[start:end]`` with absolute offsets, earliest position first."""
    end = len(text) if end is None else end
    chunk = text[start:end]
    taken: list[tuple[int, int]] = []
    out: list[FoundDate] = []

    def free(a: int, b: int) -> bool:
        return all(b <= x or a >= y for x, y in taken)

    def add(m: re.Match[str], d: date | None, precision: str, group: int = 0,
            relative: bool = False) -> None:
        a, b = m.span(group)
        if free(a, b):
            taken.append((a, b))
            out.append(FoundDate(chunk[a:b], start + a, start + b, d, precision, relative))

    for m in _DAY_MONTH_YEAR.finditer(chunk):
        add(m, _safe(int(m.group(3)), _month(m.group(2)), int(m.group(1))), "day")
    for m in _MONTH_DAY_YEAR.finditer(chunk):
        add(m, _safe(int(m.group(3)), _month(m.group(1)), int(m.group(2))), "day")
    for m in _ISO.finditer(chunk):
        add(m, _safe(int(m.group(1)), int(m.group(2)), int(m.group(3))), "day")
    for m in _MONTH_YEAR.finditer(chunk):
        add(m, _safe(int(m.group(2)), _month(m.group(1)), 1), "month")
    for m in _YEAR.finditer(chunk):
        add(m, date(int(m.group(1)), 1, 1), "year", 1)
    for m in _RELATIVE.finditer(chunk):
        phrase = m.group(0).lower()
        precision = ("year" if "year" in phrase else "month" if "month" in phrase else "day")
        d = _relative(m.group(0), published)
        if d is not None and precision == "month":
            d = d.replace(day=1)
        elif d is not None and precision == "year":
            d = d.replace(month=1, day=1)
        add(m, d, precision, relative=True)
    for m in _MONTH_ALONE.finditer(chunk):
        word = m.group(1)
        if word.rstrip(".").lower() == "may" and not re.search(
                r"\b(?:in|of|since|until|early|late|mid-?|between|and|,)\s*$",
                chunk[max(0, m.start() - 12):m.start()], re.I):
            continue  # "may" the verb
        add(m, _latest_month(_month(word), published), "month",
            relative=published is not None)
    return sorted(out, key=lambda d: d.start)
