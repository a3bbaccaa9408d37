"""The words of facilities: nouns, kinds, name heads, and the words around a place that
say it is no site (people, organisations, events, datelines). Pure data: regular
expressions and word sets, used by ``extract``, ``names`` and ``merge``."""

from __future__ import annotations

import re

from sitewatch.text.gazetteer import fold

MAX_QUOTE = 600  # characters of a quote cut from a run-on sentence
ANAPHORA = re.compile(r"\b(?:the|these|those|all|both|two|three|four|five|six|seven|eight|"
                       r"nine|ten|\d+)\s+(?:\w+\s+)?(?:sites|complexes|facilities|plants|"
                       r"factories|bases|installations)\b", re.I)
FACILITY_NOUN = re.compile(
    r"\b(?:plants?|factor(?:y|ies)|facilit(?:y|ies)|complex(?:es)?|sites?|works|refiner(?:y|ies)"
    r"|depots?|arsenals?|shipyards?|dockyards?|yards|air ?bases?|airfields?|aerodromes?"
    r"|ports?|terminals?|bases?(?!\s+(?:its|their|his|her|our|on|upon)\b)|cosmodromes?"
    r"|launch(?:ing)? (?:pads?|sites?|stations?)"
    r"|test(?:ing)? (?:sites?|ranges?|grounds?)|proving grounds?|ranges|enterprises?"
    r"|installations?|compounds?|mines?|warehouses?|hangars?|silos?|halls?|workshops?"
    r"|production lines?|reactors?|zones?)\b", re.I)
PRODUCTION = re.compile(r"\b(?:produc(?:e|es|ed|ing|tion)|manufactur(?:e|es|ed|ing)|assembl"
                         r"(?:e|es|ed|y|ing)|made|builds?|built|expan(?:d|ded|sion|sions))\b",
                         re.I)
#: (pattern, kind), most specific first
KINDS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"solid[- ](?:fuel|propellant)|rocket[- ]motors?|missile engines?|"
                r"rocket engines?|motor[- ]production", re.I), "rocket-motor plant"),
    (re.compile(r"(?:missile|rocket)s?\b[^.]{0,40}\b(?:assembly|production|plant|factory)|"
                r"(?:assembl\w*|produc\w*|plant|factory|builds?|makes?)\b[^.]{0,60}\bmissiles?|"
                r"missile (?:assembly|plant|factory|maker)", re.I), "missile assembly plant"),
    (re.compile(r"propellant|explosives?|gunpowder|nitrocellulose|oleum|chemical plant|"
                r"chemical (?:works|combine|factory)", re.I), "propellant or chemical plant"),
    (re.compile(r"refiner(?:y|ies)|oil (?:processing|depot)", re.I), "refinery"),
    (re.compile(r"nuclear (?:complex|site|facility|facilities|plant|reactor|centre|center)|"
                r"enrichment|reactors?\b|centrifuges?", re.I), "nuclear facility"),
    (re.compile(r"\b(?:ports?|harbou?rs?|terminals?|piers?|quays?)\b", re.I),
     "port or terminal"),
    (re.compile(r"air ?bases?|airfields?|aerodromes?|air force base|military airports?",
                re.I), "airbase"),
    (re.compile(r"shipyards?|dockyards?|shipbuilding|naval yard", re.I), "shipyard"),
    (re.compile(r"launch(?:ing)? (?:pad|site|station|complex|cent(?:er|re))|cosmodrome|"
                r"spaceport|space (?:cent(?:er|re)|port)|"
                r"test(?:ing)? (?:site|range|ground)|proving ground|nuclear test", re.I),
     "test site"),
    (re.compile(r"(?:ammunition|munitions?|arms|weapons?) (?:depots?|dumps?|stores?|"
                r"warehouses?)|arsenals?", re.I), "depot or arsenal"),
    (re.compile(r"ammunition|munitions?|shells?\b|artillery (?:plant|factory)", re.I),
     "ammunition plant"),
    # drones made, not drones that attack: "drone factory", "produces ... drones", "Shahed"
    (re.compile(r"\b(?:drones?|UAVs?)\b(?!\s+(?:attacks?|strikes?|raids?|hit|struck|debris|"
                r"fragments?)\b)(?=[^.;]{0,40}\b(?:factor(?:y|ies)|plants?|production|"
                r"produc\w*|assembl\w*|manufactur\w*|made|built|workshops?)\b)|"
                r"\b(?:produc\w*|assembl\w*|manufactur\w*|factor(?:y|ies)|plants?|making|makes|"
                r"build\w*)\b[^.;]{0,40}\b(?:drones?|UAVs?)\b|Shahed|Geran", re.I),
     "drone factory"),
    (re.compile(r"arsenals?|depots?|storage|storing|fuels? and lubricants", re.I),
     "depot or arsenal"),
    (re.compile(r"naval base|submarine base|military (?:base|complex)|garrison|barracks",
                re.I), "military base"),
]
HEAD = (r"(?:Special Economic Zone|Industrial Zone|Industrial Park|"
         r"Machine[- ]Building Plant|Nuclear Power Plant|Power Plant|Plant|Factory|Works|"
         r"Refinery|Shipyard|Dockyard|Shipbuilding Yard|Air ?[Bb]ase|Airfield|Aerodrome|Port|"
         r"Terminal|Depot|Arsenal|Combine|Kombinat|Cosmodrome|Spaceport|Airport|"
         r"Launch(?:ing)? (?:Station|Site|Complex|Center|Centre|Pad)|"
         r"Test(?:ing)? (?:Site|Range|Ground)|Proving Ground|Naval Base|Air Force Base|"
         r"Military Base|Missile Base|Plant No\.? ?\d+)")
