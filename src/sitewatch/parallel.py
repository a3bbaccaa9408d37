"""Work on an image a block of rows (or a band) at a time, one thread per core.

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


def each(count: int, work: Callable[[int], None]) -> None:
    """``work(i)`` for i in 0..count-1, on a thread per core when there are several items
    and cores (in order otherwise). The items must write to disjoint parts of their
    outputs; the first error is raised."""
    n = min(cores(), count)
    if n < 2:
        for i in range(count):
            work(i)
        return
    with ThreadPoolExecutor(n) as pool:
        list(pool.map(work, range(count)))


def over_rows(height: int, rows: int, work: Callable[[int, int], None]) -> None:
    """``work(r0, r1)`` for each block of ``rows`` rows of an image ``height`` rows high,
    side by side as :func:`each` runs its items."""
    step = max(1, rows)
    starts = range(0, height, step)
    each(len(starts), lambda i: work(starts[i], min(starts[i] + step, height)))
