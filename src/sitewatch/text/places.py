"""Places named in article text: the countries an article speaks of, the gazetteer places
its capitalised words name (homonyms chosen by those countries, by a region after a comma
and by a direction: "Rostov in southern Russia"), and the words around a place that say it
is no location of a site (a person's title, "-based", a dateline, an event, a speaker, a
ship or a missile, a state acting). ``Extractor`` (``extract``) builds on these.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from sitewatch.text.candidate import NAMED_TOWN_RADIUS_M
from sitewatch.text.gazetteer import Gazetteer, Place, contains, fold, fold_region, gazetteer
from sitewatch.text.names import (
    acts_as_government,
    offset_before,
    offset_point,
    vessel_or_weapon,
)
from sitewatch.text.placement import code_like, inside_place, opens_question
from sitewatch.text.sentences import Sentence, sentences
from sitewatch.text.vocabulary import (
    CAP_SEQ,
    DATELINE,
    DIRECTION,
    EVENT_BEFORE,
    LOCATOR,
    NEAR,
    NOT_SITE_AFTER,
    PERSON_BEFORE,
    SAID_IN,
    STOP,
)


@dataclass
class Mention:
    text: str
    start: int
    end: int
    place: Place


class Places:
    """The places of one text (``text``, its ``sents`` and the ``countries`` it names)."""

    def __init__(self, text: str, gaz: Gazetteer | None = None) -> None:
        self.text = text
        self.gaz = gaz or gazetteer()
        self.sents = sentences(text)
        self.countries = self._countries()

    def _countries(self) -> Counter[str]:
        seen: Counter[str] = Counter()
        # no country's name is longer (folding never joins two words): a long run of
        # capitalised words costs its length times this, not its length cubed
        most = max((len(k.split()) for k in self.gaz.country_names), default=0)
        for m in CAP_SEQ.finditer(self.text):
            words = m.group(0).split()
            for n in range(min(len(words), most), 0, -1):
                for i in range(len(words) - n + 1):
                    c = self.gaz.country(re.sub(r"['’]s$", "", " ".join(words[i:i + n])))
                    if c is not None and not inside_place(self.gaz, words, i, n, c.country):
                        seen[c.country] += 1
        return seen

    def _choose(self, options: list[Place], after: str) -> Place | None:
        """The best of homonyms: in a country the text names, then by direction."""
        if not options:
            return None
        direction = DIRECTION.match(after)
        want = None
        if direction:
            ctry = self.gaz.country(direction.group(2).strip())
            if ctry is not None:
                want = (direction.group(1).lower(), ctry)

        def score(p: Place) -> tuple[float, int]:
            s = 0.0
            if p.country in self.countries:
                s += 2 + min(self.countries[p.country], 5) * 0.1
            if want is not None:
                word, ctry = want
                if p.country == ctry.country:
                    s += 1
                    dlat, dlon = p.lat - ctry.lat, p.lon - ctry.lon
                    ok = (("north" in word and dlat > 0) or ("south" in word and dlat < 0)
                          or ("east" in word and dlon > 0) or ("west" in word and dlon < 0)
                          or (word == "central" and abs(dlat) < 5))
                    s += 2 if ok else -2
            return (s, -options.index(p))

        return max(options, key=score)

    def place_mentions(self, start: int, end: int) -> list[Mention]:
        """Places named in text[start:end], longest names first, not people or events."""
        out: list[Mention] = []
        chunk = self.text[start:end]
        skip_to = -1
        for m in CAP_SEQ.finditer(chunk):
            if start + m.start() < skip_to:
                continue
            words = m.group(0).split()
            a0 = start + m.start()
            found = self._best_span(words, a0)
            if found is None:
                continue
            text, a, b, options = found
            kind_word = re.match(r"\s+(region|oblast|province|krai|kray|republic|governorate|"
                                 r"prefecture|district)\b", self.text[b:b + 20])
            if kind_word:  # "the Tver region": the region, not the city
                regions = [p for p in self.gaz.lookup(f"{text} {kind_word.group(1)}")
                           if p.kind == "region" and self._plausible(p, text)]
                if regions:
                    b += kind_word.end()
                    text, options = self.text[a:b], regions
            before = self.text[max(0, a - 40):a]
            after = self.text[b:b + 80]
            if PERSON_BEFORE.search(before) or NOT_SITE_AFTER.match(after) or \
                    opens_question(self.text, start, a, b) or \
                    vessel_or_weapon(self.text, a, b) or \
                    acts_as_government(self.text, start, a, b):
                continue  # a person, a ship or a missile, a state
            qualified, skip = self._qualifier(options, b, end)
            if qualified:
                options, skip_to = qualified, skip
            place = self._choose(options, after)
            if place is not None:
                out.append(Mention(text, a, b, place))
        return out

    def _qualifier(self, options: list[Place], b: int, end: int) -> tuple[list[Place], int]:
        """"Moscow, Idaho" or "Moscow, United States": the region or country after a
        comma picks the homonym, and is not a place of its own."""
        m = re.match(r",\s*((?:[A-Z][\w'’.-]*)(?:\s+[A-Z][\w'’.-]*){0,3})",
                     self.text[b:min(end, b + 60)])
        if not m:
            return [], -1
        name = m.group(1)
        ctry = self.gaz.country(name)
        if ctry is not None:
            keep = [p for p in options if p.country == ctry.country]
        else:
            regions = [r for r in self.gaz.lookup(name) if r.kind == "region"]
            keep = [p for p in options if p.kind == "city" and any(
                contains(r, p) for r in regions)]
        return (keep, b + m.end()) if keep else ([], -1)

    def _best_span(self, words: list[str], a0: int
                   ) -> tuple[str, int, int, list[Place]] | None:
        """The capitalised sequence as one place. "Maxar Technologies" or "Fabian Hinz"
        are not places, and neither are their parts; a leading function word is dropped
        (one at a time, in a loop: "The The The ..." is no recursion)."""
        while True:
            seq = " ".join(words)
            cand = seq[:-2] if seq.endswith(("'s", "’s")) else seq
            if self.gaz.country(cand) is not None or code_like(cand):
                return None
            first = fold(words[0])
            if first not in STOP:
                break
            if len(words) == 1 or first in {"north", "south", "east", "west"}:
                return None
            rest = words[1:]
            a0 += len(seq) - len(" ".join(rest))
            words = rest
        options = [p for p in self.gaz.lookup(cand) if self._plausible(p, cand)]
        return (cand, a0, a0 + len(cand), options) if options else None

    def _plausible(self, p: Place, name: str) -> bool:
        """Alternate names only for large cities; small places only in the countries the
        article speaks of."""
        exact = fold(p.name) == fold(name) or (p.kind == "region" and fold_region(p.name)
                                                 == fold_region(name))
        if not exact and p.population < 100_000:
            return False
        if p.population < 1_000:
            return False
        return not (self.countries and p.country not in self.countries
                    and p.population < 500_000)

    def _is_dateline(self, m: Mention, s: Sentence) -> bool:
        """"KYIV, Nov 3 (Reuters) -": where the story was filed, not a site."""
        line_start = self.text.rfind("\n", 0, m.start) + 1
        head = self.text[line_start:min(s.end, line_start + 80)]
        if m.start - line_start < 40 and bool(DATELINE.match(head)) and \
                self.text[m.start:m.end].isupper():
            return True
        # "Muscat: Drone attacks ...", "Dubai, United Arab Emirates — Iran has ..."
        return not self.text[line_start:m.start].strip(" \"'“(") and bool(re.match(
            r"(?:,\s*[A-Z][\w.' ]{1,30})?\s*(?::|—|–|--?)\s", self.text[m.end:m.end + 40]))

    def _place_in_name(self, name: str, a: int, context: list[Mention], whole: bool = False
                       ) -> Mention | None:
        """The place a facility's name starts with ("Votkinsk Machine Building Plant"), the
        homonym chosen by the region named after it ("... in Udmurtia"). ``whole``: the
        name is a place name ("Odesa" of "the port of Odesa")."""
        words = name.split()
        top = len(words) if whole else min(len(words) - 1, 3)
        found_at = self._place_at_start(words, top, a, context, whole)
        if found_at is not None or whole:
            return found_at
        # a place inside the name's proper part: "the Black Sea Tuapse oil refinery"
        for i in range(1, min(len(words) - 1, 3)):
            if not words[i][:1].isupper():
                break
            lead = len(" ".join(words[:i])) + 1
            inner = self._place_at_start(words[i:], min(len(words) - i - 1, 3), a + lead,
                                         context, False)
            if inner is not None:
                return inner
        return None

    def _place_at_start(self, words: list[str], top: int, a: int, context: list[Mention],
                        whole: bool) -> Mention | None:
        for n in range(top, 0, -1):
            cand = " ".join(words[:n])
            if fold(words[0]) in STOP:
                break
            regions = [m.place for m in context if m.place.kind == "region"]
            numbered = re.fullmatch(r"(.+?)-\d+", cand)  # "Engels-2", "Saky-4"
            found = self.gaz.lookup(cand) or (self.gaz.lookup(numbered.group(1))
                                              if numbered else [])
            if numbered and found:
                cand = numbered.group(1)
            options = [p for p in found if self._plausible(p, cand)
                       and (p.kind == "city" or whole)]
            if not options:
                # another spelling of a small town ("Saky" of Saki), in the region the
                # text puts the facility in ("the Saky base in western Crimea")
                options = [p for p in found if p.kind == "city"
                           and any(contains(r, p) for r in regions)]
            if not options:
                continue
            for r in regions:
                inside = [p for p in options if contains(r, p)]
                if inside:
                    return Mention(cand, a, a + len(cand), inside[0])
            place = self._choose(options, "")
            if place is not None:
                return Mention(cand, a, a + len(cand), place)
        return None

    def _appositive(self, mentions: list[Mention], m: Mention, s: Sentence) -> bool:
        """Whether the distance before ``m`` describes another place named just before it
        ("Abqaiq, 60 km southwest of Dhahran")."""
        lead = self.text[max(s.start, m.start - 90):m.start]
        at = LOCATOR.search(lead)
        if at is None:
            return False
        cut = m.start - len(lead) + at.start()
        return any(0 <= cut - o.end <= 12 and re.fullmatch(
            r"\s*[,(]\s*(?:about|some|around|roughly|approximately|nearly|just|over|under|"
            r"less than|more than)?\s*", self.text[o.end:cut]) for o in mentions if o is not m)

    def _offset_place(self, m: Mention, s: Sentence | None = None) -> Place | None:
        """The point "25 miles southeast of" a town, as a place whose radius is a quarter
        of the distance (at least 5 km)."""
        if m.place.kind != "city":
            return None
        start = s.start if s is not None else max(0, m.start - 80)
        off = offset_before(self.text, start, m.start)
        if off is None:
            return None
        dist, bearing = off
        lat, lon = offset_point(m.place.lat, m.place.lon, dist, bearing)
        word = ["north", "northeast", "east", "southeast", "south", "southwest", "west",
                "northwest"][round(bearing / 45) % 8]
        return Place(f"{dist:.0f} km {word} of {m.place.name}", "city", m.place.country, lat,
                     lon, 0, max(NAMED_TOWN_RADIUS_M, dist * 250.0), m.place.region,
                     m.place.region_code)

    def _near_by_coordination(self, s: Sentence, m: Mention) -> bool:
        """"outside Moscow and St. Petersburg": the preposition covers both places."""
        before = self.text[max(s.start, m.start - 60):m.start]
        mm = re.search(r"((?:St\.\s)?[A-Z][\w'’-]+(?:\s[A-Z][\w'’-]+)*)\s+(?:and|or|,)\s*$",
                       before)
        if not mm:
            return False
        lead = self.text[max(s.start, m.start - 60 - 40):m.start - len(before) + mm.start()]
        return bool(NEAR.search(lead))

    def _locates_facility(self, m: Mention, s: Sentence) -> bool:
        """False for places of events, organisations and speakers ("a meeting in
        Brussels", "the Center for ... Studies in Washington", "said in Moscow")."""
        before = self.text[max(s.start, m.start - 80):m.start]
        return not (EVENT_BEFORE.search(before) or SAID_IN.search(before))

    def _paragraph_place(self, s: Sentence) -> Place | None:
        for other in self.sents:
            if other.paragraph == s.paragraph:
                for m in self.place_mentions(other.start, other.end):
                    if self._locates_facility(m, other):
                        return m.place
        return None
