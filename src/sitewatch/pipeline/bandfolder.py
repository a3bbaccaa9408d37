"""A Sentinel-2 band folder becomes one scene: its bands stacked by a VRT in the workspace.

The VRT points at the band files where they are (nothing copied); its name carries a digest
of the band files, so importing the same folder again finds the scene already there. The
scene's source is the folder and its sha256 the digest of the band files' own sha256.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from sitewatch.catalog import Store
from sitewatch.config import Layout
from sitewatch.errors import InputValueError
from sitewatch.fileio import atomic_path
from sitewatch.imagery.s2folder import S2Folder, read_band_folder
from sitewatch.model import Scene, Site
from sitewatch.pipeline.watchlist import SceneSpec, add_scene_file


def folder_spec(folder: S2Folder, template: SceneSpec, vrt: Path, digest: str) -> SceneSpec:
    """The scene spec of ``folder`` read through ``vrt``; what the user stated wins."""
    if template.bands:
        raise InputValueError(
            f"{folder.folder} is a Sentinel-2 band folder: its bands are named from the file "
            "names; drop --bands")
    props = folder.properties()
    if template.properties:
        props |= template.properties
    return replace(
        template, path=vrt, date=template.date or folder.acquired.isoformat(),
        provider=template.provider or folder.provider,
        credit=template.credit or folder.credit, licence=template.licence or folder.licence,
        bands=list(folder.band_names),
        scale=template.scale if template.scale is not None else folder.scale,
        offset=template.offset if template.offset is not None else folder.offset,
        properties=props, source=str(folder.folder), sha256=digest)


def vrt_path(ws: Layout, site: Site, folder: S2Folder, digest: str) -> Path:
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", folder.folder.name)[:80].strip(".") or "bands"
    return ws.import_dir(site.id, "sentinel-2") / f"{name}-{digest[:16]}.vrt"


def write_vrt(path: Path, folder: S2Folder) -> bool:
    """Write the folder's VRT at ``path``; False when the same one is already there."""
    text = folder.vrt_xml()
    if path.is_file() and path.read_text(encoding="utf-8", errors="replace") == text:
        return False
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return True


def add_band_folder(store: Store, ws: Layout, site: Site, template: SceneSpec) -> Scene:
    """Check the band folder ``template.path`` fully, then add it to ``site`` as one scene.

    Any refusal (a bad folder, outside the site, already imported) leaves no new file.
    """
    folder = read_band_folder(template.path)
    digest = folder.digest()
    vrt = vrt_path(ws, site, folder, digest)
    spec = folder_spec(folder, template, vrt, digest)
    existed = vrt.exists()  # the same band files imported before (to this or a site)
    write_vrt(vrt, folder)
    try:
        return add_scene_file(store, site, spec)
    except BaseException:
        if not existed:
            vrt.unlink(missing_ok=True)
        raise
