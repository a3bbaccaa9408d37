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

from sitewatch.text.candidate import Candidate, Evidence
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
from sitewatch.text.placement import (
    code_like,
    doubt_far,
    facility_place,
    inside_place,
    opens_question,
    passing_mention,
    place_by_coordinates,
)

# --- sentences -----------------------------------------------------------------------------
_ABBREV = re.compile(r"(?:\b(?:St|Mr|Mrs|Ms|Dr|Gen|Lt|Col|Maj|Capt|Sgt|Adm|Gov|Sen|Rep|Prof|"
                     r"No|Nos|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|Corp|Inc|Ltd|"
                     r"Co|vs|etc|approx|est|Ft|Mt)|\b[A-Z](?:\.[A-Z])*)$")
_BOUNDARY = re.compile(r"[.!?]+[\"'”’)\]]*(?=\s+[\"'“‘(\[]?[A-Z0-9])|\n+")


@dataclass(frozen=True)
class Sentence:
    start: int
    end: int
    paragraph: int
    index: int


def sentences(text: str) -> list[Sentence]:
    """Sentences with offsets; a blank line or a line break ends a paragraph."""
    out: list[Sentence] = []
    para, pos = 0, 0

    def push(a: int, b: int) -> None:
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if b > a:
            out.append(Sentence(a, b, para, len(out)))

    for m in _BOUNDARY.finditer(text):
        if m.group(0).startswith("\n"):
            push(pos, m.start())
            pos = m.end()
            para += 1
            continue
        if _ABBREV.search(text[max(pos, m.start() - 12):m.start()]):
            continue
        push(pos, m.end())
        pos = m.end()
    push(pos, len(text))
    return out


# --- facility vocabulary ----------------------------------------------------------------------
MAX_QUOTE = 600  # characters of a quote cut from a run-on sentence
_ANAPHORA = re.compile(r"\b(?:the|these|those|all|both|two|three|four|five|six|seven|eight|"
                       r"nine|ten|\d+)\s+(?:\w+\s+)?(?:sites|complexes|facilities|plants|"
                       r"factories|bases|installations)\b", re.I)
_FACILITY_NOUN = re.compile(
    r"\b(?:plants?|factor(?:y|ies)|facilit(?:y|ies)|complex(?:es)?|sites?|works|refiner(?:y|ies)"
    r"|depots?|arsenals?|shipyards?|dockyards?|yards|air ?bases?|airfields?|aerodromes?"
    r"|ports?|terminals?|bases?|cosmodromes?|launch(?:ing)? (?:pads?|sites?|stations?)"
    r"|test(?:ing)? (?:sites?|ranges?|grounds?)|proving grounds?|ranges|enterprises?"
    r"|installations?|compounds?|mines?|warehouses?|hangars?|silos?|halls?|workshops?"
    r"|production lines?|reactors?|zones?)\b", re.I)
_PRODUCTION = re.compile(r"\b(?:produc(?:e|es|ed|ing|tion)|manufactur(?:e|es|ed|ing)|assembl"
                         r"(?:e|es|ed|y|ing)|made|builds?|built|expan(?:d|ded|sion|sions))\b",
                         re.I)
