"""Warnings that travel with the result (issue 12, item 1): on the real sample pairs that
misled a user, and the rules themselves on small made-up values."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date
from html import escape
from pathlib import Path

import pytest
from conftest import Result

from sitewatch import Flag
from sitewatch.geo.coreg import coreg_outcome
from sitewatch.model import Detection, ObsDate
from sitewatch.pipeline.flags import RunFacts, detection_flags, run_flags, season_gap_days

P022R049 = "georef-rasters/landsat7-bitemporal-p022r049"
LANDSAT_BANDS = "blue,green,red,nir,swir16,swir22,thermal,extra"


def _total(text: str) -> float:
    """The total of an 'analyze' headline or a report's summary, in m2."""
    m = re.search(r"([\d,]+) ± [\d,]+ m² (?:changed|in all)", text) or re.search(
        r"([\d,]+) m² in all", text)
    assert m, text
    return float(m.group(1).replace(",", ""))


def _report_total(html: str) -> float:
    m = re.search(r"<p>Run R\d+: .*?, ([\d,]+) m² in all", html)
    assert m, html[:2000]
    return float(m.group(1).replace(",", ""))


def _export(cli: Callable[..., Result], site: str, path: Path) -> list[dict]:
    res = cli("export", site, "--format", "geojson", "--out", path)
    assert res.code == 0, res.err
    return [f["properties"] for f in json.loads(path.read_text())["features"]]


def _codes(value: object) -> set[str]:
    """Flags as an export field holds them: a list, or codes joined in one text field."""
    if isinstance(value, list):
        return {str(v) for v in value}
    return {v for v in re.split(r"[,;\s]+", str(value or "")) if v}


@pytest.mark.slow  # analyze, report and export of a real pair
def test_puerto_rico_60m_site_warns_of_rejected_coregistration(
        cli: Callable[..., Result], pr_site: str, tmp_path: Path) -> None:
    """About 17 px a side at 5 m, misregistered: co-registration is rejected ("correlation
    0.4 -> 0.3"), and the run said nothing of it but deep in the report's provenance."""
    res = cli("analyze", pr_site, "--method", "cva")  # the chips decide; cva is quicker
    assert res.code == 0, res.err
    lines = res.out.splitlines()
    assert lines[0].startswith("run R1:") and "m² changed" in lines[0]
    # the warning comes right under the headline figure, in words
    assert lines[1].startswith("  warning: Co-registration failed")
    assert "[coregistration-rejected]" in lines[1]
    run = json.loads(cli("runs", "list", pr_site, "--json").out)[0]  # as stored
    assert "rejected: correlation" in run["parameters"]["coregistration"]["after_status"]
    assert "coregistration-rejected" in run["flags"]
    assert run["detections"] and all("coregistration-rejected" in d["flags"]
                                     for d in run["detections"])
    report = tmp_path / "pr.html"
    assert cli("report", pr_site, "--out", report).code == 0
    html = report.read_text()
    head = html.index("<p>Run R1:")
    flags = html.index('<ul class="flags"')
    assert head < flags < html.index("<h2>Site</h2>")  # next to the headline
    assert escape(Flag.COREG_REJECTED.sentence) in html[flags:html.index("<h2>Site</h2>")]
    table = html[html.index("<h2>Detections</h2>"):html.index("<h2>Provenance</h2>")]
    assert table.count('class="flag"') >= len(run["detections"])
    props = _export(cli, pr_site, tmp_path / "pr.geojson")
    assert props and all("coregistration-rejected" in _codes(p["flags"]) for p in props)
    # one total everywhere: the CLI's, the report's and the export's
    cli_total = _total(lines[0])
    assert cli_total == _report_total(html)
    assert abs(sum(p["area_m2"] for p in props) - cli_total) <= 0.5 + 0.05 * len(props)


@pytest.fixture
def landsat_nov_apr(cli: Callable[..., Result], samples: Path) -> str:
    """The Landsat-7 pair of 1999-11-18 (November) and 2002-04-16 (April), 3 km around the
    middle of the scene (dates read from the scene ids in the file names)."""
    assert cli("sites", "add", "p022r049", "--lat", "15.7207", "--lon", "-93.3159",
               "--radius-m", "3000").code == 0
    d = samples / P022R049
    res = cli("scenes", "import", "p022r049", d / "LE70220491999322EDC01_stack.gtif",
              d / "LE70220492002106EDC00_stack.gtif", "--bands", LANDSAT_BANDS)
    assert res.code == 0 and "imported 2 scenes" in res.out, res.err
    return "p022r049"


