"""Coordinates written in article text: decimal degrees, degrees-minutes-seconds and MGRS.

Forms read (each one a latitude and a longitude together, never a lone number):

- decimal degrees with hemispheres: "40.85 N, 111.73 E", "40.85°N 111.73°E";
- signed decimal pairs: "(29.314558, 89.321937)", "coordinates -33.9, 18.4": a pair with
  three or more decimals anywhere, or a shorter one after a word that says coordinates follow;
- degrees-minutes(-seconds): 40°51'04"N 111°44'02"E, 40° 51′ 04″ N, 42 32'33.95" N 94 19'36.80" e,
  42 39 19 N, 94 10 02 E;
- MGRS grid references: "4Q FJ 1234 6789", "38SMB4488" (the ``mgrs`` package, MIT licence).

Each found coordinate carries its uncertainty: half the step of its last digit (a decimal
degree of two places is good to about 550 m, a whole minute to about 900 m, an MGRS
reference to the size of its grid square).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

M_PER_DEG = 111_320.0


@dataclass(frozen=True)
class TextCoordinate:
    """A point written in the text: ``text[start:end]``, WGS84 ``lat``/``lon``."""

    start: int
    end: int
    text: str
    lat: float
    lon: float
    uncertainty_m: float
    form: str  # "decimal" | "dms" | "mgrs"


def _axis(p: str) -> str:
    """One axis: optional prefix hemisphere, degrees, minutes, seconds, suffix hemisphere."""
    return (rf"(?:(?P<{p}pre>[NSEW])\s?)?"
            rf"(?P<{p}d>\d{{1,3}}(?:\.\d+)?)(?:\s*(?:[°º˚]|deg\b)"
            rf"|(?=\s+\d{{1,2}}(?:\.\d+)?\s*['′’]?\s*(?:\d|[NSEWnsew]\b)))?"
            rf"(?:\s*(?P<{p}m>\d{{1,2}}(?:\.\d+)?)(?:\s*['′’](?!['′’])|(?=\s))"
            rf"(?:\s*(?P<{p}s>\d{{1,2}}(?:\.\d+)?)\s*(?:[\"″”]|''|′′|’’)?)?)?"
            rf"(?:\s*(?P<{p}h>[NSEW]|[nsew])\b)?")


_PAIR = re.compile(_axis("a") + r"\s*[,;/]?\s*(?:and\s+)?" + _axis("b"))
_SIGNED = re.compile(r"(?<![\w.$€£-])(?P<lat>[-−]?\d{1,2}\.\d+)°?\s*,\s*"
                     r"(?P<lon>[-−]?\d{1,3}\.\d+)°?(?![\w%]|\.\d|\s*(?:,\s*[-−]?\d|%|"
                     r"(?:million|billion|thousand|per ?cent|km|kilomet|miles?|m)\b))")
_SAYS_COORDS = re.compile(r"(?:co-?ordinates?|lat(?:itude)?\s*(?:[/,]\s*lon(?:g(?:itude)?)?)?|"
                          r"located at|geolocated (?:to|at)|GPS|position|point)"
                          r"(?:\s+(?:are|is|were|was|of|at|about|approximately|roughly))*"
                          r"\W{0,4}$", re.I)
_MGRS = re.compile(r"(?<![\w-])(?P<gzd>[1-9]|[1-5]\d|60)\s?(?P<band>[C-HJ-NP-X])\s?"
                   r"(?P<sq>[A-HJ-NP-Z][A-HJ-NP-V])"
                   r"(?:\s(?P<e>\d{1,5})\s(?P<n>\d{1,5})|\s?(?P<en>\d{2,10}))(?![\w-])")


def _decimals(num: str) -> int:
    return len(num.split(".")[1]) if "." in num else 0


def _value(m: re.Match[str], p: str) -> tuple[float, float, str] | None:
    """(degrees, step in degrees of the last digit, hemisphere) of one axis."""
    pre, post = m.group(f"{p}pre"), m.group(f"{p}h")
    if (pre is None) == (post is None):
        return None  # exactly one hemisphere letter
    d_txt, mins, secs = m.group(f"{p}d"), m.group(f"{p}m"), m.group(f"{p}s")
    deg = float(d_txt)
    if mins is None and "." not in d_txt and "°" not in m.group(0) and "º" not in m.group(0):
        return None  # "40 N": a bare whole number is not a coordinate
    step = 10.0 ** -_decimals(d_txt)
    if mins is not None:
        if "." in d_txt or float(mins) >= 60:
            return None
        deg += float(mins) / 60
        step = 10.0 ** -_decimals(mins) / 60
        if secs is not None:
            if float(secs) >= 60:
                return None
            deg += float(secs) / 3600
            step = 10.0 ** -_decimals(secs) / 3600
    return deg, step, (pre or post or "").upper()


def _hemispheric(text: str, start: int, end: int) -> list[TextCoordinate]:
    out = []
    for m in _PAIR.finditer(text, start, end):
        a, b = _value(m, "a"), _value(m, "b")
        if a is None or b is None:
            continue
        if a[2] in "EW" and b[2] in "NS":
            a, b = b, a  # "111.73 E, 40.85 N"
        if a[2] not in "NS" or b[2] not in "EW" or a[0] > 90 or b[0] > 180:
            continue
        lat = a[0] if a[2] == "N" else -a[0]
        lon = b[0] if b[2] == "E" else -b[0]
        unc = 0.5 * M_PER_DEG * max(a[1], b[1] * math.cos(math.radians(lat)))
        form = "dms" if m.group("am") or m.group("bm") else "decimal"
        out.append(TextCoordinate(m.start(), m.end(), m.group(0), lat, lon, unc, form))
    return out


def _signed(text: str, start: int, end: int) -> list[TextCoordinate]:
    out = []
    for m in _SIGNED.finditer(text, start, end):
        lat = float(m.group("lat").replace("−", "-"))
        lon = float(m.group("lon").replace("−", "-"))
        if abs(lat) > 90 or abs(lon) > 180:
            continue
        dec = min(_decimals(m.group("lat")), _decimals(m.group("lon")))
        before = text[max(start, m.start() - 40):m.start()]
        inside_parens = before.rstrip().endswith("(")
        if dec < 3 and not (_SAYS_COORDS.search(before) or
                            (inside_parens and dec >= 2)):
            continue  # "1.5, 2.3": numbers, not a place
        unc = 0.5 * M_PER_DEG * 10.0 ** -dec
        out.append(TextCoordinate(m.start(), m.end(), m.group(0), lat, lon, unc, "decimal"))
    return out


def _mgrs(text: str, start: int, end: int) -> list[TextCoordinate]:
    found = list(_MGRS.finditer(text, start, end))
    if not found:
        return []
    import mgrs
    from mgrs.core import MGRSError

    conv = mgrs.MGRS()
    out = []
    for m in found:
        if m.group("en") is not None:
            digits = m.group("en")
            if len(digits) % 2:
                continue
            e, n = digits[:len(digits) // 2], digits[len(digits) // 2:]
        else:
            e, n = m.group("e"), m.group("n")
            if len(e) != len(n):
                continue
        k = len(e)
        side_m = 10.0 ** (5 - k)
        # the centre of the grid square: a reference names its south-west corner
        pad = 5 - k
        centre = (e + "5" + "0" * (pad - 1), n + "5" + "0" * (pad - 1)) if pad else (e, n)
        ref = f"{m.group('gzd')}{m.group('band')}{m.group('sq')}{centre[0]}{centre[1]}"
        try:
            lat, lon = conv.toLatLon(ref)
        except MGRSError:  # not a valid reference
            continue
        out.append(TextCoordinate(m.start(), m.end(), m.group(0), float(lat), float(lon),
                                  side_m / math.sqrt(2), "mgrs"))
    return out


def find_coordinates(text: str, start: int = 0, end: int | None = None
                     ) -> list[TextCoordinate]:
    """Coordinates written in ``text[start:end]``, in order, none overlapping."""
    stop = len(text) if end is None else end
    found = _hemispheric(text, start, stop) + _mgrs(text, start, stop)
    taken = [(c.start, c.end) for c in found]
    found += [c for c in _signed(text, start, stop)
              if all(c.end <= a or c.start >= b for a, b in taken)]
    return sorted(found, key=lambda c: c.start)
