"""The watchlist: sites and the scenes imported over them."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shapely.geometry.base import BaseGeometry

from sitewatch.catalog import Store
from sitewatch.errors import GeometryError, InputValueError
from sitewatch.faults import checkpoint
from sitewatch.geo.antimeridian import footprint_wgs84
from sitewatch.geo.aoi import check_aoi, geometry_json
from sitewatch.imagery.local import ImageInfo, has_valid_pixels, inspect_image, sha256_file
from sitewatch.imagery.names import ProductName, product_name_of_path
from sitewatch.model import Provenance, Scene, Site, SiteSource
from sitewatch.model.dates import ObsDate


def add_site(store: Store, name: str, aoi: BaseGeometry, kind: str | None = None,
             country: str | None = None, aliases: list[str] | None = None,
             notes: str | None = None, sources: list[SiteSource] | None = None) -> Site:
    """Add a site with its AOI (WGS84 polygon) and the texts it was found in, in one
    transaction. Raises ConflictError if the name exists."""
    clean = name.strip()
    if not clean:
        raise InputValueError("site name is empty: give a name such as 'Votkinsk plant'")
    check_aoi(aoi, f"site {clean!r}")
    site = Site(id=0, name=clean, aoi=json.loads(geometry_json(aoi)),
                aliases=tuple(a.strip() for a in aliases or [] if a.strip()), kind=kind,
                country=country, notes=notes, sources=tuple(sources or ()))
    return store.add_site(site)


@dataclass(frozen=True)
class SceneSpec:
    """What the user states about a scene file on import."""

    path: Path
    date: str | None = None  # None: read from a standard product name
    provider: str | None = None
    credit: str | None = None
    licence: str | None = None
    bounds: tuple[float, float, float, float] | None = None
    crs: str | None = None
    bands: list[str] | None = None
    notes: str | None = None
    scale: float | None = None  # physical value = DN * scale + offset
    offset: float | None = None
    properties: dict[str, Any] | None = None  # extra provenance (e.g. the source EOPatch)
    source: str | None = None  # what was imported, when not ``path`` (a band folder)
    sha256: str | None = None  # digest of ``source``, when not the file's own
    #: a frame of a time series whose own masks (clouds, no data) hide every pixel: kept as
    #: an observation (the date was seen, and not clear) instead of refused as empty
    masked_frame: bool = False


def georeferenced_info(spec: SceneSpec) -> ImageInfo:
    info = inspect_image(spec.path, spec.bands)
    if spec.bounds is not None:
        return info.with_georeference(spec.bounds, spec.crs or "EPSG:4326")
    if spec.crs is not None:
        raise InputValueError("--crs needs --bounds W S E N: give both or neither")
    if not info.georeferenced:
        raise InputValueError(
            f"{spec.path} has no georeference ({info.driver}): give its footprint with "
            "--bounds W S E N --crs EPSG:4326"
        )
    return info


def import_scene(store: Store, site_name: str | int, spec: SceneSpec) -> Scene:
    """Validate a scene file fully, then add it to the site in one transaction."""
    return add_scene_file(store, store.site(site_name), spec)


def add_scene_file(store: Store, site: Site, spec: SceneSpec) -> Scene:
    """Validate a scene file of ``site`` fully, then add it in one transaction.

    Without a stated date or provider, both are read from a standard product name
    (Landsat, Sentinel-2) in the file's name or its folders'.
    """
    product = product_name_of_path(list(Path(spec.path).parts))
    if spec.date is None and product is None:
        raise InputValueError(
            f"{spec.path}: no --date given and its name is not a Landsat or Sentinel-2 "
            "product name: give --date YYYY-MM-DD"
        )
    if spec.date is not None:
        when = ObsDate.from_user(spec.date, "--date")
    else:
        assert product is not None  # refused above
        when = ObsDate.from_user(product.acquired.isoformat(),
                                 f"the date in the product name of {spec.path}")
    provider = (spec.provider or (product.provider if product else "")).strip()
    if not provider:
        raise InputValueError("--provider is empty: name who captured the image (e.g. Maxar)")
    for name, value in (("--scale", spec.scale), ("--offset", spec.offset)):
        if value is not None and not math.isfinite(value):
            raise InputValueError(f"{name} {value} is not a finite number: give e.g. 0.0001")
    if spec.scale is not None and spec.scale == 0:
        raise InputValueError("--scale 0 would erase the image: give e.g. 0.0001")
    info = georeferenced_info(spec)
    if not spec.masked_frame and not has_valid_pixels(info):
        raise InputValueError(f"{spec.path} holds no data (every pixel is NaN, the nodata "
                              "value or transparent): import an image with data")
    crs = info.crs or "EPSG:4326"  # georeferenced_info guarantees a CRS
    footprint = footprint_wgs84(info.bounds, crs)  # split at the antimeridian, like AOIs
    aoi = check_aoi(site.aoi_geom, site.name)
    if not footprint.intersects(aoi) or footprint.intersection(aoi).area <= 0:
        raise GeometryError(
            f"{spec.path} does not touch site {site.name!r}: its footprint "
            f"{tuple(round(v, 5) for v in footprint.bounds)} lies outside the AOI "
            f"{tuple(round(v, 5) for v in aoi.bounds)}; check --bounds or the site"
        )
    w, s, e, n = footprint.bounds
    credit = (spec.credit or (product.credit if product else f"Imagery (c) {provider}")).strip()
    prov = Provenance(provider=provider, acquired=when, credit=credit,
                      source=spec.source or str(info.path),
                      sha256=spec.sha256 or sha256_file(info.path),
                      licence=spec.licence or (product.licence if product else None))
    b = info.bounds
    scene = Scene(
        id=0, site_id=site.id, provenance=prov, path=str(info.path), driver=info.driver,
        crs=crs, bounds=(b[0], b[1], b[2], b[3]), width=info.width, height=info.height,
        band_names=tuple(info.band_names), dtype=info.dtype, gsd_m=info.gsd_m,
        georef_source="user" if spec.bounds else "file", notes=spec.notes,
        properties=_properties(spec, product),
    )
    checkpoint("import.checked")
    stored = store.add_scene(scene, (w, s, e, n))
    checkpoint("import.stored")
    return stored


def _properties(spec: SceneSpec, product: ProductName | None) -> dict[str, Any]:
    props: dict[str, Any] = dict(product.as_properties()) if product else {}
    if spec.scale is not None:
        props["scale"] = spec.scale
    if spec.offset is not None:
        props["offset"] = spec.offset
    props |= spec.properties or {}
    return {k: v for k, v in props.items() if v is not None}


def scene_info(scene: Scene) -> ImageInfo:
    """Re-open a catalogued scene with its georeference (user-stated bounds re-applied)."""
    info = inspect_image(scene.path, list(scene.band_names), verify=False)  # checked at import
    if scene.georef_source == "user":
        b = scene.bounds
        return info.with_georeference((b[0], b[1], b[2], b[3]), scene.crs)
    return info
