"""Output paths are written, never replaced by something else; STAC ids never collide."""

from __future__ import annotations

import os

import pytest

from sitewatch.errors import InputFileError
from sitewatch.fileio import atomic_path
from sitewatch.pipeline.stacfetch import _safe


def test_symlink_target_is_written_and_link_kept(tmp_path):
    real = tmp_path / "real.html"
    real.write_text("old")
    link = tmp_path / "link.html"
    link.symlink_to(real)
    with atomic_path(link) as tmp:
        tmp.write_text("new")
    assert link.is_symlink() and real.read_text() == "new"


@pytest.mark.parametrize("make", ["folder", "device"])
def test_non_regular_outputs_are_refused(tmp_path, make):
    if make == "folder":
        target = tmp_path / "out"
        target.mkdir()
    else:
        target = tmp_path / "null"
        if not os.path.exists("/dev/null"):
            pytest.skip("no /dev/null")
        target.symlink_to("/dev/null")
    with pytest.raises(InputFileError), atomic_path(target) as tmp:
        tmp.write_text("x")
    assert os.path.exists("/dev/null") and not os.path.isfile("/dev/null")


def test_report_out_to_a_device_is_one_error_line(cli, levir_site):
    from conftest import one_error_line

    assert cli("analyze", levir_site, "--method", "cva").code == 0
    line = one_error_line(cli("report", levir_site, "--out", "/dev/null"))
    assert "not a regular file" in line
    assert not os.path.isfile("/dev/null")


def test_stac_ids_that_differ_only_in_unsafe_characters_get_distinct_files():
    ids = ["S2A tile:1", "S2A/tile/1", "S2A_tile_1"]
    names = [_safe(i) for i in ids]
    assert len(set(names)) == 3
    assert names[2] == "S2A_tile_1"  # a safe id keeps its name
    assert all("/" not in n and ":" not in n and " " not in n for n in names)
