"""STAC APIs: search over a site, and loading of only the AOI window of each item's COGs.

A provider is data (``providers.json``): its API URL, how asset hrefs are signed, and per
collection which asset holds each harmonised band (blue, green, red, nir, swir16, ...),
the mask asset and its kind, the native pixel size, the rule that turns stored numbers
into surface reflectance, and the credit line. Any other STAC API works with ``--url``:
bands are then found by their ``eo:bands`` common names and scaled by ``raster:bands``.

Sentinel-2 processing baseline 04.00 (25 January 2022) added a -1000 offset to L2A
numbers. The offset is decided from the baseline (``s2:processing_baseline``, else the
``N0400`` of the product name, else the acquisition date), never from one metadata
field alone: ``raster:bands`` offsets and ``earthsearch:boa_offset_applied`` are read,
compared, and any disagreement is recorded with the scene.
"""

from __future__ import annotations

import json
import logging
import re
import warnings
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache
from importlib.resources import files
from typing import Any

import numpy as np
import rasterio
from rasterio.enums import Resampling
from rasterio.errors import RasterioError
from rasterio.vrt import WarpedVRT
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry

from sitewatch.errors import ConfigError, InputFileError, InputValueError
from sitewatch.geo.grid import Grid
from sitewatch.imagery.masks import clear_mask
from sitewatch.imagery.stacnet import StacError, get_token, item_pages
from sitewatch.settings import http_retries, http_timeout

log = logging.getLogger(__name__)
S2_OFFSET_BASELINE = "04.00"
S2_OFFSET_SINCE = date(2022, 1, 25)
S2_BOA_OFFSET = -0.1  # -1000 digital numbers at scale 0.0001
_COMMON = {"coastal", "blue", "green", "red", "nir", "nir08", "swir16", "swir22", "rededge"}


@dataclass(frozen=True)
class CollectionFacts:
    platform: str
    gsd_m: float | None
    bands: dict[str, list[str]]
    mask_assets: list[str]
    mask_kind: str | None
    offset_rule: str  # "sentinel-2-baseline" | "metadata"
    default_scale: float
    default_offset: float
    credit: str
    licence: str | None

    @classmethod
    def generic(cls, collection: str) -> CollectionFacts:
        s2 = "sentinel-2" in collection.lower()
        return cls(platform=collection, gsd_m=None, bands={}, mask_assets=["scl", "SCL",
                   "qa_pixel", "QA_PIXEL"], mask_kind=None,
                   offset_rule="sentinel-2-baseline" if s2 else "metadata",
                   default_scale=0.0001 if s2 else 1.0, default_offset=0.0,
                   credit="Contains modified Copernicus Sentinel data {year}" if s2
                   else f"Imagery from STAC collection {collection}", licence=None)


@dataclass(frozen=True)
class Provider:
    name: str
    title: str
    url: str
    sign: str | None
    collections: dict[str, CollectionFacts]

    def facts(self, collection: str) -> CollectionFacts:
        return self.collections.get(collection) or CollectionFacts.generic(collection)


@lru_cache(maxsize=1)
def _providers_doc() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(
        files("sitewatch.imagery").joinpath("providers.json").read_text(encoding="utf-8"))
    return doc


def providers() -> dict[str, Provider]:
    out = {}
    for name, p in _providers_doc().items():
        if name.startswith("_"):
            continue
        cols = {}
        for cname, c in p["collections"].items():
            mask = c.get("mask") or {}
            cols[cname] = CollectionFacts(
                platform=c["platform"], gsd_m=c.get("gsd_m"), bands=c["bands"],
                mask_assets=mask.get("assets", []), mask_kind=mask.get("kind"),
                offset_rule=c.get("offset_rule", "metadata"),
                default_scale=c.get("default_scale", 0.0001),
                default_offset=c.get("default_offset", 0.0), credit=c["credit"],
                licence=c.get("licence"))
        out[name] = Provider(name, p["title"], p["url"], p.get("sign"), cols)
    return out


def asset_hosts(name: str) -> tuple[str, ...]:
    """The hosts a provider declares for its assets (``asset_hosts`` in providers.json)."""
    hosts = _providers_doc().get(name, {}).get("asset_hosts", [])
    return tuple(str(h) for h in hosts) if isinstance(hosts, list) else ()


