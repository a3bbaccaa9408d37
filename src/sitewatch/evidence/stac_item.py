"""A STAC Item (1.1, built with pystac) for the outputs of one run.

The item's geometry is the site's AOI, its time range runs from the BEFORE scene's first
possible day to the AFTER scene's last, and its properties carry the run's provenance: the
run and its method and parameters, the software versions (processing extension), the two
scenes (provider, date as recorded, credit, licence, sha256), the warning flags and the
measured totals. Assets are the files written beside the item (the change mask as a COG
with the projection, file and classification extensions; the detections as vector files),
with hrefs relative to the item so that the folder can be moved or published as it is.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import pystac
from pystac.extensions.classification import Classification, ClassificationExtension
from pystac.extensions.file import FileExtension
from pystac.extensions.projection import ProjectionExtension

from sitewatch.errors import InputValueError
from sitewatch.evidence.export import flag_codes
from sitewatch.model import Run, Scene, Site

PROCESSING_SCHEMA = "https://stac-extensions.github.io/processing/v1.2.0/schema.json"
_CC = re.compile(r"^CC[- ]BY(?:[- ](?:NC|SA|ND))*[- ]\d\.\d$", re.IGNORECASE)


@dataclass(frozen=True)
class ItemAsset:
    """A file written for the item: ``path`` on disk (its name becomes the relative href),
    and for a raster its grid (``crs`` as ``EPSG:n``, ``shape`` (h, w), affine ``transform``
    as 6 numbers)."""

    key: str
    path: Path
    media_type: str
    title: str
    roles: tuple[str, ...] = ("data",)
    crs: str | None = None
    shape: tuple[int, int] | None = None
    transform: tuple[float, ...] | None = None
    classes: Sequence[tuple[int, str, str]] = field(default_factory=tuple)  #: value, name, text


def spdx(licence: str | None) -> str | None:
    """A licence as written by a user ("CC BY-NC 4.0") as its SPDX id ("CC-BY-NC-4.0"),
    or None when it is not one sitewatch recognises."""
    if not licence:
        return None
    text = licence.strip()
    if _CC.match(text):
        return "-".join(text.replace("-", " ").split()).upper()
    if text.upper() in {"CC0", "CC0 1.0", "CC0-1.0"}:
        return "CC0-1.0"
    return None


def _day(scene: Scene, first: bool) -> date:
    """The first (or last) day the scene may have been acquired on; an open end of an
    interval takes the other end (an ObsDate is never open at both)."""
    a = scene.acquired
    d = (a.start or a.end) if first else (a.end or a.start)
    if d is None:
        raise InputValueError(f"scene {scene.id} has no date: re-import it with --date")
    return d


def _start(scene: Scene) -> datetime:
    return datetime.combine(_day(scene, True), time.min, tzinfo=UTC)


def _end(scene: Scene) -> datetime:
    return datetime.combine(_day(scene, False), time(23, 59, 59), tzinfo=UTC)


def _scene(role: str, sc: Scene) -> dict[str, Any]:
    src = sc.provenance.source
    return {"role": role, "id": sc.id, "provider": sc.provider, "date": sc.acquired_text,
            "credit": sc.credit, "licence": sc.licence, "sha256": sc.sha256,
            # a local path says nothing to a reader of the published item: its name only
            "source": src if src.startswith(("http://", "https://")) else Path(src).name,
            "gsd_m": sc.gsd_m, "crs": sc.crs}


def _public(value: Any) -> Any:
    """``value`` with every absolute local path cut to its file name: a published item
    tells nothing of the analyst's machine (the sha256 identify the inputs)."""
    if isinstance(value, dict):
        return {k: _public(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_public(v) for v in value]
    if isinstance(value, str) and re.match(r"^(/|~|[A-Za-z]:[\\/])", value):
        return re.split(r"[\\/]", value)[-1]
    return value


def _multihash_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return "1220" + h.hexdigest()


def run_item(site: Site, run: Run, before: Scene, after: Scene, item_id: str,
             assets: Sequence[ItemAsset]) -> pystac.Item:
    """The STAC Item of ``run`` with ``assets`` (files that exist beside the item)."""
    licences = [spdx(s.licence) for s in (before, after)]
    licence = licences[0] if licences[0] and licences[0] == licences[1] else "other"
    producers = dict.fromkeys(s.provider for s in (before, after) if s.provider)
    props: dict[str, Any] = {
        "title": f"{site.name}: change from {before.acquired_text} to {after.acquired_text}",
        "description": (f"Changes detected by sitewatch run {run.ref} ({run.method}) between "
                        f"two images of {site.name}. Imagery: "
                        + "; ".join(dict.fromkeys(s.credit for s in (before, after)))),
        "license": licence,
        "providers": [{"name": p, "roles": ["producer", "licensor"]} for p in producers]
        + [{"name": "sitewatch", "roles": ["processor"]}],
        "created": (run.finished_at or datetime.now(UTC)).astimezone(UTC).isoformat(),
        "processing:software": dict(run.versions),
        "processing:lineage": (f"sitewatch {run.method}: chips of both scenes on one grid "
                               f"({run.parameters.get('grid', {}).get('crs', '?')}), "
                               "co-registered, compared; changed pixels grouped into objects"),
        "sitewatch:site": {"id": site.id, "name": site.name, "kind": site.kind,
                           "country": site.country},
        "sitewatch:run_id": run.ref, "sitewatch:run_key": run.run_key,
        "sitewatch:method": run.method,
        "sitewatch:method_parameters": _public(run.parameters.get("method_parameters", {})),
        "sitewatch:coregistration": _public(run.parameters.get("coregistration", {})),
        "sitewatch:flags": flag_codes(run),
        "sitewatch:detections": len(run.detections),
        # the run's one total (Run.changed_area_m2, issue 12 item 1) where the model has it
        "sitewatch:changed_area_m2": getattr(run, "changed_area_m2", None)
        or run.summary.get("changed_area_m2"),
        "sitewatch:changed_area_uncertainty_m2": getattr(
            run, "changed_area_uncertainty_m2", None),
        "sitewatch:scenes": [_scene("before", before), _scene("after", after)],
        "sitewatch:licences": [s.licence for s in (before, after)],
    }
    item = pystac.Item(id=item_id, geometry=site.aoi, bbox=list(site.bbox_wgs84),
                       datetime=None, start_datetime=_start(before), end_datetime=_end(after),
                       properties=props, stac_extensions=[PROCESSING_SCHEMA])
    for sc in (before, after):
        if sc.provenance.source.startswith(("http://", "https://")):
            item.add_link(pystac.Link("derived_from", sc.provenance.source,
                                      media_type=pystac.MediaType.JSON,
                                      title=f"scene {sc.id}: {sc.acquired_text}"))
    for a in assets:
        asset = pystac.Asset(href=f"./{a.path.name}", media_type=a.media_type, title=a.title,
                             roles=list(a.roles))
        item.add_asset(a.key, asset)
        FileExtension.ext(asset, add_if_missing=True).apply(
            size=a.path.stat().st_size, checksum=_multihash_sha256(a.path))
        if a.crs is not None and a.shape is not None and a.transform is not None:
            ProjectionExtension.ext(asset, add_if_missing=True).apply(
                code=a.crs, shape=list(a.shape), transform=list(a.transform[:6]))
        if a.classes:
            ClassificationExtension.ext(asset, add_if_missing=True).apply(classes=[
                Classification.create(value=v, name=n, description=t) for v, n, t in a.classes])
    return item
