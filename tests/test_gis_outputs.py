"""GIS outputs as a QGIS user expects them, on the real Puerto Rico pair: the format follows
the extension, the GeoPackage has its layers, provenance and stored style, the KML has names,
descriptions and the AOI, masks are COGs and a run exports as a STAC item."""

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pyogrio
import pystac
import pytest
import rasterio
from conftest import one_error_line

import sitewatch

PR = "puerto-rico-maria"
HOSTILE = "<script>alert(1)</script> ]]> & Co"
KML = "{http://www.opengis.net/kml/2.2}"


@pytest.fixture(scope="module")
def analysed(tmp_path_factory: pytest.TempPathFactory, samples: Path) -> Path:
    """One workspace (SQLite) with the Puerto Rico pair analysed for two sites: 'pr' and a
    site with a hostile name; built once for the module (an analysis takes seconds)."""
    home = tmp_path_factory.mktemp("gis") / "ws"
    ws = sitewatch.open_workspace(home)
    base = samples / PR
    # two AOIs: a run is known by its inputs (scenes, grid, AOI), so one AOI would give the
    # second site the first site's run
    for name, radius in (("pr", 60), (HOSTILE, 50)):
        site = ws.add_site(name, lat=18.3286, lon=-66.19225, radius_m=radius)
        for sub, date in (("Pre_Event_Grids_In_TIFF", "2017-09-01"),
                          ("Post_Event_Grids_In_TIFF", "2017-10")):
            ws.import_scene(site, base / sub / "tile_0_107.tif", date=date, provider="Maxar",
                            credit="Maxar Open Data " + ("]]> <b>x</b>" if name != "pr" else ""),
                            licence="CC BY-NC 4.0")
        ws.analyze(site)
    ws.close()
    return home


