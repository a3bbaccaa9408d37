"""Fuzzing the API and the CLI with Hypothesis: names, dates, numbers and small rasters.

Geometries (random GeoJSON-like objects, rings and junk) go through the API's add_site.
The invariant everywhere: a command exits 0, or exits 2 with exactly one
'sitewatch: error:' line on stderr; never an internal error or a traceback, never a hang;
and the catalog stays consistent (it opens, nothing is doubled, every row's file is there).
The API raises only SitewatchError on bad input.

The default run is quick (a few examples per test, well under a minute for the file);
``make fuzz`` (HYPOTHESIS_PROFILE=fuzz, registered in conftest.py) runs many more. Set
SITEWATCH_FUZZ_REPORT=FILE to get the count of cases and how each ended.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import json
import math
import os
import signal
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pyproj import Transformer
from support.integrity import check_integrity
from support.synthetic import ORIGIN, geotiff

import sitewatch
from sitewatch.cli.main import main
from sitewatch.errors import SitewatchError
from sitewatch.model.dates import ObsDate

FUZZING = os.environ.get("HYPOTHESIS_PROFILE") == "fuzz"
#: what a terminal must never receive from user text
FORBIDDEN = ("\x1b", "\x9b", "\u202e", "\u2066", "\r", "\x07")
#: how each case ended, by test: "ok", "clean error", "internal error", "hang"
OUTCOMES: Counter[tuple[str, str]] = Counter()
HANG_S = 60
_unique = itertools.count()


# every example writes a new catalog: on PostgreSQL (make test-pg) that is a database over
# TCP each time, minutes per test; the same invariants run here on SQLite, and the writes
# PostgreSQL refuses that SQLite takes (NUL characters) have tests of their own
pytestmark = pytest.mark.skipif(bool(os.environ.get("SITEWATCH_TEST_PG")),
                                reason="the fuzz suite runs on the embedded catalog (make test)")


def examples(quick: int) -> int:
    """``quick`` examples in the default run; the fuzz profile's count under make fuzz."""
    return settings().max_examples if FUZZING else quick


def fuzz(quick: int) -> settings:
    return settings(max_examples=examples(quick), deadline=None, derandomize=not FUZZING,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])


def _count(test: str, outcome: str) -> None:
    """Count a case; with SITEWATCH_FUZZ_REPORT, the counts so far are in that file (kept
    up to date, so that a run stopped midway still tells)."""
    OUTCOMES[test, outcome] += 1
    path = os.environ.get("SITEWATCH_FUZZ_REPORT")
    if path:
        rows = [{"test": t, "outcome": o, "cases": n} for (t, o), n in sorted(OUTCOMES.items())]
        Path(path).write_text(json.dumps(rows, indent=1), encoding="utf-8")


class _Hang(Exception):
    pass


def _alarm(signum: int, frame: object) -> None:
    raise _Hang


def run(test: str, *args: object) -> tuple[int, str, str]:
    """The CLI in-process: (exit status, stdout, stderr), with the invariant checked and
    the outcome counted."""
    out, err = io.StringIO(), io.StringIO()
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(HANG_S)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main([str(a) for a in args])
    except _Hang:
        _count(test, "hang")
        raise AssertionError(f"hang: sitewatch {args!r} ran over {HANG_S} s") from None
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    o, e = out.getvalue(), err.getvalue()
    lines = [ln for ln in e.splitlines() if ln.strip() and not ln.startswith("workspace:")]
    if code not in (0, 2) or "Traceback" in e or "internal error" in e:
        _count(test, "internal error")
        raise AssertionError(f"sitewatch {args!r} -> {code}: {e}")
    if code == 2:
        assert len(lines) == 1 and lines[0].startswith("sitewatch: error:"), (args, lines)
    _count(test, "ok" if code == 0 else "clean error")
    for ch in FORBIDDEN:
        assert ch not in o + e, (args, ch)
    return code, o, e


def api(test: str, call: object, *args: object, **kwargs: object) -> object:
    """An API call that may refuse with SitewatchError and nothing else; counted."""
    try:
        value = call(*args, **kwargs)  # type: ignore[operator]
    except SitewatchError:
        _count(test, "clean error")
        return None
    except Exception:
        _count(test, "internal error")
        raise
    _count(test, "ok")
    return value


# --- strategies ------------------------------------------------------------------------------
HOSTILE = ["[/b]", "[bold red]", "[link=file:///etc/passwd]", "\x1b[31m", "\x1b]0;t\x07",
           "\u202e", "\u2066", "\x9b2J", "\r", "\n", "\t", "$x$", ":smile:", "%s", "{0}",
           "'; DROP TABLE sites; --", "<script>", "../..", "\\", "\x00", "\ufeff", "ǅ", "🛰"]
names = st.lists(st.one_of(st.text(max_size=12), st.sampled_from(HOSTILE)),
                 min_size=1, max_size=4).map("".join)
