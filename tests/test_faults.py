"""Crashes and failed commands leave nothing behind (issue 14, item 9).

- kill -9 at named steps (SITEWATCH_TEST_KILL_AFTER, see sitewatch.faults) and after delays
  drawn from a seeded generator, in import, analyze and timeline: the catalog opens, nothing
  is doubled, no row points at a missing file, no temporary file is left, and running the
  command again ends where an uninterrupted run ends;
- a command that fails writes none of its outputs: an analysis failing after its chips were
  cut, a detect whose GeoJSON cannot be written, a timeline whose plot fails;
- one analysis asked for in different words is one run;
- a copied workspace reads its own files.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import LEVIR_TILE, Result
from support.integrity import (
    LS7,
    LS7_BANDS,
    LS7_SITE,
    check_integrity,
    finish,
    kill_after,
    spawn,
    summary,
)

from sitewatch.cli.main import main


@pytest.fixture(autouse=True)
def sqlite_only() -> None:
    if os.environ.get("SITEWATCH_TEST_PG"):
        pytest.skip("reads the workspace's SQLite catalog and copies the workspace")


def _run(home: Path, *args: object) -> int:
    """A command run in this process on the workspace at ``home``."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SITEWATCH_HOME", str(home))
        mp.delenv("SITEWATCH_DB", raising=False)
        return main([str(a) for a in args])


COMMANDS: dict[str, tuple[str, ...]] = {
    "import": ("scenes", "import", "ls7", "{folder}", "--bands", LS7_BANDS, "--scale",
               "0.0001"),
    "analyze": ("analyze", "ls7"),
    "timeline": ("timeline", "ls7"),
}
#: the steps killed at (sitewatch.faults lists them all): one scene of two stored; chips
#: cut; run computed and its mask written, not stored; break rasters written, not stored
STEPS = {"import": ("import.stored",),
         "analyze": ("analyze.chipped", "analyze.computed"),
         "timeline": ("timeline.written",)}
_RNG = random.Random(1414)
#: (command, step or None, when to SIGKILL as a fraction of the command's uninterrupted
#: run: past the start-up, which is about half of it, and before the end)
CASES = ([(c, s, 0.0) for c, steps in STEPS.items() for s in steps]
         + [(c, None, round(_RNG.uniform(0.55, 0.95), 2)) for c in COMMANDS for _ in range(2)])


def _args(command: str, samples: Path) -> list[str]:
    return [a.format(folder=samples / LS7) for a in COMMANDS[command]]


