"""Two analysts at once on one workspace: two imports of one folder, two analyses of one
site, an import during an analysis. Each pair is held at a barrier (SITEWATCH_TEST_BARRIER,
see sitewatch.faults) just before its write, so that the writes really race; both commands
exit 0, nothing is doubled and both name the same stored rows. Also: no database error ever
reaches the user with its SQL or its parameters."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import Result
from support.integrity import LS7, LS7_BANDS, LS7_SITE, check_integrity, finish, spawn

pytestmark = pytest.mark.usefixtures("sqlite_only")


@pytest.fixture
def sqlite_only() -> None:
    import os

    if os.environ.get("SITEWATCH_TEST_PG"):
        pytest.skip("counts rows in the workspace's SQLite catalog")


def _barrier(tmp_path: Path, step: str, name: str = "barrier") -> dict[str, str]:
    return {"SITEWATCH_TEST_BARRIER": f"{step}:2:{tmp_path / name}"}


@pytest.fixture
def ls7(cli: Callable[..., Result], samples: Path) -> Path:
    """A site over the Landsat-7 pair (no scenes yet); its folder."""
    assert cli("sites", "add", *LS7_SITE).code == 0
    return samples / LS7


def _import(cli: Callable[..., Result], folder: Path) -> None:
    res = cli("scenes", "import", "ls7", folder, "--bands", LS7_BANDS, "--scale", "0.0001")
    assert res.code == 0, res.err


def _counts(out: str) -> tuple[int, int]:
    m = re.search(r"imported (\d+) scenes .*; (\d+) already in the catalog", out)
    assert m, out
    return int(m.group(1)), int(m.group(2))


@pytest.mark.slow
def test_two_imports_of_one_folder_at_once(ls7: Path, workspace: Path, tmp_path: Path,
                                           cli: Callable[..., Result]) -> None:
    procs = [spawn(workspace, "scenes", "import", "ls7", ls7, "--bands", LS7_BANDS,
                   **_barrier(tmp_path, "import.checked")) for _ in range(2)]
    done = [finish(p) for p in procs]
    assert [c for c, _, _ in done] == [0, 0], done
    assert not any("error" in err for _, _, err in done), done
    counts = [_counts(out) for _, out, _ in done]
    # every file imported once, found already there by the other process
    assert sum(i for i, _ in counts) == 2 and sum(a for _, a in counts) == 2, counts
    assert len(list((tmp_path / "barrier").iterdir())) == 2  # both reached the barrier
    scenes = json.loads(cli("scenes", "list", "ls7", "--json").out)
    assert sorted(s["id"] for s in scenes) == [1, 2]
    assert check_integrity(workspace)["scenes"] == 2


@pytest.mark.slow
def test_two_analyses_of_one_site_at_once(ls7: Path, workspace: Path, tmp_path: Path,
                                          cli: Callable[..., Result]) -> None:
    _import(cli, ls7)
    procs = [spawn(workspace, "analyze", "ls7", "--json",
                   **_barrier(tmp_path, "analyze.computed")) for _ in range(2)]
    done = [finish(p) for p in procs]
    assert [c for c, _, _ in done] == [0, 0], done
    runs = [json.loads(out) for _, out, _ in done]
    assert runs[0]["id"] == runs[1]["id"]  # the loser returns the winner's run
    assert sorted(r["created"] for r in runs) == [False, True]
    assert [d["id"] for d in runs[0]["detections"]] == [d["id"] for d in runs[1]["detections"]]
    assert len(list((tmp_path / "barrier").iterdir())) == 2
    counts = check_integrity(workspace)
    assert counts["runs"] == 1 and counts["changes"] == len(runs[0]["detections"])


@pytest.mark.slow
def test_an_import_during_an_analysis(ls7: Path, workspace: Path, tmp_path: Path,
                                      cli: Callable[..., Result]) -> None:
    _import(cli, ls7)
    third = tmp_path / "later.gtif"  # other bytes: a new scene, dated after the pair
    shutil.copyfile(ls7 / "LE70220492002106EDC00_stack.gtif", third)
    with third.open("ab") as f:
        f.write(b"\0")
    analyze = ("analyze", "ls7", "--json", "--before", "1999-12", "--after", "2002-04")
    procs = [spawn(workspace, *analyze, **_barrier(tmp_path, "analyze.computed")),
             spawn(workspace, "scenes", "import", "ls7", third, "--date", "2003-05-01",
                   "--provider", "USGS", "--bands", LS7_BANDS,
                   **_barrier(tmp_path, "import.checked"))]
    done = [finish(p) for p in procs]
    assert [c for c, _, _ in done] == [0, 0], done
    run = json.loads(done[0][1])
    assert (run["before_scene_id"], run["after_scene_id"]) == (1, 2) and run["created"]
    again = cli(*analyze)
    assert again.code == 0, again.err
    assert json.loads(again.out)["id"] == run["id"] and not json.loads(again.out)["created"]
    counts = check_integrity(workspace)
    assert counts["scenes"] == 3 and counts["runs"] == 1


def test_a_database_error_is_one_line_without_sql(cli: Callable[..., Result],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from sqlalchemy.exc import IntegrityError

    from sitewatch.api import Workspace

    def refuse(*_a: object, **_k: object) -> None:
        raise IntegrityError("INSERT INTO runs (run_key, site_id) VALUES (?, ?)",
                             ("secret-user-text", 1),
                             sqlite3.IntegrityError("UNIQUE constraint failed: runs.run_key"))

    monkeypatch.setattr(Workspace, "analyze", refuse)
    res = cli("analyze", "anything")
    lines = [ln for ln in res.err.splitlines() if ln.strip() and not ln.startswith("workspace:")]
    assert res.code == 1 and len(lines) == 1, res.err
    assert "UNIQUE constraint failed: runs.run_key" in lines[0]
    assert "INSERT" not in res.err and "secret-user-text" not in res.err
    assert "[SQL" not in res.err and "parameters" not in res.err


def test_a_write_that_loses_a_race_is_retried_then_refused_cleanly() -> None:
    from sqlalchemy.exc import IntegrityError

    from sitewatch.catalog.retry import on_conflict_retry
    from sitewatch.errors import ConflictError

    tries: list[int] = []

    def write() -> str:
        tries.append(1)
        if len(tries) < 3:
            raise IntegrityError("INSERT ...", {}, sqlite3.IntegrityError("UNIQUE"))
        return "stored"

    assert on_conflict_retry(write, "the thing") == "stored" and len(tries) == 3

    def always() -> str:
        raise IntegrityError("INSERT ...", {}, sqlite3.IntegrityError("UNIQUE"))

    with pytest.raises(ConflictError, match="another process"):
        on_conflict_retry(always, "the thing")