NAME_WORD = r"(?:[A-Z][\w'’.-]*|\d+|of|and|for|named|after|im\.|&|the|de|on)"
NAMED = re.compile(rf"\b((?:[A-Z][\w'’.-]*)(?:\s+{NAME_WORD}){{0,8}}?\s+{HEAD})"
                    rf"(?:\s+No\.?\s?\d+)?")
PORT_OF = re.compile(r"\b([Pp]ort|[Hh]arbou?r|[Nn]aval [Bb]ase) of "
                      r"((?:St\.\s|Saint\s)?[A-Z][\w'’-]+(?:[\s-][A-Z][\w'’-]+){0,2})")
#: a proper name followed by a facility noun in lower case: "Novoshakhtinsk oil refinery",
#: "Punggye-ri nuclear test site", "Sevmash shipyard", "Parchin military complex"
ADJ = (r"(?:oil|nuclear|chemical|military|naval|missile|ammunition|gas|uranium|enrichment|"
        r"space|satellite|launch|test|drone|tank|aircraft|aviation|artillery|explosives?|"
        r"gunpowder|machine[- ]building|engine|motor|solid[- ]fuel|munitions?|production|"
        r"assembly|storage|research|submarine|air|defen[cs]e|industrial|petrochemical|"
        r"fuel|power|steel|metallurgical|shipbuilding|weapons?|arms|special|economic|free|"
        r"technology|innovation)")
LOWER_HEAD = (r"(?:refinery|plant|factory|works|shipyard|dockyard|complex|site|base|air ?base|"
              r"airfield|military airport|depot|arsenal|port|terminal|facility|cent(?:er|re)|"
              r"range|station|cosmodrome|yard|reactor|zone|park)")
NAMED_LOWER = re.compile(rf"\b((?:St\.\s)?[A-Z][\w'’-]+(?:[\s-][A-Z][\w'’-]+){{0,2}}"
                          rf"(?:\s+{ADJ}){{0,3}}\s+{LOWER_HEAD})\b")
NUMBER_WORDS = {"a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
                "seven": 7, "eight": 8, "nine": 9, "ten": 10, "fifteen": 15, "twenty": 20,
                "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
                "eighty": 80, "ninety": 90, "a hundred": 100, "hundred": 100,
                "a thousand": 1000, "thousand": 1000, "several": 5, "a few": 3}
NUMBER = (r"(?:\d+(?:[.,]\d+)?|(?:a |one |two |three |several |a few )?(?:hundred|thousand)|"
          r"a few|several|one|two|three|four|five|six|seven|eight|nine|ten|fifteen|twenty|"
          r"thirty|forty|fifty|sixty|seventy|eighty|ninety)")
LOCATOR = re.compile(rf"\b{NUMBER}\s*(?:km|kilomet(?:re|er)s?|miles?|mi)\s+"
                     r"(?:\([^)]{0,20}\)\s+)?(?:to the\s+)?"
                     r"(?:north|south|east|west)(?:-?(?:east|west))?(?:ward)?\s+of\s+"
                     r"(?:(?:the\s+)?(?:city|town|village|capital|port) of\s*)?$", re.I)
DATELINE = re.compile(r"^[A-Z][A-Z .'-]{2,40}(?:,\s*[A-Z][\w.]*\s*\d{0,2})?\s*"
                       r"(?:\([A-Za-z ]+\))?\s*[-–—]")
