"""``sitewatch demo``: a workspace built from the real sample data, analysed end to end.

- LEVIR-CD tiles (Google Earth, about 0.5 m, Austin, Texas), placed with the EPSG:4326
  bounds in ``levir-cd/metadata/staged_bounds_epsg4326.csv``. LEVIR-CD states only that its
  pairs span 2002-2018 with 5 to 14 years between the dates, so image A is dated
  2002/2013 and image B 2007/2018: what is known, no invented day.
- The Puerto Rico pre/post Hurricane Maria pair (Maxar Open Data, 0.3 m, EPSG:32619):
  the landfall was on 2017-09-20, so the dates are "on or before 2017-09-19" and
  "on or after 2017-09-20".
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shapely.geometry import box
from shapely.geometry.base import BaseGeometry

from sitewatch.api import Workspace
from sitewatch.errors import ConfigError, ConflictError, NotFoundError
from sitewatch.geo.aoi import to_crs
from sitewatch.imagery.local import inspect_image
from sitewatch.model.objects import change_label

LEVIR_CREDIT = "Google Earth imagery, from the LEVIR-CD dataset (Chen & Shi, 2020)"
LEVIR_LICENCE = "LEVIR-CD: academic research use only"
LEVIR_NOTE = ("LEVIR-CD gives no acquisition dates: its pairs span 2002-2018, "
              "5 to 14 years apart")
MAXAR_CREDIT = "Satellite image (c) Maxar Technologies, Maxar Open Data Program"
LEVIR_TILES = ("test_2_0000_0000", "test_77_0512_0256")


@dataclass(frozen=True)
class SceneSpec:
    """A demo image and what is known of it."""

    path: Path
    date: str
    provider: str
    credit: str
    licence: str
    bounds: tuple[float, float, float, float] | None = None
    crs: str | None = None
    notes: str | None = None

    def facts(self) -> dict[str, Any]:
        return {"date": self.date, "provider": self.provider, "credit": self.credit,
                "licence": self.licence, "bounds": self.bounds, "crs": self.crs,
                "notes": self.notes}


@dataclass(frozen=True)
class DemoPair:
    site: str
    kind: str
    country: str
    aoi_note: str
    before: SceneSpec
    after: SceneSpec


def levir_bounds(samples: Path) -> dict[str, tuple[float, float, float, float]]:
    path = samples / "levir-cd" / "metadata" / "staged_bounds_epsg4326.csv"
    with open(path, newline="", encoding="utf-8") as fh:
        return {Path(r["staged_glob"]).stem: (float(r["west"]), float(r["south"]),
                                               float(r["east"]), float(r["north"]))
                for r in csv.DictReader(fh)}


def demo_pairs(samples: Path) -> list[DemoPair]:
    bounds = levir_bounds(samples)
    pairs = []
    for tile in LEVIR_TILES:
        b = bounds[tile]

        def spec(ab: str, date: str, tile: str = tile, b: tuple = b) -> SceneSpec:
            return SceneSpec(samples / "levir-cd" / "tiles256" / ab / f"{tile}.png", date,
                             "Google Earth", LEVIR_CREDIT, LEVIR_LICENCE, b, "EPSG:4326",
                             LEVIR_NOTE)

        pairs.append(DemoPair(f"Austin subdivision (LEVIR-CD {tile})",
                              "residential construction", "United States",
                              f"LEVIR-CD tile {tile}, Austin, Texas",
                              spec("A", "2002/2013"), spec("B", "2007/2018")))
    pr = samples / "puerto-rico-maria"
    tile = "tile_0_107.tif"
    pairs.append(DemoPair(
        "Puerto Rico, Hurricane Maria (Maxar tile 0_107)", "damage assessment",
        "Puerto Rico (United States)", "Maxar Open Data tile over Puerto Rico",
        SceneSpec(pr / "Pre_Event_Grids_In_TIFF" / tile, "../2017-09-19", "Maxar",
                  MAXAR_CREDIT, "CC BY-NC 4.0", notes="pre-event image; day not given"),
        SceneSpec(pr / "Post_Event_Grids_In_TIFF" / tile, "2017-09-20/..", "Maxar",
                  MAXAR_CREDIT, "CC BY-NC 4.0", notes="post-event image; day not given"),
    ))
    return pairs


def _aoi_of(pair: DemoPair) -> BaseGeometry:
    """The demo site's AOI: the footprint of its BEFORE image, in lon/lat."""
    if pair.before.bounds is not None:
        return box(*pair.before.bounds)
    info = inspect_image(pair.before.path)
    return to_crs(box(*info.bounds), info.crs or "EPSG:4326", "EPSG:4326")


