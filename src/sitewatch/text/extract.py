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
all their quotes, under the facility's own name.

The steps live in small modules: ``sentences`` (paragraphs, sentences by pysbd,
headings), ``places`` (the places a text names and which are no locations),
``names`` (vessels, weapons, states, descriptions, canonical names, offsets),
``merge`` (one candidate per facility), ``airfields`` and ``placement`` (where a candidate
is, how sure, and what is doubted); the words themselves are in ``vocabulary``.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from sitewatch.text.airfields import snap_airfields
from sitewatch.text.candidate import Candidate, Evidence
from sitewatch.text.dates import find_dates
from sitewatch.text.facilities import FacilityIndex
from sitewatch.text.gazetteer import (
    Gazetteer,
    Place,
    contains,
    distance_km,
    fold,
)
from sitewatch.text.merge import merge_candidates
from sitewatch.text.names import (
    described_not_named,
)
from sitewatch.text.placement import (
    doubt_far,
    facility_place,
    passing_mention,
    place_by_coordinates,
)
from sitewatch.text.places import Mention, Places
from sitewatch.text.sentences import Sentence, sentences
from sitewatch.text.vocabulary import (
    ADJ,
    ANAPHORA,
    CAP_SEQ,
    FACILITY_NOUN,
    IMAGERY,
    KINDS,
    LOCATOR,
    LOWER_HEAD,
    MAX_QUOTE,
    NAMED,
    NAMED_LOWER,
    NEAR,
    PORT_OF,
    PROVIDERS,
    STOP,
)


class Extractor(Places):
    def __init__(self, text: str, published: date | None = None,
                 gaz: Gazetteer | None = None, facilities: FacilityIndex | None = None
                 ) -> None:
        super().__init__(text, gaz)
        self.facilities = facilities
        self.published = published

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
        # (a sentence's index is its place in self.sents: a slice, not a pass over them all)
        window = self.sents[max(0, sent.index - 2):sent.index + 3]
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
                by_name = inner is not None and place is inner.place and not near
                borrowed = place is None
                if borrowed:
                    place = self._paragraph_place(s)
                kind, why = self._kind(s, name, a)
                aliases = {name}
                if inner is not None and not place_text and inner.start > a and \
                        self.text[inner.start:inner.end] == inner.text:
                    # "the Black Sea Tuapse oil refinery": the facility's own name begins
                    # with its town; what comes before it qualifies it
                    name = self.text[inner.start:b]
                    aliases.add(name)
                cands.append(Candidate(name, kind, place,
                                       place_text or (inner.text if inner else None), True,
                                       near=near, borrowed=borrowed and place is not None,
                                       evidence=[self._quote(s, a)] +
                                       ([self._quote(why)] if why else []),
                                       aliases=aliases, paragraphs={s.paragraph},
                                       country_hint=country_hint, by_name=by_name))
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


__all__ = ["Extractor", "extract_sites", "sentences"]
