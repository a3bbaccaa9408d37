"""From articles to a watchlist: the sample article end to end, hand-written snippets for
named facilities, aliases, homonyms, dates and non-sites, and hostile input."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from conftest import Result, one_error_line

from sitewatch.text.dates import find_dates
from sitewatch.text.extract import extract_sites, sentences
from sitewatch.text.gazetteer import distance_km

ARTICLE = "russia-solid-fuel-motor-plants.txt"


@pytest.fixture(scope="session")
def article(samples: Path) -> Path:
    path = samples.parent / "articles" / ARTICLE
    if not path.is_file():
        pytest.skip(f"sample article {path} not found")
    return path


def _near(c: dict[str, object], lat: float, lon: float, km: float) -> bool:
    return distance_km(float(c["lat"]), float(c["lon"]), lat, lon) <= km  # type: ignore[arg-type]


def test_sample_article_end_to_end(cli: Callable[..., Result], article: Path) -> None:
    res = cli("extract", article, "--json")
    assert res.code == 0, res.err
    cands = json.loads(res.out)
    text = article.read_text(encoding="utf-8")
    # the five regions of the solid-fuel motor plants, and nothing else
    assert len(cands) == 5
    by_place = {c["place"]: c for c in cands}
    assert all(c["kind"] == "rocket-motor plant" and c["country"] == "Russia" for c in cands)
    altai = next(c for c in cands if "Altai" in c["name"])
    assert _near(altai, 51.0, 86.5, 250) and altai["place_kind"] == "region"
    rostov = next(c for c in cands if "Rostov" in c["name"])
    assert _near(rostov, 47.5, 40.0, 150)  # southern Russia, not Rostov Veliky (57.2 N)
    moscow = next(c for c in cands if "Moscow" in c["name"])
    assert _near(moscow, 55.75, 37.62, 30) and moscow["radius_m"] >= 30_000  # "outside"
    spb = next(c for c in cands if "Petersburg" in c["name"])
    assert _near(spb, 59.94, 30.31, 30) and spb["radius_m"] >= 30_000
    assert _near(by_place["Perm"], 58.01, 56.25, 30)
    for c in cands:
        for e in c["evidence"]:
            assert text[e["start"]:e["end"]] == e["quote"]  # offsets round-trip
        # the imagery claim: Maxar, July / September / October
        assert c["imagery"] and c["imagery"][0]["providers"] == ["Maxar"]
        assert c["imagery"][0]["months"] == ["July", "September", "October"]
        assert [d["text"] for d in c["dates"]] == ["July", "September", "October"]
        assert all(d["precision"] == "month" for d in c["dates"])
    quotes = " ".join(e["quote"] for c in cands for e in c["evidence"])
    # people, agencies, think tanks and where they were are not sites
    names = " ".join(c["name"] + " " + str(c["place"]) for c in cands)
    for not_site in ("Berlin", "Brussels", "Washington", "London", "Kyiv", "Prague",
                     "Reuters", "IISS", "Maxar", "Donetsk", "Ukraine"):
        assert not_site not in names
    assert "solid-fuel" in quotes


def test_sites_from_text_keeps_quotes_and_never_duplicates(
        cli: Callable[..., Result], article: Path) -> None:
    assert "--accept" in one_error_line(cli("sites", "from-text", article))
    res = cli("sites", "from-text", article, "--all")
    assert res.code == 0, res.err
    assert "5 site(s) added" in res.out
    again = cli("sites", "from-text", article, "--all")
    assert again.code == 0 and "0 site(s) added" in again.out
    sites = json.loads(cli("sites", "list", "--json").out)
    assert len(sites) == 5

    import sitewatch

    perm = sitewatch.open_workspace().site("rocket-motor plant in Perm")
    assert perm.kind == "rocket-motor plant" and perm.country == "Russia"
    (src,) = perm.sources
    assert src.file == str(article.resolve()) and len(src.sha256) == 64
    text = article.read_text(encoding="utf-8")
    assert src.quotes and all(text[q["start"]:q["end"]] == q["quote"] for q in src.quotes)
    line = one_error_line(cli("sites", "from-text", article, "--accept", "Votkinsk"))
    assert "candidates are" in line


SNIPPET = """\
Published 12 March 2024

