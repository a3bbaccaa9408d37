"""The analyst's layer of the gazetteer: facilities (air bases, ports, plants, mines, power
plants, military sites) imported from GeoNames dumps and from CSV files of known
facilities, kept in one file of the workspace and looked up ahead of the city gazetteer.

- GeoNames dumps (``allCountries.txt`` or a country extract such as ``RU.txt``: 19
  tab-separated columns): only the rows whose feature class and code name a facility
  are kept (``FEATURES``).
- CSV files with a header: ``name``, ``lat``, ``lon`` required; ``kind``, ``country``
  (ISO alpha-2), ``aliases`` (separated by ``;`` or ``|``) optional.

The store is ``facilities.jsonl`` in the given folder (the workspace's ``gazetteer/``),
one facility a line; an import merges by identity (a GeoNames id, or the CSV's name and
country) and writes the file atomically.
"""

from __future__ import annotations

import csv
import json
import math
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from sitewatch.errors import InputFileError, InputValueError
from sitewatch.fileio import atomic_path
from sitewatch.text.gazetteer import Place, fold

STORE_NAME = "facilities.jsonl"
FACILITY_RADIUS_M = 2_000.0
MAX_LINE = 100_000  # characters of one input line

#: (feature class, code or code prefix ending in "*") -> kind
FEATURES: dict[tuple[str, str], str] = {
    ("S", "MFG*"): "industrial facility", ("S", "AIRB"): "airbase",
    ("S", "AIRF"): "airbase", ("L", "PRT"): "port or terminal",
    ("S", "PRT"): "port or terminal", ("S", "MN*"): "mine",
    ("S", "INSM"): "military base", ("S", "MILB"): "military base",
    ("S", "PS*"): "power plant",
}


@dataclass(frozen=True)
class Facility:
    ident: str  # "geonames:123" | "csv:<country>:<folded name>"
    name: str
    kind: str
    country: str
    lat: float
    lon: float
    aliases: tuple[str, ...] = ()
    source: str = ""

    def place(self) -> Place:
        return Place(self.name, "facility", self.country, self.lat, self.lon, 0,
                     FACILITY_RADIUS_M)


def _kind(fclass: str, fcode: str) -> str | None:
    for (cls, code), kind in FEATURES.items():
        if cls == fclass and (fcode == code or (code.endswith("*") and
                                                fcode.startswith(code[:-1]))):
            return kind
    return None


def _point(lat: str, lon: str, where: str) -> tuple[float, float]:
    try:
        la, lo = float(lat), float(lon)
    except ValueError:
        raise InputValueError(f"{where}: latitude {lat!r} / longitude {lon!r} are not "
                              "numbers") from None
    if not (math.isfinite(la) and math.isfinite(lo) and -90 <= la <= 90 and -180 <= lo <= 180):
        raise InputValueError(f"{where}: {lat}, {lon} is not a latitude and longitude")
    return la, lo


def read_geonames(path: Path) -> Iterator[Facility]:
    """The facilities of a GeoNames dump; raises on a line that is not of that format."""
    with _Lines(path) as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip() or line.startswith("#"):
                continue
            cols = line.rstrip("\r\n").split("\t")
            where = f"{path.name} line {n}"
            if len(cols) != 19 or not cols[0].isdigit():
                raise InputValueError(f"{where} is not a GeoNames row (19 tab-separated "
                                      "columns, the first a geonameid)")
            kind = _kind(cols[6], cols[7])
            if kind is None:
                continue
            lat, lon = _point(cols[4], cols[5], where)
            alts = tuple(a for a in {cols[2], *cols[3].split(",")} if a and a != cols[1])
            yield Facility(f"geonames:{cols[0]}", cols[1], kind, cols[8].upper(), lat, lon,
                           tuple(sorted(alts)), f"GeoNames {cols[6]}.{cols[7]}")


