"""Sentinel-2 as it really comes: a folder of single-band files of one acquisition.

Recognised layouts (one folder = one scene):

- a SAFE product, a granule folder or its ``IMG_DATA`` (L1C files directly inside, L2A
  files in ``R10m``/``R20m``/``R60m``): ``T33UUP_20230601T100559_B02.jp2``,
  ``T33UUP_20230601T100559_B02_10m.jp2``; ``MTD_TL.xml`` and ``MTD_MSIL1C.xml`` /
  ``MTD_MSIL2A.xml`` are read when present;
- per-band COGs as Earth Search serves them: ``B02.tif ... B08.tif`` or
  ``coastal.tif, blue.tif, ..., nir.tif, swir16.tif``;
- the OSCD layout: ``*_B01.tif ... *_B8A.tif`` (old ``S2A_OPER_MSI_L1C_TL_...`` tile names
  carry the *processing* time, not the sensing time: the date then comes from the city's
  ``dates.txt``, ``date_1`` for ``imgs_1`` and ``date_2`` for ``imgs_2``).

The bands become one multi-band scene on the grid of the B02 file (10 m): a GDAL VRT
that points at the band files, 20 m and 60 m bands resampled (bilinear) on read, only the
window asked for, nothing copied. Bands are in ESA's order (B01 ... B08, B8A, B09 ... B12)
under the harmonised names of Earth Search (coastal, blue, green, red, rededge1-3, nir,
nir08, nir09, cirrus, swir16, swir22). Date, platform, tile and processing baseline come
from the metadata files, the names, ``dates.txt`` and the GDAL tags; baseline 04.00 and
later store reflectance * 10000 + 1000, hence scale 0.0001 and offset -0.1.
"""

from __future__ import annotations

import hashlib
import re
import warnings
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import rasterio
from affine import Affine
from rasterio.errors import NotGeoreferencedWarning, RasterioError

from sitewatch.errors import InputFileError, InputValueError
from sitewatch.imagery.hashes import sha256_file
from sitewatch.imagery.names import COPERNICUS_CREDIT, COPERNICUS_LICENCE, parse_product_name

#: ESA's band order and the harmonised name of each band (Earth Search v1 asset keys)
S2_BANDS: dict[str, str] = {
    "B01": "coastal", "B02": "blue", "B03": "green", "B04": "red", "B05": "rededge1",
    "B06": "rededge2", "B07": "rededge3", "B08": "nir", "B8A": "nir08", "B09": "nir09",
    "B10": "cirrus", "B11": "swir16", "B12": "swir22",
}
REQUIRED = ("B02", "B03", "B04", "B08")  # blue, green, red, NIR
_BY_NAME = {name: bid for bid, name in S2_BANDS.items()}
_ONLY_S2_NAMES = {"rededge1", "rededge2", "rededge3", "nir", "nir09", "cirrus"}
_SUFFIXES = {".tif", ".tiff", ".jp2", ".vrt", ".img"}
_BAND_STEM = re.compile(r"(?:^|[_.\-])(B(?:0[1-9]|1[0-2]|8A))(?:_(10|20|60)M)?$")
_OPER = re.compile(r"S2([ABCD])_OPER_MSI_(L1C|L2A)_TL_[A-Z0-9_]{4}_(\d{8}T\d{6})_A(\d{6})"
                   r"_T(\d{2}[A-Z]{3})(?:_N(\d{2})\.?(\d{2}))?")
_PLATFORM = re.compile(r"(?<![A-Z0-9])S2([ABCD])_")
_BASELINE = re.compile(r"_N(\d{2})\.?(\d{2})(?![0-9])")
_TILE = re.compile(r"(?<![A-Z0-9])T(\d{2}[A-Z]{3})(?![A-Z0-9])")
_DATE_TAGS = ("ACQUISITION_TIME", "ACQUISITION_DATE", "SENSING_TIME", "DATETIME_UTC",
              "DATATAKE_SENSING_START", "datetime", "DATETIME", "TIFFTAG_DATETIME")
