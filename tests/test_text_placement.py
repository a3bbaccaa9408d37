"""How candidates are placed: coordinates in the text first, codes and short alternate
names never matched, passing mentions not taken as locations, far and foreign doubted,
and the AOI radius and confidence following the placement."""

from __future__ import annotations

from typing import Any

from sitewatch.text.extract import extract_sites
from sitewatch.text.gazetteer import distance_km, gazetteer

# https://www.airuniversity.af.edu/CASI/Display/Article/2729781/ (China Aerospace Studies
# Institute, 12 August 2021): before, the silo site was put at the centre of Inner
# Mongolia, about 700 km from the coordinates the report gives
CASI = ("By mid-May 2021, the People’s Liberation Army (PLA) likely began construction of a "
        "potential intercontinental ballistic missile (ICBM) silo site in Hanggin Banner, Ordos "
        "City, Inner Mongolia (approximately at 40.113, 108.104). Images taken by the European "
        "Space Agency’s Sentinel-2 mission between 16 May and 9 August 2021 reveal a "
        "construction footprint similar to those found at known PLA ICBM silo construction "
        "sites at Jilantai, Guazhou (typically referred to as the Yumen site), and Hami.")


def _by_placement(cands: list[dict[str, Any]], how: str) -> list[dict[str, Any]]:
    return [c for c in cands if c["placement"] == how]


def test_a_silo_site_is_placed_by_the_coordinates_of_its_report() -> None:
    cands = extract_sites(CASI)
    (silo,) = _by_placement(cands, "text coordinates")
    assert distance_km(silo["lat"], silo["lon"], 40.113, 108.104) < 0.01
    assert silo["radius_m"] <= 2_000 and silo["confidence"] >= 0.9
    assert silo["country"] == "China" and silo["coordinates"]["text"] == "40.113, 108.104"
    assert any(CASI[e["start"]:e["end"]].count("40.113") for e in silo["evidence"])
    # nothing else is put at Inner Mongolia's centre (42.25 N, 116.0 E): "Inner Mongolia"
    # does not make the article speak of Mongolia, and "mid-May" is no town
    for c in cands:
        assert c["country"] == "China"
        assert c["lat"] is None or distance_km(c["lat"], c["lon"], 42.25, 116.0) > 300


def test_a_named_facility_placed_only_by_its_paragraph_is_doubted() -> None:
    text = ("Satellite images show new halls in Perm, Russia.\n\nSeparately, the Sverdlov "
            "plant in Dzerzhinsk grew. Work at the Kazan Gunpowder Plant also continued.")
    cands = {c["name"]: c for c in extract_sites(text)}
    assert not cands["Sverdlov plant"]["doubts"]
    kazan = cands["Kazan Gunpowder Plant"]  # Kazan is in its own name: not borrowed
    assert not kazan["doubts"]
    lone = extract_sites("Iran expanded a plant in Isfahan. The Shahid Hemmat Industrial "
                         "Group Plant also grew.")
    hemmat = next(c for c in lone if "Hemmat" in c["name"])
    assert hemmat["doubts"] and "paragraph" in hemmat["doubts"][0]
    assert hemmat["confidence"] < 0.5


def test_coordinates_in_the_next_sentence_belong_to_the_facility_before_them() -> None:
    # constructed for the rule (the CASI facts in two sentences)
    text = ("The PLA began building a missile silo field at Hanggin Banner in Inner Mongolia, "
            "China. The field's centre lies at 40.113, 108.104.")
    (silo,) = extract_sites(text)
    assert silo["placement"] == "text coordinates" and silo["lat"] == 40.113


def test_coordinates_make_a_candidate_only_where_the_text_speaks_of_a_facility() -> None:
    # https://www.bellingcat.com/resources/2023/09/25/we-tasked-a-satellite-based-on-your-suggestions-here-are-the-results/
    text = ("Intrenchment Creek Park, also known as, Cop City: Atlanta, Georgia, USA  "
            "(33.694458, -84.332762) – Suggestion via Bluesky\n\n"
            "Sino-Indian Border, Base near China’s Shigatse Peace Airport (29.314558, "
            "89.321937) – Suggestion via Discord")
    (base,) = extract_sites(text)  # a park is not a facility; a base is
    assert base["placement"] == "text coordinates" and base["country"] == "China"
    assert (base["lat"], base["lon"]) == (29.31456, 89.32194)


