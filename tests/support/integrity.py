"""Checks of a workspace after a crash or a race: the catalog opens, nothing is doubled,
every row's file is there, no temporary file is left; and a summary of what it holds, to
compare an interrupted-then-resumed workspace with one that was never interrupted."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

EXE = Path(sys.executable).parent / "sitewatch"
LS7 = "georef-rasters/landsat7-bitemporal-p022r049"
LS7_BANDS = "blue,green,red,nir,swir16,swir22,thermal,extra"
LS7_SITE = ("ls7", "--lat", "15.72", "--lon", "-93.316", "--radius-m", "1500")


def env_for(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SITEWATCH_TEST_")}
    env.pop("SITEWATCH_DB", None)
    return env | {"SITEWATCH_HOME": str(home)} | extra


def spawn(home: Path, *args: object, **extra: str) -> subprocess.Popen[str]:
    """The real command, as a user runs it, on the workspace at ``home``."""
    return subprocess.Popen([str(EXE), *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env_for(home, **extra))


def finish(proc: subprocess.Popen[str], timeout: float = 120) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def kill_after(proc: subprocess.Popen[str], delay_s: float) -> int:
    """SIGKILL ``proc`` after ``delay_s`` unless it ended first; its exit status."""
    try:
        proc.wait(timeout=delay_s)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    return proc.returncode


def _rows(home: Path, sql: str) -> list[Any]:
    # the workspace's catalog: SITEWATCH_DB when set (make test-pg), else its SQLite file
    engine = create_engine(os.environ.get("SITEWATCH_DB") or f"sqlite:///{home / 'catalog.sqlite'}")
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(sql)).all())
    finally:
        engine.dispose()


def _file(home: Path, stored: str) -> Path:
    p = Path(stored)
    return p if p.is_absolute() else home / p


def check_integrity(home: Path, temps: bool = True) -> dict[str, int]:
    """Assert the workspace at ``home`` is whole; the number of rows of each kind.
    ``temps=False`` allows temporary files (those of a process just killed, which the
    next writer of the same file removes)."""
    import json

    from sitewatch import open_workspace

    ws = open_workspace(home)  # the catalog opens (at the current schema)
    ws.close()
    scenes = _rows(home, "SELECT site_id, sha256, path FROM scenes")
    assert not [k for k, n in Counter((s, h) for s, h, _ in scenes).items() if n > 1]
    assert all(_file(home, p).is_file() for *_, p in scenes), scenes
    chips = _rows(home, "SELECT scene_id, grid_key, reference_scene_id, path FROM chips")
    assert len({c[:3] for c in chips}) == len(chips)
    missing = [p for *_, p in chips if not _file(home, p).is_file()]
    assert not missing, f"chip rows without their file: {missing}"
    runs = _rows(home, "SELECT id, run_key, summary FROM runs")
    assert len({k for _, k, _ in runs}) == len(runs)
    for rid, _, summary in runs:
        doc = json.loads(summary) if isinstance(summary, str) else summary
        dets = _rows(home, f"SELECT polygon_geojson FROM detections WHERE run_id = {rid}")
        assert len(dets) == doc["detections"], (rid, len(dets), doc["detections"])
        assert _file(home, doc["mask_path"]).is_file()
    timelines = _rows(home, "SELECT site_id, outputs FROM timelines")
    assert len({t[0] for t in timelines}) == len(timelines)
    for _, outputs in timelines:
        doc = json.loads(outputs) if isinstance(outputs, str) else outputs
        assert all(_file(home, p).is_file() for p in doc.values()), doc
    stray = [p for p in home.rglob(".*") if p.is_file()]
    assert not temps or not stray, f"temporary files left behind: {stray}"
    changes = _rows(home, "SELECT id FROM changes")
    return {"scenes": len(scenes), "chips": len(chips), "runs": len(runs),
            "timelines": len(timelines), "changes": len(changes)}


def summary(home: Path) -> dict[str, Any]:
    """What the workspace holds, without ids, times or paths: equal for two workspaces that
    did the same work, however often they were interrupted."""
    import json

    scenes = sorted((h, str(Path(p).name)) for _, h, p in
                    _rows(home, "SELECT site_id, sha256, path FROM scenes"))
    runs = []
    for rid, key, summ in _rows(home, "SELECT id, run_key, summary FROM runs"):
        doc = json.loads(summ) if isinstance(summ, str) else summ
        dets = sorted(str(p) for (p,) in _rows(
            home, f"SELECT polygon_geojson FROM detections WHERE run_id = {rid}"))
        runs.append((key, doc["detections"], round(doc["changed_area_m2"], 3), dets))
    tls = []
    for key, obs, brk in _rows(home, "SELECT scenes_key, observations, breaks FROM timelines"):
        tls.append((key, json.loads(obs) if isinstance(obs, str) else obs,
                    json.loads(brk) if isinstance(brk, str) else brk))
    return {"scenes": scenes, "runs": sorted(runs), "timelines": tls}