#: (pattern, kind), most specific first
KINDS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"solid[- ](?:fuel|propellant)|rocket[- ]motors?|missile engines?|"
                r"rocket engines?|motor[- ]production", re.I), "rocket-motor plant"),
    (re.compile(r"(?:missile|rocket)s?\b[^.]{0,40}\b(?:assembly|production|plant|factory)|"
                r"(?:assembl\w*|produc\w*|plant|factory|builds?|makes?)\b[^.]{0,60}\bmissiles?|"
                r"missile (?:assembly|plant|factory|maker)", re.I), "missile assembly plant"),
    (re.compile(r"propellant|explosives?|gunpowder|nitrocellulose|oleum|chemical plant|"
                r"chemical (?:works|combine|factory)", re.I), "propellant or chemical plant"),
    (re.compile(r"refiner(?:y|ies)|oil (?:processing|depot)", re.I), "refinery"),
    (re.compile(r"nuclear (?:complex|site|facility|facilities|plant|reactor|centre|center)|"
                r"enrichment|reactors?\b|centrifuges?", re.I), "nuclear facility"),
    (re.compile(r"\b(?:ports?|harbou?rs?|terminals?|piers?|quays?)\b", re.I),
     "port or terminal"),
    (re.compile(r"air ?bases?|airfields?|aerodromes?|air force base", re.I), "airbase"),
    (re.compile(r"shipyards?|dockyards?|shipbuilding|naval yard", re.I), "shipyard"),
    (re.compile(r"launch(?:ing)? (?:pad|site|station|complex|cent(?:er|re))|cosmodrome|"
                r"spaceport|space (?:cent(?:er|re)|port)|"
                r"test(?:ing)? (?:site|range|ground)|proving ground|nuclear test", re.I),
     "test site"),
    (re.compile(r"(?:ammunition|munitions?|arms|weapons?) (?:depots?|dumps?|stores?|"
                r"warehouses?)|arsenals?", re.I), "depot or arsenal"),
    (re.compile(r"ammunition|munitions?|shells?\b|artillery (?:plant|factory)", re.I),
     "ammunition plant"),
    (re.compile(r"\bdrones?\b|\bUAVs?\b|Shahed|Geran", re.I), "drone factory"),
    (re.compile(r"arsenals?|depots?|storage", re.I), "depot or arsenal"),
    (re.compile(r"naval base|submarine base|military (?:base|complex)|garrison|barracks",
                re.I), "military base"),
]
_HEAD = (r"(?:Special Economic Zone|Industrial Zone|Industrial Park|"
         r"Machine[- ]Building Plant|Nuclear Power Plant|Power Plant|Plant|Factory|Works|"
         r"Refinery|Shipyard|Dockyard|Shipbuilding Yard|Air ?[Bb]ase|Airfield|Aerodrome|Port|"
         r"Terminal|Depot|Arsenal|Combine|Kombinat|Cosmodrome|Spaceport|"
         r"Launch(?:ing)? (?:Station|Site|Complex|Center|Centre|Pad)|"
         r"Test(?:ing)? (?:Site|Range|Ground)|Proving Ground|Naval Base|Air Force Base|"
         r"Military Base|Missile Base|Plant No\.? ?\d+)")
_NAME_WORD = r"(?:[A-Z][\w'’.-]*|\d+|of|and|for|named|after|im\.|&|the|de|on)"
_NAMED = re.compile(rf"\b((?:[A-Z][\w'’.-]*)(?:\s+{_NAME_WORD}){{0,8}}?\s+{_HEAD})"
                    rf"(?:\s+No\.?\s?\d+)?")
_PORT_OF = re.compile(r"\b([Pp]ort|[Hh]arbou?r|[Nn]aval [Bb]ase) of "
                      r"((?:St\.\s|Saint\s)?[A-Z][\w'’-]+(?:[\s-][A-Z][\w'’-]+){0,2})")
#: a proper name followed by a facility noun in lower case: "Novoshakhtinsk oil refinery",
#: "Punggye-ri nuclear test site", "Sevmash shipyard", "Parchin military complex"
_ADJ = (r"(?:oil|nuclear|chemical|military|naval|missile|ammunition|gas|uranium|enrichment|"
        r"space|satellite|launch|test|drone|tank|aircraft|aviation|artillery|explosives?|"
        r"gunpowder|machine[- ]building|engine|motor|solid[- ]fuel|munitions?|production|"
        r"assembly|storage|research|submarine|air|defen[cs]e|industrial|petrochemical|"
        r"fuel|power|steel|metallurgical|shipbuilding|weapons?|arms|special|economic|free|"
        r"technology|innovation)")
_LOWER_HEAD = (r"(?:refinery|plant|factory|works|shipyard|dockyard|complex|site|base|air ?base|"
               r"airfield|depot|arsenal|port|terminal|facility|cent(?:er|re)|range|station|"
               r"cosmodrome|yard|reactor|zone|park)")
_NAMED_LOWER = re.compile(rf"\b((?:St\.\s)?[A-Z][\w'’-]+(?:[\s-][A-Z][\w'’-]+){{0,2}}"
                          rf"(?:\s+{_ADJ}){{0,3}}\s+{_LOWER_HEAD})\b")
_LOCATOR = re.compile(r"\b\d+(?:[.,]\d+)?\s*(?:km|kilomet(?:re|er)s?|miles?|mi)\s+(?:to the\s+)?"
                      r"(?:north|south|east|west)(?:-?(?:east|west))?(?:ward)?\s+of\s*$",
                      re.I)
_DATELINE = re.compile(r"^[A-Z][A-Z .'-]{2,40}(?:,\s*[A-Z][\w.]*\s*\d{0,2})?\s*"
                       r"(?:\([A-Za-z ]+\))?\s*[-–—]")
