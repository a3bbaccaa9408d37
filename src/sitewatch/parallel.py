"""Work on an image a block of rows at a time, one thread per core.

NumPy's ufuncs, OpenCV and GDAL release the GIL while they compute, so blocks of rows
of one array run side by side on threads without copies between processes.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor


def cores() -> int:
    """The cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def over_rows(height: int, rows: int, work: Callable[[int, int], None]) -> None:
    """``work(r0, r1)`` for each block of ``rows`` rows of an image ``height`` rows high,
    on a thread per core when there are several blocks and cores (in order otherwise).
    The blocks must write to disjoint parts of their outputs; the first error is raised."""
    starts = range(0, height, max(1, rows))
    n = min(cores(), len(starts))
    if n < 2:
        for r0 in starts:
            work(r0, min(r0 + rows, height))
        return
    with ThreadPoolExecutor(n) as pool:
        list(pool.map(lambda r0: work(r0, min(r0 + rows, height)), starts))