#: ``progress(done, total, what)``, told as each step of the demo starts
Progress = Callable[[int, int | None, str], None]


def _quiet(done: int, total: int | None, what: str) -> None:
    pass


def run_demo(ws: Workspace, samples: Path, progress: Progress | None = None) -> Iterator[str]:
    """Add the demo sites and scenes (idempotent), analyse each and write its report."""
    tell = progress or _quiet
    pairs = demo_pairs(samples)
    missing = [str(p.before.path) for p in pairs if not p.before.path.is_file()]
    if missing:
        raise ConfigError(f"sample file {missing[0]} is missing: set SITEWATCH_SAMPLES to "
                          "the shared data folder (with levir-cd/ and puerto-rico-maria/)")
    for i, pair in enumerate(pairs):
        tell(i, len(pairs), f"analysing {pair.site}")
        try:
            ws.site(pair.site)
        except NotFoundError:
            ws.add_site(pair.site, aoi=_aoi_of(pair), kind=pair.kind, country=pair.country,
                        notes=pair.aoi_note)
        for spec in (pair.before, pair.after):
            with suppress(ConflictError):  # already imported by an earlier demo run
                ws.import_scene(pair.site, spec.path, **spec.facts())
        run = ws.analyze(pair.site).run
        slug = "".join(c if c.isalnum() else "-" for c in pair.site.lower()).strip("-")
        out = ws.report(pair.site, ws.layout.reports_dir / f"{slug}.html")
        warn = f" ({', '.join(f.value for f in run.flags)})" if run.flags else ""
        yield (f"{pair.site}: run {run.ref}, {len(run.detections)} change(s), "
               f"{run.changed_area_m2 or 0:,.0f} m²{warn} -> report {out}")
    tell(len(pairs), len(pairs), "reading the sample article")
    yield from _demo_article(ws, samples)
    yield from _demo_timeline(ws, samples, tell)
    yield f"open the reports in a browser, or review: SITEWATCH_HOME={ws.home} sitewatch serve"


def _demo_article(ws: Workspace, samples: Path) -> Iterator[str]:
    """The sample article's facilities, added to the watchlist with their quotes."""
    article = samples.parent / "articles" / "russia-solid-fuel-motor-plants.txt"
    if not article.is_file():
        return
    _, added = ws.sites_from_text(article, take_all=True)
    names = "; ".join(a.name for a in added)
    yield f"article {article.name}: {len(added)} site(s) in the watchlist: {names}"


def _demo_timeline(ws: Workspace, samples: Path, tell: Progress = _quiet) -> Iterator[str]:
    """The 447-scene Landsat stack: bulk import, timeline with its breaks, and the plot."""
    import tarfile

    tar = samples / "timeseries" / "yatsm-landsat-p035r032" / "p035r032_testdata.tar.gz"
    if not tar.is_file():
        return
    cache = ws.layout.samples_cache()
    images = cache / "p035r032" / "images"
    if not images.is_dir():
        with tarfile.open(tar) as t:
            t.extractall(cache, filter="data")
    name = "Landsat sample p035r032"
    try:
        site = ws.site(name)
    except NotFoundError:
        site = ws.add_site(name, lat=40.295660, lon=-106.924275, radius_m=70.0,
                           notes="5 x 5 px Landsat 5/7 stack, 1984-2013 (yatsm test data)")
    ws.import_scenes(site, [images], lambda d, n, o: tell(d, n, f"importing {o.path.name}"),
                     bands=["blue", "green", "red", "nir", "swir16", "swir22", "thermal",
                            "fmask"], scale=0.0001)
    tl = ws.timeline(site, progress=lambda d, n: tell(d, n, "timeline: reading scenes"))
    plot = ws.timeline_plot(site, ws.layout.reports_dir / "timeline-landsat-p035r032.png", tl)
    brk = ", ".join(f"{b['date']} {change_label(b['kind'])}" for b in tl.breaks) or "none"
    yield (f"{name}: {len(tl.observations)} scenes, breaks: {brk} -> plot {plot}")