Ukrainian drones struck the Biysk Oleum Plant in Altai Krai on Monday, officials said. The \
Biysk plant makes oleum for solid-propellant production, and satellite images from Planet \
Labs taken on 10 March 2024 show a damaged building at the Biysk plant.

Separately, the Votkinsk Machine Building Plant in Udmurtia has expanded its assembly halls; \
the Votkinsk plant builds Iskander and Yars missiles.

Russia also hit the port of Odesa and the Zaporozhye region overnight.

A spokesman for Rosatom said in Moscow that the company would not comment. Reuters \
reported from London. North Korea launched a rocket from the Sohae Satellite Launching \
Station last month, according to the Center for Strategic and International Studies in \
Washington.
"""


def test_named_facilities_aliases_and_non_sites(tmp_path: Path) -> None:
    cands = extract_sites(SNIPPET, date(2024, 3, 12))
    names = [c["name"] for c in cands]
    assert names == ["Biysk Oleum Plant", "Votkinsk Machine Building Plant", "Port of Odesa",
                     "Sohae Satellite Launching Station"]
    biysk, votkinsk, odesa, sohae = cands
    # three mentions of the Biysk plant are one candidate with all its quotes
    assert len(biysk["evidence"]) == 2 and "Biysk plant" in biysk["aliases"]
    assert biysk["kind"] == "propellant or chemical plant" and _near(biysk, 52.53, 85.21, 30)
    # the Votkinsk of Udmurtia, with the missile plant's own quote
    assert votkinsk["kind"] == "missile assembly plant" and _near(votkinsk, 57.05, 54.0, 30)
    assert _near(odesa, 46.48, 30.72, 30) and odesa["country"] == "Ukraine"
    # the text does not place Sohae: no coordinates, and not the think tank's Washington
    assert sohae["lat"] is None and sohae["country"] == "North Korea"
    assert sohae["kind"] == "test site"
    # dates resolved against the article's date, with their precision
    monday = next(d for d in biysk["dates"] if d["text"] == "on Monday")
    assert monday["date"] == "2024-03-11" and monday["precision"] == "day"
    assert any(d["date"] == "2024-03-10" for d in biysk["dates"])
    assert biysk["imagery"][0]["providers"] == ["Planet"]
    assert sohae["dates"][0]["date"] == "2024-02-01" and sohae["dates"][0]["precision"] == \
        "month"
    for c in cands:
        for e in c["evidence"]:
            assert SNIPPET[e["start"]:e["end"]] == e["quote"]


REPORT = """\
Ukraine hits Russian refinery and drone plant, satellite images show damage
KYIV, Nov 3 (Reuters) - Ukrainian drones struck the Novoshakhtinsk oil refinery in Russia's \
Rostov region overnight, the regional governor said on Sunday.
Satellite imagery from Planet Labs PBC shows new buildings at the Alabuga Special Economic \
Zone in Tatarstan, where Iranian-designed Shahed drones are assembled.
Jeffrey Lewis, a professor at the Middlebury Institute of International Studies in Monterey, \
California, said the expansion of the plant began in the spring of 2023.
Ukraine's General Staff said it hit the Engels air base in the Saratov region and an \
ammunition depot near Toropets in the Tver region.
Commercial images taken by Airbus in August show construction at the Yongbyon nuclear \
complex, North Korea's main nuclear site, about 90 km north of Pyongyang.
Pictures from Maxar show three destroyers at the Jiangnan Shipyard on Changxing Island near \
Shanghai and a new dry dock at the Dalian shipyard in Liaoning province.
"""


def test_genre_report_facilities_and_what_is_not_a_site() -> None:
    cands = {c["name"]: c for c in extract_sites(REPORT)}
    assert set(cands) == {"Novoshakhtinsk oil refinery", "Alabuga Special Economic Zone",
                          "Engels air base", "depot or arsenal near Toropets",
                          "Yongbyon nuclear complex", "Jiangnan Shipyard", "Dalian shipyard"}
    assert cands["Novoshakhtinsk oil refinery"]["kind"] == "refinery"
    assert _near(cands["Novoshakhtinsk oil refinery"], 47.76, 39.93, 30)
    assert cands["Alabuga Special Economic Zone"]["kind"] == "drone factory"
    # "Alabuga" is Yelabuga's other spelling, and Yelabuga lies in Tatarstan: the zone is
    # placed at the town, not at the region's centre
    assert cands["Alabuga Special Economic Zone"]["place"] == "Yelabuga"
    assert _near(cands["Alabuga Special Economic Zone"], 55.76, 52.04, 30)
    assert _near(cands["Engels air base"], 51.48, 46.11, 30)
    assert cands["Engels air base"]["kind"] == "airbase"
    assert cands["depot or arsenal near Toropets"]["kind"] == "depot or arsenal"
    assert _near(cands["Yongbyon nuclear complex"], 39.8, 125.8, 30)
    assert cands["Yongbyon nuclear complex"]["kind"] == "nuclear facility"
    # the name's homonym (Jiangnan, Chongqing) yields to "near Shanghai"
    assert _near(cands["Jiangnan Shipyard"], 31.3, 121.5, 40)
    assert _near(cands["Dalian shipyard"], 38.9, 121.6, 30)
    places = " ".join(str(c["place"]) for c in cands.values())
    for not_site in ("Kyiv", "Monterey", "California", "Pyongyang", "Saratov", "Tver"):
        assert not_site not in places


def test_aliases_and_homonyms() -> None:
    # old and new names of one city; the same facility named twice
    text = ("A refinery in Dnepropetrovsk was hit. Officials said the refinery in Dnipro "
            "burned for a day.\n\nThe Zaporozhye plant and a factory in Zaporizhzhia were "
            "shelled.")
    cands = extract_sites(text)
    assert [c["place"] for c in cands] == ["Dnipro", "Zaporizhzhya"]
    assert len(cands[0]["evidence"]) == 2 and cands[0]["kind"] == "refinery"
    # homonyms: the country named in the text decides
    us = extract_sites("The plant in Moscow, Idaho, United States, was expanded; "
                       "the United States plant makes fertiliser.")
    assert us and us[0]["country"] == "United States" and _near(us[0], 46.73, -117.0, 30)
    ru = extract_sites("Russia expanded the plant in Moscow.")
    assert ru and ru[0]["country"] == "Russia"
    # and directions: Rostov in southern Russia is not Rostov Veliky
    south = extract_sites("New halls were built at a missile plant in Rostov in southern "
                          "Russia.")
    assert south and south[0]["lat"] < 50


def test_dates_keep_precision() -> None:
    text = "On 5 May 2023 and in June 2021, in 2019, on July 4, 2020, since May; it may rain."
    found = {d.text: d for d in find_dates(text, published=date(2024, 1, 15))}
    assert found["5 May 2023"].date == date(2023, 5, 5) and found["5 May 2023"].precision \
        == "day"
    assert found["June 2021"].precision == "month"
    assert found["2019"].precision == "year"
    assert found["July 4, 2020"].date == date(2020, 7, 4)
    assert found["May"].date == date(2023, 5, 1)  # the latest May before the article
    assert "may" not in found


def test_sentences_respect_abbreviations() -> None:
    text = "Plants in St. Petersburg grew. The U.S. Army left.\nNew line here."
    parts = [text[s.start:s.end] for s in sentences(text)]
    assert parts == ["Plants in St. Petersburg grew.", "The U.S. Army left.", "New line here."]


def test_html_is_text_only(cli: Callable[..., Result], tmp_path: Path) -> None:
    page = tmp_path / "a.html"
    page.write_text(
        "<html><head><title>Plant news</title><meta property='article:published_time' "
        "content='2024-06-01T10:00:00Z'><style>p{color:red} .x{}</style>"
        "<script>alert('x'); var site='Votkinsk plant in Udmurtia';</script></head><body>"
        "<nav>Menu Moscow plant</nav><p>The <b>Votkinsk Machine Building Plant</b> in "
        "Udmurtia grew <img src=x onerror=alert(1)> last month.</p></body></html>",
        encoding="utf-8")
    out_text = tmp_path / "text.txt"
    res = cli("extract", page, "--json", "--text-out", out_text)
    assert res.code == 0, res.err
    cands = json.loads(res.out)
    text = out_text.read_text(encoding="utf-8")
    assert "alert" not in text and "color:red" not in text and "Menu" not in text
    assert [c["name"] for c in cands] == ["Votkinsk Machine Building Plant"]
    e = cands[0]["evidence"][0]
    assert text[e["start"]:e["end"]] == e["quote"]
    assert cands[0]["dates"][0]["date"] == "2024-05-01"  # "last month" of 1 June 2024


def test_hostile_input(cli: Callable[..., Result], tmp_path: Path) -> None:
    binary = tmp_path / "x.txt"
    binary.write_bytes(bytes(range(256)) * 100)
    assert "binary" in one_error_line(cli("extract", binary))
    empty = tmp_path / "e.txt"
    empty.write_text("  \n")
    assert "empty" in one_error_line(cli("extract", empty))
    assert "does not exist" in one_error_line(cli("extract", tmp_path / "missing.txt"))
    assert "directory" in one_error_line(cli("extract", tmp_path))
    huge = tmp_path / "huge.txt"
    with open(huge, "wb") as fh:
        fh.truncate(21 * 1024 * 1024)
    assert "limit" in one_error_line(cli("extract", huge))
    # Latin-1 text (not UTF-8) is decoded, offsets still round-trip
    latin = tmp_path / "latin.txt"
    latin.write_bytes("The refinery in Zürich near the café was expanded. Ça va.".encode(
        "latin-1"))
    res = cli("extract", latin, "--json")
    assert res.code == 0, res.err
    # one enormous line: correct output, quickly
    line = tmp_path / "line.txt"
    filler = "word " * 400_000
    line.write_text(filler + "The Votkinsk Machine Building Plant in Udmurtia grew. " + filler)
    t0 = time.perf_counter()
    res = cli("extract", line, "--json")
    took = time.perf_counter() - t0
    assert res.code == 0, res.err
    (found,) = json.loads(res.out)
    assert found["name"] == "Votkinsk Machine Building Plant"
    quote = found["evidence"][0]
    assert len(quote["quote"]) <= 600 and "Votkinsk" in quote["quote"]  # not the 4 MB line
    text = line.read_text()
    assert text[quote["start"]:quote["end"]] == quote["quote"]
    assert took < 60
    pdf = tmp_path / "fake.pdf"
    pdf.write_bytes(b"%PDF-1.4 garbage")
    assert "PDF" in one_error_line(cli("extract", pdf))


PLANTS = """\
Satellite images reveal expansion at Russian explosives plants
New satellite imagery shows that the Sverdlov plant in Dzerzhinsk, one of Russia's largest \
producers of explosives, has added at least 12 new buildings since 2023. The images, \
provided by Planet Labs and analysed by researchers at the James Martin Center for \
Nonproliferation Studies in Monterey, also show new storage bunkers.
Ukraine's SBU security service said its drones hit the Tambov Gunpowder Plant in Kotovsk \
last week. Russian officials in Moscow did not respond to requests for comment.
Russia now produces Shahed-type drones at Yelabuga, in the Alabuga special economic zone in \
Tatarstan, according to leaked documents.
"""


def test_the_text_says_where_a_named_plant_is() -> None:
    cands = {c["name"]: c for c in extract_sites(PLANTS)}
    assert set(cands) == {"Sverdlov plant", "Tambov Gunpowder Plant",
                          "Alabuga special economic zone"}
    assert _near(cands["Sverdlov plant"], 56.24, 43.46, 30)
    # named after Tambov, but in Kotovsk; the zone is at Yelabuga, not "Tatarstan"
    assert cands["Tambov Gunpowder Plant"]["place"] == "Kotovsk"
    assert _near(cands["Alabuga special economic zone"], 55.76, 52.04, 30)
    assert cands["Alabuga special economic zone"]["kind"] == "drone factory"
    assert cands["Sverdlov plant"]["dates"][0]["text"] == "2023"