@pytest.mark.slow  # analyze, report and export of a real pair
def test_landsat_november_vs_april_is_seasonal_and_covers_the_aoi(
        cli: Callable[..., Result], landsat_nov_apr: str, tmp_path: Path) -> None:
    """One 28 km2 vegetation_loss polygon of score 0.08 held "99.4% of the AOI"."""
    res = cli("analyze", landsat_nov_apr, "--json")
    assert res.code == 0, res.err
    run = json.loads(res.out)
    big = max(run["detections"], key=lambda d: d["area_m2"])
    assert big["change_type"] == "vegetation_loss" and big["area_m2"] > 20e6
    assert {"season-mismatch", "most-of-aoi"} <= set(big["flags"])
    assert {"season-mismatch", "most-of-aoi"} <= set(run["flags"])
    text = cli("show", run["id"]).out
    assert Flag.SEASON_MISMATCH.sentence in text and Flag.MOST_OF_AOI.sentence in text
    report = tmp_path / "r.html"
    assert cli("report", landsat_nov_apr, "--out", report).code == 0
    html = report.read_text()
    headline = html[html.index("<p>Run "):html.index("<h2>Site</h2>")]
    assert "% of the site" in headline  # the figure that misled ...
    assert escape(Flag.MOST_OF_AOI.sentence) in headline  # ... now stated with its caveats
    assert escape(Flag.SEASON_MISMATCH.sentence) in headline
    props = _export(cli, landsat_nov_apr, tmp_path / "r.geojson")
    top = max(props, key=lambda p: p["area_m2"])
    assert {"season-mismatch", "most-of-aoi"} <= _codes(top["flags"])
    assert {"season-mismatch", "most-of-aoi"} <= _codes(top["run_flags"])
    # the CLI's total was a pixel count (28,038,600 m2), the report's a geodesic sum
    assert run["changed_area_m2"] == pytest.approx(sum(d["area_m2"] for d in run["detections"]))
    assert run["summary"]["changed_area_m2"] == pytest.approx(run["changed_area_m2"])
    assert _report_total(html) == round(run["changed_area_m2"])


def test_landsat_pair_detection_as_uncertain_as_its_area(cli: Callable[..., Result],
                                                        samples: Path) -> None:
    """Without band names the same pair gives a 19,815 +- 19,808 m2 detection, reported
    like any other before."""
    assert cli("sites", "add", "p022", "--lat", "15.7207", "--lon", "-93.3159",
               "--radius-m", "3000").code == 0
    d = samples / P022R049
    assert cli("scenes", "import", "p022", d / "LE70220491999322EDC01_stack.gtif",
               d / "LE70220492002106EDC00_stack.gtif").code == 0
    res = cli("analyze", "p022")
    assert res.code == 0, res.err
    run = json.loads(cli("runs", "list", "p022", "--json").out)[0]
    unsure = [x for x in run["detections"]
              if x["area_uncertainty_m2"] >= 0.5 * x["area_m2"]]
    sure = [x for x in run["detections"] if x["area_uncertainty_m2"] < 0.5 * x["area_m2"]]
    assert unsure and sure
    assert all("uncertain-area" in x["flags"] for x in unsure)
    assert not any("uncertain-area" in x["flags"] for x in sure)
    line = next(ln for ln in res.out.splitlines() if unsure[0]["id"] in ln)
    assert "uncertain-area" in line


# --- the rules, on made-up values --------------------------------------------------------

def _facts(statuses: tuple[str, ...] = ("reference", "applied"), before: str = "2020-06-01",
           after: str = "2021-06-10", aoi_px: int = 1000, nodata_px: int = 0,
           changed_px: int = 10, clear: tuple[float | None, ...] = ()) -> RunFacts:
    return RunFacts(statuses, ObsDate.parse(before), ObsDate.parse(after), aoi_px, nodata_px,
                    changed_px, clear)


