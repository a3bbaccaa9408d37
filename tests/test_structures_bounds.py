"""A ratio to a building cut by the image's edge is an upper bound: the report's table and
the export rows say so, as the CLI's label does (they showed it as a plain ratio)."""

from __future__ import annotations

import numpy as np

from sitewatch.detect.structures import structure_change, structures_doc
from sitewatch.evidence.structures import structure_rows, structures_html
from sitewatch.model import Run, RunStatus


def _run(before: list[tuple[slice, slice]], after: list[tuple[slice, slice]]) -> Run:
    pb, pa = np.zeros((100, 160), np.float32), np.zeros((100, 160), np.float32)
    for sl in before:
        pb[sl] = 0.95
    for sl in after:
        pa[sl] = 0.95
    doc = structures_doc(structure_change(pb, pa, (pa > 0.5) & (pb < 0.5), 1.0))
    return Run(id=1, run_key="k", site_id=1, method="model", parameters={}, versions={},
               before_scene_id=1, after_scene_id=2, status=RunStatus.COMPLETED,
               timings_s={}, summary={"structures": doc}, started_at=None, finished_at=None)


CUT = (slice(0, 60), slice(0, 60))        # runs off the top-left of the image
WHOLE = (slice(30, 60), slice(80, 110))   # inside the image
NEW = (slice(70, 90), slice(100, 130))    # new on the after date


def test_a_ratio_to_a_building_cut_by_the_edge_reads_as_an_upper_bound() -> None:
    run = _run([CUT], [CUT, NEW])
    (new,) = [r for r in structure_rows(run) if r["kind"] == "new"]
    assert new["ratio_upper_bound"] == 1
    assert 0.1 < new["ratio_to_largest"] < 0.25  # 600 of the 3,600 px inside
    html = structures_html(run)
    assert "at most 17%" in html


def test_a_ratio_to_a_whole_building_is_no_bound() -> None:
    run = _run([CUT, WHOLE], [CUT, WHOLE, NEW])
    rows = structure_rows(run)
    (new,) = [r for r in rows if r["kind"] == "new"]
    assert new["ratio_upper_bound"] == 0 and new["largest_ref"] is not None
    assert "at most" not in structures_html(run)
    assert all(isinstance(r["ratio_upper_bound"], int) for r in rows)
