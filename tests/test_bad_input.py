"""Bad input is one clear line and exit status 2, never an internal error; doubtful input
(blank images, dates outside the satellite era, NaN scales) is refused; library noise stays
off stderr; a corrupt cached chip is made again."""

import contextlib
import json

import numpy as np
import pytest
from conftest import one_error_line
from support.synthetic import CENTRE_LONLAT, geotiff

from sitewatch.errors import InputValueError
from sitewatch.model.dates import ObsDate

LON, LAT = CENTRE_LONLAT


@pytest.fixture
def pair(tmp_path):
    rng = np.random.default_rng(0)
    a = rng.integers(0, 255, (3, 64, 64)).astype(np.uint8)
    return (geotiff(tmp_path / "a.tif", a), geotiff(tmp_path / "b.tif", 255 - a))


@pytest.fixture
def site(cli):
    assert cli("sites", "add", "s", "--lat", LAT, "--lon", LON, "--radius-m", "25").code == 0
    return "s"


@pytest.mark.parametrize("text,needle", [
    ('{"type":"Polygon","coordinates":[[[NaN,0],[1,0],[1,1],[0,0]]]}', "NaN"),
    ('{"type":"Polygon","coordinates":[[[Infinity,0],[1,0],[1,1],[0,0]]]}', "Infinity"),
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ('{"type":"Polygon","coordinates":' + "[" * 900 + "1" + "]" * 900 + "}", "malformed"),
    ('{"type":"Feature","geometry":{"type":"Polygon","coordinates":{}}}', "malformed"),
    ('{"type":"FeatureCollection","features":[1]}', "not a list of GeoJSON features"),
    ('{"type":"FeatureCollection","features":7}', "not a list of GeoJSON features"),
])
def test_hostile_geojson(cli, tmp_path, text, needle):
    gj = tmp_path / "aoi.geojson"
    gj.write_text(text)
    assert needle in one_error_line(cli("sites", "add", "g", "--geojson", gj))
    assert json.loads(cli("sites", "list", "--json").out) == []


@pytest.mark.parametrize("option,value", [("--gsd", "nan"), ("--gsd", "inf"),
                                          ("--gsd", "-inf"), ("--gsd", "1e999")])
def test_non_finite_detect_option(cli, pair, tmp_path, option, value):
    line = one_error_line(cli("detect", *pair, "--out", tmp_path / "m.tif", option, value))
    assert option in line and "not a finite number" in line
    assert not (tmp_path / "m.tif").exists()


@pytest.mark.parametrize("value", ["5e-324", "1e-320", "1e300"])
def test_gsd_out_of_range(cli, pair, tmp_path, value):
    """Found by the fuzz suite: a subnormal pixel size squared to 0 (ZeroDivisionError)."""
    line = one_error_line(cli("detect", *pair, "--out", tmp_path / "m.tif", "--gsd", value))
    assert "is not a pixel size" in line
    assert not (tmp_path / "m.tif").exists()


@pytest.mark.parametrize("args", [
    ("sites", "add", "x", "--lat", "nan", "--lon", "1"),
    ("sites", "add", "x", "--lat", "1", "--lon", "1", "--radius-m", "inf"),
    ("scenes", "import", "s", "IMG", "--date", "2020-01-01", "--provider", "p", "--scale", "nan"),
    ("scenes", "import", "s", "IMG", "--date", "2020-01-01", "--provider", "p", "--offset", "inf"),
    ("scenes", "import", "s", "IMG", "--date", "2020-01-01", "--provider", "p",
     "--bounds", "0", "0", "nan", "1"),
    ("timeline", "s", "--min-clear", "nan"),
    ("stac", "search", "s", "--max-cloud", "inf"),
    ("watch", "rule", "--min-area", "nan"),
])
def test_non_finite_options_anywhere(cli, site, pair, args):
    args = tuple(str(pair[0]) if a == "IMG" else a for a in args)
    assert "not a finite number" in one_error_line(cli(*args))
    assert json.loads(cli("scenes", "list", "s", "--json").out) == []


def test_non_finite_scale_refused_by_the_api(site, pair):
    import sitewatch

    ws = sitewatch.open_workspace()
    for facts in ({"scale": float("nan")}, {"offset": float("inf")}):
        with pytest.raises(InputValueError, match="not a finite number"):
            ws.import_scene("s", pair[0], date="2020-01-01", provider="p", **facts)
    with pytest.raises(InputValueError, match="pixel size"):
        sitewatch.detect_pair(*pair, pair[0].parent / "m.tif", gsd_m=float("nan"))