def _det(change_type: str = "change", area: float = 1000.0, unc: float = 100.0,
         flags: tuple[Flag, ...] = ()) -> Detection:
    return Detection(polygon={"type": "Point", "coordinates": [0, 0]}, change_type=change_type,  # type: ignore[arg-type]
                     score=0.9, area_m2=area, area_uncertainty_m2=unc, centroid_lon=0.0,
                     centroid_lat=0.0, flags=flags)


def test_coregistration_outcomes_from_the_status_words() -> None:
    assert coreg_outcome("reference") == "reference"
    assert coreg_outcome("applied") == "applied"
    assert coreg_outcome("rejected: correlation 0.95 -> 0.95 does not improve") == "aligned"
    assert coreg_outcome("rejected: correlation 0.66 -> 0.67 does not improve") == "weak"
    assert coreg_outcome("rejected: correlation 0.45 -> 0.37 does not improve") == "rejected"
    assert coreg_outcome("rejected: correlation -0.10 -> -0.10 does not improve") == "rejected"
    assert coreg_outcome("rejected: shift 12.0 px exceeds 5.0 px") == "unapplied"
    assert coreg_outcome("skipped: chip smaller than 16 px") == "weak"


def test_season_gap_ignores_the_years_and_knows_when_it_cannot_tell() -> None:
    nov, apr = ObsDate.parse("1999-11-18"), ObsDate.parse("2002-04-16")
    assert season_gap_days(nov, apr) == 149
    assert season_gap_days(ObsDate.parse("2019-12-20"), ObsDate.parse("2021-01-10")) == 21
    assert season_gap_days(ObsDate.parse("2017-09"), ObsDate.parse("2018-09-10")) < 10
    assert season_gap_days(ObsDate.parse("2017"), apr) is None
    assert date(1999, 11, 18) == nov.start


def test_detection_flags_follow_their_thresholds() -> None:
    clean = _facts()
    assert detection_flags(clean, "change", 10, 1000.0, 100.0) == ()
    assert detection_flags(clean, "change", 10, 1000.0, 500.0) == (Flag.UNCERTAIN_AREA,)
    assert detection_flags(clean, "change", 10, 1000.0, 499.0) == ()
    assert detection_flags(clean, "change", 500, 1000.0, 1.0) == (Flag.MOST_OF_AOI,)
    assert detection_flags(clean, "change", 499, 1000.0, 1.0) == ()
    # the same season a year apart is no caveat; 149 days apart, or a bare year, is
    assert detection_flags(clean, "vegetation_loss", 10, 1000.0, 1.0) == ()
    nov_apr = _facts(before="1999-11-18", after="2002-04-16")
    assert detection_flags(nov_apr, "vegetation_loss", 10, 1000.0, 1.0) == (
        Flag.SEASON_MISMATCH,)
    assert detection_flags(nov_apr, "built_up_gain", 10, 1000.0, 1.0) == ()
    assert detection_flags(_facts(before="2017"), "vegetation_gain", 10, 1e3, 1.0) == (
        Flag.SEASON_MISMATCH,)
    # a sliver (uncertainty >= area) is misregistration only where alignment is in doubt
    assert Flag.MISREGISTRATION not in detection_flags(clean, "change", 10, 100.0, 120.0)
    bad = _facts(("reference", "rejected: correlation 0.45 -> 0.37 does not improve"))
    assert detection_flags(bad, "change", 10, 100.0, 120.0) == (
        Flag.COREG_REJECTED, Flag.MISREGISTRATION, Flag.UNCERTAIN_AREA)
    off = _facts(("reference", "rejected: shift 12.0 px exceeds 5.0 px"))
    assert detection_flags(off, "change", 10, 1000.0, 1.0) == (
        Flag.COREG_REJECTED, Flag.MISREGISTRATION)
    weak = _facts(("reference", "skipped: chip smaller than 16 px"))
    assert detection_flags(weak, "change", 10, 1000.0, 1.0) == (Flag.COREG_WEAK,)


