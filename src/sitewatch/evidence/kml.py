"""KML 2.2 of a run for Google Earth and QGIS: named, described, styled placemarks.

One document with three folders: the detections (one placemark each, named with its id and
change type, an HTML description of its measurements and provenance, the fields again as
``ExtendedData``), the AOI, and the two scenes' footprints (hidden at first). Every value
that came from a user or a provider is HTML-escaped in the description and then
XML-escaped in the file, so a site called ``<script>`` or ``]]>`` stays text.
"""

from __future__ import annotations

import html
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from typing import Any

from shapely.geometry.base import BaseGeometry

from sitewatch.evidence.gis_style import (
    AOI_COLOUR,
    CHANGE_COLOURS,
    OTHER_COLOUR,
    SCENE_COLOUR,
    change_words,
    kml_colour,
)

KML_NS = "http://www.opengis.net/kml/2.2"


def _coords(ring: Iterable[Sequence[float]]) -> str:
    return " ".join(f"{x:.7f},{y:.7f}" for x, y, *_ in ring)


def _polygon(parent: ET.Element, poly: Any) -> None:
    el = ET.SubElement(parent, "Polygon")
    outer = ET.SubElement(ET.SubElement(el, "outerBoundaryIs"), "LinearRing")
    ET.SubElement(outer, "coordinates").text = _coords(poly.exterior.coords)
    for hole in poly.interiors:
        inner = ET.SubElement(ET.SubElement(el, "innerBoundaryIs"), "LinearRing")
        ET.SubElement(inner, "coordinates").text = _coords(hole.coords)


def _geometry(parent: ET.Element, geom: BaseGeometry) -> None:
    """``geom`` (WGS84 lon/lat) as KML: a Polygon, a Point, a LineString or a
    MultiGeometry of them."""
    kind = geom.geom_type
    if kind == "Polygon":
        _polygon(parent, geom)
    elif kind == "Point":
        ET.SubElement(ET.SubElement(parent, "Point"), "coordinates").text = _coords(
            geom.coords)
    elif kind == "LineString":
        ET.SubElement(ET.SubElement(parent, "LineString"), "coordinates").text = _coords(
            geom.coords)
    else:  # Multi* and GeometryCollection
        multi = ET.SubElement(parent, "MultiGeometry")
        for part in getattr(geom, "geoms", ()):
            _geometry(multi, part)


def _style(doc: ET.Element, sid: str, hex_colour: str, fill_alpha: int) -> None:
    st = ET.SubElement(doc, "Style", id=sid)
    line = ET.SubElement(st, "LineStyle")
    ET.SubElement(line, "color").text = kml_colour(hex_colour)
    ET.SubElement(line, "width").text = "2"
    poly = ET.SubElement(st, "PolyStyle")
    ET.SubElement(poly, "color").text = kml_colour(hex_colour, fill_alpha)
    ET.SubElement(poly, "fill").text = "1" if fill_alpha else "0"


def description_html(title: str, rows: Sequence[tuple[str, Any]]) -> str:
    """An HTML table of (label, value) rows; every label and value is escaped."""
    cells = "".join(
        f"<tr><th align=\"left\">{html.escape(k)}</th><td>{html.escape(_text(v))}</td></tr>"
        for k, v in rows if v is not None and v != "")
    return f"<b>{html.escape(title)}</b><table>{cells}</table>"


def _text(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.1f}" if abs(value) >= 10 else f"{value:.3g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value) or "none"
    return str(value)


def _placemark(folder: ET.Element, name: str, description: str, style: str,
               geom: BaseGeometry | None, data: dict[str, Any] | None = None,
               visible: bool = True) -> None:
    pm = ET.SubElement(folder, "Placemark")
    ET.SubElement(pm, "name").text = name
    if not visible:
        ET.SubElement(pm, "visibility").text = "0"
    ET.SubElement(pm, "description").text = description
    ET.SubElement(pm, "styleUrl").text = f"#{style}"
    if data:
        ext = ET.SubElement(pm, "ExtendedData")
        for k, v in data.items():
            if v is None:
                continue
            d = ET.SubElement(ext, "Data", name=k)
            ET.SubElement(d, "value").text = (",".join(map(str, v)) if isinstance(v, list)
                                              else str(v))
    if geom is not None and not geom.is_empty:
        _geometry(pm, geom)


