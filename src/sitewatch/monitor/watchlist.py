"""The watchlist: sites and the scenes imported over them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from shapely.geometry import box
from shapely.geometry.base import BaseGeometry

from sitewatch.catalog import Scene, Site, Store
from sitewatch.dates import ObsDate
from sitewatch.errors import GeometryError, InputValueError
from sitewatch.geo.aoi import check_aoi, geometry_json, to_crs
from sitewatch.imagery.local import ImageInfo, inspect_image, sha256_file


def add_site(store: Store, name: str, aoi: BaseGeometry, kind: str | None = None,
             country: str | None = None, aliases: list[str] | None = None,
             notes: str | None = None) -> Site:
    """Add a site with its AOI (WGS84 polygon). Raises ConflictError if the name exists."""
    clean = name.strip()
    if not clean:
        raise InputValueError("site name is empty: give a name such as 'Votkinsk plant'")
    check_aoi(aoi, f"site {clean!r}")
    w, s, e, n = aoi.bounds
    site = Site(name=clean, aliases=aliases or [], kind=kind, country=country,
                aoi_geojson=geometry_json(aoi), notes=notes,
                min_lon=w, min_lat=s, max_lon=e, max_lat=n)
    return store.add_site(site)


@dataclass(frozen=True)
class SceneSpec:
    """What the user states about a scene file on import."""

    path: Path
    date: str
    provider: str
    credit: str | None = None
    licence: str | None = None
    bounds: tuple[float, float, float, float] | None = None
    crs: str | None = None
    bands: list[str] | None = None
    notes: str | None = None


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


def import_scene(store: Store, site_name: str, spec: SceneSpec) -> Scene:
    """Validate a scene file fully, then add it to the site in one transaction."""
    site = store.site(site_name)
    when = ObsDate.parse(spec.date)
    provider = spec.provider.strip()
    if not provider:
        raise InputValueError("--provider is empty: name who captured the image (e.g. Maxar)")
    info = georeferenced_info(spec)
    crs = info.crs or "EPSG:4326"  # georeferenced_info guarantees a CRS
    footprint = to_crs(box(*info.bounds), crs, "EPSG:4326")
    aoi = check_aoi(site.aoi_geom, site.name)
    if not footprint.intersects(aoi) or footprint.intersection(aoi).area <= 0:
        raise GeometryError(
            f"{spec.path} does not touch site {site.name!r}: its footprint "
            f"{tuple(round(v, 5) for v in footprint.bounds)} lies outside the AOI "
            f"{tuple(round(v, 5) for v in aoi.bounds)}; check --bounds or the site"
        )
    w, s, e, n = footprint.bounds
    scene = Scene(
        site_id=site.id, provider=provider, acquired_text=when.text,
        acquired_start=when.start, acquired_end=when.end, acquired_precision=when.precision,
        path=str(info.path), sha256=sha256_file(info.path), driver=info.driver,
        crs=crs, bounds=list(info.bounds), width=info.width, height=info.height,
        band_count=info.count, band_names=list(info.band_names), dtype=info.dtype,
        gsd_m=info.gsd_m, georef_source="user" if spec.bounds else "file",
        credit=(spec.credit or f"Imagery (c) {provider}").strip(), licence=spec.licence,
        notes=spec.notes, min_lon=w, min_lat=s, max_lon=e, max_lat=n,
    )
    return store.add_scene(scene)


def scene_info(scene: Scene) -> ImageInfo:
    """Re-open a catalogued scene with its georeference (user-stated bounds re-applied)."""
    info = inspect_image(scene.path, list(scene.band_names))
    if scene.georef_source == "user":
        b = scene.bounds
        return info.with_georeference((b[0], b[1], b[2], b[3]), scene.crs)
    return info
