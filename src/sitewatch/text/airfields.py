"""Air bases and airfields at the level of the facility, from the ``airportsdata`` package
(MIT licence: some 28,000 airports, air bases and landing strips with ICAO codes and
coordinates, "Saki Air Base", "Engels Airbase", "Minsk Machulishchy Airport").

A candidate of the kind "airbase" is moved from its town to the airfield when one
airfield, within ``SNAP_KM`` of where the text puts it and in the same country, bears the
proper part of the candidate's name or the name of its town ("the Saky base" in Saki is
Saki Air Base, 4.6 km south of the town's centre); an air base the text does not name
("an airbase in Engels") needs the only airfield whose own name bears its town's
(Engels Airbase; not Saratov's Gagarin Airport for "an airbase in Saratov"). Its
``placement`` becomes "facility", and the airfield's name is kept among its aliases.
"""

from __future__ import annotations

from collections import defaultdict
from functools import lru_cache
from typing import NamedTuple

from sitewatch.text.candidate import FACILITY_RADIUS_M, Candidate
from sitewatch.text.gazetteer import Place, distance_km, fold
from sitewatch.text.names import leading_words

SNAP_KM = 30.0
_GENERIC = {"airport", "international", "intl", "regional", "air", "base", "airbase",
            "airfield", "aerodrome", "field", "military", "naval", "station", "heliport",
            "domestic", "municipal", "county", "afb", "ab", "force", "airstrip", "strip",
            "army", "airpark", "de", "of", "the"}


class Airfield(NamedTuple):
    name: str
    country: str
    lat: float
    lon: float


@lru_cache(maxsize=1)
def _index() -> dict[str, list[Airfield]]:
    """Airfields by each proper word of their name and by their city, folded."""
    try:
        import airportsdata
    except ImportError:  # pragma: no cover - a dependency
        return {}
    out: dict[str, list[Airfield]] = defaultdict(list)
    for row in airportsdata.load("ICAO").values():
        field = Airfield(row["name"], row["country"], float(row["lat"]), float(row["lon"]))
        words = {w for w in fold(row["name"]).split() if w not in _GENERIC and len(w) > 3}
        if row.get("city"):
            words.add(fold(row["city"]))
        for w in words:
            out[w].append(field)
    return dict(out)


def _keys(c: Candidate) -> set[str]:
    keys = {leading_words(n) for n in c.aliases | {c.name} if n[:1].isupper()}
    if c.place is not None and c.place.kind == "city":
        keys.add(fold(c.place.name))
    return {k for k in keys if len(k) > 3}


def _spellings(word: str) -> set[str]:
    """A folded name and its other transliteration of a final y/i ("saky", "saki")."""
    out = {word}
    if word.endswith("y"):
        out.add(word[:-1] + "i")
    elif word.endswith("i"):
        out.add(word[:-1] + "y")
    return out


def find_airfield(c: Candidate) -> Airfield | None:
    """The one airfield the candidate names, near where the text puts it."""
    if c.place is None or c.place.kind not in ("city", "region"):
        return None
    index = _index()
    found: dict[Airfield, float] = {}
    limit = SNAP_KM if c.place.kind == "city" else c.place.radius_m / 1000
    for key in _keys(c):
        for word in {key, *key.split()}:
            for w in _spellings(word):
                for field in index.get(w, []):
                    if not c.named and w not in fold(field.name).split():
                        continue  # "an airbase in Saratov" is not Saratov's civil airport
                    d = distance_km(c.place.lat, c.place.lon, field.lat, field.lon)
                    if field.country == c.place.country and d <= limit:
                        found[field] = d
    if not found or (not c.named and len(found) > 1):
        return None  # "an airbase in Saratov" with two airfields there: the town it stays
    return min(found, key=lambda f: found[f])


def snap_airfields(cands: list[Candidate]) -> None:
    """Place each air base the airfield table knows at its airfield."""
    for c in cands:
        if c.kind != "airbase" or c.coords is not None:
            continue
        field = find_airfield(c)
        if field is None:
            continue
        c.place = Place(field.name, "facility", field.country, field.lat, field.lon, 0,
                        FACILITY_RADIUS_M)
        c.near = False
        c.borrowed = False
        c.by_name = False
        c.aliases.add(field.name)


__all__ = ["Airfield", "find_airfield", "snap_airfields"]
