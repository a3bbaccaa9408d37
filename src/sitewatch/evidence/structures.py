"""A run's structures (buildings new, extended, demolished, unchanged; cleared ground) as
text lines, table rows and GIS features.

The structures are those the analysis stored in ``run.summary["structures"]``
(``sitewatch.detect.structures.structures_doc``): plain JSON, read here without the
detector. Their ``change_objects`` are indices into the run's detections, shown here as
detection references (D12) once the run is stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sitewatch.model import Run

__all__ = ["CHANGED_KINDS", "FIELDS", "document_lines", "structure_features", "structure_items",
           "structure_lines", "structure_rows", "structures_html", "structures_summary"]

#: the kinds that are a change (the rest are buildings standing on both dates)
CHANGED_KINDS = ("new", "extended", "demolished", "cleared_ground")

#: the attribute table of the structures layer: name -> type
FIELDS: dict[str, type] = {
    "ref": str, "kind": str, "area_m2": float, "area_uncertainty_m2": float,
    "added_area_m2": float, "added_area_uncertainty_m2": float, "length_m": float,
    "width_m": float, "orientation_deg": float, "vertices": int,
    "ratio_to_largest": float, "ratio_to_largest_uncertainty": float, "largest_ref": str,
    "ratio_to_nearest": float, "ratio_to_nearest_uncertainty": float, "nearest_ref": str,
    "ratio_upper_bound": int, "change_share": float, "greenness_loss": float,
    "detections": str, "label": str,
}


def structures_summary(run: Run) -> dict[str, Any] | None:
    """The run's structures document, or None (a run of a detector without building maps,
    or one made before structures were measured)."""
    doc = run.summary.get("structures") if isinstance(run.summary, dict) else None
    return doc if isinstance(doc, dict) and isinstance(doc.get("items"), list) else None


def _detection_refs(run: Run, indices: Sequence[int]) -> list[str]:
    refs = []
    for i in indices:
        if isinstance(i, int) and 0 <= i < len(run.detections):
            d = run.detections[i]
            refs.append(f"D{d.id}" if d.id is not None else f"#{i + 1}")
    return refs


def structure_items(run: Run, changed_only: bool = False) -> list[dict[str, Any]]:
    """The stored structures with ``detections``: references of the detections they came
    from. ``changed_only``: without the unchanged buildings."""
    doc = structures_summary(run)
    if doc is None:
        return []
    items = [i for i in doc["items"] if isinstance(i, dict)
             and (not changed_only or i.get("kind") in CHANGED_KINDS)]
    return [i | {"detections": _detection_refs(run, i.get("change_objects") or [])}
            for i in items]


def cited_items(run: Run) -> list[dict[str, Any]]:
    """The changed structures and the standing buildings they are sized against."""
    items = structure_items(run)
    cited = {r.get("to") for i in items if i.get("kind") in CHANGED_KINDS
             for r in (i.get("relative") or []) if isinstance(r, dict)}
    return [i for i in items if i.get("kind") in CHANGED_KINDS or i.get("ref") in cited]


def _relative(item: dict[str, Any], basis: str) -> dict[str, Any] | None:
    for r in item.get("relative") or []:
        if isinstance(r, dict) and r.get("basis") == basis:
            return r
    return None


def structure_rows(run: Run, changed_only: bool = True) -> list[dict[str, Any]]:
    """Flat rows of :data:`FIELDS` (None where a value does not apply), one per structure;
    ``changed_only``: the changed ones and the standing buildings they are sized against."""
    items = cited_items(run) if changed_only else structure_items(run)
    rows = []
    for item in items:
        row: dict[str, Any] = {k: item.get(k) for k in FIELDS}
        for key, basis in (("largest", "largest"), ("nearest", "nearest_similar")):
            rel = _relative(item, basis)
            row[f"ratio_to_{key}"] = None if rel is None else rel.get("ratio")
            row[f"ratio_to_{key}_uncertainty"] = (None if rel is None
                                                  else rel.get("ratio_uncertainty"))
            row[f"{key}_ref"] = None if rel is None else rel.get("to")
        # 1: the buildings it is sized against are cut by the image's edge (only their part
        # inside is measured), so the ratios are upper bounds
        row["ratio_upper_bound"] = int(any(isinstance(r, dict) and bool(r.get("partial"))
                                           for r in item.get("relative") or []))
        row["detections"] = ", ".join(item["detections"])
        rows.append(row)
    return rows


def structure_features(run: Run, changed_only: bool = False) -> list[dict[str, Any]]:
    """GeoJSON features (lon/lat) of every structure, the unchanged buildings included
    (``changed_only``: the changed ones and the standing buildings they are sized
    against)."""
    rows = structure_rows(run, changed_only)
    items = cited_items(run) if changed_only else structure_items(run)
    return [{"type": "Feature", "geometry": item["geometry"], "properties": row}
            for item, row in zip(items, rows, strict=True)]


def _count_text(doc: dict[str, Any]) -> str:
    counts = doc.get("counts") or {}
    said = ", ".join(f"{counts[k]} {k.replace('_', ' ')}" for k in
                     (*CHANGED_KINDS, "unchanged") if counts.get(k))
    return (f"structures: {doc.get('buildings_before', 0)} building(s) before, "
            f"{doc.get('buildings_after', 0)} after" + (f"; {said}" if said else ""))


def document_lines(doc: dict[str, Any] | None, path: Any, limit: int = 10) -> list[str]:
    """Text for ``sitewatch detect --structures``: the counts and where they were written,
    then the changed structures' labels with the change polygons they came from (#1 is the
    first of the change GeoJSON)."""
    if doc is None:
        return [f"structures: the detector gives no building maps; {path} holds none "
                "(use --method model)"]
    items = [i for i in doc.get("items", []) if i.get("kind") in CHANGED_KINDS]
    lines = [f"{_count_text(doc)}; written to {path}"]
    for item in items[:limit]:
        det = [f"#{k + 1}" for k in item.get("change_objects") or []]
        lines.append(f"  {item.get('label', item.get('ref'))}"
                     + (f" (from change {', '.join(det)})" if det else ""))
    if len(items) > limit:
        lines.append(f"  ... {len(items) - limit} more in {path}")
    return lines


def structure_lines(run: Run, limit: int = 10) -> list[str]:
    """Text for the CLI: the counts, then each changed structure's label and its
    detections (at most ``limit``)."""
    doc = structures_summary(run)
    if doc is None:
        return []
    lines = [_count_text(doc)]
    items = structure_items(run, changed_only=True)
    for item in items[:limit]:
        det = item["detections"]
        lines.append(f"  {item.get('label', item.get('ref'))}"
                     + (f" (from {', '.join(det)})" if det else ""))
    if len(items) > limit:
        lines.append(f"  ... {len(items) - limit} more: 'sitewatch show {run.ref} --json' "
                     "or the export's structures layer")
    return lines


def _pct(ratio: Any, unc: Any) -> str:
    if not isinstance(ratio, (int, float)):
        return ""
    return (f"{100 * ratio:.0f}%" if not isinstance(unc, (int, float))
            else f"{100 * ratio:.0f}% ± {100 * unc:.0f}%")


def _m2(area: Any, unc: Any) -> str:
    if not isinstance(area, (int, float)):
        return ""
    return f"{area:,.0f}" if not isinstance(unc, (int, float)) else f"{area:,.0f} ± {unc:,.0f}"


def _cells(r: dict[str, Any]) -> list[str]:
    """A changed structure's cells in the report's table, as text."""
    size = ("" if r["length_m"] is None or r["width_m"] is None
            else f"{r['length_m']:.1f} x {r['width_m']:.1f}")
    orient = "" if r["orientation_deg"] is None else f"{r['orientation_deg']:.0f}°"
    bound = "at most " if r.get("ratio_upper_bound") else ""  # the other cut by the edge
    largest = _pct(r["ratio_to_largest"], r["ratio_to_largest_uncertainty"])
    nearest = _pct(r["ratio_to_nearest"], r["ratio_to_nearest_uncertainty"])
    return [str(r["ref"]), str(r["kind"]).replace("_", " "),
            _m2(r["area_m2"], r["area_uncertainty_m2"]),
            _m2(r["added_area_m2"], r["added_area_uncertainty_m2"]), size, orient,
            f"{bound}{largest} of {r['largest_ref']}" if largest else "",
            f"{bound}{nearest} of {r['nearest_ref']}" if nearest else "",
            str(r["detections"])]


def structures_html(run: Run) -> str:
    """The report's section on structures: a table of the changed ones (empty string for
    a run without structures). Every value is escaped."""
    from html import escape

    doc = structures_summary(run)
    if doc is None:
        return ""
    rows = structure_rows(run, changed_only=True)

    def e(v: Any) -> str:
        return escape("" if v is None else str(v), quote=True)

    body = "\n".join("<tr>" + "".join(
        f"<td class=num>{e(v)}</td>" if n >= 2 and n <= 7 else f"<td>{e(v)}</td>"
        for n, v in enumerate(_cells(r))) + "</tr>" for r in rows
    ) or "<tr><td colspan=9>No building changed.</td></tr>"
    counts = doc.get("counts") or {}
    said = ", ".join(f"{int(counts[k])} {k.replace('_', ' ')}" for k in
                     (*CHANGED_KINDS, "unchanged") if counts.get(k))
    return f"""<h2>Structures</h2>
