import json
import re

import pyogrio
import pytest
from conftest import one_error_line
from support.catalog import count as _count
from support.catalog import rows as _rows


def test_analyze_stores_run_and_detections(cli, pr_site, workspace):
    res = cli("analyze", pr_site, "--json")
    assert res.code == 0, res.err
    run = json.loads(res.out)
    assert run["detections"] and run["summary"]["changed_area_m2"] > 0
    d = run["detections"][0]
    assert d["area_m2"] > d["area_uncertainty_m2"] > 0
    assert -66.3 < d["centroid_lon"] < -66.1
    n_det = _count(workspace, "detections")
    # the same analysis again is recognised: nothing added, nothing replaced
    again = cli("analyze", pr_site)
    assert again.code == 0 and "nothing new" in again.out and run["id"] in again.out
    assert _count(workspace, "runs") == 1 and _count(workspace, "detections") == n_det
    # chips are COGs in the workspace, co-registration recorded
    rows = _rows(workspace, "select path, coreg_status, shift_y_px from chips")
    assert len(rows) == 2 and all((workspace / "chips").glob("site*/scene*.tif"))
    statuses = {r[1] for r in rows}
    assert "reference" in statuses


def test_analyze_levir_with_dates(cli, levir_site):
    res = cli("analyze", levir_site, "--before", "2013", "--after", "2007", "--json")
    assert res.code == 0, res.err
    assert json.loads(res.out)["before_scene_id"] == 1


def test_analyze_needs_two_scenes(cli, samples, workspace):
    assert cli("sites", "add", "solo", "--lat", "18.3286", "--lon", "-66.19225").code == 0
    f = samples / "puerto-rico-maria/Pre_Event_Grids_In_TIFF/tile_0_107.tif"
    assert cli("scenes", "import", "solo", f, "--date", "2017", "--provider", "Maxar").code == 0
    assert "at least two" in one_error_line(cli("analyze", "solo"))
    assert _count(workspace, "runs") == 0


def test_analyze_unknown_site_and_bad_date(cli, pr_site):
    assert "no site named" in one_error_line(cli("analyze", "nowhere"))
    assert "does not parse" in one_error_line(cli("analyze", pr_site, "--before", "soon"))


def test_report_is_self_contained_evidence(cli, pr_site, tmp_path):
    assert cli("analyze", pr_site).code == 0
    out = tmp_path / "r.html"
    res = cli("report", pr_site, "--out", out)
    assert res.code == 0, res.err
    html = out.read_text()
    assert "data:image/png;base64," in html and "http://" not in html.replace(
        "http-equiv", "")
    for needle in ("2017-09-01", "October 2017 (day unknown)", "Maxar Open Data",
                   "CC BY-NC 4.0", "m²", "EPSG:32619", "cva", "rasterio"):
        assert needle in html, needle
    shas = re.findall(r"[0-9a-f]{64}", html)
    assert len(set(shas)) >= 2


def test_report_escapes_user_text(cli, samples, tmp_path):
    name = "<script>alert(1)</script> & co"
    assert cli("sites", "add", name, "--lat", "18.3286", "--lon", "-66.19225", "--radius-m", "80",
               "--notes", "<img src=x onerror=alert(2)>").code == 0
    base = samples / "puerto-rico-maria"
    for sub, date in (("Pre_Event_Grids_In_TIFF", "2017"), ("Post_Event_Grids_In_TIFF", "2018")):
        assert cli("scenes", "import", name, base / sub / "tile_0_107.tif", "--date", date,
                   "--provider", "<b>evil</b>", "--credit", "\"><script>x</script>").code == 0
    assert cli("analyze", name).code == 0
    out = tmp_path / "r.html"
    assert cli("report", name, "--out", out).code == 0
    html = out.read_text()
    # the one script is the swipe view's own (allowed by its hash), never the user's
    from sitewatch.evidence.swipe import SCRIPT

    assert html.count("<script") == 1 and f"<script>{SCRIPT}</script>" in html
    assert "<img src=x" not in html and "<b>evil" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in html


def test_report_before_any_run(cli, pr_site, tmp_path):
    assert "analyze" in one_error_line(cli("report", pr_site, "--out", tmp_path / "r.html"))
    assert not (tmp_path / "r.html").exists()


@pytest.mark.parametrize("fmt,suffix", [("geojson", "geojson"), ("gpkg", "gpkg"), ("kml", "kml")])
def test_export_formats_open_in_gis(cli, pr_site, tmp_path, fmt, suffix):
    run = json.loads(cli("analyze", pr_site, "--json").out)
    out = tmp_path / f"changes.{suffix}"
    assert cli("export", pr_site, "--format", fmt, "--out", out).code == 0
    info = pyogrio.read_info(out)
    assert info["features"] == len(run["detections"])
    assert info["crs"] in ("EPSG:4326", "OGC:CRS84")
    if fmt != "kml":
        fields = list(info["fields"])
        assert "area_m2" in fields and "before_date" in fields


def test_export_bad_format(cli, pr_site, tmp_path):
    assert cli("analyze", pr_site).code == 0
    assert "unknown format" in one_error_line(
        cli("export", pr_site, "--format", "shp", "--out", tmp_path / "x.shp"))