date_texts = st.one_of(
    st.text(max_size=30),
    st.dates().map(str),
    st.datetimes().map(lambda d: d.isoformat()),
    st.builds(lambda a, b: f"{a}/{b}", st.sampled_from(["..", "2002", "1800", "2017-09"]),
              st.sampled_from(["..", "2013", "9999-12-31", "2017-09-19T10:00Z"])),
    st.sampled_from(["2024-01-01Tjunk!", "1959-12-31", "1960-01-01", "2024-02-30",
                     "２０２４", "2024\n", "2024-01-01T25:00", "+2024", "2024-1-1"]),
)
number_texts = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(min_value=-10**30, max_value=10**30).map(str),
    st.sampled_from(["nan", "NaN", "-nan", "inf", "-inf", "Infinity", "1e999", "-1e999",
                     "1e-320", "-0", "0x10", "1_000", "", " 5", "5 ", "٥", "1,5"]),
    st.text(max_size=6),
)


# --- names -------------------------------------------------------------------------------------
@fuzz(12)
@given(name=names)
def test_site_names(workspace: Path, name: str) -> None:
    code, out, _ = run("names", "sites", "add", name, "--lat", "10", "--lon", "20")
    listed = json.loads(run("names", "sites", "list", "--json")[1])
    stored = [s["name"] for s in listed]
    assert len(stored) == len(set(stored))  # never two sites of one name
    if code == 0:
        assert name.strip() in stored  # kept exactly (but for surrounding blanks)
        run("names", "sites", "list")
        code, _, err = run("names", "sites", "show", name.strip())
        # found by its name (a name of digits is an id; names equal but for case are
        # ambiguous, and say so)
        assert code == 0 or name.strip().isdigit() or "ambiguous" in err, err
    check_integrity(workspace)


# --- dates -------------------------------------------------------------------------------------
@fuzz(60)
@given(text=date_texts)
def test_dates_api(text: str) -> None:
    when = api("dates api", ObsDate.from_user, text)
    if isinstance(when, ObsDate):
        again = ObsDate.parse(when.text)
        assert (again.start, again.end) == (when.start, when.end)
        for end in (when.start, when.end):
            assert end is None or end.year >= 1960


@fuzz(12)
@given(text=date_texts)
def test_dates_cli(tmp_path: Path, text: str) -> None:
    article = tmp_path / "article.txt"
    article.write_text("Satellite images show a new hall at the Votkinsk plant.")
    run("dates cli", "extract", article, "--date", text)


# --- numbers -----------------------------------------------------------------------------------
@fuzz(20)
@given(lat=number_texts, lon=number_texts, radius=number_texts)
def test_site_numbers(workspace: Path, lat: str, lon: str, radius: str) -> None:
    name = f"n{next(_unique)}"
    code, _, _ = run("numbers", "sites", "add", name, "--lat", lat, "--lon", lon,
                     "--radius-m", radius)
    if code == 0:
        site = sitewatch.open_workspace().site(name)
        w, s, e, n = site.bbox_wgs84
        assert all(math.isfinite(v) for v in (w, s, e, n))
        assert -180 <= w <= e <= 180 and -90 <= s <= n <= 90
    check_integrity(workspace)


@pytest.fixture(scope="module")
def small_pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("pair")
    rng = np.random.default_rng(1)
    a = rng.integers(0, 255, (3, 24, 24)).astype(np.uint8)
    return geotiff(d / "a.tif", a), geotiff(d / "b.tif", 255 - a)


@fuzz(8)
@given(gsd=number_texts, scale=number_texts)
def test_detect_and_import_numbers(workspace: Path, tmp_path: Path,
                                   small_pair: tuple[Path, Path], gsd: str,
                                   scale: str) -> None:
    out = tmp_path / f"m{next(_unique)}.tif"
    code, _, _ = run("numbers", "detect", *small_pair, "--out", out, "--method", "cva",
                     "--gsd", gsd)
    assert out.exists() == (code == 0)
    site = f"s{next(_unique)}"
    lon, lat = _lonlat(ORIGIN[0] + 12, ORIGIN[1] - 12)
    run("numbers", "sites", "add", site, "--lat", lat, "--lon", lon, "--radius-m", "5")
    code, _, _ = run("numbers", "scenes", "import", site, small_pair[0], "--date",
                     "2020-01-01", "--provider", "p", "--scale", scale, "--offset", scale)
    if code == 0:
        props = sitewatch.open_workspace().scenes(site)[0].properties
        assert math.isfinite(props["scale"]) and math.isfinite(props["offset"])
    check_integrity(workspace)


# --- geometries --------------------------------------------------------------------------------
coords = st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                   st.floats(min_value=-200, max_value=200), st.integers(-10**6, 10**6),
                   st.text(max_size=3), st.none())
rings = st.lists(st.lists(coords, min_size=0, max_size=3), min_size=0, max_size=8)
json_junk = st.recursive(st.one_of(st.none(), st.booleans(), coords),
                         lambda kids: st.lists(kids, max_size=4)
                         | st.dictionaries(st.text(max_size=5), kids, max_size=3), max_leaves=12)
