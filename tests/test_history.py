"""History instead of deletion: immutable runs, stable ids, tracked changes, reviews and
their audit log, training export, and the watchlist edited without losing anything."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import rasterio
from conftest import one_error_line


def _run(cli, *args):
    res = cli(*args, "--json")
    assert res.code == 0, res.err
    return json.loads(res.out)


def test_rerun_adds_nothing_and_other_parameters_add_a_run(cli, levir_site, tmp_path):
    first = _run(cli, "analyze", levir_site, "--method", "cva")
    assert first["created"] and first["detections"]
    early = tmp_path / "early.html"
    assert cli("report", levir_site, "--out", early).code == 0
    cited = first["detections"][0]["id"]
    assert cited in early.read_text(encoding="utf-8")

    again = _run(cli, "analyze", levir_site, "--method", "cva")
    assert not again["created"] and again["id"] == first["id"]
    assert [d["id"] for d in again["detections"]] == [d["id"] for d in first["detections"]]

    other = _run(cli, "analyze", levir_site, "--method", "model")
    assert other["created"] and other["id"] != first["id"]
    listed = _run(cli, "runs", "list", levir_site)
    assert [r["id"] for r in listed] == [other["id"], first["id"]]

    # what the early report cites still resolves, and its run still reports and exports
    shown = _run(cli, "show", cited)
    assert shown["id"] == cited and shown["run_id"] == first["id"]
    assert cli("report", levir_site, "--run", first["id"], "--out", tmp_path / "r1.html"
               ).code == 0
    gj = tmp_path / "r1.geojson"
    assert cli("export", levir_site, "--format", "geojson", "--run", first["id"], "--out",
               gj).code == 0
    ids = [f["properties"]["id"] for f in json.loads(gj.read_text())["features"]]
    assert ids == [d["id"] for d in first["detections"]]

    # the second run's detections of the same ground continue the first run's changes
    first_changes = {d["change_id"] for d in first["detections"]}
    continued = [d for d in other["detections"] if d["change_id"] in first_changes]
    assert continued, "no detection of the model run was linked to a change of the cva run"
    change = _run(cli, "show", continued[0]["change_id"])
    assert set(change["runs"]) == {first["id"], other["id"]}
    assert change["first_run"] == first["id"]


def test_review_confirm_reject_audit_and_export(cli, levir_site, tmp_path, monkeypatch):
    run = _run(cli, "analyze", levir_site, "--method", "cva")
    det = run["detections"][0]
    res = cli("review", det["id"], "--confirm", "--note", "new roofs", "--by", "ana")
    assert res.code == 0, res.err
    assert f"{det['change_id']}: unreviewed -> confirmed by ana" in res.out
    # reviewing again into the same state is refused, the log unchanged
    line = one_error_line(cli("review", det["change_id"], "--confirm", "--by", "ana"))
    assert "already confirmed" in line
    monkeypatch.setenv("SITEWATCH_USER", "bo")
    assert cli("review", det["change_id"], "--reject", "--reason", "Seasonal").code == 0
    change = _run(cli, "show", det["change_id"])
    assert change["status"] == "rejected"
    log = [(r["by"], r["from"], r["to"], r["reason"], r["note"]) for r in change["reviews"]]
    assert log == [("ana", "unreviewed", "confirmed", None, "new roofs"),
                   ("bo", "confirmed", "rejected", "seasonal", None)]
    assert _run(cli, "show", det["id"])["review"] == "rejected"
    # the re-run sees the same state: a change is judged once
    assert _run(cli, "analyze", levir_site, "--method", "cva")["detections"][0]["review"] \
        == "rejected"
    gj = tmp_path / "x.geojson"
    assert cli("export", levir_site, "--format", "geojson", "--out", gj).code == 0
    props = json.loads(gj.read_text())["features"][0]["properties"]
    assert props["review"] == "rejected" and props["change_id"] == det["change_id"]
    html = tmp_path / "x.html"
    assert cli("report", levir_site, "--out", html).code == 0
    assert "rejected" in html.read_text(encoding="utf-8")

    for bad, why in ((("review", "D99999", "--confirm"), "no detection D99999"),
                     (("review", "C99999", "--confirm"), "no tracked change C99999"),
                     (("review", det["id"], "--reject", "--reason", "aliens"), "unknown reason"),
                     (("review", det["id"], "--reject"), "needs --reason"),
                     (("review", det["id"], "--confirm", "--reject"), "give one of"),
                     (("review", run["id"], "--confirm"), "is a run"),
                     (("review", "12", "--confirm"), "not an identifier"),
                     (("show", "X1"), "not an identifier")):
        assert why in one_error_line(cli(*bad)), bad
    assert len(_run(cli, "show", det["change_id"])["reviews"]) == 2

    # confirmed and rejected changes become training pairs that model training reads
    other = run["detections"][-1]
    if other["change_id"] != det["change_id"]:
        assert cli("review", other["id"], "--confirm").code == 0
    out = tmp_path / "training"
    res = cli("review", "export-training", out, "--size", "64")
    assert res.code == 0, res.err
    manifest = json.loads((out / "manifest.json").read_text())
    names = {t["tile"] for t in manifest["tiles"]}
    assert {p.name for p in (out / "A").glob("*.png")} == names
    from sitewatch.learn.data import load_corpus

    corpus = load_corpus([out])
    assert len(corpus.pairs) == len(names)
    decided = {t["change"]: t["decision"] for t in manifest["tiles"]}
    rejected_tile = f"site1_{det['change_id']}.png"
    with rasterio.open(out / "label" / rejected_tile) as ds:
        label = ds.read(1)
    assert decided[det["change_id"]] == "rejected" and label.shape == (64, 64)
    if other["change_id"] != det["change_id"]:
        with rasterio.open(out / "label" / f"site1_{other['change_id']}.png") as ds:
            assert (ds.read(1) == 255).any()


def test_watchlist_show_edit_remove_and_names(cli, levir_site, tmp_path):
    assert cli("sites", "edit", levir_site, "--alias", "LEVIR tile 2", "--kind", "housing"
               ).code == 0
    for ref in ("1", "AUSTIN", "levir TILE 2"):
        shown = _run(cli, "sites", "show", ref)
        assert shown["name"] == "austin" and shown["kind"] == "housing", ref
    assert "aliases" in _run(cli, "sites", "list")[0]
    run = _run(cli, "analyze", "levir tile 2", "--method", "cva")
    assert cli("sites", "edit", "austin", "--name", "Austin subdivision").code == 0
    assert one_error_line(cli("sites", "show", "austin"))
    assert cli("sites", "add", "Austin SUBDIVISION", "--lat", "30.16", "--lon", "-97.99"
               ).code == 0
    line = one_error_line(cli("sites", "show", "austin subdivision"))
    assert "ambiguous" in line and "give the site's id" in line
    assert cli("sites", "remove", "1").code == 0
    assert [s["id"] for s in _run(cli, "sites", "list")] == [2]
    assert _run(cli, "show", run["id"])["id"] == run["id"]  # history kept
    assert _run(cli, "sites", "show", "1")["status"] == "removed"
    assert "already removed" in one_error_line(cli("sites", "remove", "1"))
    assert cli("sites", "restore", "1").code == 0
    scenes = _run(cli, "scenes", "list", "1")
    assert cli("scenes", "remove", str(scenes[0]["id"])).code == 0
    assert len(_run(cli, "scenes", "list", "1")) == 1
    assert "import at least two" in one_error_line(cli("analyze", "1"))
    assert _run(cli, "show", run["id"])["before_scene_id"] == scenes[0]["id"]
    assert "no site named" in one_error_line(cli("sites", "edit", "nowhere", "--kind", "x"))
    assert "nothing to change" in one_error_line(cli("sites", "edit", "1"))


def test_geojson_with_declared_crs(cli, tmp_path):
    from pyproj import Transformer

    tf = Transformer.from_crs("EPSG:4326", "EPSG:32614", always_xy=True)
    x, y = tf.transform(-97.9987, 30.1609)
    ring = [[x - 50, y - 50], [x + 50, y - 50], [x + 50, y + 50], [x - 50, y + 50],
            [x - 50, y - 50]]
    gj = tmp_path / "utm.geojson"
    gj.write_text(json.dumps({"type": "FeatureCollection", "crs": {
        "type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32614"}},
        "features": [{"type": "Feature", "properties": {},
                      "geometry": {"type": "Polygon", "coordinates": [ring]}}]}))
    assert cli("sites", "add", "utm", "--geojson", gj).code == 0
    w, s, e, n = _run(cli, "sites", "list")[0]["bbox_wgs84"]
    assert np.isclose((w + e) / 2, -97.9987, atol=1e-5)
    assert np.isclose((s + n) / 2, 30.1609, atol=1e-5)
    bad = tmp_path / "bad.geojson"
    bad.write_text(json.dumps({"type": "Polygon", "crs": {"type": "name", "properties": {
        "name": "EPSG:999999"}}, "coordinates": [ring]}))
    assert "unknown CRS" in one_error_line(cli("sites", "add", "bad", "--geojson", bad))


def test_sources_in_sites_list_json(cli, tmp_path: Path):
    art = tmp_path / "a.txt"
    art.write_text("Published 12 March 2024\n\nSatellite images show new halls at the "
                   "Perm Powder Plant in Perm, Russia, a rocket-motor plant.\n",
                   encoding="utf-8")
    assert cli("sites", "from-text", art, "--all").code == 0
    listed = _run(cli, "sites", "list")
    assert listed and listed[0]["sources"][0]["sha256"]
    assert listed[0]["sources"][0]["quotes"]


def test_tracking_links_one_to_one_by_best_overlap():
    from shapely.geometry import box, mapping

    from sitewatch.catalog.tracking import match

    tracked = {10: mapping(box(0, 0, 1, 1)), 11: mapping(box(5, 5, 6, 6))}
    new = [mapping(box(0.1, 0, 1.1, 1)),      # shifted: continues 10
           mapping(box(0, 0, 0.3, 0.3)),      # inside 10, but 10 is taken by a better match
           mapping(box(5, 5, 7, 7)),          # 11 grew: all of 11 lies inside it
           mapping(box(20, 20, 21, 21))]      # new ground
    assert match(new, tracked) == {0: 10, 2: 11}
    assert match([], tracked) == {} and match(new, {}) == {}


def test_a_run_belongs_to_its_site_and_its_scenes_as_imported(cli, levir_site, samples,
                                                              tmp_path):
    """Two sites over the same ground with the same files each get their own run (the
    second site was given the first site's run, and had none of its own)."""
    from conftest import LEVIR_BOUNDS, LEVIR_TILE

    tiles = samples / "levir-cd" / "tiles256"

    def load(site, *extra):
        for ab, date in (("A", "2002/2013"), ("B", "2007/2018")):
            res = cli("scenes", "import", site, tiles / ab / f"{LEVIR_TILE}.png", "--date",
                      date, "--provider", "Google Earth", "--credit", "LEVIR-CD", "--bounds",
                      *LEVIR_BOUNDS, "--crs", "EPSG:4326", *extra)
            assert res.code == 0, res.err

    first = _run(cli, "analyze", levir_site, "--method", "cva")
    assert cli("sites", "add", "austin-2", "--geojson", tmp_path / "aoi.geojson").code == 0
    load("austin-2")
    second = _run(cli, "analyze", "austin-2", "--method", "cva")
    assert second["created"] and second["id"] != first["id"]
    assert [r["id"] for r in _run(cli, "runs", "list", "austin-2")] == [second["id"]]