def get_provider(name: str, url: str | None = None) -> Provider:
    """A provider by name; ``url`` points its facts at another STAC API."""
    known = providers()
    if name not in known:
        raise InputValueError(f"unknown STAC provider {name!r}: one of {', '.join(known)}")
    p = known[name]
    if url is not None:
        if not re.match(r"^https?://", url):
            raise InputValueError(f"--url {url!r} is not an http(s) URL of a STAC API")
        same = url.rstrip("/") == p.url.rstrip("/")
        # another API serves these collections: credit it, never the known provider
        return Provider(p.name, p.title if same else f"the STAC API at {url.rstrip('/')}",
                        url.rstrip("/"), p.sign if same else None, p.collections)
    return p


# --- items ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class AssetInfo:
    key: str
    href: str
    scale: float | None
    offset: float | None
    nodata: float | None
    common_name: str | None


@dataclass
class StacItem:
    """What sitewatch uses of a STAC item; ``problem`` says why it cannot be used."""

    id: str
    collection: str | None
    acquired: datetime | None
    geometry: dict[str, Any] | None
    cloud_cover: float | None
    platform: str | None
    tile: str | None
    baseline: str | None
    self_href: str | None
    assets: dict[str, AssetInfo] = field(default_factory=dict)
    properties: dict[str, Any] = field(default_factory=dict)
    problem: str | None = None

    def summary(self) -> dict[str, Any]:
        return {"id": self.id, "collection": self.collection,
                "datetime": self.acquired.isoformat() if self.acquired else None,
                "cloud_cover": self.cloud_cover, "platform": self.platform, "tile": self.tile,
                "processing_baseline": self.baseline, "self_href": self.self_href,
                "problem": self.problem}


def _parse_datetime(text: Any) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return dt.astimezone(UTC) if dt.tzinfo else dt.replace(tzinfo=UTC)


def _baseline(props: dict[str, Any], item_id: str) -> str | None:
    b = props.get("s2:processing_baseline") or props.get("processing:version")
    if isinstance(b, str) and re.fullmatch(r"\d{1,2}\.\d{2}", b.strip()):
        return b.strip().zfill(5)
    for text in (props.get("s2:product_uri"), props.get("s2:granule_id"), item_id):
        m = re.search(r"_N(\d{2})(\d{2})_", str(text or ""))
        if m:
            return f"{m.group(1)}.{m.group(2)}"
    return None


def _tile(props: dict[str, Any]) -> str | None:
    if props.get("s2:mgrs_tile"):
        return str(props["s2:mgrs_tile"])
    if props.get("mgrs:utm_zone"):
        return (f"{props['mgrs:utm_zone']}{props.get('mgrs:latitude_band', '')}"
                f"{props.get('mgrs:grid_square', '')}")
    if props.get("landsat:wrs_path"):
        return f"{props['landsat:wrs_path']}/{props.get('landsat:wrs_row', '')}"
    return None


def _asset(key: str, a: Any) -> AssetInfo | None:
    if not isinstance(a, dict) or not isinstance(a.get("href"), str):
        return None
    rb = a.get("raster:bands")
    band = rb[0] if isinstance(rb, list) and rb and isinstance(rb[0], dict) else {}
    eo = a.get("eo:bands")
    common = eo[0].get("common_name") if isinstance(eo, list) and eo and isinstance(
        eo[0], dict) else None

    def num(v: Any) -> float | None:
        return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None

    return AssetInfo(key, a["href"], num(band.get("scale")), num(band.get("offset")),
                     num(band.get("nodata")), common if isinstance(common, str) else None)


def parse_item(doc: Any) -> StacItem:
    """A STAC item from its JSON; malformed items come back with ``problem`` set."""
    if not isinstance(doc, dict):
        return StacItem("?", None, None, None, None, None, None, None, None,
                        problem="not a JSON object")
    item_id = str(doc.get("id") or "?")
    raw_props = doc.get("properties")
    props: dict[str, Any] = raw_props if isinstance(raw_props, dict) else {}
    acquired = _parse_datetime(props.get("datetime") or props.get("start_datetime"))
    cc = props.get("eo:cloud_cover")
    self_href = next((ln.get("href") for ln in doc.get("links", []) if isinstance(ln, dict)
                      and ln.get("rel") == "self"), None)
    assets = {}
    for k, a in (doc.get("assets") or {}).items():
        info = _asset(k, a)
        if info is not None:
            assets[k] = info
    item = StacItem(item_id, doc.get("collection"), acquired, doc.get("geometry"),
                    float(cc) if isinstance(cc, int | float) and not isinstance(cc, bool)
                    else None, props.get("platform"), _tile(props), _baseline(props, item_id),
                    self_href, assets, props)
    problems = []
    if item_id == "?":
        problems.append("no id")
    if acquired is None:
        problems.append("no valid datetime")
    if not isinstance(doc.get("geometry"), dict):
        problems.append("no geometry")
    else:
        try:
            shape(doc["geometry"])
        except (ValueError, TypeError, AttributeError, KeyError):
            problems.append("invalid geometry")
    if cc is not None and item.cloud_cover is None:
        problems.append(f"eo:cloud_cover {cc!r} is not a number")
    if not assets:
        problems.append("no assets with an href")
    item.problem = "; ".join(problems) or None
    return item