geometries = st.one_of(
    st.fixed_dictionaries({"type": st.sampled_from(["Polygon", "MultiPolygon", "Point",
                                                    "Feature", "FeatureCollection", "x"]),
                           "coordinates": st.one_of(st.lists(rings, max_size=2),
                                                    st.lists(st.lists(rings, max_size=2),
                                                             max_size=2), json_junk)}),
    st.builds(lambda ring: {"type": "Polygon", "coordinates": [ring + ring[:1]]},
              st.lists(st.tuples(st.floats(-181, 181), st.floats(-91, 91)).map(list),
                       min_size=0, max_size=7)),
    json_junk,
)


@fuzz(20)
@given(aoi=geometries)
def test_geometries_through_the_api(workspace: Path, aoi: object) -> None:
    ws = sitewatch.open_workspace()
    site = api("geometries", ws.add_site, f"g{next(_unique)}", aoi=aoi)
    if site is not None:
        w, s, e, n = site.bbox_wgs84  # type: ignore[attr-defined]
        assert -180 <= w <= e <= 180 and -90 <= s <= n <= 90
    ws.close()
    check_integrity(workspace)


# --- small rasters -----------------------------------------------------------------------------
def _lonlat(x: float, y: float) -> tuple[float, float]:
    return Transformer.from_crs("EPSG:32633", "EPSG:4326", always_xy=True).transform(x, y)


@st.composite
def rasters(draw: st.DrawFn) -> tuple[np.ndarray, float | None]:
    """(bands, h, w) data of a random dtype and content, and its nodata value."""
    bands = draw(st.integers(1, 4))
    h, w = draw(st.integers(1, 40)), draw(st.integers(1, 40))
    dtype = np.dtype(draw(st.sampled_from(["uint8", "uint16", "int16", "float32",
                                           "float64"])))
    content = draw(st.sampled_from(["random", "constant", "nodata", "nan", "extremes"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    info = np.iinfo(dtype) if dtype.kind in "ui" else np.finfo(dtype)
    lo, hi = (float(info.min), float(info.max)) if dtype.kind in "ui" else (-1e4, 1e4)
    data = rng.uniform(lo, hi, (bands, h, w)).astype(dtype)
    nodata = draw(st.sampled_from([None, 0.0, lo, "nan"]))
    if nodata == "nan":
        nodata = float("nan") if dtype.kind == "f" else None
    if content == "constant":
        data[:] = data.flat[0]
    elif content == "nodata":
        data[:] = 0 if nodata is None or (isinstance(nodata, float) and math.isnan(nodata)) \
            else nodata
    elif content == "nan" and dtype.kind == "f":
        data[rng.random((bands, h, w)) < draw(st.floats(0, 1))] = np.nan
    elif content == "extremes":
        data[:] = hi if dtype.kind in "ui" else np.finfo(dtype).max
        if dtype.kind == "f":
            data[..., ::2] = -np.inf
    return data, nodata


@fuzz(10)
@given(before=rasters(), after=rasters(), pixel_m=st.sampled_from([0.5, 1.0, 30.0]))
def test_small_rasters_through_the_api(workspace: Path, tmp_path: Path,
                                       before: tuple[np.ndarray, float | None],
                                       after: tuple[np.ndarray, float | None],
                                       pixel_m: float) -> None:
    k = next(_unique)
    a = geotiff(tmp_path / f"a{k}.tif", before[0], before[1], pixel_m=pixel_m)
    b = geotiff(tmp_path / f"b{k}.tif", after[0], after[1], pixel_m=pixel_m)
    api("rasters", sitewatch.detect_pair, a, b, tmp_path / f"m{k}.tif", method="cva")
    ws = sitewatch.open_workspace()
    lon, lat = _lonlat(ORIGIN[0] + pixel_m, ORIGIN[1] - pixel_m)
    site = api("rasters", ws.add_site, f"r{k}", lat=lat, lon=lon, radius_m=3 * pixel_m)
    assume(site is not None)
    imported = [api("rasters", ws.import_scene, f"r{k}", p, date=d, provider="fuzz")
                for p, d in ((a, "2020-01-01"), (b, "2021-06-01"))]
    if all(s is not None for s in imported):
        api("rasters", ws.analyze, f"r{k}", None, None, "cva", {})
    ws.close()
    check_integrity(workspace)


@fuzz(6)
@given(before=rasters())
def test_small_rasters_through_the_cli(workspace: Path, tmp_path: Path,
                                       before: tuple[np.ndarray, float | None]) -> None:
    k = next(_unique)
    a = geotiff(tmp_path / f"a{k}.tif", *before)
    b = geotiff(tmp_path / f"b{k}.tif", before[0][::-1].copy(), before[1])
    run("rasters", "detect", a, b, "--out", tmp_path / f"m{k}.tif", "--method", "cva",
        "--geojson", tmp_path / f"m{k}.geojson")