CAP_SEQ = re.compile(r"(?:St\.\s|Saint\s)?[A-Z][\w'’]*(?:-[A-Za-z][\w'’]*)*"
                      r"(?:\s+(?:(?:on|upon|na|am|de|del|la|al|el)\s+)?(?:St\.\s)?"
                      r"[A-Z][\w'’]*(?:-[A-Za-z][\w'’]*)*)*")
STOP = {"the", "a", "an", "but", "and", "or", "in", "on", "at", "of", "for", "to", "by",
         "with", "from", "as", "it", "its", "this", "that", "these", "those", "he", "she",
         "they", "we", "i", "you", "his", "her", "their", "our", "after", "before", "while",
         "when", "where", "following", "satellite", "satellites", "images", "photos", "some",
         "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
         "january", "february", "march", "april", "may", "june", "july", "august",
         "september", "october", "november", "december", "president", "minister",
         "chancellor", "general", "colonel", "mr", "ms", "dr", "north", "south", "east",
         "west", "western", "eastern", "northern", "southern", "central", "cold", "war",
         "sign", "get", "new", "said", "says", "according", "also", "if", "there", "here",
         "analysts", "officials", "researchers", "reuters", "ap", "afp", "bbc", "cnn",
         "center", "centre", "institute", "studies", "international", "strategic", "union",
         "republic", "national", "federal", "ministry", "agency", "council", "university",
         "foundation", "group", "company", "corporation", "army", "navy", "air", "force",
         "forces", "defense", "defence", "security", "intelligence", "military", "state",
         "european", "soviet", "separately", "meanwhile", "however", "earlier",
         "later", "today", "yesterday", "overnight", "plant", "factory", "port",
         "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
         "commercial", "image", "imagery", "local", "regional", "russian",
         "ukrainian", "iranian", "chinese", "israeli", "american", "british", "korean"}
STOP |= {fold(w) for w in STOP}  # words are compared folded: "May" is "mai", "Monday" "mondai"
PERSON_BEFORE = re.compile(
    r"(?:President|Minister|Chancellor|Secretary|Ambassador|General|Gen\.|Colonel|Col\.|"
    r"Admiral|Governor|Mayor|Mr\.?|Ms\.?|Mrs\.?|Dr\.?|spokesman|spokeswoman|researcher|"
    r"analyst|correspondent|reporter|leader)\s*$")
NOT_SITE_AFTER = re.compile(r"^(?:-based|-born|-headquartered|\s+(?:said|says|told|wrote|"
                             r"reported|correspondent|bureau|newsroom)\b)")
EVENT_BEFORE = re.compile(r"(?:meeting|summit|talks|conference|interview|visit|speech|"
                           r"sidelines|contributed|reporting|reported"
                           r"|Center|Centre|Institute|Agency|Ministry|University|Council|"
                           r"Foundation|Studies|Committee|Office|Department|company|firm|"
                           r"think tank|headquarters|embassy)[^.]{0,60}\b(?:in|from|at)\s*"
                           r"(?:[A-Z][\w'’-]+(?:\s[A-Z][\w'’-]+)?\s*,\s*)?$")
SAID_IN = re.compile(r"\b(?:said|told|says|speaking|spoke|announced)\s+(?:(?:reporters|"
                      r"journalists|officials|a \w+ conference)\s+)?(?:in|from)\s*"
                      r"(?:[A-Z][\w'’-]+(?:\s[A-Z][\w'’-]+)?\s*,\s*)?$")
NEAR = re.compile(r"\b(?:outside|near|nearby|outskirts of|close to|(?:\d+\s*(?:km|kilometres|"
                   r"kilometers|miles)\s+)?(?:north|south|east|west)(?:-?(?:east|west))? of|"
                   r"around|vicinity of)\s*$", re.I)
DIRECTION = re.compile(r"^,?\s*(?:in|of)\s+(?:the\s+)?(north(?:ern|-?western|-?eastern)?|"
                        r"south(?:ern|-?western|-?eastern)?|east(?:ern)?|west(?:ern)?|"
                        r"central|far[- ]eastern)\s+([A-Z][\w'’ ]+?)\b(?=[,.;)]|\s+(?:and|in|"
                        r"where|which|near)\b|$)", re.I)
IMAGERY = re.compile(r"\b(?:satellite|imagery|images?|photos?|photographs?|pictures?)\b",
                      re.I)
PROVIDERS = re.compile(r"\b(Maxar(?: Technologies)?|Planet(?: Labs)?|Airbus|Pl[eé]iades|"
                        r"Sentinel-?[12]?|Copernicus|Landsat|BlackSky|Capella(?: Space)?|"
                        r"Umbra|ICEYE|Google Earth|Satellogic|SkySat|WorldView|Vantor|"
                        r"SPOT|KOMPSAT|Gaofen|Jilin)\b")
