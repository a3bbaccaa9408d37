"""How candidates are placed, and when a placement is doubted.

Three rules, each general (none knows a particular place):

- **Coordinates written in the text win.** A coordinate (``coords.find_coordinates``)
  belongs to the candidate named nearest to it in its sentence, else to the one candidate
  of the sentence before it in the same paragraph ("The silo field lies near Hanggin
  Banner. Its centre is at 40.85 N, 111.73 E."); in a sentence about facilities that names
  none, it makes a candidate of its own. Either way the candidate's ``placement`` becomes
  "text coordinates", with the coordinates' small AOI.
- **Passing mentions are not locations.** A place that is where something goes or what
  is attacked ("a tanker headed for Moscow", "a drone attack on Tel Aviv", "missiles fired
  at Kyiv") does not make a "kind in town" candidate.
- **Far and foreign, or borrowed, is doubted.** A candidate placed in a country the article names
  nowhere else, and far from every other place the article speaks of, gets a doubt (a
  sentence in ``doubts``) that halves its confidence: a wrong homonym or a stray match.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache
from typing import Any, Protocol

import numpy as np

from sitewatch.text.candidate import Candidate, Evidence
from sitewatch.text.coords import TextCoordinate, find_coordinates
from sitewatch.text.facilities import FacilityIndex
from sitewatch.text.gazetteer import Gazetteer, Place, distance_km


class Sentence(Protocol):
    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...
    @property
    def paragraph(self) -> int: ...
    @property
    def index(self) -> int: ...


class Extractor(Protocol):
    """What placement needs of ``extract.Extractor`` (a protocol: no import cycle)."""

    text: str
    gaz: Gazetteer
    countries: Counter[str]

    @property
    def sents(self) -> Sequence[Any]: ...
    def place_mentions(self, start: int, end: int) -> Sequence[Any]: ...
    def _kind(self, sent: Any, named_text: str = "", at: int | None = None
              ) -> tuple[str, Any]: ...
    def _quote(self, s: Any, focus: int | None = None) -> Evidence: ...
    def _is_facility_sentence(self, s: Any, named: list[tuple[int, int]]) -> bool: ...

#: a doubted candidate is this far (km) from the nearest other place of the article
FAR_KM = 500.0
#: a coordinate's nearest gazetteer town is named as its place within this distance (km)
LABEL_KM = 100.0

_PASSING = re.compile(
    r"(?:\b(?:attacks?|strikes?|struck|raids?|assaults?|bombing|bombardment|shelling|"
    r"barrage|offensive|advance|march)\s+(?:on|against|at|upon|toward|towards|into)"
    r"|\b(?:fired|launched|aimed|targeted|flown|flew|sent|shipped|delivered|exported|"
    r"sold|transferred|smuggled|sailing|sailed|travell?(?:ing|ed)|moving|moved|bound|"
    r"headed|heading|destined|en route|on (?:its|their|the) way|returned|retreated)"
    r"(?:\s+(?!(?:in|at|near|from|of)\b)[\w-]+){0,3}?\s+(?:at|for|to|toward|towards|into|"
    r"against)"
    r"|\b(?:toward|towards))"
    r"\s+(?:the\s+)?(?:(?:city|town|port|capital|region|village) of\s+)?$", re.I)


#: legal forms of companies: "Planet Labs, PBC", "Rosatom, JSC"
_COMPANY_FORMS = {"inc", "ltd", "llc", "plc", "pbc", "gmbh", "ag", "sa", "nv", "bv", "co",
                  "corp", "jsc", "pjsc", "ojsc", "oao", "zao", "ooo", "ao", "spa", "srl", "kk",
                  "ab", "asa", "oyj", "se", "lp", "llp", "pte", "bhd", "sarl", "sas", "pao"}


def code_like(name: str) -> bool:
    """Whether a capitalised word of the text is a code, an acronym or a company's legal
    form ("PBC", "IISS", "JSC"), which never names a place."""
    word = name.strip(" .,")
    if " " in word:
        return False
    letters = [ch for ch in word if ch.isalpha()]
    return word.lower().replace(".", "") in _COMPANY_FORMS or (
        word.isupper() and 0 < len(letters) <= 4)


_QUESTION_AFTER = re.compile(r"\s+(?:the|a|an|we|you|they|he|she|it|i|this|that|these|"
                             r"those|there|any|all|such)\b", re.I)


def opens_question(text: str, sentence_start: int, a: int, b: int) -> bool:
    """Whether the word at ``text[a:b]`` opens its sentence as an ordinary word does
    ("Can the plant be rebuilt?", "May the ...": a modal verb, not the town of Çan)."""
    lead = text[sentence_start:a].strip(" \"'“‘(")
    return not lead and " " not in text[a:b].strip() and bool(_QUESTION_AFTER.match(text, b))


def passing_mention(text: str, sentence_start: int, at: int) -> bool:
    """Whether the place at ``text[at:]`` is a destination or a target, not a location."""
    return bool(_PASSING.search(text[max(sentence_start, at - 60):at]))


def inside_place(gaz: Gazetteer, words: list[str], i: int, n: int, country: str) -> bool:
    """Whether the country named by ``words[i:i+n]`` is part of the name of a region or a
    town of another country ("Inner Mongolia" is in China, "New Mexico" in the US)."""
    for a, b in ((i - 1, i + n), (i, i + n + 1)):
        if a < 0 or b > len(words):
            continue
        name = re.sub(r"['’]s$", "", " ".join(words[a:b]))
        if any(p.country != country for p in gaz.lookup(name)):
            return True
    return False


def facility_place(index: FacilityIndex | None, name: str, countries: Counter[str]
                   ) -> Place | None:
    """The analyst's gazetteer entry of a named facility ("Engels Air Base"), the one in
    a country the article names when there are several."""
    if index is None:
        return None
    words = name.split()
    found = index.lookup(name) or (index.lookup(" ".join(words[1:]))
                                   if words and words[0].lower() == "the" else [])
    if not found:
        return None
    best = max(found, key=lambda f: countries.get(f.country, 0))
    return best.place()


# --- coordinates ---------------------------------------------------------------------------
def place_by_coordinates(ex: Extractor, cands: list[Candidate]) -> list[Candidate]:
    """Give candidates the coordinates their text writes; returns the new candidates made
    from coordinates that no candidate claims, in sentences about facilities."""
    made: list[Candidate] = []
    for co in find_coordinates(ex.text):
        s = next((s for s in ex.sents if s.start <= co.start < s.end), None)
        if s is None:
            continue
        owner = _owner(ex, cands + made, s, co)
        if owner is None:
            if not ex._is_facility_sentence(s, [(co.start, co.end)]):
                continue  # "a park (33.69, -84.33)": not a facility
            kind, why = ex._kind(s, "", co.start)
            owner = Candidate(f"{kind} at {co.text}", kind, None, None, False,
                              evidence=[ex._quote(s, co.start)] +
                              ([ex._quote(why)] if why else []),
                              aliases=set(), paragraphs={s.paragraph})
            made.append(owner)
        if owner.coords is not None:
            continue  # its first coordinates stand
        owner.coords = co
        town = nearest_town(ex.gaz, co.lat, co.lon)
        if town is not None:  # the country is where the coordinates are
            owner.country_hint = ex.gaz.countries.get(town.country, owner.country_hint)
        if owner.place is None or distance_km(owner.place.lat, owner.place.lon, co.lat,
                                              co.lon) > LABEL_KM:
            near = town is not None and distance_km(co.lat, co.lon, town.lat,
                                                    town.lon) <= LABEL_KM
            owner.place = town if near else None
            owner.place_text = town.name if near and town else None
        if all(not (e.start <= co.start < e.end) for e in owner.evidence):
            owner.evidence.append(ex._quote(s, co.start))
        owner.paragraphs.add(s.paragraph)
    return made


def _owner(ex: Extractor, cands: list[Candidate], s: Sentence, co: TextCoordinate
           ) -> Candidate | None:
    """The candidate named nearest before (else after) the coordinate in its sentence,
    else the only candidate of the previous sentence of its paragraph."""
    best: tuple[float, Candidate] | None = None
    for c in cands:
        for name in c.aliases | {c.name}:
            for m in re.finditer(re.escape(name), ex.text[s.start:s.end]):
                a, b = s.start + m.start(), s.start + m.end()
                d = co.start - b if b <= co.start else 2.0 * (a - co.end) + 1
                if d >= 0 and (best is None or d < best[0]):
                    best = (d, c)
    if best is not None:
        return best[1]
    prev = [p for p in ex.sents if p.index == s.index - 1 and p.paragraph == s.paragraph]
    if prev:
        there = [c for c in cands
                 if any(prev[0].start <= e.start < prev[0].end for e in c.evidence)]
        if len(there) == 1:
            return there[0]
    return None


@lru_cache(maxsize=2)
def _towns(gaz: Gazetteer) -> tuple[list[Place], np.ndarray]:
    towns = gaz.towns()
    return towns, np.radians(np.array([(p.lat, p.lon) for p in towns], dtype=np.float64))


def nearest_town(gaz: Gazetteer, lat: float, lon: float) -> Place | None:
    """The gazetteer town nearest to a point (at any distance)."""
    towns, rad = _towns(gaz)
    if not towns:
        return None
    p1, l1 = np.radians(lat), np.radians(lon)
    h = (np.sin((rad[:, 0] - p1) / 2) ** 2 +
         np.cos(p1) * np.cos(rad[:, 0]) * np.sin((rad[:, 1] - l1) / 2) ** 2)
    return towns[int(np.argmin(h))]


# --- doubts ----------------------------------------------------------------------------------
def doubt_far(ex: Extractor, cands: list[Candidate]) -> None:
    """Doubt the candidates placed in a country the article names nowhere else and far
    from every other place it speaks of, and those placed only by their paragraph."""
    spoken: list[tuple[str, float, float, str]] = []  # (name, lat, lon, country)
    for s in ex.sents:
        for m in ex.place_mentions(s.start, s.end):
            spoken.append((m.text, m.place.lat, m.place.lon, m.place.country))
    for c in cands:
        if c.borrowed and c.coords is None and c.place is not None:
            c.doubts.append(f"placed at {c.place.name}, the first place its paragraph names: "
                            "its own sentence names none")
            continue
        if c.place is None or c.coords is not None or c.place.kind == "country":
            continue
        own = {n.lower() for n in c.aliases | {c.name}}
        others = [o for o in spoken if o[0].lower() not in own and
                  distance_km(o[1], o[2], c.place.lat, c.place.lon) > 1.0]
        if not ex.countries:
            continue  # an article that names no country gives nothing to judge by
        cc = c.place.country
        if cc in ex.countries or any(o[3] == cc for o in others):
            continue
        country = ex.gaz.countries.get(cc)
        where = country.name if country else cc
        if not others:
            c.doubts.append(f"placed in {where}, which the article does not name")
            continue
        d, near = min((distance_km(o[1], o[2], c.place.lat, c.place.lon), o[0])
                      for o in others)
        if d > FAR_KM:
            c.doubts.append(f"placed in {where}, {d:,.0f} km from the nearest other place "
                            f"the article names ({near}), in a country it names nowhere else")


__all__ = ["code_like", "doubt_far", "facility_place", "inside_place", "nearest_town",
           "opens_question", "passing_mention", "place_by_coordinates"]
