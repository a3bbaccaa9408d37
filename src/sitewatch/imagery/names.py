"""Dates, platforms and credit lines read from standard satellite product names.

Recognised (anywhere in a file or folder name):

- Landsat pre-collection scene IDs: ``LE70350322005237EDC00`` (sensor, satellite,
  path, row, year, day of year, station, version);
- Landsat Collection 1/2 product IDs: ``LC08_L2SP_035032_20200101_20200113_02_T1``;
- Sentinel-2 product names: ``S2A_MSIL2A_20230715T083601_N0509_R064_T36UXV_...``;
- Sentinel-2 granule/band files: ``T36UXV_20230715T083601_B04_10m.jp2``;
- Element 84 Earth Search item IDs: ``S2B_36UXV_20230715_0_L2A``;
- short Sentinel-2 file names: ``S2B_L1C_20181013_B04.tif``.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime

from sitewatch.errors import InputValueError

_LANDSAT_SCENE = re.compile(
    r"(?<![A-Z0-9])L([CEMOTX])([1-9])(\d{3})(\d{3})(\d{4})(\d{3})([A-Z]{3})(\d{2})(?![0-9])"
)
_LANDSAT_PRODUCT = re.compile(
    r"(?<![A-Z0-9])L([CEMOTX])(0[1-9])_(L1TP|L1GT|L1GS|L2SP|L2SR)_(\d{3})(\d{3})_(\d{8})_(\d{8})"
    r"_(0[12])_(T1|T2|RT)"
)
_S2_PRODUCT = re.compile(
    r"(?<![A-Z0-9])S2([ABCD])_MSI(L1C|L2A)_(\d{8})T(\d{6})_N(\d{4})_R(\d{3})_T(\d{2}[A-Z]{3})"
)
_S2_GRANULE = re.compile(r"(?<![A-Z0-9])T(\d{2}[A-Z]{3})_(\d{8})T(\d{6})(?![0-9])")
_S2_EARTH_SEARCH = re.compile(r"(?<![A-Z0-9])S2([ABCD])_(\d{2}[A-Z]{3})_(\d{8})_\d+_(L1C|L2A)")
_S2_SHORT = re.compile(r"(?<![A-Z0-9])S2([ABCD])_(L1C|L2A)_(\d{8})(?![0-9])")

_LANDSAT_SENSOR = {"C": "OLI/TIRS", "O": "OLI", "T": "TM", "E": "ETM+", "M": "MSS", "X": "MSS"}
LANDSAT_CREDIT = "Landsat imagery courtesy of the U.S. Geological Survey"
#: the wording the Copernicus licence requires ({year} = year of acquisition)
COPERNICUS_CREDIT = "Contains modified Copernicus Sentinel data {year}"
COPERNICUS_LICENCE = "Copernicus Sentinel data terms (free, full and open)"


@dataclass(frozen=True)
class ProductName:
    """What a standard product name tells about a scene."""

    product_id: str
    acquired: date
    platform: str  # e.g. "Landsat 7", "Sentinel-2A"
    sensor: str  # e.g. "ETM+", "MSI"
    provider: str  # e.g. "USGS Landsat 7 ETM+"
    credit: str
    licence: str
    tile: str | None = None  # WRS-2 path/row "035032" or MGRS tile "36UXV"
    level: str | None = None

    def as_properties(self) -> dict[str, str | None]:
        return {"product_id": self.product_id, "platform": self.platform, "sensor": self.sensor,
                "tile": self.tile, "level": self.level}


def _ymd(text: str) -> date | None:
    try:
        return datetime.strptime(text, "%Y%m%d").date()
    except ValueError:
        return None


def _landsat(platform_no: int, sensor_code: str, pid: str, day: date, tile: str,
             level: str | None) -> ProductName:
    sensor = _LANDSAT_SENSOR[sensor_code]
    return ProductName(pid, day, f"Landsat {platform_no}", sensor,
                       f"USGS Landsat {platform_no} {sensor}", LANDSAT_CREDIT,
                       "public domain (USGS)", tile, level)


def _sentinel2(unit: str, pid: str, day: date, tile: str | None, level: str | None
               ) -> ProductName:
    return ProductName(pid, day, f"Sentinel-2{unit}" if unit else "Sentinel-2", "MSI",
                       "ESA Copernicus Sentinel-2", COPERNICUS_CREDIT.format(year=day.year),
                       COPERNICUS_LICENCE, tile, level)


def parse_product_name(name: str) -> ProductName | None:
    """The product facts in a file or folder name, or None when it follows no known scheme.

    Raises InputValueError for a Landsat scene ID whose day of year cannot exist.
    """
    text = name.upper()
    m = _LANDSAT_PRODUCT.search(text)
    if m:
        day = _ymd(m.group(6))
        if day:
            return _landsat(int(m.group(2)), m.group(1), m.group(0), day,
                            m.group(4) + m.group(5), m.group(3))
    m = _LANDSAT_SCENE.search(text)
    if m:
        year, doy = int(m.group(5)), int(m.group(6))
        if not (1972 <= year <= 2100 and 1 <= doy <= (366 if calendar.isleap(year) else 365)):
            raise InputValueError(
                f"{name}: Landsat scene ID {m.group(0)} has day {doy} of {year}, an impossible "
                "date: give --date for this file"
            )
        day = date.fromordinal(date(year, 1, 1).toordinal() + doy - 1)
        return _landsat(int(m.group(2)), m.group(1), m.group(0), day, m.group(3) + m.group(4),
                        None)
    m = _S2_PRODUCT.search(text)
    if m:
        day = _ymd(m.group(3))
        if day:
            return _sentinel2(m.group(1), m.group(0), day, m.group(7), m.group(2))
    m = _S2_EARTH_SEARCH.search(text)
    if m:
        day = _ymd(m.group(3))
        if day:
            return _sentinel2(m.group(1), m.group(0), day, m.group(2), m.group(4))
    m = _S2_SHORT.search(text)
    if m:
        day = _ymd(m.group(3))
        if day:
            return _sentinel2(m.group(1), m.group(0), day, None, m.group(2))
    m = _S2_GRANULE.search(text)
    if m:
        day = _ymd(m.group(2))
        if day:
            return _sentinel2("", m.group(0), day, m.group(1), None)
    return None


def product_name_of_path(parts: list[str]) -> ProductName | None:
    """Try a file's name first, then its folders from the nearest outward."""
    for part in reversed(parts):
        found = parse_product_name(part)
        if found is not None:
            return found
    return None
