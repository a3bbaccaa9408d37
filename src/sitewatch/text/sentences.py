"""Sentences and paragraphs of an article, with character offsets, and its headings.

A line break ends a paragraph; inside a paragraph, sentence boundaries come from
``pysbd`` (Python Sentence Boundary Disambiguation, MIT licence), which knows
abbreviations ("St. Petersburg", "the U.S. Army", "Gen.", "No. 4") and quotations. A
paragraph longer than ``PYSBD_MAX_CHARS`` (a run-on line, a text dump), or an article with
more than ``PYSBD_BUDGET_CHARS`` of them, is split by a simple rule instead (a full stop,
question or exclamation mark before a capital), so the time stays linear.

A **heading** is a paragraph of one short sentence that does not end as a sentence
does: a headline ("Satellite imagery shows aircraft at Machulishchy air base after likely
drone attack"), a section title ("Main Satellite Launch Pad"), a caption, a byline. In a
text of one line, that line is a sentence, and so is an item of a list ("- the Perm Powder
Plant").
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

PYSBD_MAX_CHARS = 20_000
PYSBD_BUDGET_CHARS = 400_000
HEADING_MAX_WORDS = 16

_ABBREV = re.compile(r"(?:\b(?:St|Mr|Mrs|Ms|Dr|Gen|Lt|Col|Maj|Capt|Sgt|Adm|Gov|Sen|Rep|Prof|"
                     r"No|Nos|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|Corp|Inc|Ltd|"
                     r"Co|vs|etc|approx|est|Ft|Mt)|\b[A-Z](?:\.[A-Z])*)$")
_BOUNDARY = re.compile(r"[.!?]+[\"'”’)\]]*(?=\s+[\"'“‘(\[]?[A-Z0-9])")
_LIST_ITEM = re.compile(r"\s*(?:[-*•‣–]|\d{1,2}[.)])\s")
_ENDS_SENTENCE = re.compile(r"[.!?:;…][\"'”’)\]]*$|[\"”’]$")


@dataclass(frozen=True)
class Sentence:
    start: int
    end: int
    paragraph: int
    index: int
    heading: bool = False


@lru_cache(maxsize=1)
def _segmenter() -> Any:
    import pysbd

    return pysbd.Segmenter(language="en", clean=False)


def _rule_split(text: str, a: int, b: int) -> list[tuple[int, int]]:
    """Sentence spans of ``text[a:b]`` by punctuation before a capital."""
    out, pos = [], a
    for m in _BOUNDARY.finditer(text, a, b):
        if _ABBREV.search(text[max(pos, m.start() - 12):m.start()]):
            continue
        out.append((pos, m.end()))
        pos = m.end()
    out.append((pos, b))
    return out


def _pysbd_split(text: str, a: int, b: int) -> list[tuple[int, int]]:
    """Sentence spans of ``text[a:b]`` by pysbd, located in the text by their own words
    (pysbd returns the sentences; their offsets are found again here)."""
    out, pos = [], a
    for seg in _segmenter().segment(text[a:b]):
        piece = seg.strip()
        if not piece:
            continue
        at = text.find(piece, pos, b)
        if at < 0:  # pysbd changed the text: keep the rest as one sentence
            break
        out.append((at, at + len(piece)))
        pos = at + len(piece)
    if pos < b and text[pos:b].strip():
        out.append((pos, b))
    return out


def sentences(text: str) -> list[Sentence]:
    """The sentences of ``text`` with their offsets; a line break ends a paragraph."""
    spans: list[tuple[int, int, int]] = []
    budget = PYSBD_BUDGET_CHARS
    para = 0
    lines = [(m.start(), m.end()) for m in re.finditer(r"[^\n]+", text)]
    for a, b in lines:
        if not text[a:b].strip():
            continue
        use_pysbd = b - a <= PYSBD_MAX_CHARS and budget > 0
        budget -= (b - a) if use_pysbd else 0
        for x, y in (_pysbd_split if use_pysbd else _rule_split)(text, a, b):
            while x < y and text[x].isspace():
                x += 1
            while y > x and text[y - 1].isspace():
                y -= 1
            if y > x:
                spans.append((x, y, para))
        para += 1
    per_paragraph = Counter(p for _, _, p in spans)
    many = para > 1
    return [Sentence(x, y, p, i, many and per_paragraph[p] == 1 and is_heading(text[x:y]))
            for i, (x, y, p) in enumerate(spans)]


def is_heading(line: str) -> bool:
    """Whether a one-sentence paragraph reads as a heading, not as a sentence: short,
    and not ending with a full stop, question mark, colon or closing quote."""
    words = line.split()
    if _LIST_ITEM.match(line):
        return False  # "- Votkinsk Machine Building Plant": an item of a list of sites
    return 0 < len(words) <= HEADING_MAX_WORDS and not _ENDS_SENTENCE.search(line.rstrip())


__all__ = ["Sentence", "is_heading", "sentences"]