def _folder(doc: ET.Element, name: str, visible: bool = True) -> ET.Element:
    f = ET.SubElement(doc, "Folder")
    ET.SubElement(f, "name").text = name
    if not visible:
        ET.SubElement(f, "visibility").text = "0"
    return f


def kml_document(title: str, about: str,
                 detections: Sequence[tuple[dict[str, Any], BaseGeometry]],
                 aoi: tuple[dict[str, Any], BaseGeometry],
                 scenes: Sequence[tuple[dict[str, Any], BaseGeometry | None]]) -> bytes:
    """The KML file's bytes (UTF-8). ``detections``, ``aoi`` and ``scenes`` are (fields,
    WGS84 geometry) pairs with the export's field names (see ``evidence.export``)."""
    root = ET.Element("kml", xmlns=KML_NS)
    doc = ET.SubElement(root, "Document")
    ET.SubElement(doc, "name").text = title
    ET.SubElement(doc, "description").text = about
    for code, colour in CHANGE_COLOURS.items():
        _style(doc, code, colour, 0x66)
    _style(doc, "other", OTHER_COLOUR, 0x66)
    _style(doc, "aoi", AOI_COLOUR, 0)
    _style(doc, "scene", SCENE_COLOUR, 0)

    folder = _folder(doc, "Detections")
    for p, geom in detections:
        words = change_words(str(p["change_type"]))
        area = p.get("area_m2")
        unc = p.get("area_uncertainty_m2")
        area_text = (None if area is None else
                     f"{area:,.0f} m²" + ("" if unc is None else f" ± {unc:,.0f} m²"))
        name = f"{p['id']} {words}" + ("" if area is None else f" ({area:,.0f} m²)")
        desc = description_html(f"{p['id']}: {words}", [
            ("Detection", p["id"]), ("Tracked change", p.get("change_id")),
            ("Change type", f"{words} ({p['change_type']})"), ("Area", area_text),
            ("Score", p.get("score")), ("Review", p.get("review")),
            ("Warnings", p.get("warnings") or "none"),
            ("Flags", list(dict.fromkeys((p.get("flags") or []) + (p.get("run_flags") or [])))),
            ("Before", p.get("before_date")), ("After", p.get("after_date")),
            ("Run", p.get("run_id")), ("Method", p.get("method")),
            ("Site", p.get("site")),
            ("Credit (before)", p.get("before_credit")),
            ("Credit (after)", p.get("after_credit")),
            ("Licence (before)", p.get("before_licence")),
            ("Licence (after)", p.get("after_licence")),
        ])
        style = p["change_type"] if p["change_type"] in CHANGE_COLOURS else "other"
        _placemark(folder, name, desc, str(style), geom, p)

    a_props, a_geom = aoi
    a_folder = _folder(doc, "AOI")
    _placemark(a_folder, f"AOI: {a_props['site']}", description_html(
        f"Area of interest: {a_props['site']}",
        [("Site", a_props["site"]), ("Kind", a_props.get("kind")),
         ("Country", a_props.get("country")), ("Area", None if a_props.get("area_m2") is None
                                                else f"{a_props['area_m2']:,.0f} m²")]),
        "aoi", a_geom, a_props)

    s_folder = _folder(doc, "Scenes", visible=False)
    for p, geom in scenes:
        _placemark(s_folder, f"{p['role']} scene {p['scene_id']}: {p['date']}",
                   description_html(f"{p['role']} scene", [
                       ("Date", p["date"]), ("Provider", p.get("provider")),
                       ("Credit", p.get("credit")), ("Licence", p.get("licence")),
                       ("sha256", p.get("sha256")), ("Pixel size (m)", p.get("gsd_m"))]),
                   "scene", geom, p, visible=False)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
