"""How sitewatch's GIS layers look in QGIS (QML, SLD) and Google Earth (KML colours).

One palette for every output: each change type has one colour, the AOI is a yellow
outline and the scenes' footprints are grey dashed outlines. The QML and SLD documents are
stored in the GeoPackage's ``layer_styles`` table, which QGIS reads when the layer is
opened, so a GeoPackage from sitewatch opens already styled.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from typing import Any

from sitewatch.model.objects import change_label

#: the change types' colours (hex RGB), as in the timeline figure
CHANGE_COLOURS: dict[str, str] = {"built_up_gain": "#9467bd", "vegetation_loss": "#d62728",
                                  "vegetation_gain": "#2ca02c", "change": "#ff7f0e"}
OTHER_COLOUR = "#7f7f7f"
AOI_COLOUR = "#ffd700"
SCENE_COLOUR = "#555555"
#: the columns of the table QGIS reads its stored styles from (QgsOgrProvider::saveStyle)
LAYER_STYLES_FIELDS = ["f_table_catalog", "f_table_schema", "f_table_name",
                       "f_geometry_column", "styleName", "styleQML", "styleSLD",
                       "useAsDefault", "description", "owner", "ui", "update_time"]
_QML_DOCTYPE = "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"


def change_words(change_type: str) -> str:
    """A change type in the plain words the report and the CLI use (the codes stay in the
    data, the words go in legends, names and descriptions)."""
    return change_label(change_type)


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    h = hex_colour.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def kml_colour(hex_colour: str, alpha: int = 255) -> str:
    """'#9467bd' -> KML's aabbggrr, 'ffbd6794'."""
    r, g, b = _rgb(hex_colour)
    return f"{alpha:02x}{b:02x}{g:02x}{r:02x}"


def _qgis_colour(hex_colour: str, alpha: int) -> str:
    r, g, b = _rgb(hex_colour)
    return f"{r},{g},{b},{alpha}"


def _options(parent: ET.Element, values: dict[str, str]) -> None:
    opt = ET.SubElement(parent, "Option", type="Map")
    for k, v in values.items():
        ET.SubElement(opt, "Option", name=k, type="QString", value=v)


def _fill_symbol(parent: ET.Element, name: str, hex_colour: str, fill_alpha: int,
                 outline_style: str = "solid", width_mm: float = 0.6) -> None:
    sym = ET.SubElement(parent, "symbol", name=name, type="fill", alpha="1",
                        clip_to_extent="1", force_rhr="0")
    layer = ET.SubElement(sym, "layer", {"class": "SimpleFill", "enabled": "1",
                                         "locked": "0", "pass": "0"})
    _options(layer, {
        "color": _qgis_colour(hex_colour, fill_alpha),
        "outline_color": _qgis_colour(hex_colour, 255), "outline_style": outline_style,
        "outline_width": f"{width_mm:g}", "outline_width_unit": "MM",
        "style": "solid" if fill_alpha else "no", "joinstyle": "miter",
    })


def _qml(renderer: ET.Element, label_field: str | None) -> str:
    root = ET.Element("qgis", version="3.28.0", styleCategories="Symbology|Labeling",
                      labelsEnabled="1" if label_field else "0")
    root.append(renderer)
    if label_field:
        lab = ET.SubElement(root, "labeling", type="simple")
        settings = ET.SubElement(lab, "settings", calloutType="simple")
        ET.SubElement(settings, "text-style", fieldName=label_field, isExpression="0",
                      fontSize="8", fontSizeUnit="Point", textColor="0,0,0,255")
        ET.SubElement(settings, "text-buffer", bufferDraw="1", bufferSize="0.8",
                      bufferSizeUnits="MM", bufferColor="255,255,255,255")
        ET.SubElement(settings, "placement", placement="1")
    ET.SubElement(root, "layerGeometryType").text = "2"  # polygons
    return _QML_DOCTYPE + ET.tostring(root, encoding="unicode")


def detections_qml() -> str:
    """QGIS style of the detections layer: filled by change type (categorised on
    ``change_type``, legend in plain words), labelled with the detection id."""
    r = ET.Element("renderer-v2", type="categorizedSymbol", attr="change_type",
                   symbollevels="0", enableorderby="0", forceraster="0")
    cats, syms = ET.SubElement(r, "categories"), ET.SubElement(r, "symbols")
    for i, (code, colour) in enumerate(CHANGE_COLOURS.items()):
        ET.SubElement(cats, "category", symbol=str(i), value=code, type="string",
                      label=change_words(code), render="true")
        _fill_symbol(syms, str(i), colour, 90)
    other = str(len(CHANGE_COLOURS))
    ET.SubElement(cats, "category", symbol=other, value="", type="string", label="other",
                  render="true")
    _fill_symbol(syms, other, OTHER_COLOUR, 90)
    return _qml(r, "id")