<p>{e(doc.get('buildings_before', 0))} building(s) outlined before and
{e(doc.get('buildings_after', 0))} after: {e(said or 'none')}.</p>
<table><tr><th>Structure</th><th>Kind</th><th>Area (m²)</th><th>Added (m²)</th>
<th>Length x width (m)</th><th>Orientation</th><th>Of the largest building</th>
<th>Of the nearest of similar orientation</th><th>Detections</th></tr>
{body}</table>
<p class="credit">Buildings are outlined on each date from the model's building output,
split where they touch and regularised (straight edges, right angles); a building is new
when nothing stood there before and the pair shows change over it, extended when it covers
an older one and adds changed ground, demolished when it stood before only. Cleared ground
is change that no building explains where greenness falls (NDVI where a near-infrared band
exists, else the visible bands' excess green: a lead, not a finding). Sizes are relative
to buildings standing on both dates (an extended
one at its former size); the uncertainties are those of a one-pixel error along each
outline, added in quadrature. The model's building masks were learnt from few buildings:
treat the ratios as rough. On labelled buildings of its own training data
(<code>scripts/evaluate_footprints.py</code>) the median error of an area ratio between two
buildings was 16% (xBD Joplin; 24% on LEVIR-CD), and these uncertainties covered about
half of the errors.</p>"""
