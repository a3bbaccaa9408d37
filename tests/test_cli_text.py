"""User text printed by the CLI is shown as written: never read as Rich markup or emoji
codes, and control or bidirectional-override characters never reach the terminal."""

import json

import numpy as np
import pytest
from conftest import one_error_line
from support.synthetic import CENTRE_LONLAT, geotiff

from sitewatch.cli.common import markup_safe, shown

LON, LAT = CENTRE_LONLAT
HOSTILE = ["[/b]", "[bold red]x", "\x1b[31mred", "a\u202eb", ":smile: [link=file:///etc]y",
           "c\x9b2Jd", "e\rsitewatch: fake"]
FORBIDDEN = ["\x1b", "\u202e", "\x9b", "\r", "\U0001f604"]  # ESC, RLO, CSI, CR, the emoji


def _clean(text: str) -> None:
    for ch in FORBIDDEN:
        assert ch not in text, (ch, text)


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_site_name_added_listed_and_stored_exactly(cli, name):
    res = cli("sites", "add", name, "--lat", "10", "--lon", "20")
    assert res.code == 0, res.err
    _clean(res.out + res.err)
    listed = cli("sites", "list")
    assert listed.code == 0
    assert shown(name) in listed.out  # literally, with controls as escapes
    _clean(listed.out + listed.err)
    as_json = cli("sites", "list", "--json")
    _clean(as_json.out)
    assert json.loads(as_json.out)[0]["name"] == name  # the stored value is exact
    shown_site = cli("sites", "show", name)
    assert shown_site.code == 0, shown_site.err
    _clean(shown_site.out)


def test_escapes_are_visible():
    assert shown("\x1b[31mred") == "\\x1b[31mred"
    assert shown("a\u202eb\u2066c") == "a\\u202eb\\u2066c"
    assert shown("tab\tand\nnewline") == "tab\tand\nnewline"
    assert markup_safe("[bold]\x07") == "\\[bold]\\x07"


def test_hostile_name_in_an_error_line(cli):
    line = one_error_line(cli("sites", "show", "\x1b[2J[/b]gone\u202e"))
    assert "\\x1b[2J[/b]gone\\u202e" in line
    _clean(line)


def test_hostile_provider_and_credit_in_scenes_list(cli, tmp_path):
    img = geotiff(tmp_path / "s.tif", np.full((1, 32, 32), 7, np.uint8))
    assert cli("sites", "add", "s", "--lat", LAT, "--lon", LON, "--radius-m", "10").code == 0
    res = cli("scenes", "import", "s", img, "--date", "2020-05-01",
              "--provider", "\x1b]0;owned\x07[red]Maxar", "--credit", "[/dim]\u202e(c)")
    assert res.code == 0, res.err
    _clean(res.out + res.err)
    listed = cli("scenes", "list", "s")
    assert "\\x1b]0;owned\\x07[red]Maxar" in listed.out
    _clean(listed.out)
    rows = json.loads(cli("scenes", "list", "s", "--json").out)
    assert rows[0]["provider"] == "\x1b]0;owned\x07[red]Maxar"
    assert rows[0]["credit"] == "[/dim]\u202e(c)"