def outline_qml(hex_colour: str, dashed: bool = False, label_field: str | None = None) -> str:
    """QGIS style of an outline-only polygon layer (the AOI, the scenes' footprints)."""
    r = ET.Element("renderer-v2", type="singleSymbol", symbollevels="0", enableorderby="0",
                   forceraster="0")
    _fill_symbol(ET.SubElement(r, "symbols"), "0", hex_colour, 0,
                 "dash" if dashed else "solid", 0.8)
    return _qml(r, label_field)


_SLD_NS = {"xmlns": "http://www.opengis.net/sld", "xmlns:ogc": "http://www.opengis.net/ogc",
           "xmlns:se": "http://www.opengis.net/se",
           "xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance", "version": "1.1.0",
           "xsi:schemaLocation": "http://www.opengis.net/sld "
                                 "http://schemas.opengis.net/sld/1.1.0/StyledLayerDescriptor.xsd"}


def _sld_rule(parent: ET.Element, title: str, hex_colour: str, fill_opacity: float,
              equals: tuple[str, str] | None = None) -> None:
    rule = ET.SubElement(parent, "se:Rule")
    ET.SubElement(rule, "se:Name").text = title
    if equals is not None:
        filt = ET.SubElement(rule, "ogc:Filter")
        eq = ET.SubElement(filt, "ogc:PropertyIsEqualTo")
        ET.SubElement(eq, "ogc:PropertyName").text = equals[0]
        ET.SubElement(eq, "ogc:Literal").text = equals[1]
    sym = ET.SubElement(rule, "se:PolygonSymbolizer")
    fill = ET.SubElement(sym, "se:Fill")
    ET.SubElement(fill, "se:SvgParameter", name="fill").text = hex_colour
    ET.SubElement(fill, "se:SvgParameter", name="fill-opacity").text = f"{fill_opacity:g}"
    stroke = ET.SubElement(sym, "se:Stroke")
    ET.SubElement(stroke, "se:SvgParameter", name="stroke").text = hex_colour
    ET.SubElement(stroke, "se:SvgParameter", name="stroke-width").text = "2"


def sld(layer: str, rules: list[tuple[str, str, float, tuple[str, str] | None]]) -> str:
    """An SLD 1.1 document for ``layer``: one polygon rule per (title, colour, fill opacity,
    (field, value) filter or None)."""
    root = ET.Element("StyledLayerDescriptor", _SLD_NS)
    nl = ET.SubElement(root, "NamedLayer")
    ET.SubElement(nl, "se:Name").text = layer
    style = ET.SubElement(nl, "UserStyle")
    ET.SubElement(style, "se:Name").text = layer
    fts = ET.SubElement(style, "se:FeatureTypeStyle")
    for title, colour, opacity, equals in rules:
        _sld_rule(fts, title, colour, opacity, equals)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")


def layer_styles_rows(geometry_column: str = "geom") -> list[dict[str, Any]]:
    """The ``layer_styles`` rows of a sitewatch GeoPackage: one default style per layer."""
    now = datetime.now(UTC).replace(microsecond=0)
    change_rules: list[tuple[str, str, float, tuple[str, str] | None]] = [
        (change_words(code), colour, 0.35, ("change_type", code))
        for code, colour in CHANGE_COLOURS.items()]
    styles = [
        ("detections", "sitewatch: by change type", detections_qml(),
         sld("detections", change_rules), "detections coloured by change type"),
        ("aoi", "sitewatch: AOI outline", outline_qml(AOI_COLOUR, label_field="site"),
         sld("aoi", [("AOI", AOI_COLOUR, 0.0, None)]), "the site's area of interest"),
        ("scenes", "sitewatch: scene footprints", outline_qml(SCENE_COLOUR, dashed=True),
         sld("scenes", [("footprint", SCENE_COLOUR, 0.0, None)]),
         "footprints of the two scenes compared"),
    ]
    return [{"f_table_catalog": "", "f_table_schema": "", "f_table_name": table,
             "f_geometry_column": geometry_column, "styleName": name, "styleQML": qml,
             "styleSLD": sld_text, "useAsDefault": True, "description": what,
             "owner": "sitewatch", "ui": "", "update_time": now}
            for table, name, qml, sld_text, what in styles]