S2_OFFSET_BASELINE = "04.00"
S2_OFFSET_SINCE = date(2022, 1, 25)
_MAX_XML_BYTES = 8 * 1024**2


@dataclass(frozen=True)
class BandFile:
    """One band's file and its grid (pixel size in CRS units)."""

    band_id: str  # "B02"
    path: Path
    width: int
    height: int
    crs: Any
    transform: Affine
    dtype: str
    nodata: float | None

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        t = self.transform
        xs, ys = (t.c, t.c + t.a * self.width), (t.f, t.f + t.e * self.height)
        return (min(xs), min(ys), max(xs), max(ys))


@dataclass(frozen=True)
class S2Folder:
    """One Sentinel-2 acquisition as a folder of band files, checked and described."""

    folder: Path
    bands: tuple[BandFile, ...]  #: ESA order; ``bands[i]`` is band i+1 of the VRT
    acquired: date
    acquired_utc: str | None  #: ISO time when known
    date_source: str  #: where the date was read ("MTD_TL.xml", "dates.txt", "file names" ...)
    platform: str  #: "Sentinel-2A", or "Sentinel-2" when the unit is not known
    tile: str | None
    level: str | None
    baseline: str | None
    scale: float | None  #: reflectance = DN * scale + offset; None for stretched 8-bit data
    offset: float | None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def band_names(self) -> tuple[str, ...]:
        return tuple(S2_BANDS[b.band_id] for b in self.bands)

    @property
    def band_ids(self) -> tuple[str, ...]:
        return tuple(b.band_id for b in self.bands)

    @property
    def reference(self) -> BandFile:
        """The B02 file: its grid is the scene's."""
        return next(b for b in self.bands if b.band_id == "B02")

    @property
    def provider(self) -> str:
        return "ESA Copernicus Sentinel-2"

    @property
    def credit(self) -> str:
        return COPERNICUS_CREDIT.format(year=self.acquired.year)

    @property
    def licence(self) -> str:
        return COPERNICUS_LICENCE

    def digest(self) -> str:
        """sha256 over the band files' own sha256 (band id and digest, one a line)."""
        lines = "".join(f"{b.band_id} {sha256_file(b.path)}\n" for b in self.bands)
        return hashlib.sha256(lines.encode("ascii")).hexdigest()

    def properties(self) -> dict[str, Any]:
        return {"source": str(self.folder), "layout": "sentinel-2 band folder",
                "band_ids": list(self.band_ids), "band_files": [str(b.path) for b in self.bands],
                "platform": self.platform, "sensor": "MSI", "tile": self.tile,
                "level": self.level, "processing_baseline": self.baseline,
                "acquired_utc": self.acquired_utc, "date_source": self.date_source,
                "radiometry_notes": list(self.notes)}

    def vrt_xml(self) -> str:
        """A GDAL VRT of the bands on B02's grid (coarser bands resampled bilinear on read)."""
        ref = self.reference
        t = ref.transform
        out = [f'<VRTDataset rasterXSize="{ref.width}" rasterYSize="{ref.height}">',
               f"  <SRS>{escape(ref.crs.to_wkt())}</SRS>",
               f"  <GeoTransform>{t.c!r}, {t.a!r}, {t.b!r}, {t.f!r}, {t.d!r}, {t.e!r}"
               "</GeoTransform>"]
        gdal_type = {"uint8": "Byte", "uint16": "UInt16", "int16": "Int16", "uint32": "UInt32",
                     "int32": "Int32", "float32": "Float32", "float64": "Float64"}[ref.dtype]
        for i, b in enumerate(self.bands, start=1):
            s = b.transform
            dx, dy = (s.c - t.c) / t.a, (s.f - t.f) / t.e
            dw, dh = b.width * s.a / t.a, b.height * s.e / t.e
            same = b.width == ref.width and b.height == ref.height and s.almost_equals(t)
            kind = "SimpleSource" if same else 'ComplexSource resampling="bilinear"'
            # Sentinel-2 counts keep 0 for no data: a file that declares none still means it,
            # and a coarse band that stops short of the 10 m grid leaves 0 there
            nd = 0.0 if b.nodata is None and b.dtype == "uint16" else b.nodata
            nodata = "" if nd is None else f"    <NoDataValue>{nd!r}</NoDataValue>\n"
            src_nodata = "" if nd is None or same else f"      <NODATA>{nd!r}</NODATA>\n"
            out.append(
                f'  <VRTRasterBand dataType="{gdal_type}" band="{i}">\n'
                f"    <Description>{S2_BANDS[b.band_id]}</Description>\n{nodata}"
                f"    <{kind}>\n"
                f'      <SourceFilename relativeToVRT="0">{escape(str(b.path))}</SourceFilename>\n'
                "      <SourceBand>1</SourceBand>\n"
                f'      <SrcRect xOff="0" yOff="0" xSize="{b.width}" ySize="{b.height}"/>\n'
                f'      <DstRect xOff="{dx!r}" yOff="{dy!r}" xSize="{dw!r}" ySize="{dh!r}"/>\n'
                f"{src_nodata}    </{kind.split()[0]}>\n  </VRTRasterBand>")
        out.append("</VRTDataset>\n")
        return "\n".join(out)