def test_codes_and_short_alternate_names_never_match() -> None:
    # a company's legal form: Planet's credit line, "Planet Labs PBC" (Reuters, AP photo
    # credits) written with a comma; "PBC" is Puebla's airport code
    cands = extract_sites("Satellite imagery from Planet Labs, PBC, shows new buildings "
                          "at the plant.")
    assert all(c["country"] != "Mexico" and c["place"] != "Puebla" for c in cands)
    # a two-word port name: "Ras" of "Ras Laffan" is the code of Rasht, Iran
    cands = extract_sites("Satellite images show new LNG trains under construction at "
                          "Ras Laffan port in Qatar.")
    assert all(c["country"] != "Iran" for c in cands)
    # an ordinary word: "Can" is Guangzhou's code, "Bin" an alternate name of Vienna
    assert extract_sites("Can the plant be rebuilt? Bin Laden's compound was razed.") == []
    gaz = gazetteer()
    for code in ("PBC", "RAS", "DXB", "Can", "Bin"):
        assert all(p.population < 1_000_000 or p.name.lower() == code.lower()
                   for p in gaz.lookup(code)), code
    # long alternate names still match: Kiev, Dnepropetrovsk
    assert gaz.lookup("Kiev")[0].country == "UA"
    assert gaz.lookup("Dnepropetrovsk")[0].country == "UA"


def test_passing_mentions_make_no_kind_in_town_candidates() -> None:
    before = "A tanker carrying fuel from a refinery headed for Moscow was stopped."
    assert extract_sites(before) == []  # was "refinery in Moscow"
    attack = ("Israel's air defence intercepted most of the drones, but a drone attack on Tel "
              "Aviv from Yemen struck a building near the US embassy branch office compound.")
    assert extract_sites(attack) == []  # was "drone factory in Tel Aviv"
    fired = "Iran's Revolutionary Guards launched missiles at Tel Aviv from a base near Tabriz."
    assert [c["place"] for c in extract_sites(fired)] == ["Tabriz"]
    # where the text locates a facility, it is still found
    (ryazan,) = extract_sites("A refinery in Ryazan was set on fire by drones.")
    assert ryazan["kind"] == "refinery" and ryazan["placement"] == "town"
    # https://www.arabnews.pk/node/2621152/world (Reuters, 2 November 2025)
    tuapse = extract_sites("A Ukrainian drone attack damaged and set ablaze a tanker and "
                           "infrastructure at a major oil terminal in Russia’s key Black Sea "
                           "port of Tuapse overnight, authorities in the southern region of "
                           "Krasnodar said on Sunday.")
    assert [c["place"] for c in tuapse] == ["Tuapse"]


def test_a_candidate_far_from_every_other_place_in_a_foreign_country_is_doubted() -> None:
    text = ("Russia expanded the Votkinsk Machine Building Plant in Udmurtia and the "
            "Biysk Oleum Plant in Altai Krai. A new hangar was built at the plant in Perth.")
    cands = {c["name"]: c for c in extract_sites(text)}
    perth = next(c for c in cands.values() if c["country"] == "Australia")
    assert perth["doubts"] and "Australia" in perth["doubts"][0]
    assert perth["confidence"] <= 0.45
    assert not cands["Votkinsk Machine Building Plant"]["doubts"]
    # a far place in a country the article names is not doubted
    named = extract_sites("Iran makes Shahed drones at a factory in Isfahan, Iran, and Russia "
                          "assembles them at Yelabuga in Tatarstan, Russia.")
    assert named and all(not c["doubts"] for c in named)


def test_radius_and_confidence_follow_the_placement() -> None:
    text = ("The sites are in the Altai Republic in Siberia and in Perm, in western Russia, "
            "where solid-fuel rocket motors are produced.")
    cands = {c["placement"]: c for c in extract_sites(text)}
    assert set(cands) == {"region", "town"}
    assert cands["region"]["confidence"] < 0.5 < cands["town"]["confidence"]
    assert cands["region"]["radius_m"] > cands["town"]["radius_m"]
    silo = _by_placement(extract_sites(CASI), "text coordinates")[0]
    assert silo["confidence"] > cands["town"]["confidence"]
    assert silo["radius_m"] < cands["town"]["radius_m"]
