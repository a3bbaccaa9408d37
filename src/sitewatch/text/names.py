"""What a capitalised name in running text is, when it is not a place, and which of a
facility's names is its own.

- **Vessels, weapons and aircraft are never places**: a submarine or a ship named after
  a city ("the nuclear-powered attack submarine Severodvinsk", "SSGN Kazan"), a missile
  or an aircraft class named after a place ("the Khorramshahr missile", "Hwasong-17",
  "the Kazan-class") is a thing, wherever it was built.
- **A capital that acts is its government**: "Tehran is building an underground plant",
  "Moscow denied": the subject of a verb of agency is a state, not a location.
- **A description is not a name**: "a Crimean air base", "a Russian military airbase"
  (an indefinite article before it) names no particular facility.
- **The facility's own name wins**: of the names merged into one candidate, the
  canonical one is the most specific (a particular head such as "shipyard" or
  "Launching Station" before a generic "facility", "site" or "base"), then the longest.
- **Distances and bearings place**: "some 25 miles southeast of Shahrud" puts the site at
  that offset from the town, with an uncertainty of a quarter of the distance.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

from sitewatch.text.gazetteer import fold
from sitewatch.text.vocabulary import ADJ, LOWER_HEAD, NUMBER, NUMBER_WORDS

_VESSEL_BEFORE = re.compile(
    r"(?:\b(?:SSGN|SSBN|SSN|SSK|SSB|INS|USS|HMS|RFS|PLAN|RV|MV|MT)"
    r"|\b(?:submarines?|subs?|boats?|battleships?|cruisers?|frigates?|destroyers?|corvettes?|"
    r"carriers?|warships?|ships?|vessels?|tankers?|icebreakers?|freighters?|cutters?|"
    r"missiles?|rockets?|drones?|bombers?|fighters?|jets?|aircraft|planes?|helicopters?|"
    r"launchers?|warheads?|torpedo(?:es)?|class|type|christened))"
    r"[\s\"'“‘]*(?:the\s+)?$", re.I)
_WEAPON_AFTER = re.compile(
    r"^(?:-\d+[A-Za-z]?\b(?!\s+(?:(?:\w+\s+)?(?:air ?base|airbase|airfield|aerodrome|"
    r"plant|factory|works|complex|site|base|facility|range|cosmodrome|centre|center|"
    r"station|shipyard|yard|port|depot|arsenal)s?\b|(?:is|was|in|at|near)\b))|"
    r"[- ](?:class|type)\b|\s*\(?(?:SSGN|SSBN|SSN|SSK)\b|"
    r"(?:\s+[\w-]+)?\s+(?:missiles?|rockets?|ballistic|cruise|ICBMs?|IRBMs?|MRBMs?|SRBMs?|"
    r"SLBMs?|drones?|UAVs?|submarines?|destroyers?|frigates?|cruisers?|corvettes?|warships?|"
    r"(?:landing |cargo |training |patrol )?ships?|vessels?|boats?|tankers?|icebreakers?|"
    r"bombers?|fighters?|jets?|aircraft|launchers?|warheads?|torpedo(?:es)?|tanks?)\b"
    r"(?!\s+(?:\w+\s+)?(?:plants?|factor(?:y|ies)|works|complex(?:es)?|sites?|bases?|"
    r"facilit(?:y|ies)|production|assembly|yards?|shipyards?|range|test|launch|brigade|"
    r"regiment|division|unit|garrison)\b))", re.I)
_AGENT_VERB = re.compile(
    r"^\s+(?:(?:also|has|have|had|will|would|could|may|might|must|now|still|then|reportedly|"
    r"apparently|is|was|has been)\s+)*(?:is|was|has been)?\s*"
    r"(?:says?|said|told|denie[sd]|deny|claim(?:s|ed)?|insist(?:s|ed)?|announce[sd]?|"
    r"accuse[sd]?|want(?:s|ed)?|plan(?:s|ned)?|supplie[sd]|supply|agree[sd]?|decide[sd]?|"
    r"build(?:s|ing)?|built|launche[sd]|sen[dt]s?|warn(?:s|ed)?|threaten(?:s|ed)?|"
    r"responded|retaliated|vowed|signed|ordered|blamed|rejected|acknowledged|expanding|"
    r"developing|constructing|moving|seeking|sought|pledged|hopes?|hoped|believes?|"
    r"considers?|agreed)\b")
_SUBJECT_BEFORE = re.compile(r"(?:^|[.;:!?\"“”]\s*|,\s*|\b(?:that|and|but|while|as|after|"
                             r"because|acknowledged|said|says|believes?|thinks?|fears?|"
                             r"warned|noted)\s+)$")
_INDEFINITE = re.compile(r"\b(?:an?|another|any|one|some|several)\s+$", re.I)
_GENERIC_HEADS = {"facility", "facilities", "site", "sites", "complex", "base", "zone",
                  "centre", "center", "station", "area", "park", "compound", "installation"}
#: words that begin the head of a facility's name ("Air Base", "Airbase", "Oil Refinery")
_HEAD_WORD = re.compile(rf"(?i:{ADJ}|{LOWER_HEAD}|air|airbase|airport|plants?|"
                        r"launch(?:ing)?|satellite|refinery|shipbuilding|machine[- ]building)")
_OFFSET = re.compile(
    r"\b(?:about|some|around|roughly|approximately|nearly|almost|just|over|under|less than|"
    rf"more than)?\s*({NUMBER})\s*(km|kilomet(?:re|er)s?|miles?|mi)\s+(?:\([^)]{{0,20}}\)\s+)?"
    r"(?:to the\s+)?(north|south|east|west)(?:-?(east|west))?(?:ward)?\s+of\s+(?:the\s+)?"
    r"(?:(?:city|town|village|capital|port) of\s+)?$", re.I)
_BEARINGS = {"north": 0.0, "east": 90.0, "south": 180.0, "west": 270.0,
             "northeast": 45.0, "northwest": 315.0, "southeast": 135.0, "southwest": 225.0}
OFFSET_MIN_KM = 3.0
OFFSET_MAX_KM = 300.0


_NAMED_VESSEL = re.compile(
    r"\b(?:ships?|vessels?|submarines?|subs?|boats?|frigates?|destroyers?|cruisers?|"
    r"corvettes?|carriers?|tankers?|icebreakers?|aircraft|planes?|missiles?|rockets?)\b"
    r"[^.;]{0,20}?\b(?:named|called|christened|dubbed|renamed)\s+(?:the\s+)?[\"'“‘]?$", re.I)


def vessel_or_weapon(text: str, a: int, b: int) -> bool:
    """Whether the name at ``text[a:b]`` names a vessel, a weapon or an aircraft: after a
    word such as "submarine", "SSGN" or "battleship", or before "-class", "-17" or
    "missile" (but "the Votkinsk missile plant" is a place: a facility noun follows)."""
    before = text[max(0, a - 40):a]
    if _NAMED_VESSEL.search(before):
        return True  # "the burnt-out ship, named Novocherkassk"
    if _VESSEL_BEFORE.search(before) and not re.search(r"\b(?:in|at|of|near|from|to)\s+$",
                                                       before, re.I):
        return True
    return bool(_WEAPON_AFTER.match(text[b:b + 80]))


def acts_as_government(text: str, sentence_start: int, a: int, b: int) -> bool:
    """Whether the place at ``text[a:b]`` is the subject of a verb of agency ("Tehran is
    building", "Moscow denied"): its state, not a location."""
    before = text[max(sentence_start, a - 30):a]
    return bool(_AGENT_VERB.match(text[b:b + 60])) and bool(_SUBJECT_BEFORE.search(before))


def described_not_named(text: str, a: int) -> bool:
    """Whether the words at ``text[a:]`` follow an indefinite article ("a Crimean air
    base"): a description of some facility, not its name."""
    return bool(_INDEFINITE.search(text[max(0, a - 12):a]))


def leading_words(name: str) -> str:
    """The proper part of a facility's name before its head, folded: "bohai" of "Bohai
    shipyard", "machulishchy" of "Machulishchy Airbase" and of "Machulishchy air base"."""
    words = []
    for w in name.split():
        if not w[:1].isupper() or fold(w) in _GENERIC_HEADS or _HEAD_WORD.fullmatch(w):
            break
        words.append(w)
    return fold(" ".join(words))


def same_stem(a: str, b: str) -> bool:
    """Whether two folded proper names are one name, allowing an adjectival ending of up to
    two letters ("votkinsky" and "votkinsk", "sarovskii" and "sarov")."""
    if not a or not b:
        return False
    short, long_ = sorted((a, b), key=len)
    return long_ == short or (len(short) >= 4 and long_.startswith(short)
                              and len(long_) - len(short) <= 2 and " " not in long_[len(short):])


def generic(name: str) -> bool:
    """Whether a facility's name ends in a generic head ("Bohai facility", "Saky base")."""
    words = fold(name).split()
    return bool(words) and words[-1] in _GENERIC_HEADS


def canonical_name(names: Iterable[str]) -> str:
    """The facility's own name among ``names``: a specific head before a generic one,
    then a capitalised head, then the longest, then the first."""
    ordered = list(dict.fromkeys(names))
    return max(ordered, key=lambda n: (not generic(n), n.split()[-1][:1].isupper(),
                                       len(n.split()), -ordered.index(n)))


def offset_before(text: str, sentence_start: int, a: int) -> tuple[float, float] | None:
    """(distance in km, bearing in degrees) of "25 miles southeast of" right before
    ``text[a:]``, or None."""
    m = _OFFSET.search(text[max(sentence_start, a - 80):a])
    if not m:
        return None
    num = m.group(1).lower()
    dist = float(NUMBER_WORDS[num]) if num in NUMBER_WORDS else float(num.replace(",", "."))
    if m.group(2).lower().startswith("mi"):
        dist *= 1.609344
    word = m.group(3).lower() + (m.group(4) or "").lower()
    if word not in _BEARINGS or not OFFSET_MIN_KM <= dist <= OFFSET_MAX_KM:
        return None
    return dist, _BEARINGS[word]


def offset_point(lat: float, lon: float, dist_km: float, bearing_deg: float
                 ) -> tuple[float, float]:
    """The point ``dist_km`` from (lat, lon) along ``bearing_deg`` (great circle)."""
    r = dist_km / 6371.0
    p1, l1, th = math.radians(lat), math.radians(lon), math.radians(bearing_deg)
    p2 = math.asin(math.sin(p1) * math.cos(r) + math.cos(p1) * math.sin(r) * math.cos(th))
    l2 = l1 + math.atan2(math.sin(th) * math.sin(r) * math.cos(p1),
                         math.cos(r) - math.sin(p1) * math.sin(p2))
    return math.degrees(p2), (math.degrees(l2) + 540.0) % 360.0 - 180.0


__all__ = ["acts_as_government", "canonical_name", "described_not_named", "generic",
           "leading_words", "offset_before", "offset_point", "same_stem", "vessel_or_weapon"]
