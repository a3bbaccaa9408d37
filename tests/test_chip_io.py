"""Chips are stored as compactly as their values allow and read back exactly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine

from sitewatch.imagery.write import read_chip, write_chip

TF = Affine(10, 0, 500_000, 0, -10, 4_000_000)


def _roundtrip(tmp_path: Path, data: np.ndarray) -> tuple[np.ndarray, str]:
    path = write_chip(tmp_path / "c.tif", data, "EPSG:32633", TF)
    with rasterio.open(path) as ds:
        dtype = ds.dtypes[0]
    return read_chip(path), dtype


@pytest.mark.parametrize(("lo", "hi", "dtype"), [(0, 254, "uint8"), (0, 12000, "uint16"),
                                                 (-2000, 9000, "int16"),
                                                 (0, 65535, "float32"),
                                                 (-40000, 10, "float32")])
def test_whole_numbers_take_the_smallest_integer_type(tmp_path: Path, lo: int, hi: int,
                                                      dtype: str) -> None:
    rng = np.random.default_rng(3)
    # three strips of 512 px tiles, the last one short
    data = rng.integers(lo, hi + 1, size=(4, 1100, 600)).astype(np.float32)
    data[:, 0, 0] = lo
    data[:, 1, 1] = hi
    data[:, 10:40, 100:200] = np.nan  # no data in every band
    data[2, 50, 60] = np.nan  # and in one band only
    back, stored = _roundtrip(tmp_path, data)
    assert stored == dtype
    assert back.dtype == np.float32
    np.testing.assert_array_equal(back, data)  # NaN where NaN, every value exact


def test_fractions_stay_float(tmp_path: Path) -> None:
    data = np.full((2, 64, 64), 1000.0, np.float32)
    data[1, 5, 5] = 1000.25  # one resampled pixel is enough
    data[0, :3] = np.nan
    back, stored = _roundtrip(tmp_path, data)
    assert stored == "float32"
    np.testing.assert_array_equal(back, data)


def test_all_no_data_and_windows(tmp_path: Path) -> None:
    empty = np.full((1, 32, 32), np.nan, np.float32)
    back, stored = _roundtrip(tmp_path, empty)
    assert stored == "float32" and np.isnan(back).all()
    data = np.arange(3 * 40 * 50, dtype=np.float32).reshape(3, 40, 50) % 300
    path = write_chip(tmp_path / "w.tif", data, "EPSG:32633", TF)
    win = rasterio.windows.Window(5, 7, 20, 10)
    np.testing.assert_array_equal(read_chip(path, window=win), data[:, 7:17, 5:25])


def _chip_files(home: Path) -> list[Path]:
    """Files under chips/ but the runs' masks (which live there too)."""
    return sorted(p for p in (home / "chips").rglob("*")
                  if p.is_file() and not p.name.startswith("run_"))


def test_chips_written_in_the_background_are_recorded_only_when_whole(
        cli, levir_site: str, workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """analyze writes new chips while the detector runs: a write that fails fails the
    command cleanly and leaves no chip row and no file; a detector that fails after the
    chips were handed over takes them back too."""
    from support.integrity import check_integrity

    import sitewatch.pipeline.chips as chips
    from sitewatch.errors import InputFileError

    real = chips.write_live

    def full_disk(path: Path, *args: object, **kwargs: object) -> Path:
        raise InputFileError(f"cannot write {path}: No space left on device")

    monkeypatch.setattr(chips, "write_live", full_disk)
    res = cli("analyze", levir_site, "--method", "cva")
    assert res.code == 2 and "No space left" in res.err, res.err
    everything = sorted(p for p in (workspace / "chips").rglob("*") if p.is_file())
    assert check_integrity(workspace)["chips"] == 0 and everything == []  # nor a mask

    monkeypatch.setattr(chips, "write_live", real)
    bogus = workspace.parent / "weights.pt"
    bogus.write_text("not a weights file\n")
    res = cli("analyze", levir_site, "--method", "model", "--weights", bogus)
    assert res.code == 2, res.err
    assert check_integrity(workspace)["chips"] == 0 and _chip_files(workspace) == []

    res = cli("analyze", levir_site, "--method", "cva")
    assert res.code == 0, res.err
    assert check_integrity(workspace)["chips"] == 2 and len(_chip_files(workspace)) == 2


def test_a_chip_handed_over_is_written_as_it_was_while_its_owner_masks_it(
        tmp_path: Path) -> None:
    """The writer reads the owner's array without a copy of it; the pixels the owner may
    still set (NaN outside the AOI) reach the file with their values at hand-over, and
    decide the stored type as much as the others."""
    from sitewatch.imagery.write import hand_over, write_live

    data = np.arange(2 * 1300 * 700, dtype=np.float32).reshape(2, 1300, 700) % 4000
    data[:, 600:610, 20:30] = np.nan
    want = data.copy()
    outside = np.zeros((1300, 700), bool)
    outside[:100] = True  # rows in the first row of tiles
    outside[900:, 650:] = True  # and in the last, short one
    live = hand_over(data, outside)
    data[:, outside] = np.nan  # the analysis masks its own array in place
    path = write_live(tmp_path / "s.tif", live, "EPSG:32633", TF)
    with rasterio.open(path) as ds:
        assert ds.dtypes[0] == "uint16"
    np.testing.assert_array_equal(read_chip(path), want)

    # a fraction among the kept pixels alone keeps the chip in float
    data = want.copy()
    data[1, 1200, 680] = 7.5
    want = data.copy()
    live = hand_over(data, outside)
    data[:, outside] = np.nan
    path = write_live(tmp_path / "f.tif", live, "EPSG:32633", TF)
    with rasterio.open(path) as ds:
        assert ds.dtypes[0] == "float32"
    np.testing.assert_array_equal(read_chip(path), want)