def read_facility_csv(path: Path) -> Iterator[Facility]:
    """The facilities of a CSV file with a header (name, lat, lon[, kind, country,
    aliases])."""
    with _Lines(path) as fh:
        rows = csv.DictReader(fh)
        fields = {f.strip().lower() for f in rows.fieldnames or []}
        if not {"name", "lat", "lon"} <= fields:
            raise InputValueError(f"{path.name}: a facility CSV needs the columns name, lat "
                                  f"and lon (it has {', '.join(sorted(fields)) or 'none'})")
        for n, raw in enumerate(rows, 2):
            row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()}
            name = row.get("name", "")
            if not name:
                continue
            lat, lon = _point(row.get("lat", ""), row.get("lon", ""), f"{path.name} line {n}")
            country = row.get("country", "").upper()
            aliases = tuple(sorted({a.strip() for a in
                                    row.get("aliases", "").replace("|", ";").split(";")
                                    if a.strip() and a.strip() != name}))
            yield Facility(f"csv:{country}:{fold(name)}", name,
                           row.get("kind") or "industrial facility", country, lat, lon,
                           aliases, f"CSV {path.name}")


class _Lines:
    """A text file read line by line, refusing binary files and enormous lines."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self) -> Iterator[str]:
        try:
            self.fh = open(self.path, encoding="utf-8", newline="")
        except FileNotFoundError:
            raise InputFileError(f"{self.path} does not exist") from None
        except IsADirectoryError:
            raise InputFileError(f"{self.path} is a directory: give a file") from None
        except OSError as exc:
            raise InputFileError(f"cannot read {self.path}: {exc.strerror}") from None
        return self._lines()

    def _lines(self) -> Iterator[str]:
        try:
            for line in self.fh:
                if len(line) > MAX_LINE or "\x00" in line:
                    raise InputValueError(f"{self.path} is not a text file of facilities "
                                          "(binary data or an enormous line)")
                yield line
        except UnicodeDecodeError:
            raise InputValueError(f"{self.path} is not UTF-8 text") from None

    def __exit__(self, *exc: object) -> None:
        self.fh.close()


def read_facilities(path: Path) -> list[Facility]:
    """The facilities of a GeoNames dump or a CSV file (by its first line)."""
    with _Lines(path) as lines:
        first = next(lines, "")
    if not first.strip():
        raise InputValueError(f"{path} is empty")
    is_csv = path.suffix.lower() == ".csv" or (
        "\t" not in first and "name" in first.lower() and "lat" in first.lower())
    return list(read_facility_csv(path) if is_csv else read_geonames(path))


def load_store(folder: Path) -> list[Facility]:
    path = folder / STORE_NAME
    if not path.is_file():
        return []
    out = []
    with _Lines(path) as lines:
        for n, line in enumerate(lines, 1):
            try:
                d = json.loads(line)
                out.append(Facility(**{**d, "aliases": tuple(d.get("aliases", ()))}))
            except (ValueError, TypeError) as exc:
                raise InputValueError(f"{path} line {n} is damaged ({exc}): import the "
                                      "facilities again into a fresh gazetteer folder"
                                      ) from None
    return out


def import_facilities(path: Path, folder: Path) -> tuple[int, int]:
    """Merge the facilities of ``path`` into the store in ``folder``: (new, updated)."""
    incoming = read_facilities(Path(path))
    have = {f.ident: f for f in load_store(folder)}
    new = sum(1 for f in incoming if f.ident not in have)
    updated = sum(1 for f in incoming if f.ident in have and have[f.ident] != f)
    have.update((f.ident, f) for f in incoming)
    with atomic_path(folder / STORE_NAME) as tmp, open(tmp, "w", encoding="utf-8") as fh:
        for f in sorted(have.values(), key=lambda f: f.ident):
            fh.write(json.dumps(asdict(f), ensure_ascii=False) + "\n")
    return new, updated


class FacilityIndex:
    """Facilities by folded name and alias."""

    def __init__(self, facilities: Iterable[Facility]) -> None:
        self._by_name: dict[str, list[Facility]] = defaultdict(list)
        for f in facilities:
            for n in {f.name, *f.aliases}:
                key = fold(n)
                if len(key.replace(" ", "")) > 3:  # no codes or short names (see gazetteer)
                    self._by_name[key].append(f)

    def __len__(self) -> int:
        return len(self._by_name)

    def lookup(self, name: str) -> list[Facility]:
        return list(self._by_name.get(fold(name), []))

    @classmethod
    def load(cls, folder: Path) -> FacilityIndex:
        return cls(load_store(folder))