_CAP_SEQ = re.compile(r"(?:St\.\s|Saint\s)?[A-Z][\w'’]*(?:-[A-Za-z][\w'’]*)*"
                      r"(?:\s+(?:(?:on|upon|na|am|de|del|la|al|el)\s+)?(?:St\.\s)?"
                      r"[A-Z][\w'’]*(?:-[A-Za-z][\w'’]*)*)*")
_STOP = {"the", "a", "an", "but", "and", "or", "in", "on", "at", "of", "for", "to", "by",
         "with", "from", "as", "it", "its", "this", "that", "these", "those", "he", "she",
         "they", "we", "i", "you", "his", "her", "their", "our", "after", "before", "while",
         "when", "where", "following", "satellite", "satellites", "images", "photos", "some",
         "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
         "january", "february", "march", "april", "may", "june", "july", "august",
         "september", "october", "november", "december", "president", "minister",
         "chancellor", "general", "colonel", "mr", "ms", "dr", "north", "south", "east",
         "west", "western", "eastern", "northern", "southern", "central", "cold", "war",
         "sign", "get", "new", "said", "says", "according", "also", "if", "there", "here",
         "analysts", "officials", "researchers", "reuters", "ap", "afp", "bbc", "cnn",
         "center", "centre", "institute", "studies", "international", "strategic", "union",
         "republic", "national", "federal", "ministry", "agency", "council", "university",
         "foundation", "group", "company", "corporation", "army", "navy", "air", "force",
         "forces", "defense", "defence", "security", "intelligence", "military", "state",
         "european", "soviet", "separately", "meanwhile", "however", "earlier",
         "later", "today", "yesterday", "overnight", "plant", "factory", "port",
         "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
         "commercial", "image", "imagery", "local", "regional", "russian",
         "ukrainian", "iranian", "chinese", "israeli", "american", "british", "korean"}
_STOP |= {fold(w) for w in _STOP}  # words are compared folded: "May" is "mai", "Monday" "mondai"
_PERSON_BEFORE = re.compile(
    r"(?:President|Minister|Chancellor|Secretary|Ambassador|General|Gen\.|Colonel|Col\.|"
    r"Admiral|Governor|Mayor|Mr\.?|Ms\.?|Mrs\.?|Dr\.?|spokesman|spokeswoman|researcher|"
    r"analyst|correspondent|reporter|leader)\s*$")
_NOT_SITE_AFTER = re.compile(r"^(?:-based|-born|-headquartered|\s+(?:said|says|told|wrote|"
                             r"reported|correspondent|bureau|newsroom)\b)")
_EVENT_BEFORE = re.compile(r"(?:meeting|summit|talks|conference|interview|visit|speech|"
                           r"sidelines|contributed|reporting|reported"
                           r"|Center|Centre|Institute|Agency|Ministry|University|Council|"
                           r"Foundation|Studies|Committee|Office|Department|company|firm|"
                           r"think tank|headquarters|embassy)[^.]{0,60}\b(?:in|from)\s*"
                           r"(?:[A-Z][\w'’-]+(?:\s[A-Z][\w'’-]+)?\s*,\s*)?$")
_SAID_IN = re.compile(r"\b(?:said|told|says|speaking|spoke|announced)\s+(?:(?:reporters|"
                      r"journalists|officials|a \w+ conference)\s+)?(?:in|from)\s*"
                      r"(?:[A-Z][\w'’-]+(?:\s[A-Z][\w'’-]+)?\s*,\s*)?$")
_NEAR = re.compile(r"\b(?:outside|near|nearby|outskirts of|close to|(?:\d+\s*(?:km|kilometres|"
                   r"kilometers|miles)\s+)?(?:north|south|east|west)(?:-?(?:east|west))? of|"
                   r"around|vicinity of)\s*$", re.I)
_DIRECTION = re.compile(r"^,?\s*(?:in|of)\s+(?:the\s+)?(north(?:ern|-?western|-?eastern)?|"
                        r"south(?:ern|-?western|-?eastern)?|east(?:ern)?|west(?:ern)?|"
                        r"central|far[- ]eastern)\s+([A-Z][\w'’ ]+?)\b(?=[,.;)]|\s+(?:and|in|"
                        r"where|which|near)\b|$)", re.I)
_IMAGERY = re.compile(r"\b(?:satellite|imagery|images?|photos?|photographs?|pictures?)\b",
                      re.I)
