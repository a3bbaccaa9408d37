"""A candidate site: what the text says about one facility, and how it was placed.

``placement`` says what the position rests on, and the AOI radius and the confidence
follow from it:

- ``"text coordinates"``: the article writes the facility's coordinates; the AOI is the
  coordinates' own uncertainty, at least 1 km; confidence 0.9 and more;
- ``"facility"``: a facility-level gazetteer entry (an air base, a port, a known plant);
- ``"town"``: the town or city the text puts it in (5 km for a named facility, the town's
  extent for "a refinery in X", 30 km or more for "near X"); a facility placed only by
  the town its name begins with ("the Natanz nuclear facility", 33 km from Natanz) gets
  ``BY_NAME_RADIUS_M`` and a lower confidence: a name says what a site is called after,
  not where it is;
- ``"region"``: only a region or country is known; the region's extent, confidence
  below 0.5 (an air base at the centre of its oblast can be 70 km off);
- ``None``: not placed.

A candidate far from every other place the article speaks of is doubted: each doubt is a
sentence in ``doubts`` and halves the confidence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sitewatch.text.coords import TextCoordinate
from sitewatch.text.dates import FoundDate
from sitewatch.text.gazetteer import Gazetteer, Place

MIN_COORD_RADIUS_M = 1_000.0
MAX_COORD_RADIUS_M = 20_000.0
NAMED_TOWN_RADIUS_M = 5_000.0
BY_NAME_RADIUS_M = 15_000.0
NEAR_RADIUS_M = 30_000.0
FACILITY_RADIUS_M = 2_000.0


@dataclass
class Evidence:
    start: int
    end: int
    quote: str

    def as_dict(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "quote": self.quote}


@dataclass
class Candidate:
    name: str
    kind: str
    place: Place | None
    place_text: str | None
    named: bool
    near: bool = False
    evidence: list[Evidence] = field(default_factory=list)
    dates: list[FoundDate] = field(default_factory=list)
    imagery: list[dict[str, Any]] = field(default_factory=list)
    aliases: set[str] = field(default_factory=set)
    paragraphs: set[int] = field(default_factory=set)
    country_hint: Place | None = None  # the country named in the sentence, if no place
    borrowed: bool = False  # placed at its paragraph's first place, its sentence names none
    coords: TextCoordinate | None = None  # coordinates the text gives for it
    doubts: list[str] = field(default_factory=list)
    by_name: bool = False  # placed only by the town its name begins with

    @property
    def placement(self) -> str | None:
        if self.coords is not None:
            return "text coordinates"
        if self.place is None:
            return None
        if self.place.kind == "facility":
            return "facility"
        if self.place.kind == "city":
            return "town"
        return "region"  # a region, or only the country

    @property
    def lat_lon(self) -> tuple[float, float] | None:
        if self.coords is not None:
            return self.coords.lat, self.coords.lon
        return (self.place.lat, self.place.lon) if self.place is not None else None

    @property
    def radius_m(self) -> float | None:
        if self.coords is not None:
            r = min(max(2 * self.coords.uncertainty_m, MIN_COORD_RADIUS_M),
                    MAX_COORD_RADIUS_M)
            return round(r, -2)
        how = self.placement
        if self.place is None:
            return None
        r = self.place.radius_m
        if how == "facility":
            r = r or FACILITY_RADIUS_M
        elif how == "town" and self.named:
            r = BY_NAME_RADIUS_M if self.by_name else min(r, NAMED_TOWN_RADIUS_M)
        if self.near:
            r = max(r, NEAR_RADIUS_M)
        return round(r, -2)

    @property
    def confidence(self) -> float:
        how = self.placement
        more = min(0.1, 0.03 * (len(self.evidence) - 1))
        if how == "text coordinates":
            c = 0.9 + (0.05 if self.named else 0.0)
        elif how == "facility":
            c = 0.8 + (0.05 if self.named else 0.0) + more
        elif how == "town":
            c = 0.6 + (0.2 if self.named else 0.0) + more - (0.1 if self.near else 0.0) \
                - (0.1 if self.by_name else 0.0)
        elif how == "region":
            c = min(0.3 + (0.1 if self.named else 0.0) + more, 0.45)
        else:
            c = 0.2 + (0.1 if self.named else 0.0)
        c = min(c, 0.95)
        for _ in self.doubts:
            c *= 0.5
        return round(c, 2)

    def as_dict(self, gaz: Gazetteer) -> dict[str, Any]:
        country = gaz.countries.get(self.place.country) if self.place else self.country_hint
        at = self.lat_lon
        return {
            "name": self.name, "kind": self.kind,
            "place": self.place.name if self.place else self.place_text,
            "place_kind": self.place.kind if self.place else None,
            "placement": self.placement,
            "region": self.place.region if self.place else None,
            "country": country.name if country else None,
            "country_code": self.place.country if self.place else (
                self.country_hint.country if self.country_hint else None),
            "lat": round(at[0], 5) if at else None,
            "lon": round(at[1], 5) if at else None,
            "radius_m": self.radius_m, "confidence": self.confidence,
            "coordinates": ({"text": self.coords.text, "start": self.coords.start,
                             "end": self.coords.end, "form": self.coords.form,
                             "uncertainty_m": round(self.coords.uncertainty_m)}
                            if self.coords else None),
            "doubts": list(self.doubts),
            "aliases": sorted(self.aliases - {self.name}),
            "evidence": [e.as_dict() for e in sorted(self.evidence, key=lambda e: e.start)],
            "dates": [d.as_dict() for d in sorted(self.dates, key=lambda d: d.start)],
            "imagery": self.imagery,
        }
