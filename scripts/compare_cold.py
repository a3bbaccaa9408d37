"""Compare sitewatch's break dates with COLD's on the shared Landsat pixel.

The pixel's observations and the break dates COLD found for it are in
``$SITEWATCH_SAMPLES/timeseries/pycold-landsat-pixel``. COLD's output is a peer
algorithm's answer, not ground truth: this prints, for every COLD break, the nearest
sitewatch break and the difference in days, and lists sitewatch breaks COLD lacks.

Observation columns: ordinal day, blue, green, red, nir, swir1, swir2, thermal, QA
(0 clear, 1 water, 2 shadow, 3 snow, 4 cloud, 255 fill), sensor. As in COLD, breaks are
tested on green, red, nir, swir1 and swir2 of clear observations with 0 < SR < 10000.

Run: python scripts/compare_cold.py [--json]
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from sitewatch.config import samples_dir
from sitewatch.detect.breaks import BreakParams, detect_breaks

PIXEL = "timeseries/pycold-landsat-pixel"


def compare(folder: Path) -> dict[str, Any]:
    obs = np.loadtxt(folder / "spectral_336_3980_obs.csv", delimiter=",")
    cold = [int(v) for v in np.loadtxt(folder / "spectral_336_3980_breaks.csv",
                                       delimiter=",", encoding="utf-8-sig").ravel() if v > 0]
    sr = obs[:, 1:7]
    clear = (obs[:, 8] <= 1) & ((sr > 0) & (sr < 10000)).all(axis=1)
    found = detect_breaks(obs[clear, 0], sr[clear][:, 1:6], BreakParams())
    ours = [int(round(b.day)) for b in found.breaks]
    rows = []
    for c in cold:
        nearest = min(ours, key=lambda o: abs(o - c)) if ours else None
        rows.append({"cold": date.fromordinal(c).isoformat(),
                     "sitewatch": date.fromordinal(nearest).isoformat() if nearest else None,
                     "difference_days": None if nearest is None else nearest - c})
    extra = [date.fromordinal(o).isoformat() for o in ours
             if all(abs(o - c) > 365 for c in cold)]
    return {"observations": int(len(obs)), "clear": int(clear.sum()), "pairs": rows,
            "sitewatch_breaks": [date.fromordinal(o).isoformat() for o in ours],
            "sitewatch_only": extra}


def main() -> int:
    res = compare(samples_dir() / PIXEL)
    if "--json" in sys.argv[1:]:
        print(json.dumps(res, indent=2))
        return 0
    print(f"pixel: {res['observations']} observations, {res['clear']} clear")
    print(f"{'COLD break':12s} {'sitewatch':12s} {'days':>6s}")
    for r in res["pairs"]:
        print(f"{r['cold']:12s} {r['sitewatch'] or '-':12s} {r['difference_days']!s:>6s}")
    print("sitewatch breaks with no COLD break within a year: "
          + (", ".join(res["sitewatch_only"]) or "none"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
