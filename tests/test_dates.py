from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sitewatch.errors import InputValueError
from sitewatch.model.dates import ObsDate


def test_year_stays_a_year():
    d = ObsDate.parse("2002")
    assert (d.start, d.end, d.precision) == (date(2002, 1, 1), date(2002, 12, 31), "year")
    assert d.describe() == "2002 (year only)"


def test_month_and_day():
    assert ObsDate.parse("2024-02").end == date(2024, 2, 29)
    assert ObsDate.parse("2017-09-20").precision == "day"
    assert ObsDate.parse("2017-09-20T15:04:05Z").text == "2017-09-20"


def test_intervals_open_and_closed():
    assert ObsDate.parse("2002/2013").describe() == "between 2002 and 2013 (exact date unknown)"
    before = ObsDate.parse("../2017-09-19")
    assert before.start is None and before.end == date(2017, 9, 19)
    after = ObsDate.parse("2017-09-20/..")
    assert after.sort_key > before.sort_key


@pytest.mark.parametrize("bad", ["", "yesterday", "2017-13-01", "2017-02-30", "17-09-20",
                                 "../..", "2018/2002"])
def test_bad_dates_are_refused(bad):
    with pytest.raises(InputValueError):
        ObsDate.parse(bad)


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)))
def test_day_round_trips(d):
    parsed = ObsDate.parse(d.isoformat())
    assert parsed.start == parsed.end == d
    assert ObsDate.parse(parsed.text) == parsed