@pytest.fixture
def ws_home(analysed: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SITEWATCH_HOME", str(analysed))
    monkeypatch.delenv("SITEWATCH_DB", raising=False)
    return analysed


def _run(cli, site="pr"):
    res = cli("runs", "list", site, "--json")
    assert res.code == 0, res.err
    return json.loads(cli("show", json.loads(res.out)[0]["id"], "--json").out)


@pytest.mark.parametrize("name,driver,layers", [
    ("c.geojson", "GeoJSON", ["detections"]), ("c.json", "GeoJSON", ["detections"]),
    # the learned detector's run measured buildings: a structures layer (test_structures.py)
    ("c.gpkg", "GPKG", ["detections", "aoi", "scenes", "structures", "layer_styles"]),
    ("c.kml", "LIBKML", ["Detections", "AOI", "Scenes"]),
    ("c.fgb", "FlatGeobuf", ["detections"]), ("c.csv", "CSV", ["c"])])
def test_extension_decides_the_format(cli, ws_home, tmp_path, name, driver, layers):
    run = _run(cli)
    out = tmp_path / name
    res = cli("export", "pr", "--out", out)  # no --format
    assert res.code == 0, res.err
    assert [str(x) for x in pyogrio.list_layers(out)[:, 0]] == layers
    info = pyogrio.read_info(out, layer=0)
    assert info["driver"] == driver
    assert info["features"] == len(run["detections"]) > 0
    if driver != "CSV":
        assert info["crs"] == "EPSG:4326"
    if driver != "LIBKML":
        assert {"area_m2", "area_uncertainty_m2", "before_sha256", "flags", "run_id"
                } <= set(info["fields"])
    # --format that agrees is accepted
    again = tmp_path / ("again" + out.suffix)
    fmt = {"GeoJSON": "geojson", "GPKG": "gpkg", "LIBKML": "kml", "FlatGeobuf": "fgb",
           "CSV": "csv"}[driver]
    assert cli("export", "pr", "--format", fmt, "--out", again).code == 0


def test_geopackage_layers_provenance_and_qgis_style(cli, ws_home, tmp_path):
    run = _run(cli)
    scenes = {s["id"]: s for s in json.loads(cli("scenes", "list", "pr", "--json").out)}
    out = tmp_path / "pr.gpkg"
    assert cli("export", "pr", "--out", out).code == 0
    _, _, _, fields = pyogrio.raw.read(out, layer="detections")
    det = {k: list(v) for k, v in zip(pyogrio.read_info(out, layer="detections")["fields"],
                                      fields, strict=True)}
    assert det["id"] == [d["id"] for d in run["detections"]]
    assert det["change_id"] == [d["change_id"] for d in run["detections"]]
    assert set(det["run_id"]) == {run["id"]} and set(det["method"]) == {run["method"]}
    before = scenes[run["before_scene_id"]]
    assert set(det["before_sha256"]) == {before["sha256"]} and len(before["sha256"]) == 64
    assert set(det["before_licence"]) == {"CC BY-NC 4.0"}
    assert set(det["after_date"]) == {"2017-10"}
    np.testing.assert_allclose(det["area_m2"], [d["area_m2"] for d in run["detections"]],
                               atol=0.06)
    assert all(0 < u < a for u, a in zip(det["area_uncertainty_m2"], det["area_m2"],
                                         strict=True))
    # the AOI and the two scenes' footprints, each scene's footprint holding the AOI
    _, _, aoi_geom, aoi_fields = pyogrio.raw.read(out, layer="aoi")
    assert len(aoi_geom) == 1 and aoi_fields[1][0] == "pr"
    info = pyogrio.read_info(out, layer="scenes")
    assert info["features"] == 2 and {"sha256", "credit", "licence", "date"} <= set(
        info["fields"])
    import shapely
    _, _, sc_geom, sc_fields = pyogrio.raw.read(out, layer="scenes")
    aoi = shapely.from_wkb(aoi_geom[0])
    assert all(shapely.from_wkb(g).contains(aoi) for g in sc_geom)
    assert list(sc_fields[0]) == ["before", "after"]
    # the style table QGIS reads, one default style per layer; the detections' QML colours
    # by change type
    with sqlite3.connect(out) as db:
        cols = [r[1] for r in db.execute("pragma table_info(layer_styles)")]
        rows = db.execute("select f_table_name, f_geometry_column, styleQML, styleSLD, "
                          "useAsDefault from layer_styles").fetchall()
        kind = db.execute("select data_type from gpkg_contents where table_name = "
                          "'layer_styles'").fetchone()
    assert {"f_table_catalog", "f_table_schema", "f_table_name", "f_geometry_column",
            "styleName", "styleQML", "styleSLD", "useAsDefault", "description", "owner",
            "ui", "update_time"} <= set(cols)
    assert kind == ("attributes",)
    assert sorted(r[0] for r in rows) == ["aoi", "detections", "scenes"]
    qml = next(r for r in rows if r[0] == "detections")
    assert qml[1] == pyogrio.read_info(out, layer="detections")["geometry_name"] == "geom"
    renderer = ET.fromstring(qml[2].split("\n", 1)[1]).find("renderer-v2")
    assert renderer is not None and renderer.get("type") == "categorizedSymbol"
    assert renderer.get("attr") == "change_type"
    values = {c.get("value") for c in renderer.iter("category")}
    assert {"built_up_gain", "vegetation_loss", "vegetation_gain", "change"} <= values
    colours = {o.get("value") for o in renderer.iter("Option") if o.get("name") == "color"}
    assert len(colours) >= 5  # one per category
    ET.fromstring(qml[3].split("\n", 1)[1])  # the SLD is well-formed
    assert qml[4] == 1


def test_kml_names_descriptions_aoi_and_hostile_text(cli, ws_home, tmp_path):
    run = _run(cli, HOSTILE)
    out = tmp_path / "x.kml"
    assert cli("export", HOSTILE, "--out", out).code == 0
    raw = out.read_text(encoding="utf-8")
    assert "<script>" not in raw and "]]>" not in raw and "<b>x" not in raw
    doc = ET.parse(out).getroot().find(f"{KML}Document")
    assert doc is not None
    folders = {f.findtext(f"{KML}name"): f for f in doc.findall(f"{KML}Folder")}
    assert list(folders) == ["Detections", "AOI", "Scenes"]
    marks = folders["Detections"].findall(f"{KML}Placemark")
    assert len(marks) == len(run["detections"])
    for pm, d in zip(marks, run["detections"], strict=True):
        name = pm.findtext(f"{KML}name")
        assert name.startswith(d["id"] + " ") and "m²" in name
        desc = pm.findtext(f"{KML}description")
        # the description is HTML (tags of sitewatch) with the user's text escaped in it
        assert "<table>" in desc and d["id"] in desc and "2017-09-01" in desc
        assert "&lt;script&gt;alert(1)&lt;/script&gt; ]]&gt; &amp; Co" in desc
        assert "<script>" not in desc and "Maxar Open Data ]]&gt; &lt;b&gt;x" in desc
        assert pm.find(f"{KML}Polygon") is not None or pm.find(
            f"{KML}MultiGeometry") is not None
    aoi = folders["AOI"].find(f"{KML}Placemark")
    assert aoi is not None and aoi.findtext(f"{KML}name") == f"AOI: {HOSTILE}"
    assert len(folders["Scenes"].findall(f"{KML}Placemark")) == 2
    # a GIS reader gets the same names back
    _, _, _, fields = pyogrio.raw.read(out, layer="Detections", columns=["Name"])
    assert list(fields[0]) == [pm.findtext(f"{KML}name") for pm in marks]


def _assert_cog(path: Path) -> None:
    with rasterio.open(path) as ds:
        assert ds.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
        assert ds.profile["tiled"] and ds.block_shapes == [(256, 256)]
        assert ds.compression is not None and ds.compression.name == "deflate"
        assert ds.count == 1 and ds.dtypes == ("uint8",) and ds.nodata == 255
        assert ds.overviews(1), "no overviews"
        values = set(np.unique(ds.read(1)).tolist())
        assert values <= {0, 1, 255} and 1 in values
        # the overviews hold mask values only (nearest, never an average)
        assert set(np.unique(ds.read(1, out_shape=(ds.height // 2, ds.width // 2)))) <= {
            0, 1, 255}


def test_masks_are_cloud_optimised(cli, samples, ws_home, tmp_path):
    base = samples / PR
    out = tmp_path / "mask.tif"
    res = cli("detect", base / "Pre_Event_Grids_In_TIFF/tile_0_107.tif",
              base / "Post_Event_Grids_In_TIFF/tile_0_107.tif", "--out", out, "--method", "cva")
    assert res.code == 0, res.err
    _assert_cog(out)
    with rasterio.open(out) as ds:
        assert ds.crs.to_epsg() == 32619 and (ds.width, ds.height) == (512, 512)
    # analyze's run mask is one too
    masks = sorted((ws_home / "chips").glob("site*/run_*_mask.tif"))
    assert len(masks) == 2
    for m in masks:
        _assert_cog(m)


def test_stac_item_of_a_run(cli, ws_home, tmp_path):
    run = _run(cli)
    folder = tmp_path / "stac"
    res = cli("export", "pr", "--stac", folder)
    assert res.code == 0, res.err
    item_path = folder / f"pr-{run['id']}.json"
    assert f"STAC item written to {item_path}" in res.out
    doc = json.loads(item_path.read_text())
    item = pystac.Item.from_dict(doc)
    assert item.to_dict(include_self_link=False) == doc  # a faithful round trip
    assert doc["type"] == "Feature" and doc["stac_version"] == "1.1.0"
    assert item.datetime is None
    assert doc["properties"]["start_datetime"] == "2017-09-01T00:00:00Z"
    assert doc["properties"]["end_datetime"] == "2017-10-31T23:59:59Z"
    props = doc["properties"]
    assert props["sitewatch:run_id"] == run["id"] and props["license"] == "CC-BY-NC-4.0"
    assert [s["date"] for s in props["sitewatch:scenes"]] == ["2017-09-01", "2017-10"]
    assert all(len(s["sha256"]) == 64 for s in props["sitewatch:scenes"])
    assert props["sitewatch:detections"] == len(run["detections"])
    # the one total: the detections' areas summed, as the CLI and the report state it
    total = sum(d["area_m2"] for d in run["detections"])
    assert props["sitewatch:changed_area_m2"] == pytest.approx(total, abs=0.1 * len(
        run["detections"]))
    assert 0 < props["sitewatch:changed_area_uncertainty_m2"] < total
    assert "sitewatch" in props["processing:software"]
    assert item.bbox is not None and -66.2 < item.bbox[0] < item.bbox[2] < -66.19
    assert set(item.assets) == {"mask", "detections", "geopackage"}
    for key, asset in item.assets.items():
        assert asset.href.startswith("./"), key
        path = folder / asset.href[2:]
        assert path.is_file(), key
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        assert asset.extra_fields["file:checksum"] == "1220" + digest
        assert asset.extra_fields["file:size"] == path.stat().st_size
    mask = item.assets["mask"]
    assert mask.media_type == "image/tiff; application=geotiff; profile=cloud-optimized"
    _assert_cog(folder / mask.href[2:])
    with rasterio.open(folder / mask.href[2:]) as ds:
        assert mask.extra_fields["proj:code"] == f"EPSG:{ds.crs.to_epsg()}"
        assert mask.extra_fields["proj:shape"] == [ds.height, ds.width]
        assert mask.extra_fields["proj:transform"] == list(ds.transform)[:6]
    assert {c["value"] for c in mask.extra_fields["classification:classes"]} == {0, 1, 255}
    assert all(any(u.startswith(f"https://stac-extensions.github.io/{e}/")
                   for u in doc["stac_extensions"])
               for e in ("projection", "file", "classification", "processing"))
    # no local path of the analyst's machine in a published item
    text = item_path.read_text()
    assert str(ws_home) not in text and str(Path.cwd()) not in text
    assert "changenet" in text or "cva" in text  # the method's parameters are there


@pytest.mark.parametrize("args,why", [
    (("--format", "kml", "--out", "sub/x.geojson"), "does not match"),
    (("--out", "sub/x.shp"), "cannot write .shp"),
    (("--out", "sub/x.kmz"), "cannot write .kmz"),
    (("--out", "sub/x.xlsx"), "cannot write .xlsx"),
    (("--out", "sub/changes"), "no extension"),
    (("--format", "svg", "--out", "sub/x.svg"), "unknown format"),
    (("--out", "sub/x.gpkg", "--stac", "sub/stac"), "not both"),
    ((), "give --out"),
])
def test_refused_exports_write_nothing(cli, ws_home, tmp_path, monkeypatch, args, why):
    monkeypatch.chdir(tmp_path)
    assert why in one_error_line(cli("export", "pr", *args))
    assert list(tmp_path.iterdir()) == []


def test_stac_into_a_file_is_refused(cli, ws_home, tmp_path):
    f = tmp_path / "taken"
    f.write_text("keep")
    assert "is a file" in one_error_line(cli("export", "pr", "--stac", f))
    assert f.read_text() == "keep" and sorted(tmp_path.iterdir()) == [f]


def test_flags_travel_into_every_output(cli, ws_home, tmp_path):
    run = _run(cli)
    if "flags" not in run:
        pytest.skip("this model has no warning flags yet (issue 12, item 1)")
    # the 60 m Puerto Rico site: its co-registration is rejected, and the exports say so
    assert "coregistration-rejected" in run["flags"]
    gpkg, kml = tmp_path / "f.gpkg", tmp_path / "f.kml"
    assert cli("export", "pr", "--out", gpkg).code == 0
    assert cli("export", "pr", "--out", kml).code == 0
    assert cli("export", "pr", "--stac", tmp_path / "stac").code == 0
    _, _, _, (flags, run_flags, warnings) = pyogrio.raw.read(
        gpkg, layer="detections", columns=["flags", "run_flags", "warnings"])
    assert list(run_flags) == [",".join(run["flags"])] * len(run["detections"])
    assert list(flags) == [",".join(d["flags"]) for d in run["detections"]]
    assert all("Co-registration failed" in w for w in warnings)
    text = kml.read_text(encoding="utf-8")
    assert text.count("Co-registration failed") >= len(run["detections"])
    item = json.loads((tmp_path / "stac" / f"pr-{run['id']}.json").read_text())
    assert item["properties"]["sitewatch:flags"] == run["flags"]


COG_VALIDATOR = Path("/usr/lib/python3/dist-packages/osgeo_utils/samples/"
                     "validate_cloud_optimized_geotiff.py")


@pytest.mark.skipif(not (shutil.which("ogrinfo") and shutil.which("gdalinfo")),
                    reason="GDAL's command-line tools (ogrinfo, gdalinfo) are not installed")
def test_gdal_command_line_tools_read_the_outputs(cli, ws_home, tmp_path):
    """A reader that is not sitewatch's own GDAL: the system's ogrinfo and gdalinfo (and
    GDAL's COG validator where the system Python has it)."""
    run = _run(cli)
    n = len(run["detections"])
    gpkg, kml = tmp_path / "o.gpkg", tmp_path / "o.kml"
    assert cli("export", "pr", "--out", gpkg).code == 0
    assert cli("export", "pr", "--out", kml).code == 0
    assert cli("export", "pr", "--stac", tmp_path / "stac").code == 0

    def tool(*args: object) -> str:
        done = subprocess.run([str(a) for a in args], capture_output=True, text=True,
                              timeout=60, check=True)
        return done.stdout + done.stderr

    info = tool("ogrinfo", "-so", "-al", gpkg)
    assert "partially supported" not in info  # a GeoPackage every GDAL since 2.x reads
    for layer, count in (("detections", n), ("aoi", 1), ("scenes", 2)):
        assert f"Layer name: {layer}\n" in info
        assert f"Feature Count: {count}\n" in info.split(f"Layer name: {layer}\n")[1]
    for f in ("before_sha256: String", "area_uncertainty_m2: Real", "run_flags: String",
              "warnings: String", "after_licence: String"):
        assert f in info, f
    styles = tool("ogrinfo", "-q", gpkg, "layer_styles")
    assert styles.count("useAsDefault (Integer(Boolean)) = 1") == 3
    k = tool("ogrinfo", "-so", "-al", kml)
    assert "Layer name: Detections\n" in k and f"Feature Count: {n}\n" in k
    mask = tmp_path / "stac" / f"pr-{run['id']}-mask.tif"
    g = tool("gdalinfo", mask)
    assert "LAYOUT=COG" in g and "Block=256x256 Type=Byte" in g and "NoData Value=255" in g
    assert "Overviews: " in g
    if COG_VALIDATOR.is_file() and subprocess.run(
            ["/usr/bin/python3", "-c", "import osgeo.gdal"], capture_output=True).returncode == 0:
        v = tool("/usr/bin/python3", COG_VALIDATOR, "--full-check=yes", mask)
        assert "is a valid cloud optimized GeoTIFF" in v, v


def test_stac_of_a_hostile_name_and_of_a_lost_mask(cli, analysed, tmp_path, monkeypatch):
    # a copy of the workspace (its catalog stores paths relative to it), to lose a file in
    home = tmp_path / "ws"
    shutil.copytree(analysed, home)
    monkeypatch.setenv("SITEWATCH_HOME", str(home))
    monkeypatch.delenv("SITEWATCH_DB", raising=False)
    run = _run(cli, HOSTILE)
    out = tmp_path / "stac"
    assert cli("export", HOSTILE, "--stac", out).code == 0
    item = next(out.glob("*.json"))
    assert item.name == f"script-alert-1-script-co-{run['id']}.json"
    assert json.loads(item.read_text())["properties"]["sitewatch:site"]["name"] == HOSTILE
    # the run's mask is gone: refused in one line, and nothing of this call is left
    for mask in (home / "chips").glob("site*/run_*_mask.tif"):
        mask.unlink()
    again = tmp_path / "again"
    assert "change mask of run" in one_error_line(cli("export", "pr", "--stac", again))
    assert not again.exists() or list(again.iterdir()) == []


QGIS_CHECK = """
import os, sys
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from qgis.core import QgsApplication, QgsRasterLayer, QgsVectorLayer
app = QgsApplication([], False)
app.initQgis()
gpkg, kml, mask = sys.argv[1:4]
for name in ("detections", "aoi", "scenes"):
    layer = QgsVectorLayer(f"{gpkg}|layername={name}", name, "ogr")
    _, loaded = layer.loadDefaultStyle()  # what QGIS does when the layer is added
    r = layer.renderer()
    cats = sorted(c.value() for c in r.categories()) if hasattr(r, "categories") else []
    print(name, layer.isValid(), layer.featureCount(), layer.crs().authid(), loaded, r.type(),
          getattr(r, "classAttribute", lambda: "-")(), ",".join(cats), layer.labelsEnabled())
k = QgsVectorLayer(f"{kml}|layername=Detections", "kml", "ogr")
print("kml", k.isValid(), k.featureCount(), next(k.getFeatures())["Name"])
m = QgsRasterLayer(mask, "mask")
print("mask", m.isValid(), m.crs().authid(), m.dataProvider().sourceNoDataValue(1),
      sum(p.getExists() for p in m.dataProvider().buildPyramidList()))
sys.stdout.flush()
os._exit(0)  # QGIS 3.22 may crash while tearing down in a script: leave once printed
"""


def _system_python_has(module: str) -> bool:
    return Path("/usr/bin/python3").is_file() and subprocess.run(
        ["/usr/bin/python3", "-c", f"import {module}"], capture_output=True).returncode == 0


@pytest.mark.skipif(not _system_python_has("qgis.core"),
                    reason="QGIS's Python bindings are not installed (python3-qgis)")
def test_qgis_opens_the_outputs_styled(cli, ws_home, tmp_path):
    """QGIS itself (headless): the GeoPackage's layers load their stored default style
    (detections categorised on change_type, labelled), the KML and the mask COG open."""
    run = _run(cli)
    gpkg, kml = tmp_path / "q.gpkg", tmp_path / "q.kml"
    for out in (gpkg, kml):
        assert cli("export", "pr", "--out", out).code == 0
    assert cli("export", "pr", "--stac", tmp_path / "stac").code == 0
    mask = tmp_path / "stac" / f"pr-{run['id']}-mask.tif"
    done = subprocess.run(["/usr/bin/python3", "-c", QGIS_CHECK, gpkg, kml, mask],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert done.returncode == 0, done.stderr
    lines = {ln.split()[0]: ln.split() for ln in done.stdout.splitlines() if ln.strip()}
    n = str(len(run["detections"]))
    assert lines["detections"][:7] == ["detections", "True", n, "EPSG:4326", "True",
                                       "categorizedSymbol", "change_type"]
    assert set(lines["detections"][7].split(",")) >= {"built_up_gain", "vegetation_loss",
                                                      "vegetation_gain", "change"}
    assert lines["detections"][-1] == "True"  # labelled with the detection ids
    assert lines["aoi"][:6] == ["aoi", "True", "1", "EPSG:4326", "True", "singleSymbol"]
    assert lines["scenes"][:6] == ["scenes", "True", "2", "EPSG:4326", "True", "singleSymbol"]
    assert lines["kml"][:3] == ["kml", "True", n] and lines["kml"][3] == run["detections"][0]["id"]
    assert lines["mask"][:3] == ["mask", "True", "EPSG:32619"] and lines["mask"][3] == "255.0"
    assert int(lines["mask"][4]) >= 1  # QGIS sees the COG's overviews as pyramids
    assert "Non-conformant" not in done.stderr and "partially supported" not in done.stderr


RUSTAC = Path(sys.executable).parent / "rustac"


@pytest.mark.skipif(not RUSTAC.is_file(), reason="rustac (a dev dependency) is not installed")
def test_stac_item_validates_against_the_core_schemas(cli, ws_home, tmp_path):
    """rustac validates against the STAC core schemas it carries (no network); the
    extensions' schemas would be fetched, so their fields are left out of this copy."""
    run = _run(cli)
    assert cli("export", "pr", "--stac", tmp_path / "stac").code == 0
    doc = json.loads((tmp_path / "stac" / f"pr-{run['id']}.json").read_text())
    doc["stac_extensions"] = []
    doc["properties"] = {k: v for k, v in doc["properties"].items() if ":" not in k}
    for asset in doc["assets"].values():
        for k in [k for k in asset if ":" in k]:
            del asset[k]
    core = tmp_path / "core.json"
    core.write_text(json.dumps(doc))
    done = subprocess.run([str(RUSTAC), "validate", str(core)], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    # and the validator does look: an item without its geometry is refused
    del doc["geometry"]
    core.write_text(json.dumps(doc))
    assert subprocess.run([str(RUSTAC), "validate", str(core)], capture_output=True,
                          timeout=60).returncode != 0
