"""Fast starts: `sites list` reads the embedded catalog without SQLAlchemy, and the command
line converts only the command it runs. Both must give exactly what the full path gives."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from sitewatch.api import open_workspace
from sitewatch.catalog import quick
from sitewatch.cli import main as cli_main

ON_PG = bool(os.environ.get("SITEWATCH_TEST_PG"))


def _catalog(home: Path, samples: Path) -> str:
    """A SQLite catalog with aliases, a non-ASCII name, a removed site and article sources."""
    ws = open_workspace(home, db=f"sqlite:///{home / 'catalog.sqlite'}")
    ws.add_site("Zeta plant", lat=56.05, lon=53.95, radius_m=800, kind="rocket-motor plant",
                country="Russia", aliases=["Z-works", "Plant 5"], notes="seen in 2019")
    ws.add_site("Émile works", lat=1.0, lon=2.0)
    ws.add_site("gone", lat=3.0, lon=4.0)
    ws.remove_site("gone")
    article = samples.parent / "articles" / "russia-solid-fuel-motor-plants.txt"
    if article.is_file():
        ws.sites_from_text(article, take_all=True)
    return ws.store.url


@pytest.mark.parametrize("removed", [False, True])
def test_quick_sites_equal_the_store(tmp_path: Path, samples: Path, removed: bool) -> None:
    url = _catalog(tmp_path / "q", samples)
    full = open_workspace(tmp_path / "q", db=url).sites(include_removed=removed)
    fast = quick.sites(url, include_removed=removed)
    assert fast is not None and len(fast) == len(full) >= 2
    assert fast == full
    assert any(s.sources for s in fast) or not (samples.parent / "articles").is_dir()
    assert [s.status.value == "removed" for s in fast].count(True) == (1 if removed else 0)


def test_quick_sites_defers_to_the_store(tmp_path: Path, samples: Path) -> None:
    url = _catalog(tmp_path / "q", samples)
    db = tmp_path / "q" / "catalog.sqlite"
    assert quick.sites("postgresql+psycopg://u@127.0.0.1:1/x") is None
    assert quick.sites(f"sqlite:///{tmp_path / 'missing.sqlite'}") is None
    assert quick.sites("sqlite://") is None
    assert quick.sites(url + "?timeout=5") is None
    older = tmp_path / "older.sqlite"
    older.write_bytes(db.read_bytes())
    with sqlite3.connect(older) as con:
        con.execute("UPDATE alembic_version SET version_num = '0008'")
    assert quick.sites(f"sqlite:///{older}") is None  # the Store says: run db upgrade
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"not a database at all" * 100)
    assert quick.sites(f"sqlite:///{junk}") is None


@pytest.mark.skipif(ON_PG, reason="the quick path is the embedded catalog's")
def test_sites_list_output_is_the_same_either_way(cli: Callable[..., object],
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  samples: Path, workspace: Path) -> None:
    _catalog(workspace, samples)
    outs = []
    for fast in (True, False):
        if not fast:
            monkeypatch.setattr(quick, "sites", lambda *a, **k: None)
        for args in (["sites", "list"], ["sites", "list", "--removed", "--json"]):
            res = cli(*args)
            assert res.code == 0, res.err  # type: ignore[attr-defined]
            outs.append((res.out, res.err))  # type: ignore[attr-defined]
    assert outs[:2] == outs[2:]
    assert len(json.loads(outs[1][0])) >= 3


@pytest.mark.skipif(ON_PG, reason="the quick path is the embedded catalog's")
def test_sites_list_imports_no_sqlalchemy(samples: Path, workspace: Path) -> None:
    _catalog(workspace, samples)
    code = ("import sys; from sitewatch.cli.main import main; rc = main(['sites', 'list']);"
            "print('LOADED', sorted(m for m in ('sqlalchemy', 'alembic', 'shapely', "
            "'pydantic') if m in sys.modules), rc)")
    env = dict(os.environ, SITEWATCH_HOME=str(workspace))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=120, check=True)
    assert "Zeta plant" in done.stdout
    assert done.stdout.strip().splitlines()[-1] == "LOADED [] 0"


def _help(args: list[str], pruned: bool, monkeypatch: pytest.MonkeyPatch,
          capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    if not pruned:
        monkeypatch.setattr(cli_main, "_pruned", lambda full, _args: full)
    capsys.readouterr()
    code = cli_main.main(args)
    cap = capsys.readouterr()
    monkeypatch.undo()
    return code, cap.out, cap.err


@pytest.mark.parametrize("args", [
    ["sites", "--help"], ["sites", "list", "--help"], ["analyze", "--help"],
    ["-v", "watch", "--help"], ["sites", "lst"], ["detect"], ["nosuch"],
    ["detect", "a.tif", "b.tif", "--out", "m.tif", "--gsd", "nan"], ["--help"], [],
    ["-v", "--help"], ["-v"], ["--help", "detect"], ["-v", "--help", "sites", "list"],
])
def test_pruned_command_tree_behaves_like_the_full_one(
        args: list[str], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    assert _help(args, True, monkeypatch, capsys) == _help(args, False, monkeypatch, capsys)


def test_help_imports_nothing_heavy() -> None:
    code = ("import sys, io, contextlib; from sitewatch.cli.main import main\n"
            "with contextlib.redirect_stdout(io.StringIO()): rc = main(['--help'])\n"
            "print('LOADED', sorted(m for m in ('rich', 'sqlalchemy', 'pydantic', 'numpy', "
            "'shapely', 'rasterio', 'alembic') if m in sys.modules), rc)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=True)
    assert done.stdout.strip().splitlines()[-1] == "LOADED [] 0"


def test_the_lazy_consoles_copy_and_print_like_consoles(capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    import copy

    from sitewatch.cli import common

    twin = copy.copy(common.out)
    twin.print("[b]x[/b] \x1b[31m", markup=False)
    assert capsys.readouterr().out == "[b]x[/b] \\x1b[31m\n"