@pytest.fixture(scope="module")
def bases(samples: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Workspaces to start each command from: before an import, the site only; before an
    analysis or a timeline, the site with its two scenes imported."""
    root = tmp_path_factory.mktemp("bases")
    site = root / "site"
    assert _run(site, "sites", "add", *LS7_SITE) == 0
    imported = root / "imported"
    shutil.copytree(site, imported)
    assert _run(imported, *_args("import", samples)) == 0
    return {"import": site, "analyze": imported, "timeline": imported}


@pytest.fixture(scope="module")
def reference(bases: dict[str, Path], samples: Path,
              tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[dict, float]]:
    """What each command leaves when it is never interrupted, and how long it takes (s)."""
    out = {}
    for command, base in bases.items():
        home = tmp_path_factory.mktemp("ref") / "ws"
        shutil.copytree(base, home)
        t0 = time.perf_counter()
        code, _, err = finish(spawn(home, *_args(command, samples)))
        assert code == 0, err
        check_integrity(home)
        out[command] = (summary(home), time.perf_counter() - t0)
    return out


@pytest.mark.slow
@pytest.mark.parametrize("command, step, frac", CASES,
                         ids=[f"{c}-{s or f'at-{f:.0%}'}" for c, s, f in CASES])
def test_kill_9_then_run_again(command: str, step: str | None, frac: float,
                               bases: dict[str, Path],
                               reference: dict[str, tuple[dict, float]],
                               samples: Path, tmp_path: Path) -> None:
    home = tmp_path / "killed"
    shutil.copytree(bases[command], home)
    extra = {"SITEWATCH_TEST_KILL_AFTER": step} if step else {}
    proc = spawn(home, *_args(command, samples), **extra)
    expected, duration_s = reference[command]
    code = kill_after(proc, frac * duration_s if step is None else 120)
    if step is not None:
        assert code == -signal.SIGKILL, f"{command} did not reach {step}"
    else:
        assert code in (0, -signal.SIGKILL)
    check_integrity(home, temps=False)
    assert _run(home, *_args(command, samples)) == 0
    check_integrity(home)
    assert summary(home) == expected


# --- a failed command writes none of its outputs ------------------------------------------
@pytest.fixture
def ls7(cli: Callable[..., Result], samples: Path) -> str:
    assert cli("sites", "add", *LS7_SITE).code == 0
    res = cli(*_args("import", samples))
    assert res.code == 0, res.err
    return "ls7"


def _refused(res: Result) -> str:
    """The one error line of a command refused with exit status 2 (progress lines aside)."""
    errors = [ln for ln in res.err.splitlines() if ln.startswith("sitewatch: ")]
    assert res.code == 2 and len(errors) == 1, (res.code, res.err)
    assert errors[0].startswith("sitewatch: error:") and "Traceback" not in res.err
    return errors[0]


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else []


@pytest.mark.slow
def test_an_analysis_that_fails_after_cutting_chips_leaves_no_chips(
        cli: Callable[..., Result], ls7: str, workspace: Path, tmp_path: Path) -> None:
    bogus = tmp_path / "weights.pt"
    bogus.write_text("not a weights file\n")
    _refused(cli("analyze", ls7, "--method", "model", "--weights", bogus))
    assert check_integrity(workspace)["chips"] == 0
    assert _files(workspace / "chips") == []
    assert cli("analyze", ls7).code == 0  # and a good analysis still runs
    assert check_integrity(workspace)["chips"] == 2


def test_a_detect_whose_geojson_cannot_be_written_leaves_no_mask(
        cli: Callable[..., Result], samples: Path, tmp_path: Path) -> None:
    tiles = samples / "levir-cd" / "tiles256"
    out = tmp_path / "out"
    out.mkdir()
    a, b = (tiles / ab / f"{LEVIR_TILE}.png" for ab in ("A", "B"))
    taken = out / "polygons.geojson"
    taken.mkdir()  # a folder where the GeoJSON should go
    _refused(cli("detect", a, b, "--out", out / "mask.tif", "--method", "cva",
                       "--geojson", taken))
    assert _files(out) == []
    res = cli("detect", a, b, "--out", out / "mask.tif", "--method", "cva", "--geojson",
              out / "ok.geojson")
    assert res.code == 0, res.err
    assert _files(out) == [out / "mask.tif", out / "ok.geojson"]


def test_a_timeline_whose_plot_fails_stores_nothing(
        cli: Callable[..., Result], ls7: str, workspace: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from sitewatch.errors import InputValueError
    from sitewatch.evidence import timeline_plot

    def fail(*_a: object, **_k: object) -> Path:
        raise InputValueError("the figure cannot be drawn")

    with monkeypatch.context() as mp:
        mp.setattr(timeline_plot, "timeline_png", fail)
        line = _refused(cli("timeline", ls7, "--plot", tmp_path / "t.png"))
    assert "cannot be drawn" in line
    blocked = tmp_path / "file"
    blocked.write_text("")
    _refused(cli("timeline", ls7, "--plot", blocked / "t.png"))  # parent is a file
    assert check_integrity(workspace)["timelines"] == 0
    assert _files(workspace / "timelines") == []
    assert [p for p in _files(tmp_path) if workspace not in p.parents] == [blocked]
    res = cli("timeline", ls7, "--plot", tmp_path / "t.png")
    assert res.code == 0, res.err
    assert check_integrity(workspace)["timelines"] == 1 and (tmp_path / "t.png").is_file()


# --- one analysis, however it is asked for ---------------------------------------------------
def test_the_default_model_asked_for_three_ways_is_one_run(
        cli: Callable[..., Result], levir_site: str, workspace: Path) -> None:
    from sitewatch.detect.methods import model_available
    from sitewatch.learn.infer import default_onnx, default_weights

    if not model_available():
        pytest.skip("the learned model needs PyTorch")
    ids = set()
    for extra in ((), ("--target", "any"), ("--weights", default_weights()),
                  ("--weights", default_onnx()), ("--method", "model", "--target", "any")):
        res = cli("analyze", levir_site, "--json", *extra)
        assert res.code == 0, res.err
        ids.add(json.loads(res.out)["id"])
    assert len(ids) == 1
    assert check_integrity(workspace)["runs"] == 1
    res = cli("analyze", levir_site, "--json", "--target", "buildings")  # another analysis
    assert res.code == 0 and json.loads(res.out)["created"]
    assert check_integrity(workspace)["runs"] == 2


def test_cva_defaults_spelled_out_are_the_same_run(ls7: str, workspace: Path) -> None:
    from sitewatch import open_workspace

    with open_workspace(workspace) as ws:
        first = ws.analyze(ls7, method="cva")
        same = ws.analyze(ls7, method="cva", params={"smooth_sigma_px": 2.0, "mmu_m2": 50})
        other = ws.analyze(ls7, method="cva", params={"mmu_m2": 500})
    assert first.created and not same.created and same.run.id == first.run.id
    assert other.created and other.run.id != first.run.id


# --- a copied workspace reads its own files ------------------------------------------------
@pytest.fixture
def moved(tmp_path: Path, workspace: Path, monkeypatch: pytest.MonkeyPatch
          ) -> Iterator[Callable[[], Path]]:
    def move() -> Path:
        copy = tmp_path / "copy"
        shutil.copytree(workspace, copy)
        shutil.rmtree(workspace)
        monkeypatch.setenv("SITEWATCH_HOME", str(copy))
        return copy

    yield move


@pytest.mark.slow
def test_a_copied_workspace_reads_its_own_chips(cli: Callable[..., Result], ls7: str,
                                                 moved: Callable[[], Path],
                                                 tmp_path: Path) -> None:
    first = cli("analyze", ls7, "--json")
    assert first.code == 0, first.err
    assert cli("timeline", ls7).code == 0
    copy = moved()  # the original is gone
    again = cli("analyze", ls7, "--json")
    assert again.code == 0, again.err
    assert json.loads(again.out)["id"] == json.loads(first.out)["id"]
    assert not json.loads(again.out)["created"]
    res = cli("report", ls7, "--out", tmp_path / "r.html")
    assert res.code == 0, res.err
    counts = check_integrity(copy)  # every stored path resolves inside the copy
    assert counts["chips"] == 2 and counts["runs"] == 1 and counts["timelines"] == 1
    con = sqlite3.connect(copy / "catalog.sqlite")
    try:
        stored = [p for (p,) in con.execute("SELECT path FROM chips")]
    finally:
        con.close()
    assert all(not Path(p).is_absolute() and p.startswith("chips/") for p in stored), stored
    from sitewatch import open_workspace

    with open_workspace(copy) as ws:
        assert all(Path(c.path).is_relative_to(copy) for c in ws.chips(ls7))
        assert Path(ws.runs(ls7)[0].summary["mask_path"]).is_relative_to(copy)


def test_paths_outside_the_workspace_and_old_absolute_rows_read_as_stored(
        tmp_path: Path) -> None:
    from sitewatch.catalog.paths import PathMapper

    root = tmp_path / "ws"
    pm = PathMapper(root)
    assert pm.to_catalog(root / "chips" / "site1" / "a.tif") == "chips/site1/a.tif"
    assert pm.from_catalog("chips/site1/a.tif") == str(root / "chips" / "site1" / "a.tif")
    elsewhere = str(tmp_path / "imagery" / "scene.tif")
    assert pm.to_catalog(elsewhere) == elsewhere and pm.from_catalog(elsewhere) == elsewhere
    old = "/data/old-workspace/chips/site1/a.tif"  # a row written before relative paths
    assert pm.from_catalog(old) == old
    assert PathMapper(None).to_catalog(root / "x.tif") == str(root / "x.tif")
