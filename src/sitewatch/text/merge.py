"""Mentions of one facility become one candidate, under the facility's own name.

Two candidates are one facility when (each rule general, none knows a place):

- their names are the same or one contains the other ("the Votkinsk plant" and "the
  Votkinsk Machine Building Plant"), or they share the proper part of the name at one
  place ("Machulishchy airfield", "Machulishchy Airbase"; "Bohai facility", "Bohai
  shipyard");
- one names the other's location ("the Bohai shipyard, located at the Huludao port");
- a "kind in town" description sits where a named facility is named after that town
  ("nuclear facility in Natanz" and "the Natanz facility");
- they describe one facility at two levels in one sentence ("at Yelabuga, in the Alabuga
  special economic zone in Tatarstan");
- a description placed only at a region ("an airbase in Crimea") lies around the one
  candidate of its kind the article places inside that region (a named facility placed
  at a region stays apart);
- unnamed, of one kind at one place.

The merged candidate keeps every quote and alias; its name is the canonical one
(``names.canonical_name``) and its place the most precise of theirs.
"""

from __future__ import annotations

import re

from sitewatch.text.candidate import Candidate
from sitewatch.text.gazetteer import contains, distance_km, fold
from sitewatch.text.names import canonical_name, generic, leading_words, same_stem

_LOCATED_AT = re.compile(r"^,?\s*(?:which is\s+|is\s+|was\s+)?(?:located|situated|based|sited|"
                         r"lying|housed)\s+(?:at|in|on|inside|within)\s+(?:the\s+)?$", re.I)
#: kinds that may name one facility in two ways ("Bohai facility" is an industrial facility
#: until its other name says shipyard)
_VAGUE_KINDS = {"industrial facility"}


def _compatible(a: Candidate, b: Candidate) -> bool:
    return a.kind == b.kind or a.kind in _VAGUE_KINDS or b.kind in _VAGUE_KINDS \
        or generic(a.name) or generic(b.name)


def _same_place(a: Candidate, b: Candidate) -> bool:
    if a.place is None or b.place is None:
        return False
    return a.place.key == b.place.key or distance_km(a.place.lat, a.place.lon, b.place.lat,
                                                      b.place.lon) < 1.0


def _offset_of(a: Candidate, b: Candidate) -> bool:
    """Whether ``a`` is placed at a distance and bearing from ``b``'s town ("40 km
    southeast of Shahrud" and "the Shahrud site"), in one sentence."""
    return a.place is not None and b.place is not None and b.place.kind == "city" and \
        a.place.name.endswith(f" of {b.place.name}") and a.kind == b.kind and \
        bool({e.start for e in a.evidence} & {e.start for e in b.evidence})


def same(a: Candidate, b: Candidate) -> bool:
    """Whether two candidates are one facility by their names and places."""
    if _offset_of(a, b) or _offset_of(b, a):
        return True
    if a.named and b.named:
        fa, fb = fold(a.name), fold(b.name)
        if fa == fb or fa in fb or fb in fa:
            return True
        la, lb = leading_words(a.name), leading_words(b.name)
        if same_stem(la, lb) and _compatible(a, b) and (
                _same_place(a, b) or a.place is None or b.place is None or a.borrowed
                or b.borrowed or "region" in {a.place.kind, b.place.kind}):
            return True  # "Bohai facility" and "Bohai shipyard"
        wa, wb = set(fa.split()), set(fb.split())
        if (a.place is None or b.place is None) and min(len(wa), len(wb)) >= 2 and (
                wa <= wb or wb <= wa) and _compatible(a, b):
            return True  # "Tuapse refinery" and "the Black Sea Tuapse oil refinery"
        if _same_place(a, b) and not (a.borrowed or b.borrowed):
            # "Votkinsk Machine Building Plant" and "the Votkinsk plant"
            wa, wb = set(fa.split()), set(fb.split())
            return wa <= wb or wb <= wa or (len(wa & wb) >= 2 and a.kind == b.kind)
        return False
    if a.borrowed or b.borrowed or not _same_place(a, b):
        return False
    if a.named != b.named:
        named, other = (a, b) if a.named else (b, a)
        town = fold(other.place_text or "")
        if town and leading_words(named.name).startswith(town):
            return True  # "nuclear facility in Natanz" and "the Natanz facility"
    return a.kind == b.kind or not (a.named or b.named)