# --- finding the band files ----------------------------------------------------------------
def _img_data(folder: Path) -> Path:
    """The folder holding the band files: ``IMG_DATA`` of a SAFE product or granule."""
    if (folder / "IMG_DATA").is_dir():
        return folder / "IMG_DATA"
    granules = folder / "GRANULE"
    if granules.is_dir():
        inner = sorted(g for g in granules.iterdir() if (g / "IMG_DATA").is_dir())
        if len(inner) > 1:
            raise InputValueError(
                f"{folder} holds {len(inner)} granules: import each GRANULE/<name> folder "
                "on its own")
        if inner:
            return inner[0] / "IMG_DATA"
    return folder


def _raster_files(folder: Path) -> list[Path]:
    where = _img_data(folder)
    dirs = [where] + [where / r for r in ("R10m", "R20m", "R60m") if (where / r).is_dir()]
    return sorted(f for d in dirs for f in d.iterdir()
                  if f.is_file() and f.suffix.lower() in _SUFFIXES and not f.name.startswith("."))


def band_id_of(path: Path) -> str | None:
    """The Sentinel-2 band id a file holds, from its name ("..._B8A_20m.jp2" -> "B8A")."""
    stem = path.stem.upper()
    m = _BAND_STEM.search(stem)
    if m:
        return m.group(1)
    return _BY_NAME.get(path.stem.lower())


def is_band_folder(folder: Path) -> bool:
    """Whether ``folder`` holds Sentinel-2 band files (B02 ... style names, or Earth Search
    asset names with a band only Sentinel-2 has)."""
    if not folder.is_dir():
        return False
    try:
        files = _raster_files(folder)
    except (InputValueError, OSError):
        return True  # a SAFE product of several granules: let the import say so
    if any(_BAND_STEM.search(f.stem.upper()) for f in files):
        return True
    named = {f.stem.lower() for f in files if f.stem.lower() in _BY_NAME}
    return len(named) >= 2 and bool(named & _ONLY_S2_NAMES)


# --- metadata ------------------------------------------------------------------------------
def _xml(path: Path) -> ET.Element | None:
    """Parse a metadata file; None when it is not one sitewatch can trust to read."""
    try:
        raw = path.read_bytes()[: _MAX_XML_BYTES + 1]
    except OSError:
        return None
    if len(raw) > _MAX_XML_BYTES or b"<!DOCTYPE" in raw or b"<!ENTITY" in raw:
        return None
    try:
        return ET.fromstring(raw)
    except ET.ParseError:
        return None