# --- search --------------------------------------------------------------------------------
@dataclass
class SearchResult:
    items: list[StacItem]
    malformed: list[StacItem]
    over_cloud: int
    pages: int


def search(provider: Provider, collection: str, aoi: BaseGeometry, start: date | None,
           end: date | None, max_cloud: float | None = None, page_size: int = 100,
           max_items: int | None = None) -> SearchResult:
    """Items of ``collection`` intersecting the AOI between start and end (inclusive, UTC),
    paging through the whole result; cloud cover is filtered here, so that APIs without
    the query extension give the same answer."""
    if start and end and start > end:
        raise InputValueError(f"--start {start} is after --end {end}")
    if max_cloud is not None and not 0 <= max_cloud <= 100:
        raise InputValueError(f"--max-cloud {max_cloud} is not a percentage: give 0 to 100")
    span = f"{start.isoformat() if start else '..'}/{end.isoformat() if end else '..'}"
    interval = None if span == "../.." else (
        f"{start.isoformat() + 'T00:00:00Z' if start else '..'}/"
        f"{end.isoformat() + 'T23:59:59Z' if end else '..'}")
    query: dict[str, Any] = {"collections": [collection], "intersects": mapping(aoi),
                             "limit": page_size}
    if interval is not None:
        query["datetime"] = interval
    items: list[StacItem] = []
    malformed: list[StacItem] = []
    pages, over, seen = 0, 0, 0
    # pages, time and bytes are bounded in item_pages (SITEWATCH_STAC_MAX_PAGES, ...)
    for page in item_pages(provider.url, query):
        pages += 1
        feats = page.get("features")
        if not isinstance(feats, list):
            raise StacError(f"the STAC API at {provider.url} answered a search page "
                            "without features: it is not a STAC item search")
        for doc in feats:
            seen += 1
            item = parse_item(doc)
            if item.problem:
                malformed.append(item)
            elif max_cloud is not None and item.cloud_cover is not None and \
                    item.cloud_cover > max_cloud:
                over += 1
            else:
                items.append(item)
        if max_items is not None and seen >= max_items:
            break
    items.sort(key=lambda i: (i.acquired or datetime.min.replace(tzinfo=UTC), i.id))
    return SearchResult(items, malformed, over, pages)


# --- loading -------------------------------------------------------------------------------
def resolve_bands(item: StacItem, facts: CollectionFacts) -> dict[str, AssetInfo]:
    """Harmonised band name -> asset, by the provider's aliases, else eo:bands common names."""
    out: dict[str, AssetInfo] = {}
    for name, keys in facts.bands.items():
        for k in keys:
            if k in item.assets:
                out[name] = item.assets[k]
                break
    if not out:
        for a in item.assets.values():
            if a.common_name in _COMMON:
                name = "nir" if a.common_name == "nir08" and "nir" not in out else a.common_name
                out.setdefault(name, a)
    return out


def mask_asset(item: StacItem, facts: CollectionFacts) -> tuple[AssetInfo, str] | None:
    for k in facts.mask_assets:
        if k in item.assets:
            kind = facts.mask_kind or ("scl" if k.lower() == "scl" else "qa_pixel")
            return item.assets[k], kind
    return None


def radiometry(item: StacItem, facts: CollectionFacts, asset: AssetInfo
               ) -> tuple[float, float, list[str]]:
    """(scale, offset, notes) turning the asset's numbers into surface reflectance."""
    notes: list[str] = []
    scale = asset.scale if asset.scale is not None else facts.default_scale
    if facts.offset_rule != "sentinel-2-baseline":
        return scale, asset.offset if asset.offset is not None else facts.default_offset, notes
    baseline = item.baseline
    if baseline is None and item.acquired is not None:
        after = item.acquired.date() >= S2_OFFSET_SINCE
        notes.append("processing baseline unknown: taken from the date "
                     f"({'on or after' if after else 'before'} {S2_OFFSET_SINCE})")
        offset = S2_BOA_OFFSET if after else 0.0
    else:
        offset = S2_BOA_OFFSET if (baseline or "00.00") >= S2_OFFSET_BASELINE else 0.0
    if asset.offset is not None and abs(asset.offset - offset) > 1e-9:
        notes.append(f"raster:bands offset {asset.offset:g} of {asset.key} disagrees with "
                     f"baseline {baseline}: used {offset:g}")
    elif asset.offset is None and offset != 0.0:
        notes.append(f"raster:bands of {asset.key} has no offset although baseline {baseline} "
                     f"needs one: used {offset:g}")
    flag = item.properties.get("earthsearch:boa_offset_applied")
    if isinstance(flag, bool) and flag != (offset != 0.0):
        notes.append(f"earthsearch:boa_offset_applied={flag} disagrees with baseline "
                     f"{baseline}: ignored")
    return scale, offset, notes