@pytest.mark.parametrize("content", ["hello\n", "", "PK\x03\x04junk"])
def test_weights_that_are_not_weights(cli, pair, tmp_path, content):
    w = tmp_path / "w.pt"
    w.write_text(content)
    line = one_error_line(cli("detect", *pair, "--out", tmp_path / "m.tif", "--weights", w))
    assert str(w) in line and "weights" in line


def test_weights_folder(cli, pair, tmp_path):
    line = one_error_line(cli("detect", *pair, "--out", tmp_path / "m.tif", "--weights", tmp_path))
    assert "is a folder" in line


@pytest.mark.parametrize("out", ["/proc/sitewatch-test.tif", "/proc/no/such/dir/m.tif",
                                 "/sys/m.tif"])
def test_unwritable_outputs(cli, pair, out):
    line = one_error_line(cli("detect", *pair, "--out", out))
    assert out.rsplit("/", 1)[0] in line


def test_unwritable_geojson_leaves_no_mask(cli, pair, tmp_path):
    one_error_line(cli("detect", *pair, "--out", tmp_path / "m.tif",
                       "--geojson", "/proc/x.geojson"))


@pytest.mark.parametrize("fill,nodata", [(np.nan, None), (0, 0), (-9999, -9999)])
def test_blank_images_refused(cli, site, pair, tmp_path, fill, nodata):
    blank = geotiff(tmp_path / "blank.tif", np.full((3, 64, 64), fill, np.float32), nodata)
    assert "holds no data" in one_error_line(
        cli("detect", blank, pair[1], "--out", tmp_path / "m.tif"))
    assert "holds no data" in one_error_line(
        cli("detect", pair[0], blank, "--out", tmp_path / "m.tif"))
    assert "holds no data" in one_error_line(
        cli("scenes", "import", "s", blank, "--date", "2020-01-01", "--provider", "p"))
    assert json.loads(cli("scenes", "list", "s", "--json").out) == []


@pytest.mark.parametrize("date,needle", [
    ("1800-01-01", "satellite era"), ("9999-01-01", "satellite era"), ("1959", "satellite era"),
    ("1950/2000", "satellite era"), ("2024-01-01Tjunk!", "ISO date"),
    ("2024-01-01T25:00", "ISO date"), ("\uff12\uff10\uff12\uff14", "does not parse"),
])
def test_dates_outside_the_era_or_not_iso(cli, site, pair, date, needle):
    line = one_error_line(cli("scenes", "import", "s", pair[0], "--date", date,
                              "--provider", "p"))
    assert needle in line and "--date" in line or needle in line


def test_date_parsing_is_strict_and_utc():
    assert ObsDate.parse("2017-09-20T23:30:00-05:00").text == "2017-09-21"
    assert ObsDate.parse("2017-09-01T00:00:00Z/2017-10-01T00:00Z").text == "2017-09-01/2017-10-01"
    assert ObsDate.parse("1800").start.year == 1800  # the catalog's own dates still read
    assert ObsDate.from_user("1960-01-01/..").start.year == 1960


@pytest.mark.parametrize("option", ["--before", "--after"])
def test_analyze_dates_checked(cli, site, pair, option):
    for p, d in zip(pair, ("2020-01-01", "2021-01-01"), strict=True):
        assert cli("scenes", "import", "s", p, "--date", d, "--provider", "p").code == 0
    assert "satellite era" in one_error_line(cli("analyze", "s", option, "1800"))


def test_library_warnings_stay_off_stderr(cli, tmp_path, caplog):
    pdf = tmp_path / "bad.pdf"  # a PDF whose cross-reference table points nowhere
    pdf.write_bytes(
        b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
        b"2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n"
        b"3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >> endobj\n4 0 obj << /Length 44 >> stream\n"
        b"BT /F1 24 Tf 72 700 Td (Votkinsk plant) Tj ET\nendstream endobj\n"
        b"5 0 obj << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> endobj\n"
        b"xref\n0 6\n0000000000 65535 f \ntrailer << /Size 6 /Root 1 0 R >>\n"
        b"startxref\n999\n%%EOF\n")
    res = cli("extract", pdf)
    assert res.code == 0, res.err
    assert [ln for ln in res.err.splitlines() if not ln.startswith("workspace:")] == []
    assert not [r for r in caplog.records if r.name.startswith("pypdf")]
    assert "startxref" in cli("-v", "-v", "extract", pdf).err  # the libraries' logs: -v -v


