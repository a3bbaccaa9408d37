import json

import pytest
from conftest import one_error_line


def test_add_point_and_list(cli):
    res = cli("sites", "add", "Votkinsk plant", "--lat", "57.05", "--lon", "53.99",
              "--radius-m", "1500", "--kind", "missile assembly plant", "--country", "Russia",
              "--alias", "Votkinsk Machine Building Plant")
    assert res.code == 0, res.err
    assert "workspace:" in res.err
    listed = json.loads(cli("sites", "list", "--json").out)
    assert listed[0]["name"] == "Votkinsk plant"
    assert listed[0]["aliases"] == ["Votkinsk Machine Building Plant"]
    assert listed[0]["aoi"]["type"] == "Polygon"
    w, s, e, n = listed[0]["bbox_wgs84"]
    assert w < 53.99 < e and s < 57.05 < n
    assert "Votkinsk plant" in cli("sites", "list").out


def test_add_geojson_feature(cli, tmp_path):
    gj = tmp_path / "a.geojson"
    gj.write_text(json.dumps({"type": "Feature", "properties": {}, "geometry": {
        "type": "Polygon", "coordinates": [[[30, 50], [30.01, 50], [30.01, 50.01], [30, 50]]]}}))
    assert cli("sites", "add", "tri", "--geojson", gj).code == 0


def test_duplicate_name_is_refused_and_catalog_unchanged(cli):
    assert cli("sites", "add", "x", "--lat", "1", "--lon", "1").code == 0
    line = one_error_line(cli("sites", "add", "x", "--lat", "2", "--lon", "2"))
    assert "already exists" in line
    assert len(json.loads(cli("sites", "list", "--json").out)) == 1


@pytest.mark.parametrize("args,needle", [
    (("--lat", "95", "--lon", "1"), "outside lon/lat range"),
    (("--lat", "10", "--lon", "200"), "outside lon/lat range"),
    (("--lat", "10", "--lon", "20", "--radius-m", "-5"), "radius"),
    ((), "give the AOI"),
])
def test_bad_site_input(cli, args, needle):
    assert needle in one_error_line(cli("sites", "add", "bad", *args))
    assert json.loads(cli("sites", "list", "--json").out) == []


@pytest.mark.parametrize("content,needle", [
    ("not json", "not valid GeoJSON"),
    ('{"type": "Point", "coordinates": [1, 2]}', "Polygon"),
    ('{"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}', "invalid"),
    ('{"type": "Polygon", "coordinates": [[[0, 0], [500, 0], [500, 1], [0, 0]]]}', "range"),
])
def test_bad_geojson(cli, tmp_path, content, needle):
    gj = tmp_path / "bad.geojson"
    gj.write_text(content)
    assert needle in one_error_line(cli("sites", "add", "bad", "--geojson", gj))


def test_missing_geojson_file(cli, tmp_path):
    assert "does not exist" in one_error_line(
        cli("sites", "add", "bad", "--geojson", tmp_path / "nope.geojson"))


def test_unknown_option_is_one_line(cli):
    one_error_line(cli("sites", "add", "x", "--latitude", "3"))
