"""sitewatch detect refuses an output path that is an input or another output (the
--structures file named like the mask or an image would have replaced it)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from conftest import one_error_line
from support.synthetic import geotiff


def _pair(tmp_path: Path) -> tuple[Path, Path]:
    rng = np.random.default_rng(0)
    data = rng.uniform(0, 200, (3, 32, 32)).astype(np.float32)
    return (geotiff(tmp_path / "a.tif", data), geotiff(tmp_path / "b.tif", data[:, ::-1].copy()))


@pytest.mark.parametrize("clash", [
    ("--structures", "a.tif"), ("--structures", "m.tif"), ("--geojson", "m.tif"),
    ("--geojson", "b.tif"), ("--structures", "x/../m.geojson"),
])
def test_an_output_that_is_an_input_or_another_output_is_refused(
        cli: Callable[..., object], tmp_path: Path, clash: tuple[str, str]) -> None:
    a, b = _pair(tmp_path)
    before = {p: p.read_bytes() for p in (a, b)}
    option, name = clash
    args: list[object] = ["detect", a, b, "--out", tmp_path / "m.tif", "--method", "cva"]
    if option == "--structures":
        args += ["--geojson", tmp_path / "m.geojson"]
    args += [option, tmp_path / name]
    res = cli(*args)
    assert res.code == 2, res.err  # type: ignore[attr-defined]
    assert "of its own" in one_error_line(res)  # type: ignore[arg-type]
    assert {p: p.read_bytes() for p in (a, b)} == before
    assert not (tmp_path / "m.tif").exists()
