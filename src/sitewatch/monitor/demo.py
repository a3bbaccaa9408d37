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
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from shapely.geometry import box
from shapely.geometry.base import BaseGeometry

from sitewatch.catalog import Store
from sitewatch.config import Workspace
from sitewatch.errors import ConfigError, ConflictError, NotFoundError
from sitewatch.geo.aoi import to_crs
from sitewatch.imagery.local import inspect_image
from sitewatch.monitor.analysis import analyze_site
from sitewatch.monitor.reporting import write_report
from sitewatch.monitor.watchlist import SceneSpec, add_site, import_scene

LEVIR_CREDIT = "Google Earth imagery, from the LEVIR-CD dataset (Chen & Shi, 2020)"
LEVIR_LICENCE = "LEVIR-CD: academic research use only"
LEVIR_NOTE = ("LEVIR-CD gives no acquisition dates: its pairs span 2002-2018, "
              "5 to 14 years apart")
MAXAR_CREDIT = "Satellite image (c) Maxar Technologies, Maxar Open Data Program"
LEVIR_TILES = ("test_2_0000_0000", "test_77_0512_0256")


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
                             None, LEVIR_NOTE)

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


def run_demo(store: Store, ws: Workspace, samples: Path) -> Iterator[str]:
    """Add the demo sites and scenes (idempotent), analyse each and write its report."""
    pairs = demo_pairs(samples)
    missing = [str(p.before.path) for p in pairs if not p.before.path.is_file()]
    if missing:
        raise ConfigError(f"sample file {missing[0]} is missing: set SITEWATCH_SAMPLES to "
                          "the shared data folder (with levir-cd/ and puerto-rico-maria/)")
    for pair in pairs:
        try:
            store.site(pair.site)
        except NotFoundError:
            add_site(store, pair.site, _aoi_of(pair), pair.kind, pair.country,
                     notes=pair.aoi_note)
        for spec in (pair.before, pair.after):
            with suppress(ConflictError):  # already imported by an earlier demo run
                import_scene(store, pair.site, spec)
        run = analyze_site(store, ws, pair.site)
        slug = "".join(c if c.isalnum() else "-" for c in pair.site.lower()).strip("-")
        out = write_report(store, ws, pair.site, ws.reports_dir / f"{slug}.html")
        yield (f"{pair.site}: {len(run.detections)} change(s), "
               f"{run.summary['changed_area_m2']:,.0f} m² -> report {out}")
    yield from _demo_article(store, samples)
    yield from _demo_timeline(store, ws, samples)
    yield f"open the reports in a browser; workspace: {ws.home}"


def _demo_article(store: Store, samples: Path) -> Iterator[str]:
    """The sample article's facilities, added to the watchlist with their quotes."""
    from sitewatch.monitor.fromtext import add_from_text

    article = samples.parent / "articles" / "russia-solid-fuel-motor-plants.txt"
    if not article.is_file():
        return
    _, added = add_from_text(store, article, None, True)
    names = "; ".join(a.name for a in added)
    yield f"article {article.name}: {len(added)} site(s) in the watchlist: {names}"


def _demo_timeline(store: Store, ws: Workspace, samples: Path) -> Iterator[str]:
    """The 447-scene Landsat stack: bulk import, timeline with its breaks, and the plot."""
    import tarfile

    from sitewatch.evidence.timeline_plot import timeline_png
    from sitewatch.geo.aoi import aoi_from_point
    from sitewatch.monitor.importing import import_many
    from sitewatch.monitor.timeline import MIN_CLEAR, compute_timeline
    from sitewatch.monitor.watchlist import SceneSpec

    tar = samples / "timeseries" / "yatsm-landsat-p035r032" / "p035r032_testdata.tar.gz"
    if not tar.is_file():
        return
    images = ws.home / "samples" / "p035r032" / "images"
    if not images.is_dir():
        with tarfile.open(tar) as t:
            t.extractall(ws.home / "samples", filter="data")
    name = "Landsat sample p035r032"
    try:
        site = store.site(name)
    except NotFoundError:
        site = add_site(store, name, aoi_from_point(-106.924275, 40.295660, 70.0),
                        notes="5 x 5 px Landsat 5/7 stack, 1984-2013 (yatsm test data)")
    spec = SceneSpec(path=Path(), bands=["blue", "green", "red", "nir", "swir16", "swir22",
                                         "thermal", "fmask"], scale=0.0001)
    import_many(store, ws, site, [images], spec)
    tl = compute_timeline(store, ws, name)
    plot = timeline_png(ws.reports_dir / "timeline-landsat-p035r032.png", name,
                        tl.observations, tl.breaks,
                        [x.credit for x in store.scenes(site.id)], MIN_CLEAR)
    brk = ", ".join(f"{b['date']} {b['kind']}" for b in tl.breaks) or "none"
    yield (f"{name}: {len(tl.observations)} scenes, breaks: {brk} -> plot {plot}")
