"""Candidate sites from article text, each with the quotes that justify it.

What counts as a site is a facility: a named one ("the Votkinsk Machine Building Plant",
"the Sohae Satellite Launching Station", "the port of Odesa") or one described by its
kind and place ("complexes where Russia has made solid-fuel missile engines ... in
Perm"). A place becomes a site only in a sentence that speaks of facilities, and never
when it only locates a person, an organisation or an event ("a Berlin-based
researcher", "a meeting in Brussels"). Places are resolved with the offline gazetteer:
homonyms are chosen by the countries the article speaks of and by directions in the
text ("Rostov in southern Russia"), and each gets a radius (a city, its outskirts, a
region) that becomes the site's AOI radius. Mentions of one facility are merged, with
all their quotes.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any

from sitewatch.text.airfields import snap_airfields
from sitewatch.text.candidate import NAMED_TOWN_RADIUS_M, Candidate, Evidence
from sitewatch.text.dates import find_dates
from sitewatch.text.facilities import FacilityIndex
from sitewatch.text.gazetteer import (
    Gazetteer,
    Place,
    contains,
    distance_km,
    fold,
    fold_region,
    gazetteer,
)
from sitewatch.text.merge import merge_candidates
from sitewatch.text.names import (
    acts_as_government,
    described_not_named,
    offset_before,
    offset_point,
    vessel_or_weapon,
)
from sitewatch.text.placement import (
    code_like,
    doubt_far,
    facility_place,
    inside_place,
    opens_question,
    passing_mention,
    place_by_coordinates,
)
from sitewatch.text.sentences import Sentence, sentences
from sitewatch.text.vocabulary import (
    ADJ,
    ANAPHORA,
    CAP_SEQ,
    DATELINE,
    DIRECTION,
    EVENT_BEFORE,
    FACILITY_NOUN,
    IMAGERY,
    KINDS,
    LOCATOR,
    LOWER_HEAD,
    MAX_QUOTE,
    NAMED,
    NAMED_LOWER,
    NEAR,
    NOT_SITE_AFTER,
    PERSON_BEFORE,
    PORT_OF,
    PROVIDERS,
    SAID_IN,
    STOP,
)


@dataclass
class Mention:
    text: str
    start: int
    end: int
    place: Place


class Extractor:
    def __init__(self, text: str, published: date | None = None,
                 gaz: Gazetteer | None = None, facilities: FacilityIndex | None = None
                 ) -> None:
        self.text = text
        self.facilities = facilities
        self.published = published
        self.gaz = gaz or gazetteer()
        self.sents = sentences(text)
        self.countries = self._countries()

    # --- places ------------------------------------------------------------------------
    def _countries(self) -> Counter[str]:
        seen: Counter[str] = Counter()
        for m in CAP_SEQ.finditer(self.text):
            words = m.group(0).split()
            for n in range(len(words), 0, -1):
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
        are not places, and neither are their parts; a leading function word is dropped."""
        seq = " ".join(words)
        cand = seq[:-2] if seq.endswith(("'s", "’s")) else seq
        if self.gaz.country(cand) is not None or code_like(cand):
            return None
        first = fold(words[0])
        if first in STOP:
            if len(words) == 1 or first in {"north", "south", "east", "west"}:
                return None
            rest = words[1:]
            return self._best_span(rest, a0 + len(seq) - len(" ".join(rest)))
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

    # --- facilities ----------------------------------------------------------------------
    def _kind(self, sent: Sentence, named_text: str = "", at: int | None = None
              ) -> tuple[str, Sentence | None]:
        """The facility kind, and the sentence that says it when it is another one: from
        the facility's name, else the words nearest to it, else its sentence and
        paragraph."""
        for pattern, kind in KINDS:
            if named_text and pattern.search(named_text):
                return kind, None
        if at is not None:
            best: tuple[int, str] | None = None
            for pattern, kind in KINDS:
                for m in pattern.finditer(self.text, max(sent.start, at - 60),
                                          min(sent.end, at + 60)):
                    d = min(abs(m.start() - at), abs(m.end() - at))
                    if best is None or d < best[0]:
                        best = (d, kind)
            if best is not None:
                return best[1], None
        # the sentences around it; a news story's paragraphs are often one sentence each,
        # so the window crosses paragraph breaks (but never more than two sentences)
        window = [s for s in self.sents if abs(s.index - sent.index) <= 2]
        ordered = [sent] + sorted((s for s in window if s is not sent),
                                  key=lambda s: abs(s.index - sent.index))
        for s in ordered:
            for pattern, kind in KINDS:
                if pattern.search(self.text[s.start:s.end]):
                    return kind, (None if s is sent else s)
        if ANAPHORA.search(self.text[sent.start:sent.end]):
            # "The sites are in ...": the facilities the article introduced earlier
            for s in self.sents[:sent.index]:
                t = self.text[s.start:s.end]
                if FACILITY_NOUN.search(t):
                    for pattern, kind in KINDS:
                        if pattern.search(t):
                            return kind, s
        return "industrial facility", None

    def _quote(self, s: Sentence, focus: int | None = None) -> Evidence:
        """The sentence; of a run-on "sentence" longer than ``MAX_QUOTE``, only the words
        within half that of ``focus``."""
        a, b = s.start, s.end
        if b - a > MAX_QUOTE:
            at = focus if focus is not None else a
            a = max(a, at - MAX_QUOTE // 2)
            b = min(b, a + MAX_QUOTE)
            left = self.text.find(" ", a, at) if at > a else -1
            a = left + 1 if left >= 0 and a > s.start else a
            right = self.text.rfind(" ", at, b)
            b = right if right > at and b < s.end else b
        return Evidence(a, b, self.text[a:b])

    def _is_facility_sentence(self, s: Sentence, named: list[tuple[int, int]]) -> bool:
        """A sentence speaking of facilities other than the named ones in it."""
        for m in FACILITY_NOUN.finditer(self.text, s.start, s.end):
            if not any(a <= m.start() < b for a, b in named):
                return True
        return False

    def _named(self, s: Sentence) -> list[tuple[str, int, int, str]]:
        """(name, start, end, place text or '') of named facilities in a sentence."""
        chunk = self.text[s.start:s.end]
        found: list[tuple[str, int, int, str]] = []

        def free(a: int, b: int) -> bool:
            return all(b <= x or a >= y for _, x, y, _ in found)

        for m in PORT_OF.finditer(chunk):
            head = m.group(1)
            name = f"{head[0].upper()}{head[1:]} of {m.group(2)}"
            found.append((name, s.start + m.start(), s.start + m.end(), m.group(2)))
        for pattern in (NAMED, NAMED_LOWER):
            for m in pattern.finditer(chunk):
                words = m.group(1).split()
                while words and (fold(words[0]) in STOP or self.gaz.country(
                        re.sub(r"['’]s$", "", words[0])) is not None):
                    words = words[1:]  # "The ...", "Russia's ...", "Iranian ..."
                if len(words) < 2 or not words[0][:1].isupper():
                    continue
                name = " ".join(words)
                a = s.start + m.end(1) - len(name)
                if described_not_named(self.text, a):
                    continue  # "a Crimean air base" describes, it does not name
                if free(a, a + len(name)):
                    found.append((name, a, a + len(name), ""))
        return sorted(found, key=lambda f: f[1])

    def _qualifying(self, mentions: list[Mention], b: int, limit: int) -> list[Mention]:
        """Places right after a facility or place that say where it is: "... in Udmurtia",
        "... on Changxing Island near Shanghai", "..., 90 km north of Pyongyang"."""
        out = []
        pos = b
        for m in sorted((m for m in mentions if m.start >= b), key=lambda m: m.start):
            gap = self.text[pos:m.start]
            if m.start > limit or len(gap.split()) > 7 or FACILITY_NOUN.search(gap) or \
                    re.search(r"[.;:]|\band\b|\bwhere\b|\bwhich\b", gap) or \
                    ("," in gap and not re.fullmatch(r"\s*,\s*", gap)):
                break
            if not re.match(r"[\s,]*(?:\(|about|some|roughly|just|in|at|on|near|outside|of|"
                            r"close to|by|\d|(?:north|south|east|west)\w*)", gap, re.I):
                break
            out.append(m)
            pos = m.end
        return out

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

    def extract(self) -> list[Candidate]:
        cands: list[Candidate] = []
        top = self.countries.most_common(1)
        article_country = self.gaz.countries.get(top[0][0]) if top else None
        for s in self.sents:
            if s.heading:
                continue  # headlines and section titles name no site of their own
            named = self._named(s)
            spans = [(a, b) for _, a, b, _ in named]
            country_hint = next((c for m in CAP_SEQ.finditer(self.text, s.start, s.end)
                                 if (c := self.gaz.country(m.group(0))) is not None),
                                article_country)
            mentions = [m for m in self.place_mentions(s.start, s.end)
                        if not self._is_dateline(m, s)]
            consumed: list[tuple[int, int]] = []
            for name, a, b, place_text in named:
                qual = [m for m in self._qualifying(mentions, b, s.end)
                        if self._locates_facility(m, s)]
                consumed += [(m.start, m.end) for m in qual]
                inner = self._place_in_name(place_text or name, a, qual,
                                            whole=bool(place_text))
                place, near = self._facility_place(inner, qual)
                if (known := facility_place(self.facilities, name, self.countries)) is not None:
                    place, near = known, False  # the analyst's gazetteer knows it
                if place is not None and place.kind == "region":
                    # "at Yelabuga, in the Alabuga special economic zone in Tatarstan"
                    inside = [m for m in mentions if m.place.kind == "city"
                              and not (a <= m.start < b) and contains(place, m.place)
                              and self._locates_facility(m, s)]
                    if inside:
                        best = min(inside, key=lambda m: min(abs(m.start - a), abs(m.end - b)))
                        place = best.place
                        consumed.append((best.start, best.end))
                borrowed = place is None
                if borrowed:
                    place = self._paragraph_place(s)
                kind, why = self._kind(s, name, a)
                cands.append(Candidate(name, kind, place,
                                       place_text or (inner.text if inner else None), True,
                                       near=near, borrowed=borrowed and place is not None,
                                       evidence=[self._quote(s, a)] +
                                       ([self._quote(why)] if why else []),
                                       aliases={name}, paragraphs={s.paragraph},
                                       country_hint=country_hint))
            if not self._is_facility_sentence(s, spans):
                continue
            for m in mentions:
                if any(a <= m.start < b for a, b in spans + consumed):
                    continue
                if not self._locates_facility(m, s) or passing_mention(self.text, s.start,
                                                                         m.start):
                    continue  # "a meeting in Brussels", "a drone attack on Tel Aviv"
                before = self.text[max(s.start, m.start - 60):m.start]
                if LOCATOR.search(before):
                    # "some 25 miles southeast of Shahrud": the site is at that offset,
                    # unless the sentence names the facility it locates
                    if not self._locates_named(named, m, s) and \
                            not self._appositive(mentions, m, s) and \
                            (off := self._offset_place(m, s)) is not None:
                        kind, why = self._kind(s, "", m.start)
                        cands.append(Candidate(f"{kind} {off.name}", kind, off, m.text,
                                               False, evidence=[self._quote(s, m.start)] +
                                               ([self._quote(why)] if why else []),
                                               aliases=set(), paragraphs={s.paragraph}))
                    continue
                for q in self._qualifying(mentions, m.end, s.end):
                    if q.place.kind == "region" and contains(q.place, m.place):
                        consumed.append((q.start, q.end))  # "Toropets in the Tver region"
                near = bool(NEAR.search(before)) or self._near_by_coordination(s, m)
                kind, why = self._kind(s, "", m.start)
                head = re.match(rf"\s+((?:{ADJ}\s+){{0,3}}{LOWER_HEAD})\b",
                                self.text[m.end:s.end])
                name = (f"{m.text} {head.group(1)}" if head else
                        f"{kind} {'near' if near else 'in'} {m.text}")
                cands.append(Candidate(name, kind, m.place, m.text, False, near=near,
                                       evidence=[self._quote(s, m.start)] +
                                       ([self._quote(why)] if why else []),
                                       aliases={m.text}, paragraphs={s.paragraph}))
        merged = merge_candidates(self.text, cands)
        snap_airfields(merged)
        merged += place_by_coordinates(self, merged)
        doubt_far(self, merged)
        self._attach_dates(merged)
        return merged

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
            found = self.gaz.lookup(cand)
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

    def _facility_place(self, inner: Mention | None, qual: list[Mention]
                        ) -> tuple[Place | None, bool]:
        """The place of a named facility: the place its name starts with when the
        qualifying places agree with it, else the nearest qualifying city."""
        near = False
        cities = [q for q in qual if q.place.kind == "city"]
        if qual:
            gap = self.text[max(0, qual[0].start - 40):qual[0].start]
            near = bool(NEAR.search(gap) or LOCATOR.search(gap))
        if inner is None:
            found = cities or qual
            if found and (off := self._offset_place(found[0])) is not None:
                return off, False  # "..., 90 km north of Pyongyang"
            return (found[0].place if found else None), near
        if cities:
            # "the Tambov Gunpowder Plant in Kotovsk": the text says where it is
            far = distance_km(cities[0].place.lat, cities[0].place.lon, inner.place.lat,
                              inner.place.lon) > 100
            return cities[0].place, near or far
        return inner.place, False

    def _locates_named(self, named: list[tuple[str, int, int, str]], m: Mention,
                       s: Sentence) -> bool:
        """Whether the distance before ``m`` locates a facility the sentence names before
        it ("the Yongbyon nuclear complex, ..., about 90 km north of Pyongyang"), not one
        that is itself the reference point ("165 km to the northeast of the existing
        Semnan space centre and 40 km southeast of the city of Shahrud")."""
        for _, a, _b, _ in named:
            if a >= m.start:
                continue
            lead = self.text[max(s.start, a - 80):a]
            if not re.search(r"\b(?:north|south|east|west)\w*\s+of\s+(?:the\s+)?(?:\w+\s+)?$",
                             lead, re.I):
                return True
        return False

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

    # --- dates and imagery -------------------------------------------------------------
    def _attach_dates(self, cands: list[Candidate]) -> None:
        claims = self._imagery_claims()
        for c in cands:
            seen: set[int] = set()
            for s in self.sents:
                if s.paragraph not in c.paragraphs:
                    continue
                for d in find_dates(self.text, s.start, s.end, self.published):
                    if d.start not in seen:
                        seen.add(d.start)
                        c.dates.append(d)
            c.imagery = [cl for cl in claims if cl["paragraph"] in c.paragraphs]

    def _imagery_claims(self) -> list[dict[str, Any]]:
        claims = []
        for s in self.sents:
            t = self.text[s.start:s.end]
            if not IMAGERY.search(t):
                continue
            provs = sorted({re.sub(r"\s+(?:Technologies|Labs|Space)$", "", m.group(1))
                            for m in PROVIDERS.finditer(t)})
            if not provs:
                continue
            dates = find_dates(self.text, s.start, s.end, self.published)
            claims.append({"providers": provs, "start": s.start, "end": s.end, "quote": t,
                           "dates": [d.as_dict() for d in dates],
                           "months": [d.text for d in dates if d.precision == "month"],
                           "paragraph": s.paragraph})
        return claims


def extract_sites(text: str, published: date | None = None,
                  facilities: FacilityIndex | None = None) -> list[dict[str, Any]]:
    """Candidate sites of ``text`` as JSON-ready dicts (see ``sitewatch extract``);
    ``facilities``: the analyst's gazetteer, looked up ahead of the towns."""
    ex = Extractor(text, published, facilities=facilities)
    out = []
    for c in ex.extract():
        d = c.as_dict(ex.gaz)
        for claim in d["imagery"]:
            claim.pop("paragraph", None)
        out.append(d)
    return out
