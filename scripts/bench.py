"""Benchmarks (``make bench``): run time and peak memory of the time-series path on the
shared real stacks. Each case runs in its own process so that peak memory is its own.

Cases:
- landsat-447: bulk import of the 447-scene Landsat stack (5 x 5 px, 8 bands), then
  ``timeline`` with per-pixel breaks;
- eopatch-68: import of the 68-date Sentinel-2 EOPatch (101 x 100 px), then ``timeline``.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from sitewatch.config import samples_dir

CASES = ("landsat-447", "eopatch-68")


def run_case(case: str) -> dict[str, object]:
    import os

    from sitewatch.cli.main import main

    tmp = Path(tempfile.mkdtemp(prefix="sitewatch-bench-"))
    os.environ["SITEWATCH_HOME"] = str(tmp / "ws")
    samples = samples_dir()
    if case == "landsat-447":
        with tarfile.open(samples / "timeseries/yatsm-landsat-p035r032/"
                          "p035r032_testdata.tar.gz") as t:
            t.extractall(tmp, filter="data")
        site = ["sites", "add", "s", "--lat", "40.295660", "--lon", "-106.924275",
                "--radius-m", "70"]
        imp = ["scenes", "import", "s", str(tmp / "p035r032" / "images"), "--bands",
               "blue,green,red,nir,swir16,swir22,thermal,fmask", "--scale", "0.0001"]
    else:
        site = ["sites", "add", "s", "--lat", "45.870459", "--lon", "14.557815",
                "--radius-m", "450"]
        imp = ["scenes", "import", "s", str(samples / "eo-learn-testeopatch" / "TestEOPatch")]
    assert main(site) == 0
    t0 = time.perf_counter()
    assert main(imp) == 0
    t1 = time.perf_counter()
    assert main(["timeline", "s", "--json"]) == 0
    t2 = time.perf_counter()
    return {"case": case, "import_s": round(t1 - t0, 2), "timeline_s": round(t2 - t1, 2),
            "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "--case":
        res = run_case(sys.argv[2])
        sys.stderr.write("BENCH " + json.dumps(res) + "\n")
        return 0
    print(f"{'case':14s} {'import s':>9s} {'timeline s':>11s} {'peak MiB':>9s}")
    for case in CASES:
        proc = subprocess.run([sys.executable, __file__, "--case", case], capture_output=True,
                              text=True, check=True)
        line = next(ln for ln in proc.stderr.splitlines() if ln.startswith("BENCH "))
        r = json.loads(line[6:])
        print(f"{r['case']:14s} {r['import_s']:9.2f} {r['timeline_s']:11.2f} "
              f"{r['peak_rss_mib']:9.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
