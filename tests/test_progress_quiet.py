"""Progress and quiet (issue 12, item 5): long steps say how far they are, plain lines when
stderr is no terminal; timeline prints a summary by default; no library noise below -v -v."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import Result

from sitewatch.cli import common
from sitewatch.cli.progress import progress

YATSM = "timeseries/yatsm-landsat-p035r032/p035r032_testdata.tar.gz"
YATSM_BANDS = "blue,green,red,nir,swir16,swir22,thermal,fmask"
SCENES = 30


@pytest.fixture
def stack_site(cli: Callable[..., Result], samples: Path, tmp_path: Path,
               monkeypatch: pytest.MonkeyPatch) -> Result:
    """30 scenes of the real Landsat p035r032 stack (5 x 5 px), imported in bulk from a
    folder, shown as if the import took longer than the progress delay; its result."""
    import tarfile

    monkeypatch.setattr("sitewatch.cli.progress.DELAY_S", 0.0)

    folder = tmp_path / "images"
    folder.mkdir()
    with tarfile.open(samples / YATSM) as t:
        members = sorted((m for m in t.getmembers() if m.name.endswith("_stack.gtif")
                          and "1999366" not in m.name), key=lambda m: m.name)[:SCENES]
        for m in members:
            (folder / Path(m.name).name).write_bytes(t.extractfile(m).read())  # type: ignore[union-attr]
    assert cli("sites", "add", "p035r032", "--lat", "40.295660", "--lon", "-106.924275",
               "--radius-m", "70").code == 0
    res = cli("scenes", "import", "p035r032", folder, "--bands", YATSM_BANDS,
              "--scale", "0.0001")
    assert res.code == 0 and f"imported {SCENES} scenes" in res.out, res.err
    return res


def test_bulk_import_off_a_terminal_prints_plain_progress_lines(stack_site: Result) -> None:
    lines = [ln for ln in stack_site.err.splitlines() if ln.startswith("importing: ")]
    # one line at each tenth of the work and one at the end, not one per scene
    assert 2 <= len(lines) <= 11, lines
    assert lines[-1].startswith(f"importing: {SCENES}/{SCENES} ")
    done = [int(ln.split()[1].split("/")[0]) for ln in lines]
    assert done == sorted(done) and len(set(done)) == len(done)
    assert "\x1b[" not in stack_site.err  # no bar drawn off a terminal


def test_timeline_prints_a_summary_unless_asked_for_the_table(
        cli: Callable[..., Result], stack_site: Result) -> None:
    short = cli("timeline", "p035r032")
    assert short.code == 0, short.err
    assert re.search(rf"^{SCENES} scenes from \d{{4}}-\d\d-\d\d to \d{{4}}-\d\d-\d\d, \d+ at "
                     "least 50% clear$", short.out, re.M), short.out
    rows = [ln for ln in short.out.splitlines() if re.match(r"\d{4}-\d{2}-\d{2} ", ln)]
    assert 6 <= len(rows) <= 12, short.out
    assert "--table prints them all" in short.out and len(short.out.splitlines()) < 25
    full = cli("timeline", "p035r032", "--table")
    assert full.code == 0, full.err
    rows = [ln for ln in full.out.splitlines() if re.match(r"\d{4}-\d{2}-\d{2} ", ln)]
    assert len(rows) == SCENES and "more)" not in full.out
    assert rows == sorted(rows)


@pytest.mark.skipif(bool(__import__("os").environ.get("SITEWATCH_TEST_PG")),
                    reason="needs a new embedded catalog, created (and logged) by Alembic")
def test_verbose_shows_sitewatch_not_alembic(cli: Callable[..., Result]) -> None:
    one = cli("-v", "sites", "list")  # a new workspace: its catalog is created by Alembic
    assert one.code == 0, one.err
    assert "INFO sitewatch.catalog.schema: upgrading catalog" in one.err
    assert "alembic" not in one.err.lower()


@pytest.mark.skipif(bool(__import__("os").environ.get("SITEWATCH_TEST_PG")),
                    reason="needs a new embedded catalog, created (and logged) by Alembic")
def test_verbose_twice_shows_the_libraries(cli: Callable[..., Result]) -> None:
    res = cli("-v", "-v", "sites", "list")
    assert res.code == 0, res.err
    assert "INFO alembic." in res.err


def test_quiet_by_default(cli: Callable[..., Result]) -> None:
    res = cli("sites", "list")
    assert res.code == 0
    assert [ln for ln in res.err.splitlines() if not ln.startswith("workspace:")] == []


def test_plain_lines_count_tenths_of_each_stage(monkeypatch: pytest.MonkeyPatch) -> None:
    buf = io.StringIO()
    monkeypatch.setattr(common.err.console, "_file", buf)  # restored: sys.stderr again
    with progress("working", tty=False, delay_s=0) as step:
        for i in range(1, 101):
            step(i, 100, f"item {i}")
        step(1, 3, "next stage")
        step(3, 3, "next stage")
        step(5, None, "unknown total")
    lines = buf.getvalue().splitlines()
    assert lines[0] == "working: 1/100 item 1" and lines[10] == "working: 100/100 item 100"
    assert len([ln for ln in lines if "/100" in ln]) == 11
    assert lines[11:] == ["working: 1/3 next stage", "working: 3/3 next stage",
                          "working: 5 unknown total"]


@pytest.mark.parametrize("tty", [True, False])
def test_a_quick_step_shows_nothing(monkeypatch: pytest.MonkeyPatch, tty: bool) -> None:
    """Neither a bar nor lines for work done within the delay (nor before a refusal)."""
    buf = io.StringIO()
    monkeypatch.setattr(common.err.console, "_file", buf)  # restored: sys.stderr again
    with progress("working", tty=tty, delay_s=60) as step:
        for i in range(1, 11):
            step(i, 10, "x")
    assert buf.getvalue() == ""


def test_analyze_takes_a_progress_callable(cli: Callable[..., Result], pr_site: str) -> None:
    import sitewatch

    ws = sitewatch.open_workspace()
    seen: list[tuple[int, int | None, str]] = []
    res = ws.analyze(pr_site, method="cva", progress=lambda d, n, what: seen.append((d, n, what)))
    assert res.created
    assert [d for d, _, _ in seen] == [0, 1, 2, 3, 4] and {n for _, n, _ in seen} == {4}
    assert seen[1][2] == "detecting (cva)" and seen[-1][2] == "done"
    assert res.run.flags == (sitewatch.Flag.COREG_REJECTED,)
