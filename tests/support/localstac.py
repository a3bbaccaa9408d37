"""A STAC API on loopback made of real imagery, for tests, benchmarks and offline work.

- :class:`AssetServer` serves a folder over HTTP with byte ranges (as object stores do,
  so GDAL reads only the tiles it needs) and counts the bytes it sends.
- :func:`build_s2_collection` turns the Sentinel-2 L2A chips of the shared samples
  (B02, B03, B04, B08 and their real cloud masks) into COG assets and STAC items with
  projection, raster and eo metadata: each chip once as stored (processing baseline
  02.14) and again re-encoded as baseline 04.00 numbers (+1000) with the -0.1 offset,
  so that the offset rule can be checked on real pixels.
- :class:`RustacServer` runs ``rustac serve`` on those items.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import threading
import time
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from pyproj import Transformer
from shapely.geometry import box, mapping

from sitewatch.imagery.write import write_cog

CHIPS = "georef-rasters/sentinel2-cloudcover-chips"
BANDS = {"B02": "blue", "B03": "green", "B04": "red", "B08": "nir"}
WAVELENGTH = {"B02": 0.49, "B03": 0.56, "B04": 0.665, "B08": 0.842}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Handler(SimpleHTTPRequestHandler):
    server: _CountingServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def do_GET(self) -> None:  # noqa: N802
        path = Path(self.translate_path(self.path))
        if self.path.startswith("/garbage"):
            body = b"<html><body>not STAC</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if not path.is_file():
            self.send_error(404)
            return
        size = path.stat().st_size
        m = re.match(r"bytes=(\d*)-(\d*)$", self.headers.get("Range", ""))
        start, end = 0, size - 1
        if m:
            if m.group(1):
                start = int(m.group(1))
                end = int(m.group(2)) if m.group(2) else size - 1
            else:
                start = max(size - int(m.group(2)), 0)
        end = min(end, size - 1)
        if start > end:
            self.send_error(416)
            return
        self.send_response(206 if m else 200)
        self.send_header("Content-Type", "image/tiff")
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(end - start + 1))
        if m:
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.end_headers()
        with open(path, "rb") as fh:
            fh.seek(start)
            data = fh.read(end - start + 1)
        self.wfile.write(data)
        with self.server.lock:
            self.server.bytes_sent += len(data)
            self.server.requests += 1

    def do_HEAD(self) -> None:  # noqa: N802
        path = Path(self.translate_path(self.path))
        if not path.is_file():
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(path.stat().st_size))
        self.end_headers()


class _CountingServer(ThreadingHTTPServer):
    daemon_threads = True
    bytes_sent = 0
    requests = 0
    lock = threading.Lock()


class AssetServer:
    """Serve ``root`` on 127.0.0.1 with HTTP range requests; count bytes sent."""

    def __init__(self, root: Path, port: int | None = None) -> None:
        self.root = Path(root)
        self.port = port or free_port()
        handler = type("Handler", (_Handler,), {})

        def factory(*args: Any, **kwargs: Any) -> _Handler:
            return handler(*args, directory=str(self.root), **kwargs)

        self._server = _CountingServer(("127.0.0.1", self.port), factory)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def bytes_sent(self) -> int:
        return self._server.bytes_sent

    def reset(self) -> None:
        with self._server.lock:
            self._server.bytes_sent = 0
            self._server.requests = 0

    def __enter__(self) -> AssetServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def rustac_path() -> str | None:
    """The ``rustac`` command beside this Python, or on PATH."""
    import sys

    here = Path(sys.executable).parent / "rustac"
    return str(here) if here.is_file() else shutil.which("rustac")


class RustacServer:
    """``rustac serve`` of a collection and its items on 127.0.0.1 (in-memory backend)."""

    def __init__(self, hrefs: list[Path], port: int | None = None) -> None:
        exe = rustac_path()
        if exe is None:
            raise RuntimeError("rustac is not installed: pip install rustac")
        self.port = port or free_port()
        self._cmd = [exe, "serve", "--addr", f"127.0.0.1:{self.port}", *map(str, hrefs)]
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> RustacServer:
        self._proc = subprocess.Popen(self._cmd, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                out = self._proc.stdout.read().decode() if self._proc.stdout else ""
                raise RuntimeError(f"rustac serve exited: {out.strip()[:500]}")
            try:
                with urllib.request.urlopen(self.url + "/", timeout=1):
                    return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("rustac serve did not start within 30 s")

    def __exit__(self, *exc: object) -> None:
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()


@dataclass(frozen=True)
class SampleItem:
    id: str
    chip: str
    datetime: str
    baseline: str
    cloud_cover: float
    bounds_wgs84: tuple[float, float, float, float]


def _scl_from_label(label: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Scene-classification-like codes from a real cloud label: 9 cloud, 4 clear, 0 none."""
    scl = np.where(label == 1, 9, 4).astype(np.uint8)
    scl[(label == 255) | ~valid] = 0
    return scl