_PROVIDERS = re.compile(r"\b(Maxar(?: Technologies)?|Planet(?: Labs)?|Airbus|Pl[eé]iades|"
                        r"Sentinel-?[12]?|Copernicus|Landsat|BlackSky|Capella(?: Space)?|"
                        r"Umbra|ICEYE|Google Earth|Satellogic|SkySat|WorldView|Vantor|"
                        r"SPOT|KOMPSAT|Gaofen|Jilin)\b")


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
        for m in _CAP_SEQ.finditer(self.text):
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
        direction = _DIRECTION.match(after)
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
        for m in _CAP_SEQ.finditer(chunk):
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
            if _PERSON_BEFORE.search(before) or _NOT_SITE_AFTER.match(after) or \
                    opens_question(self.text, start, a, b):
                continue
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
        if first in _STOP:
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
        window = [s for s in self.sents if s.paragraph == sent.paragraph
                  and abs(s.index - sent.index) <= 2]
        ordered = [sent] + sorted((s for s in window if s is not sent),
                                  key=lambda s: abs(s.index - sent.index))
        for s in ordered:
            for pattern, kind in KINDS:
                if pattern.search(self.text[s.start:s.end]):
                    return kind, (None if s is sent else s)
        if _ANAPHORA.search(self.text[sent.start:sent.end]):
            # "The sites are in ...": the facilities the article introduced earlier
            for s in self.sents[:sent.index]:
                t = self.text[s.start:s.end]
                if _FACILITY_NOUN.search(t):
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
        for m in _FACILITY_NOUN.finditer(self.text, s.start, s.end):
            if not any(a <= m.start() < b for a, b in named):
                return True
        return False

    def _named(self, s: Sentence) -> list[tuple[str, int, int, str]]:
        """(name, start, end, place text or '') of named facilities in a sentence."""
        chunk = self.text[s.start:s.end]
        found: list[tuple[str, int, int, str]] = []

        def free(a: int, b: int) -> bool:
            return all(b <= x or a >= y for _, x, y, _ in found)

        for m in _PORT_OF.finditer(chunk):
            head = m.group(1)
            name = f"{head[0].upper()}{head[1:]} of {m.group(2)}"
            found.append((name, s.start + m.start(), s.start + m.end(), m.group(2)))
        for pattern in (_NAMED, _NAMED_LOWER):
            for m in pattern.finditer(chunk):
                words = m.group(1).split()
                while words and (fold(words[0]) in _STOP or self.gaz.country(
                        re.sub(r"['’]s$", "", words[0])) is not None):
                    words = words[1:]  # "The ...", "Russia's ...", "Iranian ..."
                if len(words) < 2 or not words[0][:1].isupper():
                    continue
                name = " ".join(words)
                a = s.start + m.end(1) - len(name)
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
            if m.start > limit or len(gap.split()) > 7 or _FACILITY_NOUN.search(gap) or \
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
        return m.start - line_start < 40 and bool(_DATELINE.match(head)) and \
            self.text[m.start:m.end].isupper()

    def extract(self) -> list[Candidate]:
        cands: list[Candidate] = []
        top = self.countries.most_common(1)
        article_country = self.gaz.countries.get(top[0][0]) if top else None
        for s in self.sents:
            named = self._named(s)
            spans = [(a, b) for _, a, b, _ in named]
            country_hint = next((c for m in _CAP_SEQ.finditer(self.text, s.start, s.end)
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
                if _LOCATOR.search(before):
                    continue  # "90 km north of Pyongyang" says where something else is
                for q in self._qualifying(mentions, m.end, s.end):
                    if q.place.kind == "region" and contains(q.place, m.place):
                        consumed.append((q.start, q.end))  # "Toropets in the Tver region"
                near = bool(_NEAR.search(before)) or self._near_by_coordination(s, m)
                kind, why = self._kind(s, "", m.start)
                head = re.match(rf"\s+((?:{_ADJ}\s+){{0,3}}{_LOWER_HEAD})\b",
                                self.text[m.end:s.end])
                name = (f"{m.text} {head.group(1)}" if head else
                        f"{kind} {'near' if near else 'in'} {m.text}")
                cands.append(Candidate(name, kind, m.place, m.text, False, near=near,
                                       evidence=[self._quote(s, m.start)] +
                                       ([self._quote(why)] if why else []),
                                       aliases={m.text}, paragraphs={s.paragraph}))
        merged = self._merge(cands)
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
        for n in range(top, 0, -1):
            cand = " ".join(words[:n])
            if fold(words[0]) in _STOP:
                break
            options = [p for p in self.gaz.lookup(cand) if self._plausible(p, cand)
                       and (p.kind == "city" or whole)]
            if not options:
                continue
            regions = [m.place for m in context if m.place.kind == "region"]
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
            near = bool(_NEAR.search(gap) or _LOCATOR.search(gap))
        if inner is None:
            found = cities or qual
            return (found[0].place if found else None), near
        if cities:
            # "the Tambov Gunpowder Plant in Kotovsk": the text says where it is
            far = distance_km(cities[0].place.lat, cities[0].place.lon, inner.place.lat,
                              inner.place.lon) > 100
            return cities[0].place, near or far
        return inner.place, False

    def _near_by_coordination(self, s: Sentence, m: Mention) -> bool:
        """"outside Moscow and St. Petersburg": the preposition covers both places."""
        before = self.text[max(s.start, m.start - 60):m.start]
        mm = re.search(r"((?:St\.\s)?[A-Z][\w'’-]+(?:\s[A-Z][\w'’-]+)*)\s+(?:and|or|,)\s*$",
                       before)
        if not mm:
            return False
        lead = self.text[max(s.start, m.start - 60 - 40):m.start - len(before) + mm.start()]
        return bool(_NEAR.search(lead))

    def _locates_facility(self, m: Mention, s: Sentence) -> bool:
        """False for places of events, organisations and speakers ("a meeting in
        Brussels", "the Center for ... Studies in Washington", "said in Moscow")."""
        before = self.text[max(s.start, m.start - 80):m.start]
        return not (_EVENT_BEFORE.search(before) or _SAID_IN.search(before))

    def _paragraph_place(self, s: Sentence) -> Place | None:
        for other in self.sents:
            if other.paragraph == s.paragraph:
                for m in self.place_mentions(other.start, other.end):
                    if self._locates_facility(m, other):
                        return m.place
        return None

    def _merge(self, cands: list[Candidate]) -> list[Candidate]:
        out: list[Candidate] = []
        for c in sorted(cands, key=lambda c: (not c.named, c.evidence[0].start)):
            target = next((o for o in out if self._same(o, c) or self._nested(o, c)), None)
            if target is None:
                out.append(c)
                continue
            for e in c.evidence:
                if all(e.start != x.start for x in target.evidence):
                    target.evidence.append(e)
            target.aliases |= c.aliases
            target.paragraphs |= c.paragraphs
            target.near = target.near and c.near
            if target.place is None and c.place is not None:
                target.place = c.place
            elif (target.place is not None and c.place is not None and
                  target.place.kind == "region" and c.place.kind == "city"):
                target.place, target.near = c.place, c.near  # the more precise place
        return sorted(out, key=lambda c: min(e.start for e in c.evidence))

    @staticmethod
    def _nested(a: Candidate, b: Candidate) -> bool:
        """One facility described at two levels in one sentence: "at Yelabuga, in the
        Alabuga special economic zone in Tatarstan"."""
        if a.place is None or b.place is None or a.kind != b.kind or (a.named and b.named):
            return False
        if not {e.start for e in a.evidence} & {e.start for e in b.evidence}:
            return False
        kinds = {a.place.kind, b.place.kind}
        if kinds != {"region", "city"}:
            return False
        region, city = (a.place, b.place) if a.place.kind == "region" else (b.place, a.place)
        return contains(region, city)

    @staticmethod
    def _same(a: Candidate, b: Candidate) -> bool:
        if a.named and b.named:
            fa, fb = fold(a.name), fold(b.name)
            if fa == fb or fa in fb or fb in fa:
                return True
            if a.place is not None and b.place is not None and a.place.key == b.place.key \
                    and not (a.borrowed or b.borrowed):
                # "Votkinsk Machine Building Plant" and "the Votkinsk plant"
                wa, wb = set(fa.split()), set(fb.split())
                return wa <= wb or wb <= wa or (len(wa & wb) >= 2 and a.kind == b.kind)
            return False
        if a.place is None or b.place is None or a.borrowed or b.borrowed:
            return False
        same_place = a.place.key == b.place.key or (
            distance_km(a.place.lat, a.place.lon, b.place.lat, b.place.lon) < 1.0)
        if not same_place:
            return False
        return a.kind == b.kind or not (a.named or b.named)

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
            if not _IMAGERY.search(t):
                continue
            provs = sorted({re.sub(r"\s+(?:Technologies|Labs|Space)$", "", m.group(1))
                            for m in _PROVIDERS.finditer(t)})
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
