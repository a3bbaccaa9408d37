"""``sitewatch sites from-text``: candidates of an article added to the watchlist, each with
the article (file, title, sha256) and every quote that justifies it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sitewatch.catalog import Store
from sitewatch.errors import InputValueError, NotFoundError
from sitewatch.geo.aoi import aoi_from_point
from sitewatch.model import Site, SiteSource
from sitewatch.pipeline.watchlist import add_site
from sitewatch.text.extract import extract_sites
from sitewatch.text.facilities import FacilityIndex
from sitewatch.text.ingest import Article, read_article

MIN_RADIUS_M = 500.0


@dataclass(frozen=True)
class Added:
    name: str
    status: str  # "added" | "source added" | "already" | "not placed"
    site_id: int | None
    reason: str | None = None


def read_candidates(path: Path, published: date | None = None,
                    gazetteer_dir: Path | None = None) -> tuple[Article, list[dict[str, Any]]]:
    """The article and its candidates; ``gazetteer_dir``: the workspace's facilities."""
    article = read_article(path)
    known = FacilityIndex.load(gazetteer_dir) if gazetteer_dir is not None else None
    return article, extract_sites(article.text, published or article.published, known)


def _matches(c: dict[str, Any], wanted: str) -> bool:
    w = wanted.strip().lower()
    return w == c["name"].lower() or w in (a.lower() for a in c.get("aliases", []))


def _source(article: Article, c: dict[str, Any]) -> SiteSource:
    return SiteSource(file=str(article.path.resolve()), title=article.title,
                      sha256=article.sha256,
                      published=article.published.isoformat() if article.published else None,
                      quotes=tuple(c["evidence"]), candidate=c)


def add_from_text(store: Store, path: Path, accept: list[str] | None, take_all: bool,
                  published: date | None = None, gazetteer_dir: Path | None = None
                  ) -> tuple[Article, list[Added]]:
    """Add the chosen candidates; re-running adds nothing twice."""
    if not accept and not take_all:
        raise InputValueError("choose candidates with --accept NAME (repeatable) or --all; "
                              "see them first with 'sitewatch extract ARTICLE'")
    article, cands = read_candidates(path, published, gazetteer_dir)
    chosen = cands
    if accept:
        missing = [a for a in accept if not any(_matches(c, a) for c in cands)]
        if missing:
            names = "; ".join(c["name"] for c in cands) or "none"
            raise InputValueError(f"no candidate called {missing[0]!r} in {path}: "
                                  f"candidates are: {names}")
        chosen = [c for c in cands if any(_matches(c, a) for a in accept)]
    results = []
    for c in chosen:
        if c["lat"] is None or c["lon"] is None:
            results.append(Added(c["name"], "not placed", None,
                                 "the text does not place it: add it with 'sitewatch sites "
                                 "add' and --lat/--lon"))
            continue
        try:
            existing: Site | None = store.site(c["name"])
        except NotFoundError:
            existing = None
        if existing is not None:
            if store.add_source(existing.id, _source(article, c)):
                results.append(Added(c["name"], "source added", existing.id))
            else:
                results.append(Added(c["name"], "already", existing.id,
                                     "already in the watchlist from this article"))
            continue
        aoi = aoi_from_point(c["lon"], c["lat"], max(c["radius_m"] or 0.0, MIN_RADIUS_M))
        how = c.get("placement") or "placed"
        where = f"{how}: {c['coordinates']['text']}" if c.get("coordinates") else \
            f"{how}: {c['place'] or '?'}"
        notes = (f"proposed from {article.title or article.path.name} ({c['kind']}, "
                 f"{where}, radius {c['radius_m']:.0f} m, confidence {c['confidence']})"
                 + "".join(f"; doubted: {d}" for d in c.get("doubts", [])))
        made = add_site(store, c["name"], aoi, c["kind"], c["country"],
                        [a for a in c.get("aliases", []) if a != c["name"]], notes,
                        sources=[_source(article, c)])
        results.append(Added(c["name"], "added", made.id))
    return article, results