@dataclass
class _Chip:
    chip: str
    location: str
    acquired: datetime
    crs: Any
    transform: Any
    dn: dict[str, np.ndarray]
    valid: np.ndarray
    label: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        h, w = self.valid.shape
        return int(h), int(w)


def _mirror(a: np.ndarray, repeat: int) -> np.ndarray:
    """``repeat`` x ``repeat`` copies of ``a``, alternate ones flipped so edges meet."""
    row = np.concatenate([a if k % 2 == 0 else a[:, ::-1] for k in range(repeat)], axis=1)
    return np.concatenate([row if k % 2 == 0 else row[::-1] for k in range(repeat)], axis=0)


def read_chips(samples: Path, repeat: int = 1) -> list[_Chip]:
    """The Sentinel-2 chips of the samples with their masks; ``repeat`` > 1 mirrors each
    into a larger tile (same pixels, for input/output benchmarks only)."""
    src = samples / CHIPS
    chips = []
    for line in (src / "train_metadata_subset.csv").read_text().splitlines()[1:]:
        chip_id, location, when, _ = line.split(",")
        with rasterio.open(src / "train_features" / chip_id / "B02.tif") as ds:
            crs, tf = ds.crs, ds.transform
        dn = {}
        for b in BANDS:
            with rasterio.open(src / "train_features" / chip_id / f"{b}.tif") as ds:
                dn[b] = _mirror(ds.read(1), repeat)
        with rasterio.open(src / "train_labels" / f"{chip_id}.tif") as ds:
            label = _mirror(ds.read(1), repeat)
        valid = np.all([v > 0 for v in dn.values()], axis=0)
        chips.append(_Chip(chip_id, location, datetime.fromisoformat(when.replace("Z", "+00:00")),
                           crs, tf, dn, valid, label))
    return sorted(chips, key=lambda c: c.chip)