def _find(root: ET.Element | None, tag: str) -> str | None:
    if root is None:
        return None
    for el in root.iter():
        if el.tag.rsplit("}", 1)[-1] == tag and el.text and el.text.strip():
            return el.text.strip()
    return None


def _metadata(folder: Path) -> tuple[dict[str, str], list[Path]]:
    """Facts from MTD_TL.xml (granule) and MTD_MSIL*.xml (product), if present."""
    img = _img_data(folder)
    granule = img.parent if img.name == "IMG_DATA" else folder
    product = granule.parent.parent if granule.parent.name == "GRANULE" else folder
    facts: dict[str, str] = {}
    used: list[Path] = []
    tl = granule / "MTD_TL.xml"
    if tl.is_file() and (root := _xml(tl)) is not None:
        used.append(tl)
        for key, tag in (("time", "SENSING_TIME"), ("tile_id", "TILE_ID")):
            if (v := _find(root, tag)) is not None:
                facts[key] = v
    for mtd in sorted(product.glob("MTD_MSIL*.xml")):
        root = _xml(mtd)
        if root is None:
            continue
        used.append(mtd)
        for key, tag in (("time", "PRODUCT_START_TIME"), ("time", "DATATAKE_SENSING_START"),
                         ("spacecraft", "SPACECRAFT_NAME"), ("baseline", "PROCESSING_BASELINE"),
                         ("level", "PROCESSING_LEVEL"), ("offset", "BOA_ADD_OFFSET"),
                         ("offset", "RADIO_ADD_OFFSET"),
                         ("quantification", "BOA_QUANTIFICATION_VALUE"),
                         ("quantification", "QUANTIFICATION_VALUE")):
            if key not in facts and (v := _find(root, tag)) is not None:
                facts[key] = v
        break
    return facts, used


def _oscd_date(folder: Path) -> date | None:
    """OSCD: ``<city>/dates.txt`` says ``date_1: YYYYMMDD`` for imgs_1, date_2 for imgs_2."""
    m = re.fullmatch(r"imgs_(\d)", folder.name)
    dates = folder.parent / "dates.txt"
    if not m or not dates.is_file() or dates.stat().st_size > 4096:
        return None
    for line in dates.read_text(encoding="utf-8", errors="replace").splitlines():
        key, _, value = line.partition(":")
        if key.strip() == f"date_{m.group(1)}":
            try:
                return datetime.strptime(value.strip(), "%Y%m%d").date()
            except ValueError as exc:
                raise InputValueError(f"{dates}: {line.strip()!r} is not date_N: YYYYMMDD; fix "
                                      "the file or give --date") from exc
    return None


def _tag_time(tags: dict[str, str]) -> datetime | None:
    for key in _DATE_TAGS:
        text = (tags.get(key) or "").strip()
        if not text:
            continue
        for fmt in ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S.%fZ", "%Y:%m:%d %H:%M:%S",
                    "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"):
            try:
                return datetime.strptime(text[:26] if "." in text else text, fmt)
            except ValueError:
                continue
    return None