def nested(a: Candidate, b: Candidate) -> bool:
    """One facility described at two levels in one sentence: "at Yelabuga, in the
    Alabuga special economic zone in Tatarstan"."""
    if a.place is None or b.place is None or a.kind != b.kind or (a.named and b.named):
        return False
    if not {e.start for e in a.evidence} & {e.start for e in b.evidence}:
        return False
    if {a.place.kind, b.place.kind} != {"region", "city"}:
        return False
    region, city = (a.place, b.place) if a.place.kind == "region" else (b.place, a.place)
    return contains(region, city)


def located_at(text: str, a: Candidate, b: Candidate) -> bool:
    """Whether ``b`` is named as ``a``'s location in one sentence ("the Bohai shipyard,
    located at the Huludao port")."""
    if not (a.named and b.named):
        return False
    for ea in a.evidence:
        for name in a.aliases | {a.name}:
            at = text.find(name, ea.start, ea.end)
            if at < 0:
                continue
            for nb in b.aliases | {b.name}:
                bt = text.find(nb, at + len(name), ea.end)
                if bt >= 0 and _LOCATED_AT.match(text[at + len(name):bt]):
                    return True
    return False


def _absorb(target: Candidate, c: Candidate) -> None:
    for e in c.evidence:
        if all(e.start != x.start for x in target.evidence):
            target.evidence.append(e)
    target.aliases |= c.aliases | ({c.name} if c.named else set())
    target.paragraphs |= c.paragraphs
    target.near = target.near and c.near
    if target.kind in _VAGUE_KINDS and c.kind not in _VAGUE_KINDS:
        target.kind = c.kind
    if _same_place(target, c):
        target.borrowed = target.borrowed and c.borrowed  # one mention says where it is
        target.by_name = target.by_name and c.by_name
    if _offset_of(c, target):  # the distance and bearing say where it is
        target.place, target.near, target.borrowed = c.place, c.near, False
        target.by_name = False
        target.name = c.name if not target.named else target.name
    if target.place is None and c.place is not None:
        target.place, target.near, target.place_text = c.place, c.near, c.place_text
        target.borrowed, target.by_name = c.borrowed, c.by_name
    elif (target.place is not None and c.place is not None and
          target.place.kind == "region" and c.place.kind == "city"):
        target.place, target.near = c.place, c.near  # the more precise place
        target.place_text, target.borrowed = c.place_text, c.borrowed
        target.by_name = c.by_name
        if not target.named:
            target.name = c.name  # "depot in Yartsevo", not "... in Smolensk region"
    if c.named and target.named:
        target.name = canonical_name([target.name, c.name])
    elif c.named:
        target.name, target.named = c.name, True


def merge_candidates(text: str, cands: list[Candidate]) -> list[Candidate]:
    """One candidate per facility, in the order the text first mentions them."""
    out: list[Candidate] = []
    for c in sorted(cands, key=lambda c: (not c.named, c.evidence[0].start)):
        target = next((o for o in out if same(o, c) or nested(o, c)
                       or located_at(text, o, c) or located_at(text, c, o)), None)
        if target is None:
            out.append(c)
        else:
            _absorb(target, c)
    _fold_regional(out)
    return sorted(out, key=lambda c: min(e.start for e in c.evidence))


def _fold_regional(cands: list[Candidate]) -> None:
    """A candidate placed only at a region merges into the one more precise candidate of
    a compatible kind that lies inside that region ("an airbase in Crimea" and "the Saky
    base"); with two or more such candidates, it stays apart."""
    for c in list(cands):
        if c.place is None or c.place.kind != "region" or c.coords is not None or c.named:
            continue  # a named facility keeps its name ("the Rosneft oil depot" in a village
            # the gazetteer does not know is not the depot in Yartsevo)
        inside = [o for o in cands if o is not c and o.place is not None
                  and o.place.kind in ("city", "facility") and _compatible(o, c)
                  and (o.kind == c.kind or o.named) and contains(c.place, o.place)]
        if len(inside) == 1:
            _absorb(inside[0], c)
            cands.remove(c)


__all__ = ["located_at", "merge_candidates", "nested", "same"]