@pytest.mark.parametrize("damage", ["garbage", "empty", "wrong size"])
def test_corrupt_cached_chip_is_made_again(cli, levir_site, workspace, tmp_path, damage):
    assert cli("analyze", levir_site, "--method", "cva").code == 0
    chips = sorted((workspace / "chips").glob("site*/scene*.tif"))
    assert chips
    for chip in chips:
        if damage == "garbage":
            chip.write_bytes(b"II*\x00" + b"\x17" * 500)
        elif damage == "empty":
            chip.write_bytes(b"")
        else:
            geotiff(chip, np.zeros((3, 8, 8), np.float32))
    res = cli("analyze", levir_site, "--method", "model")
    assert res.code == 0, res.err
    assert "making it again" in res.err
    assert cli("analyze", levir_site, "--method", "model").code == 0  # the rebuilt chips read


@pytest.mark.parametrize("value", [np.finfo(np.float32).max, 0.0])
def test_extreme_or_constant_pixels_are_compared(tmp_path, value):
    """Found by the fuzz suite: float32 sums of values near the type's largest overflowed
    (a NaN threshold, an internal error), and a constant band broke the radiometric fit."""
    import sitewatch

    data = np.full((2, 40, 40), value, np.float32)
    data[:, :, ::2] = -np.inf  # no data
    a = geotiff(tmp_path / "a.tif", data)
    res = sitewatch.detect_pair(a, a, tmp_path / "m.tif", method="cva")
    assert int((res.result.mask == 1).sum()) == 0


@pytest.mark.parametrize("radius", ["5e-324", "1e-320", "0.5"])
def test_radius_below_a_metre(cli, radius):
    """Found by the fuzz suite: a subnormal radius made GEOS fail (an internal error)."""
    assert "radius" in one_error_line(cli("sites", "add", "r", "--lat", "0", "--lon", "0",
                                          "--radius-m", radius))


def test_alpha_band_against_a_four_band_image(tmp_path):
    """Found by the fuzz suite: bands were matched by names that still held the alpha band,
    which reads drop (an IndexError)."""
    import sitewatch

    rng = np.random.default_rng(3)
    rgba = rng.integers(0, 255, (4, 30, 30)).astype(np.uint8)  # GDAL: red, green, blue, alpha
    four = rng.uniform(0, 1, (4, 30, 30)).astype(np.float32)  # gray, b2, b3, b4
    a, b = geotiff(tmp_path / "a.tif", four), geotiff(tmp_path / "b.tif", rgba)
    with contextlib.suppress(sitewatch.SitewatchError):  # refusing is fine; raising not
        sitewatch.detect_pair(a, b, tmp_path / "m.tif", method="cva")


def test_rgba_image_warped_onto_another_grid(tmp_path):
    """Found by the fuzz suite: warping an RGBA image asked GDAL for a second alpha band
    (WarpOptionsError)."""
    import sitewatch

    rng = np.random.default_rng(4)
    rgba = rng.integers(1, 255, (4, 30, 30)).astype(np.uint8)
    a = geotiff(tmp_path / "a.tif", rgba[:3].copy(), pixel_m=30.0)
    b = geotiff(tmp_path / "b.tif", rgba, pixel_m=20.0)  # another grid: warped
    with contextlib.suppress(sitewatch.SitewatchError):
        sitewatch.detect_pair(a, b, tmp_path / "m.tif", method="cva")


@pytest.mark.parametrize("field", ["name", "notes"])
def test_a_nul_character_is_refused_on_every_catalog(workspace, field):
    """PostgreSQL refuses NUL in text (an internal error before); SQLite took it. Both
    now refuse it with one clear error and store nothing. (In JSON fields, aliases for
    one, it is written escaped and kept.)"""
    import sitewatch
    from sitewatch.errors import InputValueError

    ws = sitewatch.open_workspace()
    kwargs = {"name": "plant", "aliases": (), "notes": None}
    if field == "name":
        kwargs["name"] = "pl\x00ant"
    else:
        kwargs["notes"] = "n\x00"
    with pytest.raises(InputValueError, match="NUL character"):
        ws.add_site(kwargs.pop("name"), lat=10.0, lon=20.0, **kwargs)
    assert ws.sites(include_removed=True) == []