@dataclass
class LoadedWindow:
    data: np.ndarray  # (bands, h, w) float32 reflectance, NaN = no data or masked
    band_names: list[str]
    clear: np.ndarray  # (h, w) bool inside the AOI
    clear_fraction: float
    mask_kind: str | None
    notes: list[str]
    radiometry: dict[str, list[float]]


def _gdal_env() -> dict[str, Any]:
    return {"GDAL_HTTP_TIMEOUT": int(max(http_timeout(), 1)),
            "GDAL_HTTP_MAX_RETRY": http_retries(), "GDAL_HTTP_RETRY_DELAY": 1,
            "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
            "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".tif,.TIF,.tiff,.TIFF,.jp2",
            "GDAL_HTTP_MULTIRANGE": "YES", "GDAL_HTTP_MERGE_CONSECUTIVE_RANGES": "YES",
            "VSI_CACHE": "TRUE"}


def _read_window(href: str, grid: Grid, resampling: Resampling, nodata: float | None
                 ) -> np.ndarray:
    """One band of a (remote) COG warped onto ``grid``; only the tiles under it are read."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with rasterio.open(href) as src:
                nd = nodata if nodata is not None else src.nodata
                with WarpedVRT(src, crs=grid.crs, transform=grid.transform, width=grid.width,
                               height=grid.height, resampling=resampling, src_nodata=nd,
                               nodata=nd, add_alpha=True) as vrt:
                    arr = vrt.read(1).astype(np.float32)
                    inside = vrt.read(vrt.count) > 0
    except RasterioError as exc:
        msg = str(exc).splitlines()[0][:200]
        raise InputFileError(f"asset {href} could not be read ({msg})") from exc
    arr[~inside] = np.nan
    if nd is not None and np.isfinite(nd):
        arr[arr == nd] = np.nan
    return arr


def load_window(item: StacItem, facts: CollectionFacts, grid: Grid, inside: np.ndarray,
                sign: Any = None) -> LoadedWindow:
    """Read the AOI window of every band and of the mask, scaled to reflectance and masked."""
    bands = resolve_bands(item, facts)
    if not {"red", "green", "blue"} <= set(bands) and "nir" not in bands:
        raise InputValueError(f"item {item.id} has no recognisable band assets "
                              f"({', '.join(item.assets)}): give the provider with --provider")
    order: tuple[str, ...] = ("coastal", "blue", "green", "red", "nir", "swir16", "swir22")
    names = [n for n in order if n in bands]
    notes: list[str] = []
    rad: dict[str, list[float]] = {}
    layers = []
    href = (lambda h: sign(h)) if sign else (lambda h: h)
    with rasterio.Env(**_gdal_env()):
        for n in names:
            a = bands[n]
            scale, offset, why = radiometry(item, facts, a)
            notes.extend(w for w in why if w not in notes)
            rad[n] = [scale, offset]
            dn = _read_window(href(a.href), grid, Resampling.bilinear, a.nodata)
            layers.append(dn * np.float32(scale) + np.float32(offset))
        data = np.stack(layers)
        clear = inside & np.isfinite(data).all(axis=0)
        kind = None
        found = mask_asset(item, facts)
        if found is not None:
            m_asset, kind = found
            qa = _read_window(href(m_asset.href), grid, Resampling.nearest, None)
            clear &= clear_mask(qa, kind)
        else:
            notes.append("no mask asset: clouds are not masked")
    data[:, ~clear] = np.nan
    frac = float(clear.sum() / max(int(inside.sum()), 1))
    return LoadedWindow(data, names, clear, frac, kind, notes, rad)


# --- signing -------------------------------------------------------------------------------
def signer(provider: Provider, collection: str) -> Any:
    """A function adding the provider's token to asset hrefs, or None when none is needed."""
    if not provider.sign:
        return None
    token_url = provider.sign.format(collection=collection)
    answer = get_token(token_url)
    token = answer.get("token") if isinstance(answer, dict) else None
    if not isinstance(token, str):
        raise ConfigError(f"{token_url} answered a token that is not text")
    return lambda href: href + ("&" if "?" in href else "?") + token
