"""Coordinates written in article text: decimal degrees, degrees-minutes-seconds, MGRS,
each checked against the point its source gives, and numbers that are not coordinates."""

from __future__ import annotations

import pytest

from sitewatch.text.coords import find_coordinates
from sitewatch.text.gazetteer import distance_km


def _one(text: str) -> tuple[float, float, float, str]:
    (c,) = find_coordinates(text)
    assert text[c.start:c.end] == c.text
    return c.lat, c.lon, c.uncertainty_m, c.form


def test_signed_decimal_pairs_of_public_reports() -> None:
    # https://www.airuniversity.af.edu/CASI/Display/Article/2729781/ (CASI, 12 August 2021)
    casi = ("By mid-May 2021, the People’s Liberation Army (PLA) likely began construction of a "
            "potential intercontinental ballistic missile (ICBM) silo site in Hanggin Banner, "
            "Ordos City, Inner Mongolia (approximately at 40.113, 108.104).")
    lat, lon, unc, form = _one(casi)
    assert (lat, lon, form) == (40.113, 108.104, "decimal") and 50 < unc < 60
    # https://www.bellingcat.com/resources/2023/09/25/we-tasked-a-satellite-based-on-your-suggestions-here-are-the-results/
    bell = ("Sino-Indian Border, Base near China’s Shigatse Peace Airport (29.314558, 89.321937) "
            "– Suggestion via Discord")
    lat, lon, unc, _ = _one(bell)
    assert (lat, lon) == (29.314558, 89.321937) and unc < 1
    park = "Intrenchment Creek Park, also known as, Cop City: Atlanta, Georgia, USA  " \
           "(33.694458, -84.332762) – Suggestion via Bluesky"
    assert _one(park)[:2] == (33.694458, -84.332762)
    # a short pair only where the text says coordinates follow
    lat, lon, unc, _ = _one("The launch pad's coordinates are -33.9, 18.4.")
    assert (lat, lon) == (-33.9, 18.4) and 5_000 < unc < 6_000


def test_decimal_degrees_with_hemispheres() -> None:
    lat, lon, unc, form = _one("the field lies at 40.85 N, 111.73 E, north of the river")
    assert (lat, lon, form) == (40.85, 111.73, "decimal") and 500 < unc < 600
    assert _one("at 40.85°S 111.73°W")[:2] == (-40.85, -111.73)
    assert _one("at N40.851 E111.734")[:2] == (40.851, 111.734)


@pytest.mark.parametrize(("text", "lat", "lon"), [
    ("at 40°51'04\"N 111°44'02\"E.", 40 + 51 / 60 + 4 / 3600, 111 + 44 / 60 + 2 / 3600),
    ("at 40° 51′ 04″ N, 111° 44′ 02″ E", 40 + 51 / 60 + 4 / 3600, 111 + 44 / 60 + 2 / 3600),
    ("at 40°51'N 111°44'E", 40 + 51 / 60, 111 + 44 / 60),
    # http://sun-bin.blogspot.com/2006/06/surfing-google-earth-ii.html: no degree sign,
    # a lower-case hemisphere, or no marks at all
    ("42 32'33.95\" N 94 19'36.80\" e ---", 42 + 32 / 60 + 33.95 / 3600,
     94 + 19 / 60 + 36.80 / 3600),
    ("just type the coordinates in the same syntax, e.g. \"42 39 19 N, 94 10 02 E\".",
     42 + 39 / 60 + 19 / 3600, 94 + 10 / 60 + 2 / 3600),
])
def test_degrees_minutes_seconds(text: str, lat: float, lon: float) -> None:
    got_lat, got_lon, unc, form = _one(text)
    assert form == "dms" and abs(got_lat - lat) < 1e-9 and abs(got_lon - lon) < 1e-9
    assert unc < 1_000


def test_mgrs_against_known_points() -> None:
    # https://en.wikipedia.org/wiki/Military_Grid_Reference_System: "4Q FJ 1234 6789" is
    # the 10 m square at 21°24'35.43"N 157°54'57.89"W (its south-west corner)
    lat, lon, unc, form = _one("An example of an MGRS coordinate is 4Q FJ 1234 6789, which")
    corner = (21 + 24 / 60 + 35.43 / 3600, -(157 + 54 / 60 + 57.89 / 3600))
    assert form == "mgrs" and distance_km(lat, lon, *corner) < 0.02 and unc < 10
    # the US National Grid's example: the Washington Monument, 18S UJ 23487 06483
    lat, lon, unc, _ = _one("The monument is at 18S UJ 23487 06483 on the Mall.")
    assert distance_km(lat, lon, 38.8895, -77.0352) < 0.03 and unc < 1
    lat, lon, unc, _ = _one("grid 38SMB4488")  # 1 km square: its centre, ~700 m
    assert 600 < unc < 800 and 32 < lat < 34 and 44 < lon < 46


@pytest.mark.parametrize("text", [
    "Output grew 1.5, 2.3 million tonnes",           # numbers in a list
    "grew 12.5, 14.2, 16.1 percent",
    "In 2019 12 N-class ships were built",           # a year and a count
    "at 40 N, 111 E",                                # whole degrees without a degree sign
    "at 95.5 N, 10.2 E",                             # latitude out of range
    "at 40°75'N 111°44'E",                           # 75 minutes
    "ref 31U ZZ 1 1 and 4Q FJ 123 4567",             # not an MGRS square; uneven digits
    "The F-16 and the 2S19 self-propelled gun",
])
def test_numbers_that_are_not_coordinates(text: str) -> None:
    assert find_coordinates(text) == []