def test_run_flags_qualify_the_headline_figures() -> None:
    assert run_flags(_facts(), [_det()]) == ()
    assert run_flags(_facts(), []) == ()
    # no data over 1% of the AOI, or a scene its QA band found less than 99% clear
    assert run_flags(_facts(nodata_px=10), [_det()]) == (Flag.PARTIAL_COVERAGE,)
    assert run_flags(_facts(nodata_px=9), [_det()]) == ()
    assert run_flags(_facts(clear=(None, 0.9)), [_det()]) == (Flag.PARTIAL_COVERAGE,)
    assert run_flags(_facts(changed_px=500), [_det()]) == (Flag.MOST_OF_AOI,)
    # the largest detection's uncertainty, or the total's, at half the area
    unsure = _det(area=5000.0, unc=2600.0, flags=(Flag.UNCERTAIN_AREA,))
    assert run_flags(_facts(), [unsure, _det()]) == (Flag.UNCERTAIN_AREA,)
    assert run_flags(_facts(), [_det(area=10_000.0), _det(area=20.0, unc=15.0,
                                                           flags=(Flag.UNCERTAIN_AREA,))]) == ()
    seasonal = _det("vegetation_loss", flags=(Flag.SEASON_MISMATCH,))
    assert run_flags(_facts(), [_det(), seasonal]) == (Flag.SEASON_MISMATCH,)
    sliver = _det(flags=(Flag.MISREGISTRATION,))
    assert Flag.MISREGISTRATION in run_flags(_facts(), [sliver, _det()])
    assert Flag.MISREGISTRATION not in run_flags(_facts(), [sliver, _det(), _det()])


def test_every_flag_has_a_sentence_and_unknown_stored_flags_are_left_out() -> None:
    for f in Flag:
        assert f.sentence.endswith(".") and len(f.sentence) > 40
    assert Flag.known(["most-of-aoi", "from-a-newer-sitewatch"]) == (Flag.MOST_OF_AOI,)
    assert Flag.known(None) == ()


def test_the_web_api_serves_the_flags_with_their_sentences() -> None:
    from dataclasses import replace
    from datetime import UTC, datetime

    from sitewatch.model import Run, RunStatus
    from sitewatch.web import serialize

    det = replace(_det(flags=(Flag.UNCERTAIN_AREA,)), id=7, run_id=3)
    run = Run(id=3, run_key="k", site_id=1, method="cva", parameters={}, versions={},
              before_scene_id=1, after_scene_id=2, status=RunStatus.COMPLETED, timings_s={},
              summary={}, started_at=datetime.now(UTC), finished_at=None, detections=(det,),
              flags=(Flag.MOST_OF_AOI,))
    doc = serialize.run(run)
    assert doc["flags"] == [{"code": "most-of-aoi", "sentence": Flag.MOST_OF_AOI.sentence}]
    assert doc["detections"][0]["flags"][0]["code"] == "uncertain-area"
    assert doc["changed_area_m2"] == 1000.0


def test_an_alert_states_the_results_warnings() -> None:
    from dataclasses import replace
    from datetime import UTC, datetime

    from sitewatch.model import Change, Provenance, ReviewStatus, Run, RunStatus, Scene, Site
    from sitewatch.monitor.rules import payload

    square = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}
    site = Site(id=1, name="plant", aoi=square)
    det = replace(_det("vegetation_loss", flags=(Flag.SEASON_MISMATCH, Flag.UNCERTAIN_AREA)),
                  id=7, run_id=3, change_id=2)
    run = Run(id=3, run_key="k", site_id=1, method="cva", parameters={}, versions={},
              before_scene_id=1, after_scene_id=2, status=RunStatus.COMPLETED, timings_s={},
              summary={}, started_at=datetime.now(UTC), finished_at=None, detections=(det,),
              flags=(Flag.SEASON_MISMATCH,))
    change = Change(id=2, site_id=1, change_type="vegetation_loss",
                    status=ReviewStatus.UNREVIEWED, first_seen="2021", last_seen="2021",
                    first_run_id=3, last_run_id=3, polygon=square)
    scene = Scene(id=1, site_id=1, provenance=Provenance("p", ObsDate.parse("2020"), "c", "f",
                                                         "0" * 64),
                  path="f", driver="GTiff", crs="EPSG:4326", bounds=(0, 0, 1, 1), width=1,
                  height=1, band_names=("red",), dtype="uint8", gsd_m=10.0)
    doc = payload(site, change, det, run, scene, scene, None, [])
    assert [w["code"] for w in doc["warnings"]] == ["season-mismatch", "uncertain-area"]
    assert doc["warnings"][0]["sentence"] == Flag.SEASON_MISMATCH.sentence
