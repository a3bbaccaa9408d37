#!/usr/bin/env python3
"""How well ``sitewatch extract`` finds facilities in real articles.

Runs the real extractor (``text.extract.extract_sites``) on each article of the
evaluation set in ``tests/data/text_eval/`` (one JSON file per article: source, excerpt,
gold facilities with coordinates and their sources, the article's non-places) and
matches every proposal to the gold facilities by distance. Printed for the tuning part
and the held-out part separately (the extractor is never tuned on the held-out part):

- recall: the fraction of gold facilities with a proposal within 5 km (and 30 km);
- precision: the fraction of proposals within 5 km (and 30 km) of a gold facility (an
  unplaced proposal is never correct);
- non-places: wrong proposals whose name or place is one of the article's annotated
  persons, organisations, weapons, vessels or aircraft;
- politics: proposals made from articles that name no facility at all;
- p5pl: precision at 5 km among the placed proposals only; the mean confidence of the
  correct proposals and of the wrong ones.

The sample articles in ``../shared/articles`` are scored too when a gold file
``NAME.gold.json`` lies beside them; otherwise only their proposals are counted.

    python scripts/evaluate_text.py [--json] [--verbose] [--set DIR]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sitewatch.text.extract import extract_sites
from sitewatch.text.gazetteer import fold

ROOT = Path(__file__).resolve().parent.parent
EVAL_SET = ROOT / "tests" / "data" / "text_eval"
NEAR_KM, FAR_KM = 5.0, 30.0


def km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (math.sin((p2 - p1) / 2) ** 2 +
         math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2)
    return 6371.0 * 2 * math.asin(math.sqrt(min(1.0, a)))


def _published(text: str | None) -> date | None:
    m = re.match(r"(\d{4})-(\d{2})(?:-(\d{2}))?$", text or "")
    if not m:
        return None
    return date(int(m.group(1)), int(m.group(2)), int(m.group(3) or 1))


def _mentions(name: str, terms: list[str]) -> str | None:
    """The annotated non-place that ``name`` is or contains, as whole words."""
    folded = f" {fold(name)} "
    for t in terms:
        ft = fold(t)
        if ft and f" {ft} " in folded:
            return t
    return None


@dataclass
class Score:
    gold: int = 0
    found5: int = 0
    found30: int = 0
    proposals: int = 0
    placed: int = 0
    conf_ok: list[float] = field(default_factory=list)
    conf_wrong: list[float] = field(default_factory=list)
    correct5: int = 0
    correct30: int = 0
    non_places: list[str] = field(default_factory=list)
    politics: int = 0
    articles: int = 0

    def add(self, o: Score) -> None:
        for k in ("gold", "found5", "found30", "proposals", "placed", "correct5",
                  "correct30", "politics", "articles"):
            setattr(self, k, getattr(self, k) + getattr(o, k))
        self.non_places += o.non_places
        self.conf_ok += o.conf_ok
        self.conf_wrong += o.conf_wrong

    def as_dict(self) -> dict[str, Any]:
        def frac(a: int, b: int) -> float | None:
            return round(a / b, 3) if b else None

        def mean(v: list[float]) -> float | None:
            return round(sum(v) / len(v), 2) if v else None
        return {"articles": self.articles, "gold": self.gold, "proposals": self.proposals,
                "placed": self.placed,
                "recall_5km": frac(self.found5, self.gold),
                "recall_30km": frac(self.found30, self.gold),
                "precision_5km": frac(self.correct5, self.proposals),
                "precision_30km": frac(self.correct30, self.proposals),
                "precision_5km_placed": frac(self.correct5, self.placed),
                "confidence_correct": mean(self.conf_ok),
                "confidence_wrong": mean(self.conf_wrong),
                "non_place_proposals": len(self.non_places),
                "politics_proposals": self.politics}


def score_article(art: dict[str, Any], verbose: bool = False) -> tuple[Score, list[str]]:
    cands = extract_sites(art["excerpt"], _published(art.get("date")))
    gold = art.get("facilities", [])
    terms = list(art.get("non_places", []))
    s = Score(gold=len(gold), proposals=len(cands), articles=1)
    lines = []
    for g in gold:
        d = min((km(g["lat"], g["lon"], c["lat"], c["lon"]) for c in cands
                 if c["lat"] is not None), default=math.inf)
        s.found5 += d <= NEAR_KM
        s.found30 += d <= FAR_KM
        lines.append(f"    gold {g['name']}: nearest proposal "
                     f"{'none' if d == math.inf else f'{d:.1f} km'}")
    for c in cands:
        d = min((km(g["lat"], g["lon"], c["lat"], c["lon"]) for g in gold
                 if c["lat"] is not None), default=math.inf)
        s.correct5 += d <= NEAR_KM
        s.correct30 += d <= FAR_KM
        s.placed += c["lat"] is not None
        (s.conf_ok if d <= NEAR_KM else s.conf_wrong).append(float(c["confidence"]))
        bad = None if d <= NEAR_KM else (_mentions(c["name"], terms) or
                                         _mentions(c["place"] or "", terms))
        if bad:
            s.non_places.append(f"{art['id']}: {c['name']!r} ({bad})")
        if not gold:
            s.politics += 1
        where = ("unplaced" if c["lat"] is None else
                 f"{c['lat']:.3f},{c['lon']:.3f} {c['placement']}")
        verdict = "ok" if d <= NEAR_KM else ("near" if d <= FAR_KM else "WRONG")
        lines.append(f"    {verdict:5} {c['name']!r} {where} conf {c['confidence']}"
                     + (f" aliases {c['aliases']}" if verbose and c["aliases"] else "")
                     + (f" [non-place: {bad}]" if bad else ""))
    return s, lines


def samples() -> list[tuple[Path, dict[str, Any] | None]]:
    base = Path(os.environ.get("SITEWATCH_SAMPLES", ROOT.parent / "shared" / "data"))
    folder = base.parent / "articles"
    out = []
    for p in sorted(folder.glob("*.txt")) if folder.is_dir() else []:
        gold = p.with_suffix(".gold.json")
        out.append((p, json.loads(gold.read_text(encoding="utf-8")) if gold.is_file()
                    else None))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", action="store_true", help="print the scores as JSON")
    ap.add_argument("--verbose", action="store_true", help="each article's proposals")
    ap.add_argument("--set", type=Path, default=EVAL_SET, help="folder of article files")
    args = ap.parse_args(argv)
    files = sorted(args.set.glob("*.json"))
    if not files:
        print(f"evaluate_text: no article files in {args.set}", file=sys.stderr)
        return 2
    parts: dict[str, Score] = {"tune": Score(), "heldout": Score()}
    report: dict[str, Any] = {"articles": {}}
    for f in files:
        art = json.loads(f.read_text(encoding="utf-8"))
        s, lines = score_article(art, args.verbose)
        parts[art["part"]].add(s)
        report["articles"][art["id"]] = s.as_dict()
        if not args.json and args.verbose:
            print(f"[{art['part']}] {art['id']}")
            print("\n".join(lines))
    extra = Score()
    for path, gold in samples():
        art = {"id": path.name, "excerpt": path.read_text(encoding="utf-8"),
               **(gold or {"facilities": None, "non_places": []})}
        if gold is None:
            n = len(extract_sites(art["excerpt"]))
            report["articles"][path.name] = {"proposals": n, "gold": None}
            if not args.json:
                print(f"sample {path.name}: no gold file, {n} proposals (not scored)")
            continue
        s, lines = score_article(art, args.verbose)
        extra.add(s)
    report["parts"] = {k: v.as_dict() for k, v in parts.items()}
    if extra.articles:
        report["parts"]["shared samples"] = extra.as_dict()
    report["non_places"] = [n for p in (*parts.values(), extra) for n in p.non_places]
    if args.json:
        print(json.dumps(report, indent=1))
        return 0
    print(f"{'part':16} {'art':>3} {'gold':>4} {'prop':>4} {'rec5':>5} {'rec30':>5} "
          f"{'prec5':>5} {'prec30':>6} {'p5pl':>5} {'nonpl':>5} {'polit':>5} "
          f"{'conf ok/wrong':>13}")
    for name, d in report["parts"].items():
        def pct(v: float | None) -> str:
            return "  -  " if v is None else f"{100 * v:4.0f}%"
        print(f"{name:16} {d['articles']:3d} {d['gold']:4d} {d['proposals']:4d} "
              f"{pct(d['recall_5km'])} {pct(d['recall_30km'])} {pct(d['precision_5km'])} "
              f"{pct(d['precision_30km']):>6} {pct(d['precision_5km_placed'])} "
              f"{d['non_place_proposals']:5d} {d['politics_proposals']:5d} "
              f"{d['confidence_correct'] or '-':>6}/{d['confidence_wrong'] or '-'}")
    for n in report["non_places"]:
        print(f"  non-place proposed: {n}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
