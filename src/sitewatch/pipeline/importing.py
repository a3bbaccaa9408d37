"""Bulk import: many files and folders at once, each bad file reported and skipped.

Folders are searched recursively for rasters; an eo-learn EOPatch folder is turned
into one float32 COG per date in the workspace (its cloud and no-data masks applied)
and those are imported, each keeping the EOPatch it came from. A folder of Sentinel-2
band files (SAFE ``IMG_DATA``, Earth Search COGs, OSCD ``*_Bxx.tif``) is one scene: a VRT
in the workspace stacks its bands on the 10 m grid (nothing is copied).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from sitewatch.catalog import Store
from sitewatch.config import Layout
from sitewatch.errors import ConflictError, InputFileError, SitewatchError
from sitewatch.imagery.eopatch import is_eopatch, read_eopatch
from sitewatch.imagery.s2folder import is_band_folder
from sitewatch.imagery.write import write_cog
from sitewatch.model import Scene, Site
from sitewatch.pipeline.bandfolder import add_band_folder
from sitewatch.pipeline.watchlist import SceneSpec, add_scene_file

RASTER_SUFFIXES = {".tif", ".tiff", ".gtif", ".gtiff", ".jp2", ".png", ".jpg", ".jpeg", ".bmp",
                   ".img", ".vrt"}


@dataclass(frozen=True)
class Outcome:
    """What happened to one input: imported (scene), already there (duplicate), or failed."""

    path: Path
    scene: Scene | None = None
    duplicate: bool = False
    reason: str | None = None


def _is_envi_data(p: Path) -> bool:
    return not p.suffix and p.with_suffix(".hdr").is_file()


def _band_folders(top: Path, found: list[Path]) -> set[Path]:
    """The outermost Sentinel-2 band folders under ``top`` (a SAFE product, not its R10m)."""
    out: set[Path] = set()
    for d in sorted((f for f in found if f.is_dir()), key=lambda f: len(f.parts)):
        r = d.resolve()
        if not any(q in out for q in r.parents) and is_band_folder(d):
            out.add(r)
    return out


def expand(paths: Iterable[Path]) -> tuple[list[Path], list[Path], list[Outcome]]:
    """(raster files, EOPatch and band folders, missing inputs), each sorted, no repeats."""
    files: set[Path] = set()
    patches: set[Path] = set()
    missing: list[Outcome] = []
    for raw in paths:
        p = Path(raw)
        if is_eopatch(p) or is_band_folder(p):
            patches.add(p.resolve())
        elif p.is_dir():
            found = [f for f in p.rglob("*")
                     if not any(part.startswith(".") for part in f.relative_to(p).parts)]
            inner = {f.resolve() for f in found if is_eopatch(f)}
            inner |= _band_folders(p, [f for f in found if f.resolve() not in inner
                                       and not any(q in inner for q in f.resolve().parents)])
            patches |= inner
            for f in found:
                if (f.is_file() and (f.suffix.lower() in RASTER_SUFFIXES or _is_envi_data(f))
                        and not any(q in inner for q in f.resolve().parents)):
                    files.add(f.resolve())
        elif p.is_file():
            files.add(p.resolve())
        else:
            missing.append(Outcome(p, reason="does not exist"))
    return sorted(files), sorted(patches), missing


def eopatch_specs(ws: Layout, site: Site, patch: Path, template: SceneSpec) -> list[SceneSpec]:
    """Write each date of ``patch`` as a COG under the workspace; one spec per date."""
    specs = []
    out_dir = ws.import_dir(site.id, patch.name)
    for sl in read_eopatch(patch):
        day = sl.acquired.date().isoformat()
        path = out_dir / f"{sl.acquired:%Y%m%dT%H%M%S}_{sl.index:04d}.tif"
        if not path.is_file():
            write_cog(path, sl.data, sl.crs, sl.transform, descriptions=sl.band_names,
                      tags={"SITEWATCH_SOURCE": str(patch), "ACQUISITION_TIME":
                            sl.acquired.isoformat(), "SOURCE_INDEX": str(sl.index)})
        specs.append(replace(
            template, path=path, date=template.date or day,
            provider=template.provider or "ESA Copernicus Sentinel-2 (eo-learn EOPatch)",
            credit=template.credit or f"Contains modified Copernicus Sentinel data "
                                      f"{sl.acquired.year}",
            bands=sl.band_names,
            properties={"source": str(patch), "source_index": sl.index,
                        "acquired_utc": sl.acquired.isoformat()},
            masked_frame=True,  # a cloud-covered date is an observation too
        ))
    return specs


def import_many(store: Store, ws: Layout, site: Site, paths: Sequence[Path],
                template: SceneSpec,
                progress: Callable[[int, int, Outcome], None] | None = None) -> list[Outcome]:
    """Import every raster under ``paths``; never stops on a bad file.

    ``template`` carries the options common to all files (date, provider, bands, scale);
    ``progress(done, total, outcome)`` is called after each file.
    """
    files, patches, outcomes = expand(paths)
    specs = [replace(template, path=f) for f in files]
    folders = [p for p in patches if not is_eopatch(p)]
    for patch in patches:
        if patch in folders:
            continue
        try:
            specs.extend(eopatch_specs(ws, site, patch, template))
        except SitewatchError as exc:
            outcomes.append(Outcome(patch, reason=str(exc)))
    specs.extend(replace(template, path=f) for f in folders)
    total = len(specs)
    for i, spec in enumerate(specs, start=1):
        try:
            if spec.path in folders:
                outcome = Outcome(spec.path, scene=add_band_folder(store, ws, site, spec))
            else:
                outcome = Outcome(spec.path, scene=add_scene_file(store, site, spec))
        except ConflictError as exc:
            outcome = Outcome(spec.path, duplicate=True, reason=str(exc))
        except (SitewatchError, OSError) as exc:
            msg = str(exc) if isinstance(exc, SitewatchError) else f"cannot read: {exc}"
            outcome = Outcome(spec.path, reason=msg)
        outcomes.append(outcome)
        if progress is not None:
            progress(i, total, outcome)
    if not files and not patches and not outcomes:
        raise InputFileError("no image files found under the given paths: give GeoTIFF/COG, "
                             "PNG, JPEG, BMP, ENVI files, folders of them or an EOPatch")
    return outcomes