def _asset_doc(href: str, title: str, rb: dict[str, Any], shape: tuple[int, int], tf: Any,
               roles: list[str], eo: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    doc = {"href": href, "type": "image/tiff; application=geotiff; profile=cloud-optimized",
           "roles": roles, "title": title, "raster:bands": [rb], "proj:shape": list(shape),
           "proj:transform": list(tf)[:6]}
    if eo:
        doc["eo:bands"] = eo
    return doc


def write_item(c: _Chip, out: Path, asset_url: str, t: datetime, baseline: str, honest: bool,
               blocksize: int = 256, item_id: str | None = None) -> dict[str, Any]:
    """COG assets of one chip as ``baseline`` numbers, and its STAC item document.

    Baseline 04.00 and later store reflectance * 10000 + 1000. ``honest`` False writes
    the misleading metadata seen in some 2022 Earth Search items: no offset in
    raster:bands and ``earthsearch:boa_offset_applied`` false.
    """
    item_id = item_id or f"S2_{c.location}_{c.chip}_{t:%Y%m%d}_L2A"
    folder = out / "assets" / item_id
    shift = 1000 if baseline >= "04.00" else 0
    crs = c.crs.to_string()
    assets: dict[str, Any] = {}
    for b, common in BANDS.items():
        arr = np.where(c.valid, c.dn[b].astype(np.uint32) + shift, 0).astype(np.uint16)
        write_cog(folder / f"{b}.tif", arr[None], crs, c.transform, nodata=0,
                  blocksize=blocksize)
        rb: dict[str, Any] = {"nodata": 0, "data_type": "uint16", "scale": 0.0001,
                              "spatial_resolution": 10}
        if shift and honest:
            rb["offset"] = -0.1
        assets[b] = _asset_doc(f"{asset_url}/{item_id}/{b}.tif", f"{common} band", rb,
                               c.shape, c.transform, ["data", "reflectance"],
                               [{"name": b, "common_name": common,
                                 "center_wavelength": WAVELENGTH[b]}])
    write_cog(folder / "SCL.tif", _scl_from_label(c.label, c.valid)[None], crs, c.transform,
              nodata=0, blocksize=blocksize)
    assets["SCL"] = _asset_doc(f"{asset_url}/{item_id}/SCL.tif",
                               "scene classification (from the chip's real cloud mask)",
                               {"nodata": 0, "data_type": "uint8"}, c.shape, c.transform,
                               ["data"])
    h, w = c.shape
    west, north = c.transform.c, c.transform.f
    bounds = (west, north + c.transform.e * h, west + c.transform.a * w, north)
    ll = Transformer.from_crs(c.crs, "EPSG:4326", always_xy=True).transform_bounds(*bounds)
    cloud = float(100 * ((c.label == 1) & c.valid).sum() / max(int(c.valid.sum()), 1))
    props = {"datetime": t.strftime("%Y-%m-%dT%H:%M:%SZ"), "platform": "sentinel-2a",
             "constellation": "sentinel-2", "instruments": ["msi"],
             "eo:cloud_cover": round(cloud, 2), "proj:epsg": c.crs.to_epsg(),
             "proj:bbox": list(bounds), "s2:processing_baseline": baseline,
             "s2:product_uri": f"S2A_MSIL2A_{t:%Y%m%dT%H%M%S}_N{baseline.replace('.', '')}"
                               f"_R000_T00XXX_{t:%Y%m%dT%H%M%S}.SAFE",
             "earthsearch:boa_offset_applied": bool(shift and honest)}
    return {"type": "Feature", "stac_version": "1.0.0", "id": item_id,
            "collection": "sentinel-2-l2a",
            "stac_extensions": [
                "https://stac-extensions.github.io/projection/v1.1.0/schema.json",
                "https://stac-extensions.github.io/raster/v1.1.0/schema.json",
                "https://stac-extensions.github.io/eo/v1.1.0/schema.json"],
            "geometry": mapping(box(*ll)), "bbox": list(ll), "properties": props,
            "links": [], "assets": assets}


def write_collection(out: Path, feats: list[dict[str, Any]], description: str
                     ) -> tuple[Path, Path]:
    """collection.json and items.json for ``feats`` under ``out``."""
    bbs = [f["bbox"] for f in feats]
    times = [f["properties"]["datetime"] for f in feats]
    collection = {
        "type": "Collection", "stac_version": "1.0.0", "id": "sentinel-2-l2a",
        "description": description, "license": "CC-BY-4.0",
        "extent": {"spatial": {"bbox": [[min(b[0] for b in bbs), min(b[1] for b in bbs),
                                          max(b[2] for b in bbs), max(b[3] for b in bbs)]]},
                   "temporal": {"interval": [[min(times), max(times)]]}},
        "links": []}
    out.mkdir(parents=True, exist_ok=True)
    col_path, items_path = out / "collection.json", out / "items.json"
    col_path.write_text(json.dumps(collection))
    items_path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    return col_path, items_path


def build_s2_collection(samples: Path, out: Path, asset_url: str,
                        extra_dates: int = 2) -> tuple[Path, Path, list[SampleItem]]:
    """Write COG assets under ``out/assets`` and (collection.json, items.json) under ``out``.

    Per chip: the real acquisition (baseline 02.14), then ``extra_dates`` re-encodings as
    baseline 04.00 at later dates, every second one with misleading metadata (see
    :func:`write_item`). Asset hrefs start with ``asset_url`` (an :class:`AssetServer` on
    ``out/assets``).
    """
    feats, made = [], []
    for c in read_chips(samples):
        t0 = c.acquired
        versions = [("02.14", t0, True)]
        for k in range(extra_dates):
            versions.append(("04.00", datetime(2022, 5, 4, t0.hour, t0.minute, t0.second,
                                               tzinfo=t0.tzinfo) + timedelta(days=35 * k),
                             k % 2 == 0))
        for baseline, t, honest in versions:
            doc = write_item(c, out, asset_url, t, baseline, honest)
            feats.append(doc)
            made.append(SampleItem(doc["id"], c.chip, doc["properties"]["datetime"], baseline,
                                   doc["properties"]["eo:cloud_cover"], tuple(doc["bbox"])))
    col_path, items_path = write_collection(
        out, feats, "Sentinel-2 L2A chips of the shared samples, served on loopback")
    return col_path, items_path, made


def add_items(items_path: Path, extra: list[dict[str, Any]]) -> None:
    """Append raw item documents (e.g. malformed ones) to an items.json."""
    doc = json.loads(items_path.read_text())
    doc["features"].extend(extra)
    items_path.write_text(json.dumps(doc))


__all__ = ["AssetServer", "RustacServer", "SampleItem", "add_items", "build_s2_collection",
           "free_port"]