def _parse_time(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


# --- reading a folder ----------------------------------------------------------------------
def _open_band(band_id: str, path: Path) -> tuple[BandFile, dict[str, str]]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            with rasterio.open(path) as ds:
                if ds.count != 1:
                    raise InputFileError(
                        f"{path} holds {ds.count} bands where band {band_id} alone was expected: "
                        "a band folder needs one file per band; move it out of the folder")
                if ds.crs is None or ds.transform.is_identity:
                    raise InputFileError(f"{path} (band {band_id}) has no georeference: its "
                                         "bands cannot be stacked; give georeferenced files")
                bf = BandFile(band_id, path.resolve(), ds.width, ds.height, ds.crs,
                              ds.transform, ds.dtypes[0], ds.nodata)
                return bf, dict(ds.tags())
    except RasterioError as exc:
        raise InputFileError(f"{path} (band {band_id}) is not a readable image "
                             f"({str(exc).splitlines()[0][:120]}): re-download it") from exc


def _pick(files: list[Path], folder: Path) -> dict[str, list[Path]]:
    by_band: dict[str, list[Path]] = {}
    for f in files:
        found = parse_product_name(f.stem)
        if found is not None and found.platform.startswith("Landsat"):
            raise InputValueError(
                f"{folder} mixes two sensors: {f.name} is {found.platform} and the others are "
                "Sentinel-2; keep one acquisition of one sensor per folder")
        bid = band_id_of(f)
        if bid is not None:
            by_band.setdefault(bid, []).append(f)
    return by_band


def _one(values: dict[str, str], what: str, folder: Path, fix: str) -> str | None:
    """The single value of ``values`` (file name -> value), or an error naming two files."""
    distinct = sorted(set(values.values()))
    if len(distinct) > 1:
        first = next(n for n, v in values.items() if v == distinct[0])
        other = next(n for n, v in values.items() if v == distinct[1])
        raise InputValueError(f"{folder} mixes two {what} ({distinct[0]} in {first}, "
                              f"{distinct[1]} in {other}): {fix}")
    return distinct[0] if distinct else None


def read_band_folder(folder: Path | str) -> S2Folder:
    """Check a Sentinel-2 band folder and describe its acquisition; raise a SitewatchError
    naming the folder or file and the fix when it is not one acquisition of one sensor with
    at least blue, green, red and NIR on one footprint."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputFileError(f"{folder} is not a folder of Sentinel-2 band files")
    files = _raster_files(folder)
    by_band = _pick(files, folder)
    missing = [b for b in REQUIRED if b not in by_band]
    if missing:
        found = ", ".join(sorted(by_band)) or "none"
        raise InputValueError(
            f"{folder} lacks bands {', '.join(f'{b} ({S2_BANDS[b]})' for b in missing)} "
            f"(found: {found}): a Sentinel-2 scene needs at least B02, B03, B04 and B08; add "
            "the missing band files")
    opened: dict[str, tuple[BandFile, dict[str, str]]] = {}
    for bid, paths in by_band.items():
        cands = [_open_band(bid, p) for p in paths]
        cands.sort(key=lambda c: abs(c[0].transform.a * c[0].transform.e))  # finest first
        best = cands[0]
        same = [c for c in cands if abs(c[0].transform.a - best[0].transform.a) < 1e-12]
        if len(same) > 1:
            raise InputValueError(
                f"{folder} holds band {bid} twice at the same pixel size ({same[0][0].path.name}"
                f", {same[1][0].path.name}): keep one acquisition per folder")
        opened[bid] = best
    bands = tuple(opened[b][0] for b in S2_BANDS if b in opened)
    _check_grids(folder, bands)
    return _describe(folder, bands, {opened[b][0].path.name: opened[b][1] for b in opened})


def _check_grids(folder: Path, bands: tuple[BandFile, ...]) -> None:
    ref = next(b for b in bands if b.band_id == "B02")
    rb = ref.bounds
    dtypes = {b.dtype for b in bands}
    if len(dtypes) > 1:
        odd = next(b for b in bands if b.dtype != ref.dtype)
        raise InputValueError(f"{odd.path}: band {odd.band_id} is {odd.dtype} but B02 is "
                              f"{ref.dtype}: bands of one scene share a data type; re-export it")
    for b in bands:
        t = b.transform
        if t.b or t.d or t.a <= 0 or t.e >= 0:
            raise InputValueError(f"{b.path}: band {b.band_id} is rotated or flipped: "
                                  "re-export it north-up (gdalwarp)")
        if b.crs != ref.crs:
            raise InputValueError(
                f"{b.path}: band {b.band_id} is in {b.crs} but B02 ({ref.path.name}) is in "
                f"{ref.crs}: the bands of one scene cannot be resampled consistently; reproject "
                "it onto B02's grid (gdalwarp -t_srs) or remove it from the folder")
        coarser = t.a > ref.transform.a * 1.01 or -t.e > -ref.transform.e * 1.01
        tol_x = t.a if coarser else ref.transform.a * 1e-3
        tol_y = -t.e if coarser else -ref.transform.e * 1e-3
        bb = b.bounds
        off = [abs(bb[0] - rb[0]) > tol_x, abs(bb[2] - rb[2]) > tol_x,
               abs(bb[1] - rb[1]) > tol_y, abs(bb[3] - rb[3]) > tol_y]
        if any(off):
            raise InputValueError(
                f"{b.path}: band {b.band_id} is {b.width}x{b.height} px covering "
                f"{tuple(round(v, 6) for v in bb)} but B02 ({ref.path.name}) is {ref.width}x"
                f"{ref.height} px covering {tuple(round(v, 6) for v in rb)}: not the same "
                "footprint, so it cannot be resampled consistently; re-export it on B02's "
                "extent or remove it from the folder")


def _describe(folder: Path, bands: tuple[BandFile, ...],
              tags: dict[str, dict[str, str]]) -> S2Folder:
    meta, used = _metadata(folder)
    names = {b.path.name: b.path.stem.upper() for b in bands}
    where = [p.upper() for p in folder.resolve().parts[-4:]]
    # per file: sensing date, tile, platform from the names (never an OPER processing time)
    days: dict[str, str] = {}
    tiles: dict[str, str] = {}
    units: dict[str, str] = {}
    baselines: dict[str, str] = {}
    levels: dict[str, str] = {}
    for fname, stem in names.items():
        oper = _OPER.search(stem)
        if oper:
            units[fname], levels[fname], tiles[fname] = oper.group(1), oper.group(2), oper.group(5)
            if oper.group(6):
                baselines[fname] = f"{oper.group(6)}.{oper.group(7)}"
            continue
        found = parse_product_name(stem)
        if found is not None:
            days[fname] = found.acquired.isoformat()
            if found.tile:
                tiles[fname] = found.tile
            if found.platform[-1] in "ABCD":
                units[fname] = found.platform[-1]
            if found.level:
                levels[fname] = found.level
        elif (m := _TILE.search(stem)) is not None:
            tiles[fname] = m.group(1)
        if (m := _PLATFORM.search(stem)) is not None:
            units[fname] = m.group(1)
        if (m := _BASELINE.search(stem)) is not None:
            baselines[fname] = f"{m.group(1)}.{m.group(2)}"
    fix = "keep one acquisition per folder"
    day_text = _one(days, "acquisitions", folder, fix)
    tag_days = {f: w.date().isoformat() for f, t in tags.items()
                if f not in days and (w := _tag_time(t)) is not None}
    # a tag such as TIFFTAG_DATETIME may be the time the file was written: names win
    tag_day = None if day_text else _one(tag_days, "acquisitions", folder, fix)
    tile = _one(tiles, "tiles", folder, fix)
    unit = _one(units, "sensors", folder, "keep the files of one satellite per folder")
    baseline = _one(baselines, "processing baselines", folder, fix)
    level = _one(levels, "processing levels", folder, fix)
    # the folder's own names (SAFE product, Earth Search item id) and metadata files
    outer = next((p for p in (parse_product_name(w) for w in reversed(where)) if p), None)
    if outer is not None and outer.platform.startswith("Landsat"):
        raise InputValueError(f"{folder} is named as a {outer.platform} product but holds "
                              "Sentinel-2 band files: keep one sensor per folder")
    utc, source = None, "file names" if day_text else ""
    if "time" in meta and (t := _parse_time(meta["time"])) is not None:
        utc, source = t.isoformat(), used[0].name
        if day_text and day_text != t.date().isoformat():
            raise InputValueError(f"{folder}: {used[0].name} says {t.date()} but the band files "
                                  f"are named {day_text}: keep one acquisition per folder")
        day_text = t.date().isoformat()
    oscd = _oscd_date(folder)
    if oscd is not None and day_text and oscd.isoformat() != day_text:
        raise InputValueError(f"{folder}: {folder.parent.name}/dates.txt says {oscd} but the "
                              f"band files are named {day_text}: fix dates.txt or the folder")
    if not day_text and oscd is not None:
        day_text, source = oscd.isoformat(), f"{folder.parent.name}/dates.txt"
    if not day_text and outer is not None:
        day_text, source = outer.acquired.isoformat(), f"folder name {outer.product_id}"
    if not day_text and tag_day:
        day_text, source = tag_day, "GDAL tags"
    if not day_text:
        raise InputValueError(
            f"{folder}: no acquisition date in its file names, metadata (MTD_TL.xml, "
            "MTD_MSIL*.xml), dates.txt or GDAL tags: give --date YYYY-MM-DD")
    acquired = date.fromisoformat(day_text)
    if utc is None:
        tt = [w for t in tags.values() if (w := _tag_time(t)) is not None]
        utc = tt[0].isoformat() if tt and tt[0].date() == acquired else None
    if outer is not None:
        tile = tile or outer.tile
        level = level or outer.level
        if unit is None and outer.platform[-1] in "ABCD":
            unit = outer.platform[-1]
    if "tile_id" in meta:
        if (m := _BASELINE.search(meta["tile_id"].upper())) is not None:
            baseline = baseline or f"{m.group(1)}.{m.group(2)}"
        if (m := _TILE.search(meta["tile_id"].upper())) is not None:
            tile = tile or m.group(1)
    baseline = baseline or meta.get("baseline") or next(
        (f"{m.group(1)}.{m.group(2)}" for w in where if (m := _BASELINE.search(w))), None)
    if "spacecraft" in meta and unit is None:
        unit = meta["spacecraft"].strip()[-1:].upper() or None
    if level is None and "level" in meta:
        level = "L2A" if "2A" in meta["level"] else "L1C" if "1C" in meta["level"] else None
    scale, offset, notes = _radiometry(bands[0].dtype, baseline, acquired, meta)
    return S2Folder(folder.resolve(), bands, acquired, utc, source,
                    f"Sentinel-2{unit}" if unit else "Sentinel-2", tile, level, baseline,
                    scale, offset, tuple(notes))


def _radiometry(dtype: str, baseline: str | None, acquired: date, meta: dict[str, str]
                ) -> tuple[float | None, float | None, list[str]]:
    """(scale, offset, notes): reflectance = DN * scale + offset."""
    if dtype != "uint16":
        return None, None, [f"{dtype} numbers are not Sentinel-2 reflectance counts "
                            "(a stretched export?): no scale applied"]
    notes = []
    try:
        quant = float(meta.get("quantification", "10000"))
    except ValueError:
        quant = 10000.0
    if "offset" in meta:
        try:
            return 1.0 / quant, float(meta["offset"]) / quant, ["offset from the metadata file"]
        except ValueError:
            notes.append(f"unreadable offset {meta['offset']!r} in the metadata: ignored")
    if baseline is not None:
        offset = -1000.0 / quant if baseline >= S2_OFFSET_BASELINE else 0.0
        notes.append(f"processing baseline {baseline}: offset {offset:g}")
    else:
        after = acquired >= S2_OFFSET_SINCE
        offset = -1000.0 / quant if after else 0.0
        notes.append(f"processing baseline unknown: offset {offset:g} taken from the date "
                     f"({'on or after' if after else 'before'} {S2_OFFSET_SINCE})")
    return 1.0 / quant, offset, notes
