"""The analyst's gazetteer: GeoNames dumps and facility CSVs imported into the workspace,
used by extract ahead of the towns, and bad files refused in one line."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from conftest import Result, one_error_line

from sitewatch.text.facilities import FacilityIndex, read_geonames


def _row(gid: int, name: str, alts: str, lat: float, lon: float, fclass: str, fcode: str,
         cc: str) -> str:
    """One line of a GeoNames dump: 19 tab-separated columns."""
    cols = [str(gid), name, name, alts, f"{lat}", f"{lon}", fclass, fcode, cc, "", "", "",
            "", "", "0", "", "100", "Europe/Moscow", "2024-01-01"]
    return "\t".join(cols) + "\n"


def _dump(path: Path) -> Path:
    path.write_text(
        _row(900001, "Engels Air Base", "Engels-2,Engels 2 Air Base", 51.4814, 46.2105,
             "S", "AIRB", "RU")
        + _row(900002, "Port of Tuapse", "Tuapse Sea Port", 44.0953, 39.0725, "L", "PRT", "RU")
        + _row(900003, "Tambov Gunpowder Plant", "", 52.5897, 41.4378, "S", "MFGM", "RU")
        + _row(900004, "Kotovsk", "", 52.59, 41.50, "P", "PPL", "RU")  # a town: not kept
        + _row(900005, "Kupol Mine", "", 66.78, 169.55, "S", "MNAU", "RU"),
        encoding="utf-8")
    return path


def test_geonames_rows_kept_by_feature_class(tmp_path: Path) -> None:
    found = {f.name: f for f in read_geonames(_dump(tmp_path / "RU.txt"))}
    assert set(found) == {"Engels Air Base", "Port of Tuapse", "Tambov Gunpowder Plant",
                          "Kupol Mine"}
    assert found["Engels Air Base"].kind == "airbase"
    assert found["Kupol Mine"].kind == "mine"
    index = FacilityIndex(found.values())
    assert index.lookup("Engels-2")[0].name == "Engels Air Base"


def test_import_then_extract_places_the_facility(cli: Callable[..., Result],
                                                 tmp_path: Path) -> None:
    res = cli("gazetteer", "import", _dump(tmp_path / "RU.txt"))
    assert res.code == 0, res.err
    assert "4 facilities added" in res.out
    again = cli("gazetteer", "import", tmp_path / "RU.txt")
    assert "0 facilities added, 0 updated; 4 in" in again.out
    csv = tmp_path / "known.csv"
    csv.write_text("name,kind,lat,lon,country,aliases\n"
                   "Votkinsk Machine Building Plant,missile assembly plant,57.0536,54.0147,RU,"
                   "Votkinsk plant;VMZ\n", encoding="utf-8")
    assert "1 facility added" in cli("gazetteer", "import", csv).out
    article = tmp_path / "a.txt"
    article.write_text(
        "Ukraine's General Staff said it hit the Engels air base in the Saratov region. "
        "The Votkinsk Machine Building Plant in Udmurtia has expanded its assembly halls.",
        encoding="utf-8")
    res = cli("extract", article, "--json")
    assert res.code == 0, res.err
    cands = {c["name"]: c for c in json.loads(res.out)}
    engels = cands["Engels air base"]
    assert engels["placement"] == "facility" and engels["radius_m"] == 2_000
    assert (engels["lat"], engels["lon"]) == (51.4814, 46.2105)
    assert engels["confidence"] >= 0.8
    votkinsk = cands["Votkinsk Machine Building Plant"]
    assert votkinsk["placement"] == "facility" and votkinsk["lat"] == 57.0536


def test_bad_gazetteer_files_are_refused_in_one_line(cli: Callable[..., Result],
                                                     tmp_path: Path, workspace: Path) -> None:
    assert "does not exist" in one_error_line(cli("gazetteer", "import", tmp_path / "no.txt"))
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    assert "empty" in one_error_line(cli("gazetteer", "import", empty))
    prose = tmp_path / "prose.txt"
    prose.write_text("This is an article, not a dump.\n")
    assert "GeoNames" in one_error_line(cli("gazetteer", "import", prose))
    nocols = tmp_path / "x.csv"
    nocols.write_text("title,place\nA,B\n")
    assert "name, lat and lon" in one_error_line(cli("gazetteer", "import", nocols))
    badlat = tmp_path / "y.csv"
    badlat.write_text("name,lat,lon\nPlant,95,10\n")
    assert "latitude" in one_error_line(cli("gazetteer", "import", badlat))
    binary = tmp_path / "b.txt"
    binary.write_bytes(bytes(range(256)) * 10)
    assert "text" in one_error_line(cli("gazetteer", "import", binary))
    # nothing half-written: the refused files left no store and no temporary file behind
    folder = workspace / "gazetteer"
    assert not folder.exists() or not any(folder.iterdir())
